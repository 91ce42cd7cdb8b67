//! The command-line interface: subcommands, flags and their help.

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};
use hela_chart::ChartKind;
use hela_hunt::rules::Selection;
use hela_sigma::Level;
use hela_sql::{OutputFormat, TableSpec};

/// hela — Hunting Engine for Log Analytics.
///
/// Ingest Windows, Sysmon and network security events (JSON lines, gzip, zip, tar.gz, .evtx;
/// NXLog, Winlogbeat and Zeek shapes) into a local Parquet lake, and hunt over them with SQL
/// and Sigma rules.
///
/// A first hunt:
///   hela sample --out sample.json
///   hela ingest sample.json
///   hela sql "SELECT Channel, EventID, count(*) AS n FROM events GROUP BY 1, 2 ORDER BY n DESC"
///   hela hunt --sigma sigma/rules/windows
#[derive(Debug, Parser)]
#[command(name = "hela", version, about, long_about, verbatim_doc_comment)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Ingest(IngestArgs),
    Sql(SqlArgs),
    Hunt(HuntArgs),
    /// List the lake's tables with their rows, files and bytes.
    Tables(TablesArgs),
    Schema(SchemaArgs),
    Sample(SampleArgs),
    Playbook(PlaybookArgs),
    Serve(ServeArgs),
    Apikey(ApikeyArgs),
    Intel(IntelArgs),
    Cluster(ClusterArgs),
    Lake(LakeMaintenanceArgs),
}

/// How records are stored: as they come, or in a schema's field names and tables.
#[derive(Debug, Args)]
pub struct RecordSchemaArgs {
    /// raw: field names as in the data, every record in the `events` table. helk: HELK's
    /// field names (event_id, host_name, user_logon_id, process_parent_name, ...) and one
    /// table per HELK index (logs-endpoint-winevent-sysmon, -security, -system, ...),
    /// queried as `logs-endpoint-winevent-sysmon-*`; other records stay in `events`.
    #[arg(long, value_enum, default_value = "raw", value_name = "SCHEMA")]
    pub schema: RecordSchema,
    /// With --schema helk, read the mapping files from DIR instead of the built-in ones (copy
    /// crates/helk/mappings/ and edit it to extend the mapping).
    #[arg(long, value_name = "DIR")]
    pub helk_mappings: Option<PathBuf>,
}

impl RecordSchemaArgs {
    /// The router that stores records in the schema asked for.
    pub fn router(&self) -> anyhow::Result<std::sync::Arc<dyn hela_lake::Router>> {
        let schema = match self.schema {
            RecordSchema::Raw => hela_hunt::RecordSchema::Raw,
            RecordSchema::Helk => hela_hunt::RecordSchema::Helk,
        };
        hela_hunt::router(schema, self.helk_mappings.as_deref())
    }
}

/// The schemas records can be stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RecordSchema {
    Raw,
    Helk,
}

/// Where the lake is.
#[derive(Debug, Args)]
pub struct LakeArgs {
    /// Lake directory (created by the first ingest), or a lake on an object store,
    /// `s3://BUCKET/PREFIX`, reached with the `AWS_*` environment (credentials, region,
    /// `AWS_ENDPOINT` for an S3-compatible server).
    #[arg(long, env = "HELA_LAKE", default_value = "hela-lake", value_name = "DIR|URL")]
    pub lake: PathBuf,
}

