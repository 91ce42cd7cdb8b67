//! `hela._hela`: the native module of the `hela` Python package. It opens a lake, runs
//! Spark SQL on it and hands results to Python through the Arrow C stream interface, where
//! pyarrow takes the columns without a copy; the package's Python code (`python/hela`) turns
//! them into pyarrow, pandas and polars, and adds the IPython magics.

mod arrow_c;
mod command;
mod connection;
mod frame;

use std::fmt::Display;
use std::sync::OnceLock;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

/// Query results are built from many short-lived buffers; mimalloc serves them faster than
/// the system allocator here too (measured: see bench/to_pandas.py).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

create_exception!(_hela, HelaError, PyException, "An error of hela's: a query, a table, a lake or an ingest that failed, with hela's message.");

/// The error as Python sees it: a `HelaError` with hela's message and its causes.
pub(crate) fn hela_error(error: impl Display) -> PyErr {
    HelaError::new_err(format!("{error:#}"))
}

/// The one runtime the module's queries run on, made at first use.
pub(crate) fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(hela_error)?;
    Ok(RUNTIME.get_or_init(|| runtime))
}

#[pymodule]
fn _hela(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("HelaError", module.py().get_type::<HelaError>())?;
    module.add_class::<connection::Connection>()?;
    module.add_class::<frame::Frame>()?;
    module.add_class::<arrow_c::ArrowStream>()?;
    module.add_class::<arrow_c::ArrowSchema>()?;
    module.add_function(wrap_pyfunction!(command::run_command, module)?)?;
    Ok(())
}
