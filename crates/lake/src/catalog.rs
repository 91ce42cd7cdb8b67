//! The catalog: the one file that says what the lake holds. It is replaced atomically
//! (write a temporary file, sync, rename), so a reader sees the old or the new catalog and
//! never a mixture.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use hela_schema::{Json, JsonView, Shape};
use serde::{Deserialize, Serialize};

use crate::LakeError;

/// Version of the catalog format written by this build.
pub const CATALOG_FORMAT: u32 = 1;

/// Everything the lake holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Catalog {
    pub format: u32,
    pub tables: BTreeMap<String, TableEntry>,
    /// Inputs already ingested, by fingerprint.
    pub inputs: BTreeMap<String, IngestedInput>,
    /// Quarantine files (relative to the lake), one per commit that set records aside.
    pub quarantine: Vec<String>,
    /// The schema records are stored in (`raw`, `helk`), set by the first ingest; lakes
    /// written before it was recorded hold `raw`.
    #[serde(default = "raw_schema")]
    pub schema: String,
    /// How far each stream of records handed to an [`crate::Appender`] has been stored,
    /// committed with them: the server's write-ahead log (`wal`: the last sequence number
    /// folded in), a Kafka partition (`kafka/TOPIC/PARTITION`: the next offset to consume).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checkpoints: BTreeMap<String, u64>,
    /// Files (relative to the lake) that commits took out of the tables (merged, rewritten,
    /// dropped by retention), with when (seconds since the Unix epoch). They stay on disk for
    /// the queries that planned with an earlier catalog until they expire
    /// ([`Catalog::expire_retired`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub retired: BTreeMap<String, u64>,
}

fn raw_schema() -> String {
    RAW_SCHEMA.to_string()
}

/// The schema of records stored as they come.
pub const RAW_SCHEMA: &str = "raw";

impl Default for Catalog {
    fn default() -> Self {
        Self { format: CATALOG_FORMAT, tables: BTreeMap::new(), inputs: BTreeMap::new(), quarantine: Vec::new(), schema: raw_schema(), checkpoints: BTreeMap::new(), retired: BTreeMap::new() }
    }
}

/// A table: the union of its files' inferred shapes, and its files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    pub shape: Shape,
    pub files: Vec<DataFile>,
}

impl TableEntry {
    /// The schema the table's files are stored with, merged (columns only ever null are
    /// still `Null` here; see [`hela_schema::shape::query_schema`]).
    pub fn storage_schema(&self) -> arrow::datatypes::Schema {
        self.shape.storage_schema()
    }
}

/// One Parquet file of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFile {
    /// Path relative to the lake directory.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    pub source: String,
    /// The UTC day of its rows (`YYYY-MM-DD`, or `unknown` for rows without a time); of
    /// its first rows when it holds several days.
    pub day: String,
    /// The last day of its rows when it holds more than one (a file compacted across days,
    /// see [`crate::maintenance::compact`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_day: Option<String>,
    /// The distinct `EventID` numbers of its rows; absent when unknown (too many, not
    /// numbers, or a lake written before they were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ids: Option<Vec<i64>>,
    /// Which of its rows have a `Channel`; absent when unknown (a lake written before this
    /// was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelFill>,
    /// Its rows are sorted by `EventID` and time (in runs; see
    /// [`crate::maintenance::compact`]): compaction wrote it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sorted: bool,
}

impl DataFile {
    /// The last day of its rows: [`DataFile::day`] unless it holds several.
    pub fn last_day(&self) -> &str {
        self.last_day.as_deref().unwrap_or(&self.day)
    }
}

/// Which rows of a file have a `Channel`. A row's source is its `Channel` when it has one,
/// so where every row has one, each row's `Channel` is the file's source: a filter on
/// `Channel` passes every row of the file or none. Where no row has one, it passes none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelFill {
    /// Every row's `Channel` is text (and so the source).
    Every,
    /// No row has a `Channel` (missing or null).
    Absent,
    /// Some rows have one, or one is not text.
    Mixed,
}

impl ChannelFill {
    /// The fill of one row whose `Channel` is `value` (`None`: the row has none).
    pub fn of_row<'a>(value: Option<impl JsonView<'a>>) -> ChannelFill {
        match value.map(JsonView::kind) {
            None | Some(Json::Null) => ChannelFill::Absent,
            Some(Json::Str(_)) => ChannelFill::Every,
            Some(_) => ChannelFill::Mixed,
        }
    }

    /// The fill of the rows of `self` and of `other` together.
    pub fn and(self, other: ChannelFill) -> ChannelFill {
        if self == other { self } else { ChannelFill::Mixed }
    }
}

