//! Results cross into Python as Arrow IPC streams held in Rust memory and exposed through
//! Python's buffer protocol, so pyarrow reads the columns in place, without a copy.

use std::ffi::c_int;
use std::os::raw::c_void;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use pyo3::exceptions::PyBufferError;
use pyo3::prelude::*;
use pyo3::{PyErr, ffi};

/// An Arrow IPC stream (a schema, then record batches) that Python reads as a buffer:
/// `pyarrow.ipc.open_stream(buffer)`.
#[pyclass(module = "hela._hela", frozen)]
pub struct IpcBuffer {
    bytes: Vec<u8>,
}

#[pymethods]
impl IpcBuffer {
    fn __len__(&self) -> usize {
        self.bytes.len()
    }

    /// Lends the bytes read-only; the buffer lives while any view of it does.
    unsafe fn __getbuffer__(slf: Bound<'_, Self>, view: *mut ffi::Py_buffer, flags: c_int) -> PyResult<()> {
        if flags & ffi::PyBUF_WRITABLE == ffi::PyBUF_WRITABLE {
            return Err(PyBufferError::new_err("hela's result buffers are read-only"));
        }
        let bytes = &slf.get().bytes;
        let (pointer, length) = (bytes.as_ptr() as *mut c_void, bytes.len() as ffi::Py_ssize_t);
        // SAFETY: `view` is the view Python asks to fill; the bytes never move or change
        // while the object lives, and the view holds a reference to the object.
        let filled = unsafe { ffi::PyBuffer_FillInfo(view, slf.as_ptr(), pointer, length, 1, flags) };
        if filled == -1 {
            return Err(PyErr::fetch(slf.py()));
        }
        Ok(())
    }

    unsafe fn __releasebuffer__(&self, _view: *mut ffi::Py_buffer) {}
}

impl IpcBuffer {
    /// The IPC stream of `batches` under `schema` (no batches: the schema alone).
    pub fn encode(schema: &Schema, batches: &[RecordBatch]) -> Result<IpcBuffer, ArrowError> {
        let size: usize = batches.iter().map(RecordBatch::get_array_memory_size).sum();
        let mut writer = StreamWriter::try_new(Vec::with_capacity(size + 4096), schema)?;
        for batch in batches {
            writer.write(batch)?;
        }
        writer.finish()?;
        Ok(IpcBuffer { bytes: writer.into_inner()? })
    }
}

/// Reads an IPC stream that Python wrote (a pyarrow table handed to `register`).
pub fn decode(bytes: &[u8]) -> Result<(SchemaRef, Vec<RecordBatch>), ArrowError> {
    let reader = StreamReader::try_new(bytes, None)?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>()?;
    Ok((schema, batches))
}
