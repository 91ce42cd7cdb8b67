//! Where hunted events come from: files read batch by batch (EVTX, JSON lines, archives),
//! or the lake's `events` table streamed from Parquet. Batches are evaluated in parallel and
//! their detections handed on in input order; the correlations' detections, which need
//! every event in time order, come after them. A lake can also be hunted inside a plan that
//! another session runs (a cluster's), the rules evaluated where the events are read.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::Context;
use arrow::array::RecordBatch;
use futures::StreamExt;
use hela_lake::{EVENTS_TABLE, Lake, RawEvents, Router, TableEntry};
use hela_schema::{RecordEvent, RecordForm, stream_records};
use hela_sigma::Engine;
use hela_source::{ReadOptions, discover};
use hela_sql::lake_tables::LakeTable;
use hela_sql::{Session, SqlError};
use rayon::prelude::*;

use crate::correlate::Correlations;
use crate::detection::{Detection, detect};
use crate::plan::{SigmaScan, detections_of};
use crate::rules::RuleSource;

/// Batches evaluated together, one per core.
const BATCHES_PER_STEP: usize = 8;

/// A hunt of the lake on a cluster is split into at most one task per file, and at most this
/// many per core of the cluster or [`REMOTE_TASKS`], whichever is more: tasks smaller than a
/// core's share, which executors take as they free up.
const REMOTE_TASKS_PER_CORE: usize = 4;
/// See [`REMOTE_TASKS_PER_CORE`].
const REMOTE_TASKS: usize = 64;

/// Hunts files, directories and archives; returns the number of events read. What could
/// not be read (bad lines, truncated archives, unreadable inputs) goes to `warn`.
pub fn hunt_files(
    paths: &[PathBuf],
    engine: &Engine,
    with_event: bool,
    handle: &mut dyn FnMut(Vec<Detection>) -> anyhow::Result<()>,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<u64> {
    let found = discover(paths);
    for error in &found.errors {
        warn(error.to_string());
    }
    for (path, reason) in &found.skipped {
        warn(format!("{}: skipped: {reason}", path.display()));
    }
    let inputs = found.inputs;
    if inputs.is_empty() {
        anyhow::bail!("no event logs to hunt in {}", crate::display(paths));
    }
    let names: Vec<Arc<str>> = inputs.iter().map(|i| Arc::from(i.display_name())).collect();
    let mut pending: Vec<(RecordBatch, Option<Arc<str>>)> = Vec::new();
    let mut events = 0u64;
    let progress = AtomicU64::new(0);
    let mut correlations = Correlations::new(engine);
    stream_records(&inputs, &ReadOptions::default(), &RecordForm::Tape, &progress, None, &mut |event| {
        match event {
            RecordEvent::Records { records, input, .. } => {
                events += records.len() as u64;
                let batch = records.to_inferred_batch()?;
                pending.push((batch, Some(names[input].clone())));
                if pending.len() >= BATCHES_PER_STEP {
                    evaluate(std::mem::take(&mut pending), engine, with_event, &mut correlations, handle)?;
                }
            }
            RecordEvent::Bad { record, .. } => warn(format!("{}:{}: skipped: {}", record.origin, record.line, record.reason)),
            RecordEvent::Warning { warning, .. } => warn(warning.to_string()),
            RecordEvent::Unreadable { part, .. } => warn(format!("unreadable: {part}")),
            RecordEvent::InputDone { input, result: Err(error) } => warn(format!("{}: {error}", inputs[input].display_name())),
            RecordEvent::InputDone { .. } => {}
        }
        Ok::<(), anyhow::Error>(())
    })?;
    evaluate(pending, engine, with_event, &mut correlations, handle)?;
    finish(correlations, engine, handle, warn)?;
    Ok(events)
}

/// Hunts the lake's `events` table; returns the number of events read.
pub fn hunt_lake(
    root: &Path,
    engine: &Engine,
    with_event: bool,
    handle: &mut dyn FnMut(Vec<Detection>) -> anyhow::Result<()>,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<u64> {
    let (lake, _) = raw_events_lake(root)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let session = Session::new(Some(&lake), &[], &RawEvents::default(), &mut *warn)?;
        // The table itself rather than `SELECT *`, which DataFusion's SQL planner expands in
        // time quadratic in the columns (13 ms at 330).
        let frame = session.context().table(EVENTS_TABLE).await.context("cannot read the lake's events")?;
        let mut stream = frame.execute_stream().await.context("cannot read the lake's events")?;
        let mut pending = Vec::new();
        let mut events = 0u64;
        let mut correlations = Correlations::new(engine);
        while let Some(batch) = stream.next().await {
            let batch = batch.context("cannot read the lake's events")?;
            events += batch.num_rows() as u64;
            pending.push((batch, None));
            if pending.len() >= BATCHES_PER_STEP {
                evaluate(std::mem::take(&mut pending), engine, with_event, &mut correlations, handle)?;
            }
        }
        evaluate(pending, engine, with_event, &mut correlations, handle)?;
        finish(correlations, engine, handle, warn)?;
        Ok(events)
    })
}

