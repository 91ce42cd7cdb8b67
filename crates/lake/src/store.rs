//! A lake on an object store (`s3://BUCKET/PREFIX`), laid out as a lake directory is.
//!
//! It is read where it is: its catalog is fetched, and queries read its Parquet files from
//! the store. It is written through a working copy: an ingest runs on a local lake that
//! starts from the store's catalog, its new files are uploaded, and then its catalog
//! replaces the store's with a conditional put that succeeds only if the store's catalog is
//! still the one the ingest started from. So a reader sees one catalog version or the next,
//! two writers cannot both commit on the same version, and a writer that dies leaves the
//! store's catalog as it was (files it uploaded are named by no catalog).
//!
//! The store is configured from the environment as the `object_store` crate reads it:
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` (an
//! S3-compatible server) and `AWS_ALLOW_HTTP=true` (such a server without TLS).

use std::collections::HashSet;
use std::future::Future;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, S3ConditionalPut};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion, WriteMultipart};

use crate::ingest::unix_seconds;
use crate::lake::{CATALOG_FILE, QUARANTINE_DIR, TABLES_DIR};
use crate::maintenance::Vacuumed;
use crate::{Catalog, Lake, LakeError};

/// The URL schemes of object stores a lake can live on.
pub const STORE_SCHEMES: &[&str] = &["s3"];

/// Files up to this size are uploaded in one request; larger ones in parts of this size.
const PART_BYTES: usize = 8 << 20;
/// Uploads (and downloads, deletes) in flight at once.
const CONCURRENT_UPLOADS: usize = 8;
/// How old a file no catalog names must be before `vacuum` deletes it: older than any
/// write's uploads before its commit.
const UNNAMED_FILES_KEPT: Duration = Duration::from_secs(3600);

/// True when `location` names a lake on an object store (`s3://...`), not a directory.
pub fn is_store_url(location: &str) -> bool {
    location.split_once("://").is_some_and(|(scheme, _)| STORE_SCHEMES.contains(&scheme))
}

/// The bucket (`s3://BUCKET`) an object store URL names, and the key under it (without
/// slashes at either end; empty for the bucket itself). `None` for anything else.
pub fn split_store_url(url: &str) -> Option<(String, &str)> {
    let (scheme, rest) = url.split_once("://").filter(|(scheme, _)| STORE_SCHEMES.contains(scheme))?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    Some((format!("{scheme}://{bucket}"), key.trim_matches('/')))
}

/// A lake on an object store.
#[derive(Debug, Clone)]
pub struct StoreLake {
    /// `s3://BUCKET/PREFIX`, without a trailing slash.
    url: String,
    /// `s3://BUCKET`: what the store serves.
    bucket: String,
    prefix: ObjectPath,
    /// The store's client, made when first needed and kept for the lake's life.
    client: Arc<OnceLock<Arc<dyn ObjectStore>>>,
}

/// The catalog a write started from: its version in the store, or none for a new lake.
type Base = Option<UpdateVersion>;

impl StoreLake {
    /// The lake at `url` (`s3://BUCKET` or `s3://BUCKET/PREFIX`).
    pub fn parse(url: &str) -> Result<StoreLake, LakeError> {
        let refused = |message: &str| LakeError::Store { url: url.to_string(), message: message.to_string() };
        let (bucket, prefix) = split_store_url(url).ok_or_else(|| refused("not an s3:// URL"))?;
        if bucket.ends_with("://") {
            return Err(refused("the URL names no bucket (s3://BUCKET/PREFIX)"));
        }
        let url = if prefix.is_empty() { bucket.clone() } else { format!("{bucket}/{prefix}") };
        let prefix = ObjectPath::parse(prefix).map_err(|e| refused(&e.to_string()))?;
        Ok(StoreLake { url, bucket, prefix, client: Arc::default() })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The committed catalog (empty for a lake not yet written).
    pub fn catalog(&self) -> Result<Catalog, LakeError> {
        self.run(|store| async move { self.fetch_catalog(&store).await.map(|(catalog, _)| catalog) })
    }

    /// True once something has been committed to this lake (asked without fetching the catalog).
    pub fn exists(&self) -> Result<bool, LakeError> {
        self.run(|store| async move {
            match store.head(&self.object(CATALOG_FILE)).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(self.error(CATALOG_FILE)(e)),
            }
        })
    }

