//! `hela sql` end to end: inline tables, several statements, output formats, errors.

mod common;

use std::io::Cursor;
use std::path::Path;

use arrow::array::{Array, AsArray};
use common::*;

/// A directory with the fixtures, as `--table` arguments would name them.
fn fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nxlog.json"), nxlog_lines()).unwrap();
    std::fs::write(dir.path().join("winlogbeat.json.gz"), gzip(winlogbeat_lines().as_bytes())).unwrap();
    dir
}

fn table_arg(dir: &tempfile::TempDir, name: &str, file: &str) -> String {
    format!("{name}={}", dir.path().join(file).display())
}

#[test]
fn inline_tables_union_paths_and_statements_see_earlier_views() {
    let dir = fixtures();
    let t1 = table_arg(&dir, "dataTable", "nxlog.json");
    let t2 = table_arg(&dir, "dataTable", "winlogbeat.json.gz");
    let sql = "CREATE VIEW logons AS SELECT * FROM dataTable WHERE EventID = 4624;\n\
               CREATE OR REPLACE TEMP VIEW remote AS SELECT EventID FROM logons;\n\
               CREATE OR REPLACE TEMPORARY VIEW remote AS SELECT TargetUserName FROM logons WHERE LogonType = '3';\n\
               SELECT TargetUserName, (SELECT count(*) FROM dataTable) AS total FROM remote";
    let out = hela_ok(&["sql", "--lake", "/nonexistent-lake", "--table", &t1, "--table", &t2, "--format", "jsonl", sql]);
    assert_eq!(out, "{\"TargetUserName\":\"pgustavo\",\"total\":7}\n");
}

#[test]
fn names_given_the_same_files_share_one_reading_of_them() {
    let dir = fixtures();
    let mut lines = nxlog_lines();
    lines.push_str("{not json\n");
    std::fs::write(dir.path().join("with_bad_line.json"), lines).unwrap();
    let both = |name: &str| [table_arg(&dir, name, "with_bad_line.json"), table_arg(&dir, name, "winlogbeat.json.gz")];
    let [d1, d2] = both("dataTable");
    let [s1, s2] = both("sparkTable");
    let other = table_arg(&dir, "other", "winlogbeat.json.gz");
    let sql = "SELECT (SELECT count(*) FROM dataTable) AS d, (SELECT count(*) FROM sparkTable) AS s, (SELECT count(*) FROM other) AS o";
    let out = hela(&["sql", "--table", &d1, "--table", &s1, "--table", &d2, "--table", &s2, "--table", &other, "--format", "jsonl", sql], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{\"d\":7,\"s\":7,\"o\":2}\n");
    assert_eq!(stderr(&out).matches("with_bad_line.json:").count(), 1, "the bad line is told once: {}", stderr(&out));
}

#[test]
fn a_view_of_a_whole_table_reads_as_the_table_and_is_listed_as_a_view() {
    let dir = fixtures();
    let t = table_arg(&dir, "t", "nxlog.json");
    let make = "CREATE OR REPLACE TEMP VIEW dataTable AS SELECT * FROM t; CREATE OR REPLACE TEMP VIEW dataTable AS SELECT * FROM t;";
    let counts = "SELECT count(*) AS n, count(DISTINCT EventID) AS ids, min(Hostname) AS host, max(`@timestamp`) AS last";
    let of_table = hela_ok(&["sql", "--table", &t, "--format", "jsonl", &format!("{counts} FROM t")]);
    let of_view = hela_ok(&["sql", "--table", &t, "--format", "jsonl",
        &format!("{make} {counts} FROM dataTable WHERE dataTable.EventID IS NOT NULL OR true")]);
    assert!(of_table.contains("\"n\":") && !of_table.contains("\"n\":0"), "{of_table}");
    assert_eq!(of_view, of_table);
    let listed = hela_ok(&["sql", "--table", &t, "--format", "csv",
        &format!("{make} SELECT table_type FROM information_schema.tables WHERE table_name = 'dataTable'")]);
    assert_eq!(listed, "table_type\nVIEW\n");
    let again = hela(&["sql", "--table", &t, "CREATE VIEW v AS SELECT * FROM t; CREATE VIEW v AS SELECT * FROM t"], None);
    assert!(!again.status.success() && stderr(&again).contains("already exists"), "{}", stderr(&again));
}

#[test]
fn timings_run_every_statement_and_report_rows_and_time() {
    let dir = fixtures();
    let t = table_arg(&dir, "t", "nxlog.json");
    let out = hela(&["sql", "--timings", "--table", &t, "--format", "csv",
        "CREATE TEMP VIEW logons AS SELECT * FROM t WHERE EventID = 4624; SELECT * FROM logons; SELECT count(*) AS n FROM t"], None);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "n\n5\n");
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines[0].starts_with("statement 1/3: 0 rows, ") && lines[0].ends_with(" ms"), "{err}");
    assert!(lines[1].starts_with("statement 2/3: 2 rows, "), "{err}");
    assert!(lines[2].starts_with("statement 3/3: written, "), "{err}");
    assert!(lines[3].starts_with("all statements: "), "{err}");
}

