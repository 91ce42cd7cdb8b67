//! `hela cluster scheduler`: Ballista's scheduler, planning the stages of what sessions send
//! with hela's functions and lake tables.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};

use crate::codec::{LakeCodec, PlanCodec};
use crate::{ClusterError, session_state};

/// How a scheduler runs.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Where it listens (port 0: any free port).
    pub bind: SocketAddr,
    /// An executor not heard from for this long is taken as lost: its tasks run again on
    /// the others.
    pub executor_timeout: Duration,
}

/// Runs a scheduler until the process stops; `ready` hears the address it listens on.
pub async fn run(options: SchedulerOptions, ready: impl FnOnce(SocketAddr)) -> Result<(), ClusterError> {
    crate::log_to_stderr();
    let listener = tokio::net::TcpListener::bind(options.bind).await.map_err(|e| ClusterError::Io(format!("cannot listen on {}", options.bind), e))?;
    let address = listener.local_addr().map_err(|e| ClusterError::Io("cannot read the bound address".into(), e))?;
    let config = SchedulerConfig {
        bind_host: address.ip().to_string(),
        external_host: address.ip().to_string(),
        bind_port: address.port(),
        // Executors ask for work (and so say they live) every few seconds at most.
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        executor_timeout_seconds: options.executor_timeout.as_secs().max(6),
        expire_dead_executor_interval_seconds: 1,
        override_session_builder: Some(Arc::new(session_state)),
        override_logical_codec: Some(Arc::new(LakeCodec::default())),
        override_physical_codec: Some(Arc::new(PlanCodec::default())),
        // Its REST API (which clients ask for the cluster's cores) answers pages of its own
        // origin only: a page elsewhere cannot read its jobs or cancel them from a browser.
        cors_allowed_origins: format!("http://{address}"),
        ..SchedulerConfig::default()
    };
    let config = Arc::new(config);
    let failed = |what: &'static str| move |e: ballista_core::error::BallistaError| ClusterError::Ballista(format!("{what}: {e}"));
    let cluster = BallistaCluster::new_from_config(&config).await.map_err(failed("cannot set up the scheduler's state"))?;
    let scheduler = create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, config).await.map_err(failed("cannot start the scheduler"))?;
    ready(address);
    start_grpc_service_with_listener(listener, scheduler).await.map_err(failed("the scheduler stopped"))
}
