//! `hela sql`: opens a session, runs the statements, writes the last result.

use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use datafusion::error::DataFusionError;
use hela_chart::{ChartKind, ChartSpec};
use hela_lake::Lake;
use hela_sql::{Session, SqlError, TableStyle, write_batches, write_result, write_stream};

use crate::cli::{QueryTablesArgs, SqlArgs};
use crate::remote::Remote;

/// Opens a session on the lake and the --table files; warnings go to standard error.
pub fn open_session(args: &QueryTablesArgs) -> anyhow::Result<(Lake, Session)> {
    let lake = Lake::new(&args.lake.lake);
    let router = args.records.router()?;
    let session = Session::new(Some(&lake), &args.tables, router.as_ref(), &mut |w| eprintln!("warning: {w}"))?;
    for add in crate::SQL_FUNCTIONS {
        add(&session);
    }
    Ok((lake, session))
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
    let (_, session) = open_session(&args.tables)?;
    let session = match &args.cluster {
        Some(url) => hela_cluster::connect(session, url)?,
        None => session,
    };
    let style = TableStyle { max_width: (!args.wide).then_some(args.max_width) };
    let mut out = output(&args)?;
    let ran = runtime.block_on(async {
        if let Some(kind) = args.chart {
            let frame = session.run(&args.sql).await?;
            let schema = frame.schema().as_arrow().clone();
            let batches = frame.collect().await.map_err(SqlError::from)?;
            return chart_and_write(&args, kind, &schema, batches, style, &mut out).await.map(|_| ());
        }
        if !args.timings {
            let frame = session.run(&args.sql).await?;
            return write_result(frame, args.format, style, &mut out).await.map(|_| ());
        }
        // Each statement's time covers its planning and its run.
        let started = Instant::now();
        let statements = Session::parse(&args.sql)?;
        let count = statements.len();
        for (index, statement) in statements.into_iter().enumerate() {
            let begun = Instant::now();
            let frame = session.execute(statement).await?;
            let done = match index + 1 == count {
                true => write_result(frame, args.format, style, &mut out).await.map(|_| "written".to_string())?,
                false => {
                    let batches = frame.collect().await.map_err(SqlError::from)?;
                    format!("{} rows", batches.iter().map(|b| b.num_rows()).sum::<usize>())
                }
            };
            eprintln!("statement {}/{count}: {done}, {:.1} ms", index + 1, begun.elapsed().as_secs_f64() * 1e3);
        }
        eprintln!("all statements: {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
        Ok(())
    });
    if let (Err(error), Some(url)) = (&ran, &args.cluster) {
        anyhow::bail!(hela_cluster::explain(url, &error.to_string()));
    }
    ran?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
