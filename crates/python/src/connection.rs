//! A connection: one lake, the tables registered on it, and a SQL session over both.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::RecordBatchReader;
use hela_hunt::rules::{LoadedRules, Selection, load};
use hela_hunt::{Detection, display, hunt_files, hunt_lake, router_named, store, to_arrow};
use hela_lake::{IngestOptions, IngestProgress, Lake, Router, ingest};
use hela_sigma::Level;
use hela_sql::Session;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrow_c::{ArrowStream, import_stream};
use crate::frame::Frame;
use crate::{HelaError, hela_error, runtime};

/// Messages of one ingest shown one by one before the rest are only counted.
const SHOWN_MESSAGES: usize = 50;

/// A lake (which need not exist yet: the first ingest makes it) and a query session on it.
#[pyclass(module = "hela._hela", frozen)]
pub struct Connection {
    lake: Lake,
    router: Arc<dyn Router>,
    session: Session,
}

#[pymethods]
impl Connection {
    /// Opens the lake at `lake`; records are stored in `schema` (`raw` or `helk`).
    #[new]
    #[pyo3(signature = (lake, schema = "raw", helk_mappings = None, cluster = None))]
    fn new(lake: PathBuf, schema: &str, helk_mappings: Option<PathBuf>, cluster: Option<&str>) -> PyResult<Connection> {
        let router = router_named(schema, helk_mappings.as_deref()).map_err(hela_error)?;
        let lake = Lake::new(lake);
        let session = Session::new(Some(&lake), &[], router.as_ref(), &mut |_| {}).map_err(hela_error)?;
        for add in hela::SQL_FUNCTIONS {
            add(&session);
        }
        let session = match cluster {
            Some(url) => hela_cluster::connect(session, url).map_err(hela_error)?,
            None => session,
        };
        Ok(Connection { lake, router, session })
    }

    /// The lake's directory.
    #[getter]
    fn lake(&self) -> PathBuf {
        self.lake.root().to_path_buf()
    }

    /// The URL of a lake on an object store; `None` for a directory.
    #[getter]
    fn store_url(&self) -> Option<String> {
        self.lake.store().map(|store| store.url().to_string())
    }

    /// Runs every statement in order (views and tables made by one are seen by the next)
    /// and returns the last one's result, not yet run.
    fn sql(&self, py: Python<'_>, query: &str) -> PyResult<Frame> {
        py.detach(|| runtime()?.block_on(self.session.run(query)).map(Frame::new).map_err(hela_error))
    }

    /// Makes the table `name` from files, directories and archives; returns the warnings
    /// (bad lines skipped, truncated archives).
    fn register_files(&self, py: Python<'_>, name: &str, paths: Vec<PathBuf>) -> PyResult<Vec<String>> {
        py.detach(|| {
            let mut warnings = Vec::new();
            self.session.register_files(name, &paths, self.router.as_ref(), &mut |w| warnings.push(w)).map_err(hela_error)?;
            Ok(warnings)
        })
    }

    /// Makes the table `name` from anything with `__arrow_c_stream__` (a pyarrow Table),
    /// holding its columns where Python made them.
    fn register_arrow(&self, py: Python<'_>, name: &str, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let reader = import_stream(data)?;
        let schema = reader.schema();
        py.detach(|| {
            let batches = reader.collect::<Result<Vec<_>, _>>().map_err(hela_error)?;
            self.session.register_batches(name, schema, batches).map_err(hela_error)
        })
    }

