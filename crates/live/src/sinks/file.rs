//! Alerts appended to a file, a JSON object a line, synced before they count as delivered.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Failure, Sink, SinkError};
use crate::alert::Alert;

pub struct JsonLines {
    file: File,
    path: PathBuf,
}

impl JsonLines {
    pub fn open(path: &Path) -> Result<JsonLines, SinkError> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| SinkError::File(path.to_path_buf(), e))?;
        Ok(JsonLines { file, path: path.to_path_buf() })
    }
}

impl Sink for JsonLines {
    fn send(&mut self, alerts: &[Alert]) -> Result<(), Failure> {
        let mut text = String::new();
        for alert in alerts {
            text.push_str(&alert.to_json_line());
            text.push('\n');
        }
        self.file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|e| Failure { sent: 0, error: format!("cannot write {}: {e}", self.path.display()), permanent: false })
    }
}
