//! `hela cluster scheduler` and `hela cluster executor`: Ballista's processes with hela's
//! functions and lake tables.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use hela_cluster::executor::ExecutorOptions;
use hela_cluster::scheduler::SchedulerOptions;

use crate::cli::{ExecutorArgs, SchedulerArgs};

pub fn scheduler(args: SchedulerArgs) -> anyhow::Result<ExitCode> {
    let bind = resolve(&args.bind)?;
    warn_beyond_loopback(&bind);
    let options = SchedulerOptions { bind, executor_timeout: Duration::from_secs(args.executor_timeout) };
    runtime()?.block_on(hela_cluster::scheduler::run(options, |address| {
        println!("scheduler listening on df://{address}");
        let _ = std::io::stdout().flush();
    }))?;
    Ok(ExitCode::SUCCESS)
}

pub fn executor(args: ExecutorArgs) -> anyhow::Result<ExitCode> {
    let scheduler = resolve(hela_cluster::scheduler_address(&args.scheduler))?;
    let port = match args.port {
        0 => free_port(&args.host)?,
        port => port,
    };
    warn_beyond_loopback(&resolve(&format!("{}:{port}", args.host))?);
    let cores = args.cores.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = ExecutorOptions { scheduler: (scheduler.ip().to_string(), scheduler.port()), host: args.host, port, cores, work_dir: args.work_dir };
    println!("executor serving on {}:{port}, {cores} tasks at once, asking {scheduler} for work", options.host);
    let _ = std::io::stdout().flush();
    runtime()?.block_on(hela_cluster::executor::run(options))?;
    Ok(ExitCode::SUCCESS)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(16 << 20).build()?)
}

fn resolve(address: &str) -> anyhow::Result<SocketAddr> {
    address.to_socket_addrs().map_err(|e| anyhow::anyhow!("cannot resolve {address}: {e}"))?.next().ok_or_else(|| anyhow::anyhow!("{address} names no address"))
}

/// A port free on `host` now.
fn free_port(host: &str) -> anyhow::Result<u16> {
    Ok(TcpListener::bind((host, 0)).map_err(|e| anyhow::anyhow!("cannot find a free port on {host}: {e}"))?.local_addr()?.port())
}

/// Ballista's processes take plans and serve results to anyone who reaches them.
fn warn_beyond_loopback(address: &SocketAddr) {
    if !address.ip().is_loopback() {
        eprintln!("warning: {address} is beyond loopback and Ballista has no authentication: keep it on a private network");
    }
}