    /// Writes the lake through a working copy: `write` runs on a local lake (in the system's
    /// temporary directory) holding the store's catalog; then the files its catalog names
    /// that the store's did not are uploaded, and its catalog is committed if the store's is
    /// still the one it started from. Files the new catalog no longer names stay in the store.
    /// A write that leaves the catalog as it was commits nothing.
    pub fn write<T>(&self, write: impl FnOnce(&Lake) -> Result<T, LakeError>) -> Result<T, LakeError> {
        let (before, base) = self.run(|store| async move { self.fetch_catalog(&store).await })?;
        let directory = std::env::temp_dir().join(format!("hela-store-{}-{}", std::process::id(), crate::ingest::transaction_id()));
        let working = Lake::new(&directory);
        let written = (|| {
            std::fs::create_dir_all(&directory).map_err(LakeError::io(&directory))?;
            before.save(&working.catalog_path())?;
            let value = write(&working)?;
            let after = working.catalog()?;
            if same_catalog(&before, &after) {
                return Ok(value);
            }
            self.run(|store| async move {
                self.upload(&store, &working, &new_files(&before, &after)).await?;
                self.commit(&store, &after, base).await
            })?;
            Ok(value)
        })();
        let _ = std::fs::remove_dir_all(&directory);
        written
    }

    /// Runs `work` against the store on a runtime of its own, so that callers need not be
    /// async and may be inside another runtime.
    fn run<T: Send, F: Future<Output = Result<T, LakeError>>>(&self, work: impl FnOnce(Arc<dyn ObjectStore>) -> F + Send) -> Result<T, LakeError> {
        let store = match self.client.get() {
            Some(store) => store.clone(),
            None => {
                let made = bucket_store(&self.bucket)?;
                self.client.get_or_init(|| made).clone()
            }
        };
        let io = |e: std::io::Error| LakeError::Store { url: self.url.clone(), message: format!("cannot start its client: {e}") };
        std::thread::scope(|scope| {
            let client = scope
                .spawn(|| tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(io).and_then(|runtime| runtime.block_on(work(store))));
            client.join().unwrap_or_else(|_| Err(LakeError::Store { url: self.url.clone(), message: "its client stopped".into() }))
        })
    }

    fn object(&self, relative: &str) -> ObjectPath {
        relative.split('/').filter(|part| !part.is_empty()).fold(self.prefix.clone(), |path, part| path.clone().join(part))
    }

    /// The path relative to the lake of `object`, an object under the lake's prefix.
    fn relative(&self, object: &ObjectPath) -> Option<String> {
        Some(object.prefix_match(&self.prefix)?.map(|part| part.as_ref().to_string()).collect::<Vec<_>>().join("/"))
    }

    fn error(&self, relative: &str) -> impl FnOnce(object_store::Error) -> LakeError {
        let url = format!("{}/{relative}", self.url);
        move |e| LakeError::Store { url, message: e.to_string() }
    }

