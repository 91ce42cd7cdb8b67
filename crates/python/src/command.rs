//! Any `hela` command line, run in the Python process (`hela.command([...])`).

use std::process::ExitCode;

use clap::Parser;
use pyo3::prelude::*;

use crate::{HelaError, hela_error};

/// Runs `hela ARGS...` as the program would (what it prints goes to the process's standard
/// output and error) and returns its exit status: 0 when it did what it was asked.
#[pyfunction]
pub fn run_command(py: Python<'_>, args: Vec<String>) -> PyResult<i32> {
    let argv = std::iter::once("hela".to_string()).chain(args);
    let cli = match hela::Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version: their text is the answer.
            print!("{}", error.render());
            return Ok(0);
        }
        Err(error) => return Err(HelaError::new_err(error.render().to_string())),
    };
    let code = py.detach(|| hela::run(cli)).map_err(hela_error)?;
    Ok(if code == ExitCode::SUCCESS { 0 } else { 1 })
}
