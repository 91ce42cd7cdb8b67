//! hela on an Apache DataFusion Ballista cluster. A scheduler ([`scheduler`]) and executors
//! ([`executor`]) run Ballista's own processes with everything hela's plans need registered:
//! the Spark SQL front end's functions and the lake's tables ([`codec`]). A session
//! connected to the scheduler ([`connect`]) plans Spark SQL as a local one does and runs
//! the plans on the cluster: the scheduler splits them into stages, executors run their
//! tasks and exchange shuffles, and a lost executor's tasks are retried on the others.

pub mod codec;
pub mod executor;
pub mod scheduler;

use std::sync::Arc;
use std::time::Duration;

use ballista_core::config::BALLISTA_SCHEDULER_SHARE_FILE_STATISTICS_CACHE;
use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::SessionConfig;
use hela_sql::object_stores::LakeStores;
use hela_sql::{Session, SqlError, with_spark};

use crate::codec::LakeCodec;

/// Why a cluster process cannot start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{0}")]
    Io(String, #[source] std::io::Error),
    #[error("{0}")]
    Ballista(String),
}

/// `session` with its queries run on the cluster whose scheduler is at `url`
/// (`df://HOST:PORT`, `http://HOST:PORT` or `HOST:PORT`): planned here, with the same
/// tables, views and functions, and executed there.
pub fn connect(session: Session, url: &str) -> Result<Session, SqlError> {
    let state = session.context().state();
    // The catalog holding the lake's tables is the session's own: not made anew.
    let mut config = state
        .config()
        .clone()
        .with_create_default_catalog_and_schema(false)
        .with_ballista_logical_extension_codec(Arc::new(LakeCodec::default()))
        // Ballista's static stage planner: its adaptive one leaves a job waiting for ever
        // when an executor is lost after its shuffle output was read.
        .with_ballista_adaptive_query_planner(false);
    let optimizer = &mut config.options_mut().optimizer;
    // The static planner swaps a join's inputs after DataFusion built its dynamic filters,
    // which DataFusion refuses (and the job waits for ever).
    optimizer.enable_dynamic_filter_pushdown = false;
    // What Ballista's scheduler sets anyway (saying so in its log for every job).
    optimizer.enable_round_robin_repartition = false;
    // Ballista's scheduler otherwise builds each session's state a second time, registering
    // its functions again in the order of a hash map: where DataFusion's and Spark's
    // functions share a name (`avg`), either could win, and the scheduler would plan one
    // while the executors run the other.
    config.options_mut().set(BALLISTA_SCHEDULER_SHARE_FILE_STATISTICS_CACHE, "false")?;
    // As many partitions as the cluster has cores, not as this machine has.
    if let Some(cores) = cluster_cores(url) {
        config.options_mut().execution.target_partitions = cores;
    }
    let state = SessionStateBuilder::new_from_existing(state).with_config(config).build();
    // Ballista puts its own function lists in place of the session's: hela's go back on top.
    let state = state.upgrade_for_ballista(scheduler_url(url))?;
    Ok(session.with_context(with_spark(SessionStateBuilder::new_from_existing(state))))
}

/// The cores of the executors registered with the scheduler at `url`, as its REST API
/// (`/api/executors`) lists them; `None` when it cannot say (no executor yet, or a
/// scheduler without that API).
fn cluster_cores(url: &str) -> Option<usize> {
    #[derive(serde::Deserialize)]
    struct Executor {
        specification: Specification,
    }
    #[derive(serde::Deserialize)]
    struct Specification {
        vcores: u32,
    }
    let address = format!("http://{}/api/executors", scheduler_address(url));
    let ask = || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
        runtime.block_on(async {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().ok()?;
            let body = client.get(&address).send().await.ok()?.error_for_status().ok()?.bytes().await.ok()?;
            let executors: Vec<Executor> = serde_json::from_slice(&body).ok()?;
            let cores: usize = executors.iter().map(|e| e.specification.vcores as usize).sum();
            (cores > 0).then_some(cores)
        })
    };
    // On a thread of its own: the caller may be inside a runtime, where this one cannot block.
    std::thread::scope(|scope| scope.spawn(ask).join().ok().flatten())
}