#[test]
fn arrow_output_keeps_column_order_types_and_duplicate_names() {
    let dir = fixtures();
    let t = table_arg(&dir, "t", "nxlog.json");
    let sql = "SELECT a.EventID, b.EventID, a.Hostname, a.tags FROM t a JOIN t b ON a.LogonId = b.TargetLogonId";
    let out = hela(&["sql", "--table", &t, "--format", "arrow", sql], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let reader = arrow::ipc::reader::StreamReader::try_new(Cursor::new(out.stdout), None).unwrap();
    let schema = reader.schema();
    let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["EventID", "EventID", "Hostname", "tags"]);
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    let batch = arrow::compute::concat_batches(&schema, &batches).unwrap();
    assert_eq!(batch.num_rows(), 1);
    let ids = (batch.column(0).as_primitive::<arrow::datatypes::Int64Type>().value(0), batch.column(1).as_primitive::<arrow::datatypes::Int64Type>().value(0));
    assert_eq!(ids, (1, 4624));
    assert!(batch.column(3).is_null(0), "the sysmon 1 fixture has no tags");
}

#[test]
fn csv_json_parquet_and_table_formats() {
    let dir = fixtures();
    let t = table_arg(&dir, "t", "winlogbeat.json.gz");
    let sql = "SELECT event_id, user, event_data.LogonId AS logon FROM t ORDER BY event_id";
    let csv = hela_ok(&["sql", "--table", &t, "--format", "csv", sql]);
    assert_eq!(csv.lines().collect::<Vec<_>>(), [
        "event_id,user,logon",
        "1,\"{\"\"domain\"\":\"\"NT AUTHORITY\"\",\"\"name\"\":\"\"SYSTEM\"\"}\",0x4b5c3",
        "4624,,",
    ]);
    let json: serde_json::Value = serde_json::from_str(&hela_ok(&["sql", "--table", &t, "--format", "json", sql])).unwrap();
    assert_eq!(json[0]["user"]["name"], "SYSTEM");
    assert_eq!(json[1]["user"], serde_json::Value::Null);

    let parquet = dir.path().join("out.parquet");
    hela_ok(&["sql", "--table", &t, "--format", "parquet", "--output", parquet.to_str().unwrap(), sql]);
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&parquet).unwrap()).unwrap().build().unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 2);

    let long = "SELECT event_data.CommandLine FROM t WHERE event_id = 1";
    let cut = hela_ok(&["sql", "--table", &t, "--max-width", "20", long]);
    assert!(cut.contains("powershell -noP -st…") && cut.contains("1 row"), "{cut}");
    let whole = hela_ok(&["sql", "--table", &t, "--wide", long]);
    assert!(whole.contains("powershell -noP -sta -w 1 -enc SQBmACgAJABQAFMA"), "{whole}");
}