/// Read security event logs into the lake's `events` table (or HELK's tables, --schema helk).
///
/// PATHs are files, directories (read recursively: .json .jsonl .ndjson .log .gz .tgz .zip
/// .tar .evtx) or `-` for standard input. Formats are recognised by content: JSON lines,
/// gzip, zip and tar archives of JSON lines, nested as real datasets ship them, and Windows
/// event logs (.evtx, flattened to the same fields as NXLog's JSON: Channel, EventID,
/// Hostname, and each EventData field at top level).
///
/// Every record is either stored or quarantined: lines that are not JSON objects (or not
/// UTF-8, or that name a key twice, or are longer than --max-record-bytes) are written, with
/// file, line and reason, to LAKE/quarantine/ and counted; the ingest goes on. Truncated
/// archives keep every complete record and are reported as warnings; an input or archive
/// member that cannot be read at all is quarantined too, and the exit status is 1. Links
/// that lead back to what was already read are skipped and reported. Each input is committed
/// whole and atomically; ingesting a file the lake already holds is skipped unless --force.
/// Events are stored by source and day; at the end, the small files of each source and day
/// the ingest wrote are merged, since a query pays for every file it opens.
///
/// Examples:
///   hela ingest --lake cases/apt29 ~/datasets/security-datasets/
///   hela ingest --schema helk --lake helk-lake ~/datasets/security-datasets/
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct IngestArgs {
    #[command(flatten)]
    pub lake: LakeArgs,
    #[command(flatten)]
    pub records: RecordSchemaArgs,
    /// Ingest inputs again even if the lake already holds them.
    #[arg(long)]
    pub force: bool,
    /// Don't show progress or per-record messages; print only the summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// The longest line read as one record; a longer one is quarantined with its first 64 KiB.
    #[arg(long, default_value_t = hela_source::read::MAX_RECORD_BYTES, value_name = "BYTES")]
    pub max_record_bytes: usize,
    /// Files, directories, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Run SQL over the lake and over files named with --table.
///
/// Several statements separated by `;` run in order (views created by one are seen by the
/// next); the last statement's result is printed. Strings go in single or double quotes and
/// identifiers in backticks, as in Spark SQL (`` `@timestamp` ``). Column names resolve
/// without regard to case unless the data has several that differ only in case; nested
/// fields are reached with dots (`event_data.Image`).
///
/// Beyond Spark's functions, table functions take a table (`TABLE(t)`, a name, or a
/// subquery): graphs (pagerank, connected_components, strongly_connected_components,
/// degrees, shortest_paths, bfs, label_propagation, triangle_count, motifs,
/// process_descendants, process_ancestors, logon_graph), indicators (ioc_match) and rarity
/// (stack_count, first_seen, outliers, isolation_forest); the README says how each is called.
///
/// Examples:
///   hela sql "SELECT Hostname, count(*) FROM events WHERE EventID = 4624 GROUP BY Hostname"
///   hela sql --table t=dataset.zip --format csv "SELECT * FROM t LIMIT 10"
///   hela sql --lake helk-lake "SELECT host_name, count(*) FROM `logs-endpoint-winevent-sysmon-*`
///     WHERE action = 'processcreate' GROUP BY host_name"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SqlArgs {
    #[command(flatten)]
    pub tables: QueryTablesArgs,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Run the statements on the Ballista cluster whose scheduler is at URL (df://HOST:PORT,
    /// from `hela cluster scheduler`), over the lake every executor reads at the same path:
    /// the same SQL, results and formats as a local run.
    #[arg(long, env = "HELA_CLUSTER", value_name = "URL", conflicts_with = "server", help_heading = "Cluster")]
    pub cluster: Option<String>,
    /// Output format: table (aligned text), csv, json (an array of objects), jsonl (an
    /// object per line), parquet, or arrow (an Arrow IPC stream for pyarrow/pandas/polars).
    #[arg(long, short, default_value = "table", value_name = "FORMAT", value_parser = format_parser())]
    pub format: OutputFormat,
    /// Write the result to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// In the table format, the longest cell shown before it is cut with `…`.
    #[arg(long, default_value_t = 60, value_name = "CHARS")]
    pub max_width: usize,
    /// In the table format, show every cell whole.
    #[arg(long, conflicts_with = "max_width")]
    pub wide: bool,
    /// Run every statement's query, not only the last one's, and print each statement's
    /// rows and wall time to standard error (the last result is printed as usual).
    #[arg(long)]
    pub timings: bool,
    /// Also draw the result: a bar chart (--x categories, --y values, or the count of rows
    /// per --x), a line chart (--y over --x), a histogram of --x, or a graph (an edge from
    /// each row's --x to its --y, e.g. the edges given to pagerank), written to --out.
    #[arg(long, value_name = "KIND", requires_all = ["x", "out"], help_heading = "Charts")]
    pub chart: Option<ChartKind>,
    /// The chart's x column: categories of a bar chart, the axis of a line chart, the values
    /// of a histogram.
    #[arg(long, value_name = "COLUMN", requires = "chart", help_heading = "Charts")]
    pub x: Option<String>,
    /// The chart's y column (numbers).
    #[arg(long, value_name = "COLUMN", requires = "chart", help_heading = "Charts")]
    pub y: Option<String>,
    /// The chart's title.
    #[arg(long, value_name = "TEXT", requires = "chart", help_heading = "Charts")]
    pub title: Option<String>,
    /// The chart's file: .svg or .png.
    #[arg(long, value_name = "FILE", requires = "chart", help_heading = "Charts")]
    pub out: Option<PathBuf>,
    /// SQL statements, separated by `;`.
    #[arg(value_name = "SQL")]
    pub sql: String,
}

/// The tables queries read: the lake's, and tables made from files for one run.
#[derive(Debug, Args)]
pub struct QueryTablesArgs {
    #[command(flatten)]
    pub lake: LakeArgs,
    /// The schema --table files are read in (the lake keeps the one it was ingested with).
    #[command(flatten)]
    pub records: RecordSchemaArgs,
    /// Make a table from a file, directory or archive, without ingesting it. Give the same
    /// NAME several times to union several paths. Parquet (a file, or a directory of them as
    /// Spark writes) is read in place, its columns as they are. With the raw schema, `hela
    /// sql` reads only the fields its statements name (all for `*`, or for a statement
    /// other than a query; a view's `SELECT *` reads what later statements name).
    #[arg(long = "table", value_name = "NAME=PATH")]
    pub tables: Vec<TableSpec>,
}

/// Threat intelligence: load indicators into the lake, for `ioc_match` in SQL.
#[derive(Debug, Args)]
pub struct IntelArgs {
    #[command(subcommand)]
    pub command: IntelCommand,
}

#[derive(Debug, Subcommand)]
pub enum IntelCommand {
    Load(IntelLoadArgs),
}

/// Load indicators into the lake's `indicators` table.
///
/// FILEs are STIX 2.1 bundles, MISP event JSON, AlienVault OTX pulses (as OTX's API and
/// HELK's OTX script export them) or CSV with a header naming at least `type` and `value`
/// (and any of source, confidence, valid_from, valid_until, labels, name, reference), told
/// apart by their content. Indicators are addresses and CIDR networks, domains, URLs, MD5,
/// SHA-1 and SHA-256 hashes and file names; an entry of another kind (or a STIX pattern that
/// needs several values at once) is reported and quarantined. Loading a file again is
/// recognised and skipped.
///
/// The table has type, value, source, confidence, valid_from, valid_until, labels, name,
/// reference and file. Match events against it in SQL:
///   SELECT Hostname, ioc_field, ioc_value, ioc_source FROM ioc_match(events, indicators)
///
/// Example:
///   hela intel load --lake demo-lake otx-pulses.json misp-event.json feed.csv
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct IntelLoadArgs {
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Indicator files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Run hunt playbooks: Markdown documents whose ```sql blocks are hunts.
#[derive(Debug, Args)]
pub struct PlaybookArgs {
    #[command(subcommand)]
    pub command: PlaybookCommand,
}

#[derive(Debug, Subcommand)]
pub enum PlaybookCommand {
    Run(PlaybookRunArgs),
}

/// Run a playbook headless and write a report with every block's result.
///
/// A playbook is Markdown (ThreatHunter-Playbook / MyST style). Its ```sql blocks (also
/// ```{sql} and ```{code-cell} sql) run in order against the lake and --table files, in one
/// session, so views made by one block are seen by the next. The report is the playbook with
/// each block's result table (and chart) after it: Markdown, or HTML for --report FILE.html.
///
/// Options after `sql` on a block's fence line:
///   expect=hits    the block must return rows (a hunt that must keep firing)
///   expect=none    the block must return no rows
///   chart=bar|line|hist|graph x=COLUMN [y=COLUMN] [title="..."]   draw the result
///
/// Exit status: 0 when every expectation held, 1 when one did not, 2 when a block failed.
///
/// Example:
///   ```sql expect=hits chart=bar x=ParentImage y=n
///   SELECT ParentImage, count(*) AS n FROM events WHERE EventID = 1 GROUP BY ParentImage
///   ```
///   hela playbook run hunt.md --lake demo-lake --report hunt-report.html
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct PlaybookRunArgs {
    /// The playbook (Markdown).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub tables: QueryTablesArgs,
    /// Write the report to FILE: HTML when it ends in .html or .htm, Markdown otherwise.
    /// Without it, the Markdown report goes to standard output.
    #[arg(long, short, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Rows of each result shown in the report (all are counted).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub max_rows: usize,
}

fn level_parser() -> impl clap::builder::TypedValueParser<Value = Level> {
    let names = Level::ALL.map(Level::as_str);
    clap::builder::PossibleValuesParser::new(names).map(|name| Level::parse(&name).expect("a listed level"))
}

fn format_parser() -> impl clap::builder::TypedValueParser<Value = OutputFormat> {
    let names = OutputFormat::ALL.map(|(name, _)| name);
    clap::builder::PossibleValuesParser::new(names).map(|name| name.parse::<OutputFormat>().expect("a listed format"))
}

/// Which of the Sigma rules read are run.
#[derive(Debug, Args)]
pub struct RuleSelectionArgs {
    /// Only run rules of this level or above.
    #[arg(long, value_name = "LEVEL", value_parser = level_parser())]
    pub min_level: Option<Level>,
    /// Only run rules with one of these statuses (stable, test, experimental, deprecated...).
    #[arg(long, value_name = "STATUS", value_delimiter = ',')]
    pub status: Vec<String>,
    /// Only run rules with a tag containing one of these (attack.t1059, attack.execution...).
    #[arg(long = "tag", value_name = "TAG", value_delimiter = ',')]
    pub tags: Vec<String>,
}

impl RuleSelectionArgs {
    pub fn selection(&self) -> Selection {
        Selection { min_level: self.min_level, status: self.status.clone(), tags: self.tags.clone() }
    }
}

/// Run Sigma rules over event logs or the lake, and print what fires.
///
/// PATHs are .evtx files, JSON lines and archives of them, or directories holding them.
///
/// Every rule file under --sigma is either loaded or rejected with the reason (a logsource
/// with no Windows mapping, an unsupported modifier, ...): the counts are printed, and
/// --list-rejected prints each one. Rules run all at once, a batch of events at a time; each
/// rule only looks at the events its logsource names (process_creation: Sysmon 1 and
/// Security 4688, with 4688's field names mapped).
///
/// Correlation rules (event_count, value_count, temporal, temporal_ordered, value_sum,
/// value_avg, value_percentile, value_median) and `| count() by` aggregations run over the
/// detections of the rules they reference, in event time, after every event is read; the
/// referenced rules raise nothing of their own unless the correlation says `generate: true`.
///
/// Without PATHs, the lake's `events` table is hunted.
///
/// Examples:
///   hela hunt --sigma sigma/rules/windows Logs/
///   hela hunt --sigma sigma/rules --min-level high --format jsonl Security.evtx > hits.jsonl
///   hela hunt --sigma sigma/rules --lake cases/apt29 --save
///   hela hunt --sigma examples/correlations sample.json
///   hela hunt --sigma sigma/rules --lake /shared/lake --cluster df://10.0.0.1:50050
///   hela sql --lake cases/apt29 "SELECT rule_title, count(*) FROM detections GROUP BY 1"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct HuntArgs {
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Sigma rule files or directories (read recursively: .yml .yaml).
    #[arg(long, short, required = true, value_name = "RULES")]
    pub sigma: Vec<PathBuf>,
    /// Output format: table, csv, json (an array) or jsonl (one detection per line, with
    /// the whole event under `event`).
    #[arg(long, short, value_enum, default_value = "table", value_name = "FORMAT")]
    pub format: HuntFormat,
    /// Write detections to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub selection: RuleSelectionArgs,
    /// Also store the detections in the lake as the `detections` table, to join with events.
    #[arg(long)]
    pub save: bool,
    /// Print every rejected rule with its reason.
    #[arg(long)]
    pub list_rejected: bool,
    /// Print only detections: no rule counts and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Hunt the lake on the Ballista cluster whose scheduler is at URL (df://HOST:PORT, from
    /// `hela cluster scheduler`): the executors read the lake's files at the same path and
    /// run the rules where they read them; only detections come back, and correlations run
    /// here. The same detections and formats as a local hunt (in another order).
    #[arg(long, env = "HELA_CLUSTER", value_name = "URL", conflicts_with = "paths")]
    pub cluster: Option<String>,
    /// Event logs to hunt: .evtx files, JSON lines, archives, directories. Default: the lake.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// How detections are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HuntFormat {
    Table,
    Csv,
    Json,
    Jsonl,
}

/// A `hela serve` to ask instead of reading the lake here.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Ask the `hela serve` at URL (http://HOST:PORT, or https:// when it serves TLS)
    /// instead of reading a lake here: the same SQL, results and formats, without this
    /// process opening the lake.
    #[arg(long, env = "HELA_SERVER", value_name = "URL", help_heading = "Server")]
    pub server: Option<String>,
    /// The server's API key (what `hela apikey add` printed), when it asks for one.
    #[arg(long, env = "HELA_TOKEN", value_name = "KEY", requires = "server", hide_env_values = true, help_heading = "Server")]
    pub token: Option<String>,
    /// Trust the certificates in this PEM file (a self-signed server's own) instead of the
    /// usual certificate authorities.
    #[arg(long, env = "HELA_SERVER_CA", value_name = "FILE", requires = "server", help_heading = "Server")]
    pub server_ca: Option<PathBuf>,
}

/// List the lake's tables with their rows, files and bytes.
#[derive(Debug, Args)]
pub struct TablesArgs {
    #[command(flatten)]
    pub lake: LakeArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Show the columns of a lake table.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(flatten)]
    pub lake: LakeArgs,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Table name (see `hela tables`).
    pub table: String,
}

