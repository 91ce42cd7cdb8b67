//! `hela sql`: opens a session, runs the statements, writes the last result.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use hela_lake::Lake;
use hela_sql::{Session, TableStyle, write_result};

use crate::cli::SqlArgs;
use crate::records;

pub fn run(args: SqlArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let lake = Lake::new(&args.lake.lake);
    let router = records::router(&args.records)?;
    let session = Session::new(Some(&lake), &args.tables, router.as_ref(), &mut |w| eprintln!("warning: {w}"))?;
    let style = TableStyle { max_width: (!args.wide).then_some(args.max_width) };
    let mut out: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?),
        None => Box::new(std::io::stdout()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, &mut out);
    runtime.block_on(async {
        let frame = session.run(&args.sql).await?;
        write_result(frame, args.format, style, &mut out).await
    })?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
