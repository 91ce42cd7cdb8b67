//! A query's result, run when Python asks for it: whole, or batch by batch.

use std::sync::Mutex;

use datafusion::dataframe::DataFrame;
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use arrow::datatypes::SchemaRef;
use hela_sql::{SqlError, shown_batch, shown_schema};
use pyo3::prelude::*;

use crate::ipc::IpcBuffer;
use crate::{hela_error, runtime};

/// The result of the last statement of a `sql` call, not yet run.
#[pyclass(module = "hela._hela", frozen)]
pub struct Frame {
    frame: DataFrame,
}

impl Frame {
    pub fn new(frame: DataFrame) -> Frame {
        Frame { frame }
    }
}

#[pymethods]
impl Frame {
    /// The result's column names and types, as an IPC stream without batches.
    fn schema(&self) -> PyResult<IpcBuffer> {
        IpcBuffer::encode(&shown_schema(self.frame.schema().as_arrow()), &[]).map_err(hela_error)
    }

    /// Runs the query (on every core) and returns the whole result as one IPC stream.
    fn collect(&self, py: Python<'_>) -> PyResult<IpcBuffer> {
        let frame = self.frame.clone();
        py.detach(|| {
            let shown = shown_schema(frame.schema().as_arrow());
            let batches = runtime()?.block_on(frame.collect()).map_err(|e| hela_error(SqlError::from(e)))?;
            let batches = batches.iter().map(|b| shown_batch(b, &shown)).collect::<Result<Vec<_>, _>>().map_err(hela_error)?;
            IpcBuffer::encode(&shown, &batches).map_err(hela_error)
        })
    }

    /// Runs the query and returns its batches one at a time, as they are made.
    fn stream(&self, py: Python<'_>) -> PyResult<BatchStream> {
        let frame = self.frame.clone();
        let shown = shown_schema(frame.schema().as_arrow());
        let stream = py.detach(|| runtime()?.block_on(frame.execute_stream()).map_err(|e| hela_error(SqlError::from(e))))?;
        Ok(BatchStream { stream: Mutex::new(Some(stream)), shown })
    }
}

/// A running query's batches: each `next()` is one batch as its own IPC stream.
#[pyclass(module = "hela._hela", frozen)]
pub struct BatchStream {
    stream: Mutex<Option<SendableRecordBatchStream>>,
    shown: SchemaRef,
}

#[pymethods]
impl BatchStream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<IpcBuffer>> {
        py.detach(|| {
            let mut guard = self.stream.lock().unwrap_or_else(|e| e.into_inner());
            let Some(stream) = guard.as_mut() else { return Ok(None) };
            match runtime()?.block_on(stream.next()) {
                Some(Ok(batch)) => {
                    let batch = shown_batch(&batch, &self.shown).map_err(hela_error)?;
                    IpcBuffer::encode(&self.shown, std::slice::from_ref(&batch)).map(Some).map_err(hela_error)
                }
                Some(Err(error)) => {
                    *guard = None;
                    Err(hela_error(SqlError::from(error)))
                }
                None => {
                    *guard = None;
                    Ok(None)
                }
            }
        })
    }
}
