//! A query's result, run when Python asks for it: whole, or batch by batch.

use std::sync::Mutex;

use datafusion::dataframe::DataFrame;
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use hela_sql::SqlError;
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
        IpcBuffer::encode(self.frame.schema().as_arrow(), &[]).map_err(hela_error)
    }

    /// Runs the query (on every core) and returns the whole result as one IPC stream.
    fn collect(&self, py: Python<'_>) -> PyResult<IpcBuffer> {
        let frame = self.frame.clone();
        py.detach(|| {
            let schema = frame.schema().as_arrow().clone();
            let batches = runtime()?.block_on(frame.collect()).map_err(|e| hela_error(SqlError::from(e)))?;
            IpcBuffer::encode(&schema, &batches).map_err(hela_error)
        })
    }

    /// Runs the query and returns its batches one at a time, as they are made.
    fn stream(&self, py: Python<'_>) -> PyResult<BatchStream> {
        let frame = self.frame.clone();
        let stream = py.detach(|| runtime()?.block_on(frame.execute_stream()).map_err(|e| hela_error(SqlError::from(e))))?;
        Ok(BatchStream { stream: Mutex::new(Some(stream)) })
    }
}

/// A running query's batches: each `next()` is one batch as its own IPC stream.
#[pyclass(module = "hela._hela", frozen)]
pub struct BatchStream {
    stream: Mutex<Option<SendableRecordBatchStream>>,
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
                Some(Ok(batch)) => IpcBuffer::encode(&batch.schema(), std::slice::from_ref(&batch)).map(Some).map_err(hela_error),
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