/// The error of a statement run on the cluster at `url`, in the user's terms: a scheduler
/// that cannot be reached, or a table that cannot be sent, said plainly; other errors as
/// they are.
pub fn explain(url: &str, error: &str) -> String {
    if error.contains("tcp connect error") || error.contains("Connection refused") {
        return format!("cannot reach the cluster's scheduler at {url} (connection refused): is `hela cluster scheduler` running there?");
    }
    if let Some(at) = error.find(codec::NOT_ON_A_CLUSTER) {
        let start = error[..at].rfind("Context(\"").map_or(0, |s| s + "Context(\"".len());
        let end = error[at..].find('"').map_or(error.len(), |e| at + e);
        return format!("{}; run it without --cluster", &error[start..end]);
    }
    error.to_string()
}

/// Ballista's log on standard error, from warnings up (an executor lost, a task failed)
/// unless `RUST_LOG` names another level (`error`, `warn`, `info`, `debug`, `trace`).
pub(crate) fn log_to_stderr() {
    let level = std::env::var("RUST_LOG").ok().and_then(|l| l.trim().parse().ok()).unwrap_or(log::LevelFilter::Warn);
    if log::set_logger(&StderrLog).is_ok() {
        log::set_max_level(level);
    }
}

/// Writes each record as a line on standard error.
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            eprintln!("{} {}: {}", record.level(), record.target(), record.args());
        }
    }

    fn flush(&self) {}
}

/// The scheduler's address as Ballista's client dials it.
fn scheduler_url(url: &str) -> String {
    format!("http://{}", scheduler_address(url))
}

/// The `HOST:PORT` of a scheduler's URL (`df://HOST:PORT`, `http://HOST:PORT/` or
/// `HOST:PORT`).
pub fn scheduler_address(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest).trim_end_matches('/')
}

/// The state of a session on a cluster process, made from `config` (what the client sent):
/// Ballista's, with the Spark SQL front end's functions, reading lakes on object stores too.
pub(crate) fn session_state(config: SessionConfig) -> datafusion::error::Result<SessionState> {
    let base = ballista_core::utils::default_session_builder(config)?;
    let runtime = RuntimeEnvBuilder::from_runtime_env(base.runtime_env()).with_object_store_registry(LakeStores::shared()).build_arc()?;
    Ok(with_spark(SessionStateBuilder::new_from_existing(base).with_runtime_env(runtime)).state())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_what_cannot_run_on_the_cluster_and_what_is_unreachable() {
        let sent = "Internal error: failed to serialize logical plan: Context(\"Error serializing custom table at x.rs:1\", \
                    Context(\"table degrees() cannot run on a cluster (lake tables and views over them can)\", NotImplemented(\"no\")))";
        assert_eq!(explain("df://h:1", sent), "table degrees() cannot run on a cluster (lake tables and views over them can); run it without --cluster");
        let refused = "Execution error: tonic::transport::Error(Transport, ConnectError(ConnectError(\"tcp connect error\", 127.0.0.1:1)))";
        assert!(explain("df://h:1", refused).starts_with("cannot reach the cluster's scheduler at df://h:1"));
        assert_eq!(explain("df://h:1", "Arrow error: x"), "Arrow error: x");
    }

    #[test]
    fn the_scheduler_builds_every_session_of_a_client_with_sparks_functions() {
        let client = connect(Session::new(None, &[], &hela_lake::RawEvents::default(), &mut |_| {}).unwrap(), "127.0.0.1:1").unwrap();
        let config = client.context().state().config().clone();
        let scheduler = ballista_scheduler::state::session_manager::share_file_statistics_cache(Arc::new(session_state));
        let avg = |state: SessionState| format!("{:?}", state.aggregate_functions()["avg"].inner()).split([' ', '(']).next().map(str::to_string);
        let expected = avg(session_state(config.clone()).unwrap());
        assert!(expected.as_deref().is_some_and(|name| name.starts_with("Spark")), "{expected:?}");
        for _ in 0..20 {
            assert_eq!(avg(scheduler(config.clone()).unwrap()), expected);
        }
    }

    #[test]
    fn the_scheduler_is_dialled_over_http_whatever_the_scheme() {
        for url in ["df://127.0.0.1:50050", "http://127.0.0.1:50050/", "127.0.0.1:50050"] {
            assert_eq!(scheduler_url(url), "http://127.0.0.1:50050");
        }
    }
}
