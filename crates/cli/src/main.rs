//! `hela`: the command line. Parses arguments and prints; the work is in the crates.

mod cli;
mod hunt;
mod ingest;
mod records;
mod sample;
mod sql;
mod tables;

use clap::Parser;

/// Ingest allocates and frees millions of small JSON values; mimalloc does that faster than
/// the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    let result = match args.command {
        cli::Command::Ingest(a) => ingest::run(a),
        cli::Command::Sql(a) => sql::run(a),
        cli::Command::Hunt(a) => hunt::run(a),
        cli::Command::Tables(a) => tables::list(a),
        cli::Command::Schema(a) => tables::schema(a),
        cli::Command::Sample(a) => sample::run(a),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}
