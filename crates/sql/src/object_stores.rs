//! Where a query's files are read from: the local file system, and the object stores lakes
//! live on (`s3://BUCKET`), each made from the environment when first read and then kept.

use std::sync::Arc;

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::object_store::ObjectStore;
use hela_lake::store::{bucket_store, split_store_url};
use url::Url;

/// The object stores of a session, or of a cluster's executor.
#[derive(Debug, Default)]
pub struct LakeStores {
    known: DefaultObjectStoreRegistry,
}

impl LakeStores {
    /// A registry to hand to a runtime environment.
    pub fn shared() -> Arc<dyn ObjectStoreRegistry> {
        Arc::new(LakeStores::default())
    }
}

impl ObjectStoreRegistry for LakeStores {
    fn register_store(&self, url: &Url, store: Arc<dyn ObjectStore>) -> Option<Arc<dyn ObjectStore>> {
        self.known.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        self.known.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        let unknown = match self.known.get_store(url) {
            Ok(store) => return Ok(store),
            Err(unknown) => unknown,
        };
        let Some((bucket, _)) = split_store_url(url.as_str()) else {
            return Err(unknown);
        };
        let store = bucket_store(&bucket).map_err(|e| DataFusionError::External(Box::new(e)))?;
        self.known.register_store(url, store.clone());
        Ok(store)
    }
}