    async fn fetch_catalog(&self, store: &Arc<dyn ObjectStore>) -> Result<(Catalog, Base), LakeError> {
        let found = match store.get(&self.object(CATALOG_FILE)).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return Ok((Catalog::default(), None)),
            Err(e) => return Err(self.error(CATALOG_FILE)(e)),
        };
        let version = UpdateVersion { e_tag: found.meta.e_tag.clone(), version: found.meta.version.clone() };
        let text = found.bytes().await.map_err(self.error(CATALOG_FILE))?;
        let catalog = Catalog::from_bytes(&text, &PathBuf::from(format!("{}/{CATALOG_FILE}", self.url)))?;
        Ok((catalog, Some(version)))
    }

    /// Copies `files` (relative to the lake) from the store into `working`, for a write that
    /// reads them (a compaction), a few at a time.
    pub(crate) fn download(&self, working: &Lake, files: &[String]) -> Result<(), LakeError> {
        self.run(|store| async move {
            let downloads = files.iter().map(|relative| self.download_file(&store, working.path_of(relative), relative));
            futures::stream::iter(downloads).buffer_unordered(CONCURRENT_UPLOADS).try_collect().await
        })
    }

    /// Copies one file, part by part as the store sends it.
    async fn download_file(&self, store: &Arc<dyn ObjectStore>, local: PathBuf, relative: &str) -> Result<(), LakeError> {
        let directory = local.parent().expect("a lake file is in a directory");
        std::fs::create_dir_all(directory).map_err(LakeError::io(directory))?;
        let mut out = std::fs::File::create(&local).map_err(LakeError::io(&local))?;
        let mut parts = store.get(&self.object(relative)).await.map_err(self.error(relative))?.into_stream();
        while let Some(part) = parts.try_next().await.map_err(self.error(relative))? {
            std::io::Write::write_all(&mut out, &part).map_err(LakeError::io(&local))?;
        }
        Ok(())
    }

    /// Removes the files no query can read any more: the retired files that expired (`keep`
    /// or longer ago), once taken out of the catalog by a commit conditional on the catalog
    /// read, and the files under the lake's tables and quarantine that no catalog names,
    /// once [`UNNAMED_FILES_KEPT`] old (a write under way uploads its files before it
    /// commits them): what writers that did not commit left, and the retired files the
    /// working copies of writers expired.
    pub(crate) fn vacuum(&self, keep: Duration) -> Result<Vacuumed, LakeError> {
        self.run(|store| async move {
            let (mut catalog, base) = self.fetch_catalog(&store).await?;
            if base.is_none() {
                return Err(LakeError::NoLake(PathBuf::from(&self.url)));
            }
            let now = unix_seconds();
            let expired = catalog.expire_retired(now, keep.as_secs());
            if !expired.is_empty() {
                self.commit(&store, &catalog, base).await?;
            }
            let mut doomed: Vec<ObjectPath> = expired.iter().map(|file| self.object(file)).collect();
            let named: HashSet<&String> = catalog.files().chain(catalog.retired.keys()).chain(&expired).collect();
            let uploaded_by = i64::try_from(now.saturating_sub(UNNAMED_FILES_KEPT.as_secs())).unwrap_or(i64::MAX);
            for directory in [TABLES_DIR, QUARANTINE_DIR] {
                let mut listing = store.list(Some(&self.object(directory)));
                while let Some(object) = listing.try_next().await.map_err(self.error(directory))? {
                    let unnamed = self.relative(&object.location).is_some_and(|file| !named.contains(&file));
                    if unnamed && object.last_modified.timestamp() <= uploaded_by {
                        doomed.push(object.location);
                    }
                }
            }
            let deletes = doomed.iter().map(|object| {
                let store = &store;
                async move {
                    match store.delete(object).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                        Err(e) => Err(self.error(object.as_ref())(e)),
                    }
                }
            });
            futures::stream::iter(deletes).buffer_unordered(CONCURRENT_UPLOADS).try_collect::<Vec<()>>().await?;
            Ok(Vacuumed { expired: expired.len(), removed: doomed.len() })
        })
    }

    /// Uploads `files` (relative to the lake) from `working`, a few at a time.
    async fn upload(&self, store: &Arc<dyn ObjectStore>, working: &Lake, files: &[String]) -> Result<(), LakeError> {
        let uploads = files.iter().map(|relative| self.upload_file(store, working.path_of(relative), relative));
        futures::stream::iter(uploads).buffer_unordered(CONCURRENT_UPLOADS).try_collect().await
    }

    /// Uploads one file: in one request if it is smaller than a part, else in parts. The
    /// file is read on the runtime's blocking threads, so the other uploads go on meanwhile.
    async fn upload_file(&self, store: &Arc<dyn ObjectStore>, local: PathBuf, relative: &str) -> Result<(), LakeError> {
        let file = std::fs::File::open(&local).map_err(LakeError::io(&local))?;
        let target = self.object(relative);
        let (mut file, mut part) = read_part(file, &local).await?;
        if part.len() < PART_BYTES {
            store.put(&target, PutPayload::from(part)).await.map_err(self.error(relative))?;
            return Ok(());
        }
        let mut parts = WriteMultipart::new_with_chunk_size(store.put_multipart(&target).await.map_err(self.error(relative))?, PART_BYTES);
        while !part.is_empty() {
            parts.wait_for_capacity(2).await.map_err(self.error(relative))?;
            parts.write(&part);
            (file, part) = read_part(file, &local).await?;
        }
        parts.finish().await.map_err(self.error(relative))?;
        Ok(())
    }

    /// Replaces the store's catalog with `catalog` if it is still `base` (or, for a new
    /// lake, if there is still none).
    async fn commit(&self, store: &Arc<dyn ObjectStore>, catalog: &Catalog, base: Base) -> Result<(), LakeError> {
        let text = serde_json::to_vec(catalog).map_err(|e| LakeError::Store { url: self.url.clone(), message: e.to_string() })?;
        let mode = base.map_or(PutMode::Create, PutMode::Update);
        match store.put_opts(&self.object(CATALOG_FILE), PutPayload::from(text), PutOptions::from(mode)).await {
            Ok(_) => Ok(()),
            Err(object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. }) => Err(LakeError::Conflict(self.url.clone())),
            Err(e) => Err(self.error(CATALOG_FILE)(e)),
        }
    }
}