    /// Ingests files, directories and archives into the lake and returns what was done:
    /// counts, and the messages (quarantined lines, skipped and failed inputs, warnings).
    #[pyo3(signature = (paths, force = false))]
    fn ingest<'py>(&self, py: Python<'py>, paths: Vec<PathBuf>, force: bool) -> PyResult<Bound<'py, PyDict>> {
        let options = IngestOptions { force, router: self.router.clone(), ..IngestOptions::default() };
        let (summary, messages, unshown) = py.detach(|| {
            let mut messages: Vec<String> = Vec::new();
            let mut unshown = 0usize;
            let summary = ingest(&self.lake, &paths, &options, &IngestProgress::default(), &mut |notice| {
                let Some(message) = notice.message() else { return };
                if messages.len() < SHOWN_MESSAGES {
                    messages.push(message);
                } else {
                    unshown += 1;
                }
            })
            .map_err(hela_error)?;
            self.session.reload_lake().map_err(hela_error)?;
            Ok::<_, PyErr>((summary, messages, unshown))
        })?;
        let result = PyDict::new(py);
        result.set_item("inputs_read", summary.inputs_read)?;
        result.set_item("inputs_skipped", summary.inputs_skipped)?;
        result.set_item("inputs_failed", summary.inputs_failed)?;
        result.set_item("records_stored", summary.records_stored)?;
        result.set_item("records_quarantined", summary.records_quarantined)?;
        result.set_item("warnings", summary.warnings)?;
        result.set_item("bytes_read", summary.bytes_read)?;
        result.set_item("files_written", summary.files_written)?;
        result.set_item("files_merged", summary.files_merged)?;
        result.set_item("seconds", summary.seconds)?;
        result.set_item("messages", messages)?;
        result.set_item("messages_not_shown", unshown)?;
        Ok(result)
    }

    /// Runs the Sigma rules under `rules` over event logs (`paths`) or, without paths, the
    /// lake's `events`; returns the detections as an Arrow stream (with each whole
    /// event) and the warnings. `save` also stores them in the lake's `detections` table.
    #[pyo3(signature = (rules, paths = None, min_level = None, status = Vec::new(), tags = Vec::new(), save = false))]
    fn hunt(
        &self,
        py: Python<'_>,
        rules: Vec<PathBuf>,
        paths: Option<Vec<PathBuf>>,
        min_level: Option<&str>,
        status: Vec<String>,
        tags: Vec<String>,
        save: bool,
    ) -> PyResult<(ArrowStream, Vec<String>)> {
        let min_level = match min_level {
            Some(name) => Some(Level::parse(name).ok_or_else(|| {
                HelaError::new_err(format!("unknown level `{name}`: one of {}", Level::ALL.map(Level::as_str).join(", ")))
            })?),
            None => None,
        };
        let selection = Selection { min_level, status, tags };
        py.detach(|| {
            let LoadedRules { engine, scheduled, loaded, rejected } = load(&rules, &selection);
            let Some(engine) = engine else {
                return Err(HelaError::new_err(format!(
                    "no rules to run: {} rule files were read from {}, none selected",
                    loaded + rejected.len(),
                    display(&rules)
                )));
            };
            let mut found: Vec<Detection> = Vec::new();
            let mut warnings = Vec::new();
            let mut handle = |detections: Vec<Detection>| {
                found.extend(detections);
                Ok(())
            };
            let mut warn = |warning: String| warnings.push(warning);
            if !scheduled.is_empty() {
                warn(format!("{} scheduled SQL rules (`sql:`) left out: hela serve --rules runs them", scheduled.len()));
            }
            match &paths {
                Some(paths) => hunt_files(paths, &engine, true, &mut handle, &mut warn),
                None => hunt_lake(self.lake.root(), &engine, true, &mut handle, &mut warn),
            }
            .map_err(hela_error)?;
            if save {
                store(self.lake.root(), &found, &engine, &mut warn).map_err(hela_error)?;
                self.session.reload_lake().map_err(hela_error)?;
            }
            let batch = to_arrow(&found, &engine).map_err(hela_error)?;
            Ok((ArrowStream::of_batches(batch.schema(), vec![batch]), warnings))
        })
    }

    /// Reads the lake's catalog again, to see what another process ingested since.
    fn refresh(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.session.reload_lake().map_err(hela_error))
    }
}
