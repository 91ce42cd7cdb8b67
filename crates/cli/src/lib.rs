//! hela's commands, shared by the `hela` program and the Python package's `hela.command`:
//! parse a command line with [`Cli`], run it with [`run`].

mod cli;
mod cluster;
mod hunt;
mod ingest;
mod intel;
mod maintenance;
mod playbook;
mod remote;
mod sample;
mod serve;
mod sql;
mod tables;

use std::process::ExitCode;

pub use cli::Cli;

/// The table functions hela adds to SQL beyond Spark's, each adding its family to a session
/// (and every session forked from it): graphs, threat intelligence, rarity and outliers.
pub const SQL_FUNCTIONS: [fn(&hela_sql::Session); 3] = [hela_graph::register, hela_intel::register, hela_anomaly::register];

/// Runs a parsed command line: what the command prints goes to standard output and error;
/// the exit status says whether it found what it was asked to (ingest: every input read).
pub fn run(args: Cli) -> anyhow::Result<ExitCode> {
    match args.command {
        cli::Command::Ingest(a) => ingest::run(a),
        cli::Command::Sql(a) => sql::run(a),
        cli::Command::Hunt(a) => hunt::run(a),
        cli::Command::Tables(a) => tables::list(a),
        cli::Command::Schema(a) => tables::schema(a),
        cli::Command::Sample(a) => sample::run(a),
        cli::Command::Playbook(a) => match a.command {
            cli::PlaybookCommand::Run(a) => playbook::run(a),
        },
        cli::Command::Serve(a) => serve::run(a),
        cli::Command::Apikey(a) => match a.command {
            cli::ApikeyCommand::Add(a) => serve::add_key(a),
        },
        cli::Command::Intel(a) => match a.command {
            cli::IntelCommand::Load(a) => intel::load(a),
        },
        cli::Command::Lake(a) => match a.command {
            cli::LakeMaintenanceCommand::Compact(a) => maintenance::compact(a),
            cli::LakeMaintenanceCommand::Retain(a) => maintenance::retain(a),
            cli::LakeMaintenanceCommand::Vacuum(a) => maintenance::vacuum(a),
        },
        cli::Command::Cluster(a) => match a.command {
            cli::ClusterCommand::Scheduler(a) => cluster::scheduler(a),
            cli::ClusterCommand::Executor(a) => cluster::executor(a),
        },
    }
}
