//! `hela sql`: opens a session, runs the statements, writes the last result.

use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use datafusion::error::DataFusionError;
use hela_chart::{ChartKind, ChartSpec};
use hela_lake::Lake;
use hela_sql::inline::Warn;
use hela_sql::{Session, SqlError, TableStyle, write_batches, write_result, write_stream};

use crate::cli::{QueryTablesArgs, SqlArgs};
use crate::remote::Remote;

/// Opens a session on the lake and the --table files, telling `warn` what is worth telling
/// while they are read. With `read_by` (the statements to run), the files' records keep
/// only the fields it may read.
pub fn open_session(args: &QueryTablesArgs, read_by: Option<&str>, warn: Warn) -> anyhow::Result<(Lake, Session)> {
    let lake = Lake::new(&args.lake.lake);
    let router = args.records.router()?;
    let mut session = Session::new(Some(&lake), &[], router.as_ref(), &mut |_| {})?;
    for add in crate::SQL_FUNCTIONS {
        add(&session);
    }
    session.add_tables(&args.tables, router.as_ref(), read_by, warn)?;
    Ok((lake, session))
}

/// The session `hela sql` runs `args.sql` in: locally, or on the `--cluster`.
fn open_for(args: &SqlArgs, read_by: Option<&str>, warn: Warn) -> anyhow::Result<Session> {
    let (_, session) = open_session(&args.tables, read_by, warn)?;
    Ok(match &args.cluster {
        Some(url) => hela_cluster::connect(session, url)?,
        None => session,
    })
}

/// Why statements did not run: one could not be planned, or running failed.
enum Failure {
    Unplanned(SqlError),
    Failed(SqlError),
}

impl From<Failure> for SqlError {
    fn from(failure: Failure) -> SqlError {
        match failure {
            Failure::Unplanned(error) | Failure::Failed(error) => error,
        }
    }
}

/// Runs the statements on a `hela serve` and writes the result as a local run would.
fn run_on_server(remote: &Remote, args: &SqlArgs) -> anyhow::Result<ExitCode> {
    if !args.tables.tables.is_empty() {
        anyhow::bail!("--table reads files here; with --server, register them on the server or query the lake it serves");
    }
    if args.timings {
        anyhow::bail!("--timings times statements in this process; it does not apply with --server");
    }
    let style = TableStyle { max_width: (!args.wide).then_some(args.max_width) };
    let mut out = output(args)?;
    let (schema, batches) = remote.query(&args.sql)?;
    futures::executor::block_on(async {
        if let Some(kind) = args.chart {
            let batches: Vec<_> = batches.collect::<Result<_, _>>().map_err(|e| SqlError::Output(e.to_string()))?;
            return chart_and_write(args, kind, &schema, batches, style, &mut out).await;
        }
        let stream = futures::stream::iter(batches.map(|b| b.map_err(DataFusionError::from)));
        write_stream(&schema, stream, args.format, style, &mut out).await
    })?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Draws the `--chart` of a result, then writes the result.
async fn chart_and_write(
    args: &SqlArgs,
    kind: ChartKind,
    schema: &Schema,
    batches: Vec<RecordBatch>,
    style: TableStyle,
    out: &mut (dyn Write + Send),
) -> Result<u64, SqlError> {
    let spec = ChartSpec { kind, x: args.x.clone().unwrap_or_default(), y: args.y.clone(), title: args.title.clone() };
    let path = args.out.as_deref().expect("clap requires --out with --chart");
    hela_chart::render_file(&batches, &spec, path).map_err(|e| SqlError::Output(e.to_string()))?;
    eprintln!("chart written to {}", path.display());
    write_batches(schema, batches, args.format, style, out).await
}

/// Where the result goes: `--output FILE` or standard output.
fn output(args: &SqlArgs) -> anyhow::Result<BufWriter<Box<dyn Write + Send>>> {
    let out: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?),
        None => Box::new(std::io::stdout()),
    };
    Ok(BufWriter::with_capacity(1 << 20, out))
}

pub fn run(args: SqlArgs) -> anyhow::Result<ExitCode> {
    if let Some(remote) = Remote::of(&args.server)? {
        return run_on_server(&remote, &args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut out = output(&args)?;
    let session = open_for(&args, Some(&args.sql), &mut |w| eprintln!("warning: {w}"))?;
    let mut ran = runtime.block_on(run_statements(&session, &args, &mut out));
    if matches!(ran, Err(Failure::Unplanned(_))) && session.left_fields_out() {
        // The files are read again with every field, and without a word (what they hold
        // was told): the statements may plan then, and an unknown column is named among
        // all there are.
        drop(session);
        let whole = open_for(&args, None, &mut |_| {})?;
        ran = runtime.block_on(run_statements(&whole, &args, &mut out));
    }
    let ran = ran.map_err(SqlError::from);
    if let (Err(error), Some(url)) = (&ran, &args.cluster) {
        anyhow::bail!(hela_cluster::explain(url, &error.to_string()));
    }
    ran?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the statements of `args.sql` in `session` and writes the last one's result to `out`.
async fn run_statements(session: &Session, args: &SqlArgs, out: &mut (dyn Write + Send)) -> Result<(), Failure> {
    let style = TableStyle { max_width: (!args.wide).then_some(args.max_width) };
    if let Some(kind) = args.chart {
        let frame = session.run(&args.sql).await.map_err(Failure::Unplanned)?;
        let schema = frame.schema().as_arrow().clone();
        let batches = frame.collect().await.map_err(|e| Failure::Failed(e.into()))?;
        return chart_and_write(args, kind, &schema, batches, style, out).await.map(|_| ()).map_err(Failure::Failed);
    }
    if !args.timings {
        let frame = session.run(&args.sql).await.map_err(Failure::Unplanned)?;
        return write_result(frame, args.format, style, out).await.map(|_| ()).map_err(Failure::Failed);
    }
    // Each statement's time covers its planning and its run.
    let started = Instant::now();
    let statements = Session::parse(&args.sql).map_err(Failure::Unplanned)?;
    let count = statements.len();
    for (index, statement) in statements.into_iter().enumerate() {
        let begun = Instant::now();
        let frame = session.execute(statement).await.map_err(Failure::Unplanned)?;
        let done = match index + 1 == count {
            true => write_result(frame, args.format, style, out).await.map(|_| "written".to_string()).map_err(Failure::Failed)?,
            false => {
                let batches = frame.collect().await.map_err(|e| Failure::Failed(e.into()))?;
                format!("{} rows", batches.iter().map(|b| b.num_rows()).sum::<usize>())
            }
        };
        eprintln!("statement {}/{count}: {done}, {:.1} ms", index + 1, begun.elapsed().as_secs_f64() * 1e3);
    }
    eprintln!("all statements: {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
    Ok(())
}