/// Write a small, realistic sample of Sysmon and Security events (NXLog or Winlogbeat JSON lines)
/// with a lateral movement through WMI hidden in it, to try hela without a dataset.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Output file.
    #[arg(long, short, default_value = "hela-sample.json", value_name = "FILE")]
    pub out: PathBuf,
    /// Approximate number of background events.
    #[arg(long, default_value_t = 2000)]
    pub events: usize,
    /// nxlog: flat records as Security-Datasets ship them (`Hostname`, `EventID`, event
    /// fields at the top). winlogbeat: Winlogbeat 6 records as in the 2019 Mordor datasets
    /// (`computer_name`, `event_id`, `source_name`, event fields nested in `event_data`).
    #[arg(long, value_enum, default_value = "nxlog")]
    pub shape: SampleShape,
}

/// The record shapes `hela sample` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SampleShape {
    Nxlog,
    Winlogbeat,
}

/// Run hela as a server that shippers send events to and hunters query.
///
/// Shippers (Winlogbeat, NXLog, Logstash, Fluent Bit, the Elasticsearch clients) send to
/// it as to Elasticsearch: POST /_bulk, POST /INDEX/_doc, PUT /INDEX/_create/ID. A request
/// is answered once its documents are in the write-ahead log on disk (LAKE/wal/); they are
/// stored in the lake's tables, with their index in `_index` and id in `_id`, within a
/// second, and can be queried from then on. A document sent again with the same `_id` is
/// not stored twice. Documents that cannot be stored get an error item in the response and
/// go to the quarantine.
///
/// Hunters query with POST /_sql {"query": "..."} (?format=json|csv|txt|jsonl|arrow), or
/// with `hela sql --server URL`, or from Python with hela.connect("http://HOST:PORT").
///
/// With --flight ADDR the same SQL is served over Arrow Flight SQL, for ADBC and JDBC
/// drivers (grpc://ADDR, or grpc+tls://ADDR with TLS).
///
/// With --kafka BROKERS --topic T it also consumes Kafka topics that Winlogbeat or NXLog
/// write to, one JSON event per message (flat or nested), stored with the topic in `_index`
/// and PARTITION-OFFSET in `_id`; a message that is not a JSON object goes to the
/// quarantine with its topic, partition and offset. The lake, not the broker, keeps how far
/// each partition is stored, committed with the records: after a crash, a restart or a
/// rebalance each message is stored exactly once.
///
/// With --rules DIR Sigma rules stand on the server: every event stored, whether it came
/// by _bulk or Kafka, is run through them before it is committed, and each detection is
/// committed with it to the `detections` table, then delivered to the sinks: --webhook
/// (POSTed, retried with backoff), --alerts-file (JSON lines), --alerts-topic (Kafka), and
/// GET /_hela/alerts (server-sent events). Each alert has a `detection_id`, the same for
/// the same rule on the same document, so a receiver can drop one delivered again. Rule
/// files are reloaded when they change and on SIGHUP; a reload that breaks a rule that
/// loaded before is refused and the rules standing stay. Correlations stand too, their
/// open windows saved with each commit. A rule new to the lake is run once over the events
/// it holds (a retro-hunt: its past detections are stored marked `retro_hunt`, and GET
/// /_hela/rules shows them). A rule file with `sql`, `every` and `lookback` is a scheduled
/// query: its Spark SQL runs every `every` over the last `lookback` of events, each new row
/// a detection.
///
/// With --intel FILE threat-intelligence indicators stand too: each file (STIX 2.1, MISP,
/// OTX, CSV, as `hela intel load` reads them) is loaded into the lake's `indicators` table
/// once, and every event stored is looked up in the whole table (an address inside a
/// network, a domain or any name under it, a hash in Sysmon's Hashes, a file name in a
/// path). Each indicator found is an alert like a rule's, with rule_id
/// `indicator:TYPE:VALUE`, the field it was found in, the indicator (source, labels,
/// confidence) under `indicator`, and a level from its confidence (STIX's scale: 1-29 low,
/// 30-69 medium, 70-100 or none high). The files are read again when they change and on
/// SIGHUP.
///
/// A browser opening the server's address gets the web UI: Discover (Spark SQL, quick
/// filters, a time histogram, fields' top values), Detections (live, with triage), process
/// trees, dashboards, and the playbooks of --playbooks DIR. With --auth it asks for a key.
///
/// On loopback (the default) no credentials are needed. With --auth FILE every request
/// needs an API key (made with `hela apikey add`). Any other address is refused unless
/// both --auth and TLS (--tls-cert, --tls-key) are given. SIGTERM or Ctrl-C stops it: requests
/// under way finish, every acknowledged document is stored, and it exits with status 0.
///
/// Examples:
///   hela serve --lake cases/live
///   hela serve --lake helk-lake --schema helk --listen 127.0.0.1:9200 --auth keys.toml
///   hela serve --lake live --kafka kafka1:9092,kafka2:9092 --topic winlogbeat
///   hela serve --lake live --rules sigma/rules/windows --min-level high \
///     --webhook http://soar.internal/hooks/hela --alerts-file alerts.jsonl
///   curl -N localhost:9200/_hela/alerts
///   hela serve --lake live --intel otx-pulses.json --intel feed.csv --alerts-file hits.jsonl
///   hela serve --lake live --playbooks examples      # then open http://127.0.0.1:9200/
///   hela serve --lake live --listen 0.0.0.0:9200 --flight 0.0.0.0:50051 --auth keys.toml \
///     --tls-cert cert.pem --tls-key key.pem
///   curl -s localhost:9200/_bulk -H 'Content-Type: application/x-ndjson' --data-binary @bulk.ndjson
///   hela sql --server http://127.0.0.1:9200 "SELECT _index, count(*) FROM events GROUP BY 1"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, group(clap::ArgGroup::new("standing").args(["rules", "intel"]).multiple(true)))]
pub struct ServeArgs {
    #[command(flatten)]
    pub lake: LakeArgs,
    #[command(flatten)]
    pub records: RecordSchemaArgs,
    /// Address to listen on, HOST:PORT (port 0: any free port, printed at start). Beyond
    /// loopback it needs --auth and --tls-cert/--tls-key.
    #[arg(long, default_value = "127.0.0.1:9200", value_name = "ADDR")]
    pub listen: String,
    /// Also serve Arrow Flight SQL (ADBC, JDBC, BI tools) on HOST:PORT, e.g. 127.0.0.1:50051.
    #[arg(long, value_name = "ADDR")]
    pub flight: Option<String>,
    /// Run the queries the server is asked (HTTP, Flight SQL, the web UI, scheduled rules)
    /// on the Ballista cluster whose scheduler is at URL (df://HOST:PORT), over the lake its
    /// executors read at the same path. Events are still stored by this server.
    #[arg(long, env = "HELA_CLUSTER", value_name = "URL")]
    pub cluster: Option<String>,
    /// API keys file: every request then needs a key with the role it calls for (ingest,
    /// read, admin). Make keys with `hela apikey add`.
    #[arg(long, value_name = "FILE")]
    pub auth: Option<PathBuf>,
    /// Serve TLS on both ports with this certificate chain (PEM), e.g. a Let's Encrypt
    /// fullchain.pem, or a self-signed one (`openssl req -x509 -addext
    /// basicConstraints=critical,CA:FALSE`), which clients then trust explicitly.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Largest request body, after decompression.
    #[arg(long, default_value_t = 100 << 20, value_name = "BYTES")]
    pub max_body_bytes: usize,
    /// Largest document; larger ones are refused and quarantined.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub max_document_bytes: usize,
    /// A query still running after this many seconds is stopped.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub query_timeout: u64,
    /// Memory all queries together may hold (sorts and joins spill to disk past it).
    #[arg(long, default_value_t = 2048, value_name = "MIB")]
    pub query_memory: usize,
    /// How often acknowledged documents are committed to the lake (they are queryable, and
    /// their alerts delivered, from then on).
    #[arg(long, default_value_t = 250, value_name = "MILLISECONDS")]
    pub commit_interval: u64,
    /// Drop the days older than this period from every table, as `hela lake retain` does, at
    /// start and then every hour: `90d`, `12w`, `1y`. Default: keep every day.
    #[arg(long, value_name = "PERIOD", value_parser = days_parser)]
    pub retain: Option<u64>,
    /// Merge each source's small files across days, as `hela lake compact` does (the server
    /// holds the lake, so that command cannot run beside it), this often: `30m`, `1h`, `1d`;
    /// `0s` never. The first compaction is one period after start.
    #[arg(long, default_value = "1h", value_name = "PERIOD", value_parser = seconds_parser)]
    pub compact_every: u64,
    /// Kafka brokers, HOST:PORT[,HOST:PORT...], to consume --topic from and write
    /// --alerts-topic to.
    #[arg(long, value_name = "BROKERS")]
    pub kafka: Option<String>,
    /// The Kafka topics to consume (repeat or separate with commas).
    #[arg(long, value_name = "TOPIC", value_delimiter = ',', requires = "kafka")]
    pub topic: Vec<String>,
    /// The Kafka consumer group; hela servers of one group share the topics' partitions.
    #[arg(long, default_value = "hela", value_name = "GROUP")]
    pub group: String,
    /// Sigma rule files or directories to stand (Sigma rules, correlations and scheduled
    /// queries): every event stored is run through them.
    #[arg(long, value_name = "RULES")]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub selection: RuleSelectionArgs,
    /// Indicator files to stand (repeat for more): every event stored is looked up in the
    /// lake's `indicators` table, which they are loaded into.
    #[arg(long, value_name = "FILE")]
    pub intel: Vec<PathBuf>,
    /// POST each alert, a JSON object, to this URL (retried with backoff; the alert's id
    /// is also in the Idempotency-Key header).
    #[arg(long, value_name = "URL", requires = "standing")]
    pub webhook: Option<String>,
    /// Append each alert to FILE, a JSON object a line.
    #[arg(long, value_name = "FILE", requires = "standing")]
    pub alerts_file: Option<PathBuf>,
    /// Write each alert to this Kafka topic (on --kafka), keyed by its id.
    #[arg(long, value_name = "TOPIC", requires_all = ["standing", "kafka"])]
    pub alerts_topic: Option<String>,
    /// A directory of Markdown hunt playbooks (```sql blocks) the web UI lists and runs.
    #[arg(long, value_name = "DIR")]
    pub playbooks: Option<PathBuf>,
}

