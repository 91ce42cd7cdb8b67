//! Results cross into Python, and tables from it, through the Arrow C stream interface
//! (PyCapsules named `arrow_array_stream` and `arrow_schema`): pyarrow, polars and DuckDB
//! take the columns where hela made them, with no copy and no encoding.

use std::ffi::CStr;
use std::sync::Mutex;

use arrow::array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow::datatypes::SchemaRef;
use arrow::ffi::FFI_ArrowSchema;
use arrow::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::{HelaError, hela_error};

const STREAM: &CStr = c"arrow_array_stream";
const SCHEMA: &CStr = c"arrow_schema";

/// Record batches that Python takes once, through `__arrow_c_stream__`:
/// `pyarrow.RecordBatchReader.from_stream(stream)`, `pyarrow.table(stream)`, `polars.DataFrame(stream)`.
#[pyclass(module = "hela._hela", frozen)]
pub struct ArrowStream {
    reader: Mutex<Option<Box<dyn RecordBatchReader + Send>>>,
}

impl ArrowStream {
    /// The stream of the batches `reader` makes, each when the consumer asks for it.
    pub fn new(reader: impl RecordBatchReader + Send + 'static) -> ArrowStream {
        ArrowStream { reader: Mutex::new(Some(Box::new(reader))) }
    }

    /// The stream of batches already made (none: the schema alone).
    pub fn of_batches(schema: SchemaRef, batches: Vec<RecordBatch>) -> ArrowStream {
        ArrowStream::new(RecordBatchIterator::new(batches.into_iter().map(Ok), schema))
    }
}

#[pymethods]
impl ArrowStream {
    /// Hands the batches over as an `ArrowArrayStream`. The stream keeps its own schema: the
    /// protocol lets a producer leave `requested_schema` unmet.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(&self, py: Python<'py>, requested_schema: Option<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyCapsule>> {
        drop(requested_schema);
        let taken = self.reader.lock().unwrap_or_else(|e| e.into_inner()).take();
        let reader = taken.ok_or_else(|| HelaError::new_err("this result was read already: ask the query again"))?;
        PyCapsule::new_with_value(py, FFI_ArrowArrayStream::new(reader), STREAM)
    }
}

/// A result's column names and types, read through `__arrow_c_schema__`: `pyarrow.schema(it)`.
#[pyclass(module = "hela._hela", frozen)]
pub struct ArrowSchema {
    schema: SchemaRef,
}

impl ArrowSchema {
    pub fn new(schema: SchemaRef) -> ArrowSchema {
        ArrowSchema { schema }
    }
}

#[pymethods]
impl ArrowSchema {
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = FFI_ArrowSchema::try_from(self.schema.as_ref()).map_err(hela_error)?;
        PyCapsule::new_with_value(py, schema, SCHEMA)
    }
}

/// The batches of a Python object that offers `__arrow_c_stream__` (a pyarrow Table, a polars
/// DataFrame), taken without a copy: hela's arrays hold the producer's buffers until dropped.
pub fn import_stream(data: &Bound<'_, PyAny>) -> PyResult<ArrowArrayStreamReader> {
    let capsule = data.call_method0("__arrow_c_stream__")?.cast_into::<PyCapsule>()?;
    let pointer = capsule.pointer_checked(Some(STREAM))?;
    // SAFETY: a capsule named `arrow_array_stream` holds an `ArrowArrayStream`; `from_raw`
    // moves it out and leaves a released one, which the capsule's destructor then skips.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(pointer.as_ptr().cast()) };
    ArrowArrayStreamReader::try_new(stream).map_err(hela_error)
}
