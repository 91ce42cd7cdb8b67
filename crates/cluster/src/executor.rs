//! `hela cluster executor`: Ballista's executor, running tasks with hela's functions and
//! serving its shuffle output to the other executors over Arrow Flight.

use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::RuntimeProducer;
use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;
use hela_sql::object_stores::LakeStores;

use crate::codec::PlanCodec;
use crate::{ClusterError, session_state};

/// How an executor runs.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's host and port.
    pub scheduler: (String, u16),
    /// The address other executors and clients fetch its results from.
    pub host: String,
    /// The Arrow Flight port it serves results on.
    pub port: u16,
    /// Tasks run at once.
    pub cores: usize,
    /// Where its shuffle output and spills go.
    pub work_dir: PathBuf,
}

/// Runs an executor until the process is stopped (SIGTERM or Ctrl-C).
pub async fn run(options: ExecutorOptions) -> Result<(), ClusterError> {
    crate::log_to_stderr();
    std::fs::create_dir_all(&options.work_dir).map_err(|e| ClusterError::Io(format!("cannot make {}", options.work_dir.display()), e))?;
    let functions = session_state(SessionConfig::default()).map_err(|e| ClusterError::Ballista(e.to_string()))?;
    let (scheduler_host, scheduler_port) = options.scheduler;
    // Ballista's own runtime, which also reads lakes on object stores (`s3://`).
    let work_dir = options.work_dir.clone();
    let runtime: RuntimeProducer = Arc::new(move |_| {
        Ok(Arc::new(RuntimeEnvBuilder::new().with_temp_file_path(work_dir.clone()).with_object_store_registry(LakeStores::shared()).build()?))
    });
    let config = ExecutorProcessConfig {
        bind_host: options.host.clone(),
        external_host: Some(options.host),
        port: options.port,
        scheduler_host,
        scheduler_port,
        scheduler_connect_timeout_seconds: 30,
        vcores: options.cores.max(1),
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        work_dir: Some(options.work_dir.to_string_lossy().into_owned()),
        override_function_registry: Some(Arc::new(BallistaFunctionRegistry::from(&functions))),
        override_physical_codec: Some(Arc::new(PlanCodec::default())),
        override_runtime_producer: Some(runtime),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config)).await.map_err(|e| ClusterError::Ballista(format!("the executor stopped: {e}")))
}