/// Manage the API keys `hela serve --auth FILE` accepts.
#[derive(Debug, Args)]
pub struct ApikeyArgs {
    #[command(subcommand)]
    pub command: ApikeyCommand,
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    Add(ApikeyAddArgs),
}

/// Make an API key and add it to a keys file (made if missing). The key is printed once;
/// the file keeps only its hash.
///
/// Examples:
///   hela apikey add --auth keys.toml --name winlogbeat --role ingest
///   hela apikey add --auth keys.toml --name hunter --role read
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ApikeyAddArgs {
    /// The keys file.
    #[arg(long, value_name = "FILE")]
    pub auth: PathBuf,
    /// The key's name (a client presents it with the secret).
    #[arg(long)]
    pub name: String,
    /// What the key may do: ingest (send documents), read (SQL, tables), admin (everything,
    /// with /metrics). Repeat for several.
    #[arg(long = "role", required = true, value_name = "ROLE")]
    pub roles: Vec<hela_serve::auth::Role>,
}

/// Run hela on several machines: a Ballista scheduler and executors that `hela sql
/// --cluster` sends its plans to.
///
/// Every executor reads the lake at the path the client names (a shared filesystem), and
/// each keeps its shuffle output in its --work-dir, served to the others over Arrow Flight.
/// Ballista's processes have no authentication: keep them on loopback or a private network.
///
/// Examples:
///   hela cluster scheduler --bind 10.0.0.1:50050
///   hela cluster executor --scheduler 10.0.0.1:50050 --host 10.0.0.2 --port 50051 \
///     --cores 8 --work-dir /var/lib/hela/work
///   hela sql --cluster df://10.0.0.1:50050 --lake /shared/lake "SELECT ..."
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub command: ClusterCommand,
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    Scheduler(SchedulerArgs),
    Executor(ExecutorArgs),
}