/// The next part (up to [`PART_BYTES`]; empty at the end) of `file`, read on a blocking
/// thread, and the file to read on from.
async fn read_part(file: std::fs::File, local: &Path) -> Result<(std::fs::File, Vec<u8>), LakeError> {
    let read = tokio::task::spawn_blocking(move || {
        let mut part = Vec::with_capacity(PART_BYTES);
        (&file).take(PART_BYTES as u64).read_to_end(&mut part).map(|_| (file, part))
    });
    read.await.map_err(std::io::Error::other).and_then(|read| read).map_err(LakeError::io(local))
}

/// True when the two catalogs say the same (catalogs are written with their maps in order).
fn same_catalog(before: &Catalog, after: &Catalog) -> bool {
    serde_json::to_vec(before).ok() == serde_json::to_vec(after).ok()
}

/// The files (relative to the lake) that `after` names and `before` does not.
fn new_files(before: &Catalog, after: &Catalog) -> Vec<String> {
    let known: HashSet<&String> = before.files().collect();
    after.files().filter(|f| !known.contains(f)).cloned().collect()
}

/// The object store serving `bucket` (`s3://BUCKET`), configured from the environment,
/// with conditional puts by e-tag (what the catalog's commit needs).
pub fn bucket_store(bucket: &str) -> Result<Arc<dyn ObjectStore>, LakeError> {
    let store = AmazonS3Builder::from_env().with_url(bucket).with_conditional_put(S3ConditionalPut::ETagMatch).build();
    store.map(|s| Arc::new(s) as Arc<dyn ObjectStore>).map_err(|e| LakeError::Store { url: bucket.to_string(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DataFile, TableEntry};

    #[test]
    fn urls_name_a_bucket_and_a_prefix() {
        let lake = StoreLake::parse("s3://hunting/lakes/main/").unwrap();
        assert_eq!((lake.url(), lake.bucket.as_str()), ("s3://hunting/lakes/main", "s3://hunting"));
        assert_eq!(lake.object("tables/events/x.parquet").as_ref(), "lakes/main/tables/events/x.parquet");
        assert_eq!(StoreLake::parse("s3://hunting").unwrap().object(CATALOG_FILE).as_ref(), CATALOG_FILE);
        for refused in ["s3://", "s3:///lake", "gs://b/lake", "/data/lake"] {
            assert!(StoreLake::parse(refused).is_err(), "{refused}");
        }
        assert!(is_store_url("s3://b") && !is_store_url("/tmp/s3://b") && !is_store_url("lake"));
        assert_eq!(split_store_url("s3://b/lake/tables/x.parquet"), Some(("s3://b".to_string(), "lake/tables/x.parquet")));
        assert_eq!(split_store_url("s3://b/"), Some(("s3://b".to_string(), "")));
        assert_eq!(split_store_url("/data/lake/tables/x.parquet"), None);
        assert!(Lake::new("s3://hunting/lake").store().is_some() && Lake::new("lake").store().is_none());
        assert_eq!(Lake::new("s3://hunting/lake").path_of("tables/a.parquet").to_str(), Some("s3://hunting/lake/tables/a.parquet"));
    }

    #[test]
    fn files_are_uploaded_whole_in_one_request_or_in_parts() {
        let dir = tempfile::tempdir().unwrap();
        let lake = StoreLake::parse("s3://hunting/lake").unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        for size in [0, 5, PART_BYTES, 2 * PART_BYTES + 7] {
            let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let local = dir.path().join(format!("{size}.parquet"));
            std::fs::write(&local, &bytes).unwrap();
            let relative = format!("tables/events/{size}.parquet");
            let stored = runtime.block_on(async {
                lake.upload_file(&store, local, &relative).await.unwrap();
                store.get(&lake.object(&relative)).await.unwrap().bytes().await.unwrap()
            });
            assert!(stored == bytes, "{size} bytes stored as {}", stored.len());
        }
    }

    #[test]
    fn only_files_a_commit_adds_are_uploaded() {
        let file = |path: &str| DataFile {
            path: path.into(),
            rows: 1,
            bytes: 1,
            source: "s".into(),
            day: "d".into(),
            last_day: None,
            event_ids: None,
            channel: None,
            sorted: false,
        };
        let table = |files: Vec<DataFile>| TableEntry { shape: hela_schema::Shape::Null, files };
        let mut before = Catalog::default();
        before.tables.insert("events".into(), table(vec![file("tables/events/a"), file("tables/events/b")]));
        let mut after = Catalog::default();
        after.tables.insert("events".into(), table(vec![file("tables/events/a"), file("tables/events/c")]));
        after.quarantine.push("quarantine/q.jsonl".into());
        assert_eq!(new_files(&before, &after), ["tables/events/c", "quarantine/q.jsonl"]);
    }
}