/// An input that was ingested, so that ingesting it again can be skipped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IngestedInput {
    pub path: String,
    pub records: u64,
    pub quarantined: u64,
    /// Seconds since the Unix epoch when it was committed.
    pub committed_at: u64,
    /// Its length in bytes (lakes made by earlier versions of hela did not record it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

impl Catalog {
    /// Reads the catalog at `path`; a missing file is an empty lake.
    pub fn load(path: &Path) -> Result<Catalog, LakeError> {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Catalog::default()),
            Err(e) => return Err(LakeError::io(path)(e)),
        };
        Catalog::from_bytes(&text, path)
    }

    /// The catalog `text` holds (read from `path`, named in errors).
    pub fn from_bytes(text: &[u8], path: &Path) -> Result<Catalog, LakeError> {
        let catalog = read_catalog(text).map_err(|message| LakeError::Catalog { path: path.to_path_buf(), message })?;
        if catalog.format > CATALOG_FORMAT {
            let message = format!("format {} is newer than this hela understands ({CATALOG_FORMAT})", catalog.format);
            return Err(LakeError::Catalog { path: path.to_path_buf(), message });
        }
        Ok(catalog)
    }

    /// Every file the catalog names (relative to the lake): tables' data files and
    /// quarantine files.
    pub fn files(&self) -> impl Iterator<Item = &String> {
        self.tables.values().flat_map(|t| t.files.iter().map(|f| &f.path)).chain(&self.quarantine)
    }

    /// Notes `files` as taken out of the tables at `now` (seconds since the Unix epoch).
    pub fn retire(&mut self, files: impl IntoIterator<Item = String>, now: u64) {
        self.retired.extend(files.into_iter().map(|file| (file, now)));
    }

    /// Forgets the retired files that have been retired for `keep` seconds or more at `now`,
    /// and returns them: no query that began before they were retired can still be running.
    pub fn expire_retired(&mut self, now: u64, keep: u64) -> Vec<String> {
        let expired: Vec<String> = self.retired.iter().filter(|&(_, &at)| now.saturating_sub(at) >= keep).map(|(file, _)| file.clone()).collect();
        for file in &expired {
            self.retired.remove(file);
        }
        expired
    }

    /// Replaces the catalog at `path` atomically and durably.
    pub fn save(&self, path: &Path) -> Result<(), LakeError> {
        let temporary = temporary_path(path);
        let text = serde_json::to_vec(self).map_err(|e| LakeError::Catalog { path: path.to_path_buf(), message: e.to_string() })?;
        let mut file = std::fs::File::create(&temporary).map_err(LakeError::io(&temporary))?;
        file.write_all(&text).and_then(|_| file.sync_all()).map_err(LakeError::io(&temporary))?;
        std::fs::rename(&temporary, path).map_err(LakeError::io(path))?;
        sync_directory(path.parent().unwrap_or(Path::new(".")))
    }
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Makes a rename inside `dir` durable.
pub(crate) fn sync_directory(dir: &Path) -> Result<(), LakeError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(LakeError::io(dir))
}

/// The deepest nesting a catalog is read with. A table's shape nests two levels per level
/// of its records (which are read at most 128 deep), deeper than serde_json's default limit
/// of 128; this bound keeps the reading recursion far from the stack's end.
const MAX_CATALOG_DEPTH: usize = 1024;

fn read_catalog(text: &[u8]) -> Result<Catalog, String> {
    if json_depth(text) > MAX_CATALOG_DEPTH {
        return Err(format!("nested more than {MAX_CATALOG_DEPTH} levels deep"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    deserializer.disable_recursion_limit();
    let catalog = serde::Deserialize::deserialize(&mut deserializer).map_err(|e| e.to_string())?;
    deserializer.end().map_err(|e| e.to_string())?;
    Ok(catalog)
}

/// The deepest nesting of arrays and objects in JSON text.
fn json_depth(text: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for &byte in text {
        match (in_string, escaped, byte) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, false, _) => {}
            (false, _, b'"') => in_string = true,
            (false, _, b'[' | b'{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, _, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.json");
        assert!(Catalog::load(&path).unwrap().tables.is_empty());
        let mut catalog = Catalog::default();
        let shape = Shape::of(&json!({"EventID": 1, "event_data": {"Image": "x", "Tags": [1.5]}}));
        catalog.tables.insert("events".into(), TableEntry { shape: shape.clone(), files: vec![] });
        catalog.save(&path).unwrap();
        let loaded = Catalog::load(&path).unwrap();
        assert_eq!(loaded.tables["events"].shape, shape);
        assert!(!temporary_path(&path).exists());
        std::fs::write(&path, b"{ not json").unwrap();
        let err = Catalog::load(&path).unwrap_err().to_string();
        assert!(err.contains("catalog.json") && err.contains("not readable"), "{err}");
    }
}