/// Keep the lake in shape: merge small files across days, drop days past their retention,
/// remove files no query needs.
///
/// Each is one atomic commit under the writer's lock: safe beside running queries, and
/// refused while an ingest or a hela serve writes the lake. Files taken out of the lake stay
/// on disk, retired, for the queries that planned before, until they expire (10 minutes, or
/// `vacuum --keep`); writers remove them after that, and `vacuum` does on demand.
///
/// Examples:
///   hela lake compact --lake cases/live
///   hela lake retain --lake cases/live --older-than 90d
///   hela lake retain --lake cases/live --older-than 2w --table detections
///   hela lake vacuum --lake cases/live
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct LakeMaintenanceArgs {
    #[command(subcommand)]
    pub command: LakeMaintenanceCommand,
}

#[derive(Debug, Subcommand)]
pub enum LakeMaintenanceCommand {
    Compact(CompactArgs),
    Retain(RetainArgs),
    Vacuum(VacuumArgs),
}

/// Merge each source's small files across days into files of up to 131,072 rows, their rows
/// sorted by EventID and time; rewrite each larger file with its rows sorted.
///
/// The files are written in row groups of 16,384 rows, so that a query for some EventIDs
/// skips the row groups of the others by their statistics.
///
/// An ingest merges the small files of each day it writes; a source with few events a day
/// still has a file per day, and every file a query opens costs it the same work whatever its
/// size. Compaction merges them across days, in order of day; a merged file records the
/// days it spans, so filters on time and retention still skip it or keep it whole. A file
/// whose rows take more than its share of 1 GiB of memory is sorted in runs that each fit
/// it. A file once sorted is not sorted again. Works on a
/// lake on an object store too: the files to merge are copied into a working copy, and
/// those merged stay in the store.
#[derive(Debug, Args)]
pub struct CompactArgs {
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Only this table (default: every table).
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
}