#[test]
fn strings_in_double_quotes_and_identifiers_in_backticks_as_in_spark() {
    let dir = fixtures();
    let t = table_arg(&dir, "dataTable", "nxlog.json");
    let sql = "SELECT `@timestamp`, TargetUserName FROM dataTable WHERE Channel = \"security\" AND `@timestamp` < \"2020-09-21T04:15:01\"";
    let rows: serde_json::Value = serde_json::from_str(&hela_ok(&["sql", "--table", &t, "--format", "json", sql])).unwrap();
    assert_eq!(rows, serde_json::json!([{"@timestamp": "2020-09-21T04:15:00.100Z", "TargetUserName": "pgustavo"}]));
}

#[test]
fn backslash_escapes_in_literals_and_like_patterns_read_as_in_spark() {
    let dir = fixtures();
    let t = table_arg(&dir, "t", "nxlog.json");
    // Spark reads 'c:\\windows' as c:\windows, and "%\\\\svchost.exe" as %\\svchost.exe, which
    // LIKE reads as: anything, one backslash, svchost.exe.
    let sql = r#"SELECT 'c:\\windows' AS path, count(*) AS n FROM t WHERE lower(SourceImage) LIKE "%\\\\svchost.exe""#;
    let rows: serde_json::Value = serde_json::from_str(&hela_ok(&["sql", "--table", &t, "--format", "json", sql])).unwrap();
    assert_eq!(rows, serde_json::json!([{"path": r"c:\windows", "n": 1}]));
}

#[test]
fn a_column_selected_twice_comes_out_twice_under_its_name() {
    let dir = fixtures();
    let t = table_arg(&dir, "t", "nxlog.json");
    let sql = "SELECT o.TargetUserName, o.TargetUserName, o.EventID FROM t o WHERE o.LogonType = '3'";
    let out = hela_ok(&["sql", "--table", &t, "--format", "csv", sql]);
    assert_eq!(out, "TargetUserName,TargetUserName,EventID\npgustavo,pgustavo,4624\n");
}

#[test]
fn nested_fields_are_named_after_the_field_as_in_spark() {
    let dir = fixtures();
    let t = table_arg(&dir, "t", "winlogbeat.json.gz");
    let sql = "SELECT x.LogonId, x.ParentImage, x.event_id FROM \
               (SELECT w.event_data.LogonId, event_data.ParentImage, w.event_id FROM t w WHERE event_id = 1) x";
    let out = hela_ok(&["sql", "--table", &t, "--format", "csv", sql]);
    assert_eq!(out, "LogonId,ParentImage,event_id\n0x4b5c3,C:\\Windows\\System32\\wbem\\WmiPrvSE.exe,1\n");
}