/// Hunts the lake's `events` table in a plan run by the session `connect` makes of a local
/// one (a cluster's): the rules, sent as `rules` (from which `engine` was loaded), run where
/// the events are read, and only their detections come back. The correlations run here.
/// Returns the number of events in the table.
pub fn hunt_lake_remotely(
    root: &Path,
    rules: &RuleSource,
    engine: &Engine,
    with_event: bool,
    connect: &dyn Fn(Session) -> Result<Session, SqlError>,
    handle: &mut dyn FnMut(Vec<Detection>) -> anyhow::Result<()>,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<u64> {
    let (lake, table) = raw_events_lake(root)?;
    let events = table.files.iter().map(|f| f.rows).sum();
    let scan = SigmaScan::new(Arc::new(LakeTable::union(&lake, &[&table])), Arc::new(rules.clone()), with_event);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let session = connect(Session::new(Some(&lake), &[], &RawEvents::default(), &mut *warn)?)?;
        // Tasks smaller than a core's share, which executors then take as they free up: rules
        // cost more on some files than on others of the same size. A session on a cluster
        // has as many partitions as the cluster has cores.
        let state = session.context().state_ref();
        let mut state = state.write();
        let options = state.config_mut().options_mut();
        let most = REMOTE_TASKS.max(REMOTE_TASKS_PER_CORE * options.execution.target_partitions);
        options.execution.target_partitions = table.files.len().clamp(1, most);
        drop(state);
        let frame = session.context().read_table(Arc::new(scan)).context("cannot plan the hunt")?;
        let mut stream = frame.execute_stream().await.context("cannot run the hunt")?;
        let mut correlations = Correlations::new(engine);
        while let Some(batch) = stream.next().await {
            let detections = detections_of(&batch.context("the hunt failed")?)?;
            hand_on(vec![detections], engine, &mut correlations, handle)?;
        }
        finish(correlations, engine, handle, warn)?;
        Ok(events)
    })
}

/// The lake at `root`, which must hold events under the raw schema (whose field names are
/// Sigma's), and its `events` table as its catalog has it now.
fn raw_events_lake(root: &Path) -> anyhow::Result<(Lake, TableEntry)> {
    let lake = Lake::new(root);
    if !lake.exists() {
        anyhow::bail!("no lake at {}: name event logs to hunt, or ingest them first (hela ingest --lake {} PATH)", root.display(), root.display());
    }
    let mut catalog = lake.catalog()?;
    if catalog.schema != RawEvents::default().schema() {
        anyhow::bail!(
            "the lake at {} holds the {} schema, whose field names are not Sigma's; hunt a lake ingested with the raw schema, or the event logs themselves",
            root.display(),
            catalog.schema
        );
    }
    let events = catalog.tables.remove(EVENTS_TABLE).with_context(|| format!("the lake at {} has no `{EVENTS_TABLE}` table", root.display()))?;
    Ok((lake, events))
}

/// Evaluates `batches` in parallel and hands on their detections in order.
fn evaluate(
    batches: Vec<(RecordBatch, Option<Arc<str>>)>,
    engine: &Engine,
    with_event: bool,
    correlations: &mut Option<Correlations>,
    handle: &mut dyn FnMut(Vec<Detection>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let found: Vec<Vec<Detection>> = batches
        .par_iter()
        .map(|(batch, source)| detect(batch, engine, with_event, source))
        .collect::<anyhow::Result<_>>()?;
    hand_on(found, engine, correlations, handle)
}

/// Hands on detections, those that feed correlations queued for them.
fn hand_on(
    found: Vec<Vec<Detection>>,
    engine: &Engine,
    correlations: &mut Option<Correlations>,
    handle: &mut dyn FnMut(Vec<Detection>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for detections in found {
        match correlations {
            None => handle(detections)?,
            Some(correlations) => {
                handle(correlations.take(detections, engine))?;
                if correlations.full() {
                    handle(correlations.run(engine, false))?;
                }
            }
        }
    }
    Ok(())
}

/// Runs what is queued for the correlations and hands on their detections.
fn finish(
    correlations: Option<Correlations>,
    engine: &Engine,
    handle: &mut dyn FnMut(Vec<Detection>) -> anyhow::Result<()>,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<()> {
    let Some(mut correlations) = correlations else { return Ok(()) };
    handle(correlations.run(engine, true))?;
    correlations.notes().into_iter().for_each(warn);
    Ok(())
}