/// Drop the days older than a period (whole day partitions, by the events' UTC day).
///
/// Events without a time are kept, and so are compacted files that hold days on both sides
/// of the cut (until their last day is past). Works on a lake on an object store too (its
/// files stay in the store).
#[derive(Debug, Args)]
pub struct RetainArgs {
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Keep this many days back from today: `90d`, `12w`, `6M`, `1y` (rounded down to days).
    #[arg(long, value_name = "PERIOD", value_parser = days_parser)]
    pub older_than: u64,
    /// Only this table (default: every table).
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
    /// Say what would be dropped, and drop nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Remove retired files that expired, and what interrupted writers left.
///
/// On a lake on an object store (no writer's lock there), the expired files are taken out of
/// the catalog by a conditional commit and deleted; files no catalog names are deleted once
/// an hour old, since a write under way uploads its files before it commits them.
#[derive(Debug, Args)]
pub struct VacuumArgs {
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Keep files retired less than this long ago, for the queries that may still read them:
    /// `10m`, `1h`, `0s` (remove them now).
    #[arg(long, value_name = "PERIOD", default_value = "10m", value_parser = seconds_parser)]
    pub keep: u64,
}

/// A period (`30s`, `10m`, `1h`, `90d`, ...) in whole seconds; `0s` is none.
fn seconds_parser(text: &str) -> Result<u64, String> {
    if text.trim().trim_end_matches('s') == "0" {
        return Ok(0);
    }
    hela_sigma::correlation::timespan_ms(text).map(|ms| ms as u64 / 1000)
}

/// A period in whole days, at least one.
fn days_parser(text: &str) -> Result<u64, String> {
    match seconds_parser(text)? / 86_400 {
        0 => Err(format!("`{text}` is less than a day: retention drops whole days")),
        days => Ok(days),
    }
}

/// Run a Ballista scheduler: sessions send it plans, it splits them into stages and hands
/// their tasks to the executors. Prints `scheduler listening on ADDR` once it listens.
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Address to listen on, HOST:PORT (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:50050", value_name = "ADDR")]
    pub bind: String,
    /// An executor not heard from for this many seconds is taken as lost, and its tasks run
    /// again on the others.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub executor_timeout: u64,
}

/// Run a Ballista executor: it asks the scheduler for tasks, runs them, and serves their
/// output to the other executors and to clients.
#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler, HOST:PORT or df://HOST:PORT.
    #[arg(long, value_name = "ADDR")]
    pub scheduler: String,
    /// The address the others reach this executor at (and it listens on).
    #[arg(long, default_value = "127.0.0.1", value_name = "HOST")]
    pub host: String,
    /// The port it serves results on over Arrow Flight (0: any free port).
    #[arg(long, default_value_t = 50051)]
    pub port: u16,
    /// Tasks run at once (default: every core).
    #[arg(long, value_name = "N")]
    pub cores: Option<usize>,
    /// Where its shuffle output and spills go.
    #[arg(long, value_name = "DIR")]
    pub work_dir: PathBuf,
}
