//! A query's result, run when Python asks for it: whole, or batch by batch.

use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use datafusion::dataframe::DataFrame;
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use hela_sql::{SqlError, shown_batch, shown_schema};
use pyo3::prelude::*;

use crate::arrow_c::{ArrowSchema, ArrowStream};
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
    /// The result's column names and types.
    fn schema(&self) -> ArrowSchema {
        ArrowSchema::new(shown_schema(self.frame.schema().as_arrow()))
    }

    /// Runs the query (on every core) and returns the whole result, as a stream of the
    /// batches made.
    fn collect(&self, py: Python<'_>) -> PyResult<ArrowStream> {
        let frame = self.frame.clone();
        py.detach(|| {
            let shown = shown_schema(frame.schema().as_arrow());
            let batches = runtime()?.block_on(frame.collect()).map_err(|e| hela_error(SqlError::from(e)))?;
            let batches = batches.iter().map(|b| shown_batch(b, &shown)).collect::<Result<Vec<_>, _>>().map_err(hela_error)?;
            Ok(ArrowStream::of_batches(shown, batches))
        })
    }

    /// Starts the query and returns its batches as a stream that runs it on: each batch is
    /// made when the reader asks for it.
    fn stream(&self, py: Python<'_>) -> PyResult<ArrowStream> {
        let frame = self.frame.clone();
        let shown = shown_schema(frame.schema().as_arrow());
        let stream = py.detach(|| runtime()?.block_on(frame.execute_stream()).map_err(|e| hela_error(SqlError::from(e))))?;
        Ok(ArrowStream::new(RunningQuery { stream, shown }))
    }
}

/// A running query's batches under the names shown to users, made one per `next`.
struct RunningQuery {
    stream: SendableRecordBatchStream,
    shown: SchemaRef,
}

impl Iterator for RunningQuery {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let made = match runtime() {
            Ok(runtime) => runtime.block_on(self.stream.next())?,
            Err(error) => return Some(Err(ArrowError::ExternalError(Box::new(error)))),
        };
        Some(made.map_err(SqlError::from).and_then(|batch| shown_batch(&batch, &self.shown)).map_err(|e| ArrowError::ExternalError(Box::new(e))))
    }
}

impl RecordBatchReader for RunningQuery {
    fn schema(&self) -> SchemaRef {
        self.shown.clone()
    }
}