#[test]
fn column_names_resolve_without_regard_to_case_unless_ambiguous() {
    let dir = fixtures();
    let t = table_arg(&dir, "t", "nxlog.json");
    let sql = "SELECT o.LogonID, hostname FROM t o WHERE o.EVENTID = 1 AND o.logonid IS NOT NULL";
    let out = hela_ok(&["sql", "--table", &t, "--format", "csv", sql]);
    assert_eq!(out, "LogonId,Hostname\n0x3e8a1f2,WORKSTATION5.theshire.local\n");
    // An exact match wins over a column that differs only in case.
    let exact = hela_ok(&["sql", "--table", &t, "--format", "csv", "SELECT count(SourceProcessGuid) AS n FROM t"]);
    assert_eq!(exact, "n\n1\n");
    let out = hela(&["sql", "--table", &t, "SELECT sourceprocessguid FROM t"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("`sourceprocessguid` is ambiguous: `SourceProcessGUID`, `SourceProcessGuid`"), "{err}");
}

#[test]
fn spark_predicates_and_catalog_statements() {
    let dir = fixtures();
    let t = table_arg(&dir, "t", "nxlog.json");
    let hosts = |filter: &str| {
        let sql = format!("SELECT EventID FROM t WHERE {filter} ORDER BY EventID");
        hela_ok(&["sql", "--table", &t, "--format", "csv", &sql]).lines().skip(1).collect::<Vec<_>>().join(",")
    };
    assert_eq!(hosts(r"SourceImage RLIKE '(?i)LSASS\.exe$'"), "10");
    assert_eq!(hosts(r"Image REGEXP 'who.mi'"), "1");
    assert_eq!(hosts(r"SourceImage NOT RLIKE 'svchost'"), "10");
    assert_eq!(hosts("Hostname NOT LIKE 'WORKSTATION6%' AND EventID IN (1, 4624) AND EventID BETWEEN 2 AND 5000 AND EventID != 1"), "4624,4624");
    let tables = hela_ok(&["sql", "--table", &t, "--format", "csv", "SHOW TABLES"]);
    assert!(tables.lines().any(|l| l.ends_with(",t,BASE TABLE")), "{tables}");
    let columns = hela_ok(&["sql", "--table", &t, "--format", "csv", "DESCRIBE t"]);
    assert!(columns.contains("\nEventID,Int64,YES\n"), "{columns}");
}

#[test]
fn unknown_columns_suggest_close_names() {
    let dir = fixtures();
    let t = table_arg(&dir, "t", "nxlog.json");
    let out = hela(&["sql", "--table", &t, "SELECT Hostnme FROM t"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown column `Hostnme`; did you mean `t.Hostname`"), "{err}");
}

#[test]
fn parquet_files_and_spark_output_directories_are_read_in_place() {
    let dir = fixtures();
    let nxlog = table_arg(&dir, "t", "nxlog.json");
    // A directory as Spark writes it: part files with different columns, and markers.
    let out = dir.path().join("spark-out");
    std::fs::create_dir(&out).unwrap();
    let copy = |select: &str, file: &str| {
        let sql = format!("COPY ({select}) TO '{}' STORED AS PARQUET", out.join(file).display());
        hela_ok(&["sql", "--table", &nxlog, &sql]);
    };
    copy("SELECT EventID, Hostname FROM t WHERE EventID = 4624", "part-00000-a1.snappy.parquet");
    copy("SELECT EventID, Hostname, Image FROM t WHERE EventID <> 4624", "part-00001-a1.snappy.parquet");
    std::fs::write(out.join("_SUCCESS"), "").unwrap();
    std::fs::write(out.join(".part-00000-a1.snappy.parquet.crc"), "crc").unwrap();
    let spark = format!("s={}", out.display());
    let total = hela_ok(&["sql", "--table", &nxlog, "--format", "csv", "SELECT count(*) FROM t"]);
    let rows = hela_ok(&[
        "sql", "--table", &spark, "--format", "csv",
        "SELECT count(*), count(Image), sum(CASE WHEN EventID = 4624 THEN 1 ELSE 0 END) FROM s",
    ]);
    let with_image = hela_ok(&["sql", "--table", &nxlog, "--format", "csv", "SELECT count(Image) FROM t WHERE EventID <> 4624"]);
    let logons = hela_ok(&["sql", "--table", &nxlog, "--format", "csv", "SELECT count(*) FROM t WHERE EventID = 4624"]);
    let line = |text: &str| text.lines().nth(1).unwrap().to_string();
    assert_eq!(line(&rows), format!("{},{},{}", line(&total), line(&with_image), line(&logons)));
    // One file, whatever its name ends with.
    let single = dir.path().join("logons.pq");
    std::fs::copy(out.join("part-00000-a1.snappy.parquet"), &single).unwrap();
    let one = format!("l={}", single.display());
    assert_eq!(line(&hela_ok(&["sql", "--table", &one, "--format", "csv", "SELECT count(*) FROM l"])), line(&logons));
    // Parquet and event logs are not one table.
    let mixed = hela(&["sql", "--table", &spark.replacen("s=", "t=", 1), "--table", &nxlog, "SELECT 1"], None);
    assert_eq!(mixed.status.code(), Some(2));
    assert!(stderr(&mixed).contains("is Parquet but") && stderr(&mixed).contains("nxlog.json"), "{}", stderr(&mixed));
}

#[test]
fn bad_table_paths_are_named() {
    let out = hela(&["sql", "--table", "t=/no/such/file.json", "SELECT 1"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("table t: /no/such/file.json"), "{}", stderr(&out));
    let out = hela(&["sql", "--table", "nonsense", "SELECT 1"], None);
    assert!(stderr(&out).contains("expected NAME=PATH"), "{}", stderr(&out));
}

#[test]
fn partition_pruning_never_changes_answers() {
    let dir = fixtures();
    let lake = dir.path().join("lake");
    let inputs = [dir.path().join("nxlog.json"), dir.path().join("winlogbeat.json.gz")];
    hela_ok(&["ingest", "--lake", lake.to_str().unwrap(), inputs[0].to_str().unwrap(), inputs[1].to_str().unwrap()]);
    let inline: Vec<String> = inputs.iter().map(|p| format!("events={}", p.display())).collect();
    let queries = [
        "SELECT count(*) AS n FROM events WHERE Channel = 'security'",
        "SELECT count(*) AS n FROM events WHERE lower(Channel) = 'microsoft-windows-sysmon/operational' AND EventID = 10",
        "SELECT count(*) AS n FROM events WHERE Channel IN ('security', 'Security') OR event_id = 4624",
        "SELECT count(*) AS n FROM events WHERE `@timestamp` BETWEEN '2020-09-22' AND '2020-09-23'",
        "SELECT count(*) AS n FROM events WHERE `@timestamp` < '2020' AND log_name = 'Security'",
        "SELECT count(*) AS n FROM events WHERE `@timestamp` >= '2020-09-21T04:15' AND Channel = 'security'",
    ];
    for sql in queries {
        let from_lake = query(&lake, sql);
        let from_files = hela_ok(&["sql", "--table", &inline[0], "--table", &inline[1], "--format", "json", sql]);
        let from_files: serde_json::Value = serde_json::from_str(&from_files).unwrap();
        assert_eq!(serde_json::Value::Array(from_lake.clone()), from_files, "{sql}");
        assert!(from_lake[0]["n"].as_i64().unwrap() > 0, "{sql} finds rows");
    }
}

#[test]
fn channel_filters_that_the_files_settle_are_not_applied_to_rows() {
    let dir = tempfile::tempdir().unwrap();
    let event = |channel: &str, id: u32| format!(r#"{{{channel}"log_name":"Security","EventID":{id},"@timestamp":"2020-09-21T04:15:00.000Z","Hostname":"wks1"}}"#);
    // Every record has its Channel: a filter on Channel keeps whole files or skips them.
    let named = dir.path().join("named.json");
    std::fs::write(&named, [event(r#""Channel":"Security","#, 4624), event(r#""Channel":"Security","#, 4688)].join("\n")).unwrap();
    // One record of the same partition has none: its file must be filtered row by row.
    let mixed = dir.path().join("mixed.json");
    std::fs::write(&mixed, [event(r#""Channel":"Security","#, 4624), event("", 4624)].join("\n")).unwrap();
    // The physical plan: what runs against the rows.
    let explain = |lake: &Path, sql: &str| {
        let text = hela_ok(&["sql", "--lake", lake.to_str().unwrap(), "--format", "csv", &format!("EXPLAIN {sql}")]);
        text.split_once("physical_plan").map(|(_, plan)| plan.to_string()).unwrap_or_else(|| panic!("no physical plan: {text}"))
    };
    let counted = "SELECT count(*) AS n FROM events WHERE Channel = 'Security' OR Channel = 'System'";
    let lower = "SELECT count(*) AS n FROM events WHERE lower(Channel) = 'security' AND EventID = 4624";

    let settled = dir.path().join("settled");
    hela_ok(&["ingest", "--lake", settled.to_str().unwrap(), named.to_str().unwrap()]);
    assert_eq!(count(&settled, "events WHERE Channel = 'Security' OR Channel = 'System'"), 2);
    assert_eq!(count(&settled, "events WHERE Channel = 'System'"), 0);
    assert_eq!(query(&settled, lower)[0]["n"], 1);
    assert!(!explain(&settled, counted).contains("Channel"), "{}", explain(&settled, counted));
    assert!(!explain(&settled, lower).contains("Channel") && explain(&settled, lower).contains("EventID"), "{}", explain(&settled, lower));

    let unsettled = dir.path().join("unsettled");
    hela_ok(&["ingest", "--lake", unsettled.to_str().unwrap(), mixed.to_str().unwrap()]);
    assert_eq!(count(&unsettled, "events"), 2);
    assert_eq!(count(&unsettled, "events WHERE Channel = 'Security' OR Channel = 'System'"), 1);
    assert_eq!(query(&unsettled, lower)[0]["n"], 1);
    assert!(explain(&unsettled, counted).contains("Channel"), "{}", explain(&unsettled, counted));
}

#[test]
fn winlogbeat_sample_nests_event_data_and_holds_the_wmi_child() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("winlogbeat.json");
    hela_ok(&["sample", "--shape", "winlogbeat", "--out", sample.to_str().unwrap(), "--events", "300"]);
    let first: serde_json::Value = serde_json::from_str(std::fs::read_to_string(&sample).unwrap().lines().next().unwrap()).unwrap();
    assert!(first["event_data"].is_object() && first.get("EventID").is_none(), "{first}");
    assert_eq!(first["@metadata"]["beat"], "winlogbeat");
    let t = format!("t={}", sample.display());
    let sql = "SELECT event_data.Image AS image, event_data.CommandLine AS command FROM t \
               WHERE source_name = 'Microsoft-Windows-Sysmon' AND event_id = 1 \
               AND event_data.ParentImage = 'C:\\\\Windows\\\\System32\\\\wbem\\\\WmiPrvSE.exe'";
    let out = hela_ok(&["sql", "--lake", "/nonexistent-lake", "--table", &t, "--format", "jsonl", sql]);
    let row: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(row["image"].as_str().unwrap().ends_with("powershell.exe"), "{out}");
    assert!(row["command"].as_str().unwrap().contains(" -enc "), "{out}");
    let logons = hela_ok(&["sql", "--lake", "/nonexistent-lake", "--table", &t, "--format", "csv",
        "SELECT count(*) AS n FROM t WHERE log_name = 'Security' AND event_id = 4624 AND event_data.LogonType = '3'"]);
    assert_eq!(logons, "n\n1\n");
}

#[test]
fn a_query_over_files_gives_the_rows_and_warnings_of_reading_every_field() {
    let dir = fixtures();
    let mut lines = nxlog_lines();
    lines.push_str("[{\"EventID\":7,\"Hostname\":\"a\"},{\"Other\":1}]\n{\"EventID\":8,\"x\":{\"k\":1,\"k\":2}}\n");
    std::fs::write(dir.path().join("mixed.json"), lines).unwrap();
    let tables = [table_arg(&dir, "t", "mixed.json"), table_arg(&dir, "t", "winlogbeat.json.gz")];
    let run = |sql: &str| {
        let out = hela(&["sql", "--table", &tables[0], "--table", &tables[1], "--format", "jsonl", sql], None);
        assert!(out.status.success(), "{sql}: {}", stderr(&out));
        let mut rows: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect();
        rows.sort();
        (rows, stderr(&out))
    };
    for sql in [
        "SELECT Hostname, EventID, LogonType, Score FROM t",
        "SELECT SourceProcessGuid, SourceProcessGUID, count(*) AS n FROM t GROUP BY 1, 2",
        "SELECT e.event_data.TargetUserName, `@timestamp`, beat FROM t e WHERE event_id = 4624",
        "SELECT count(*) AS n, count(Other) AS o FROM t",
        // As a notebook begins: a view of every column, then the query.
        "CREATE OR REPLACE TEMP VIEW n AS SELECT * FROM t; SELECT Hostname, EventID FROM n WHERE LogonType IS NOT NULL",
    ] {
        // A statement other than a query makes every field read.
        let whole = format!("SHOW TABLES; {sql}");
        let (rows, warnings) = run(sql);
        assert!(!rows.is_empty() && warnings.contains("mixed.json:7: skipped: invalid JSON: the key `k` appears twice"), "{sql}: {warnings}");
        assert_eq!((rows, warnings), run(&whole), "{sql}");
    }
    let typo = hela(&["sql", "--table", &tables[0], "--table", &tables[1], "SELECT TargetUsrName FROM t"], None);
    let error = stderr(&typo);
    assert!(!typo.status.success() && error.contains("did you mean `t.TargetUserName`"), "{error}");
    assert_eq!(error.matches("mixed.json:7").count(), 1, "{error}");
}
