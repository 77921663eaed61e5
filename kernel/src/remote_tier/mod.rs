//! The remote tier: `persist = "disk"` entries in S3-compatible object storage, shared by every
//! kernel that points at the same `CELLAR_CACHE_URL`, on any machine.
//!
//! The kernel holds the connection (`object_store`, on its async runtime) and serves the
//! runtime's requests for entries on a socket ([`serve`]; the protocol is in
//! `cellar::protocol`): the runtime in the cell process layers it behind its local folder, so a
//! read that misses locally asks here, and a write goes to both before the cell's reply. Entries
//! are stored as the runtime hands them over, checked and signed by the runtime when read back.
//!
//! Every request is bounded in time, and a failure puts the tier to rest for [`health`]'s retry
//! interval, so a remote that is down costs a notebook one warning and no waiting.

pub mod health;
pub mod serve;
mod stats;

use cellar::protocol::CACHE_URL_ENV;
use health::Health;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ClientConfigKey, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use stats::Transfers;
use std::sync::Arc;
use std::time::Duration;

/// How long the remote tier may take, at each level.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// To open a connection.
    pub connect: Duration,
    /// One HTTP request.
    pub request: Duration,
    /// A request and its retries together.
    pub retries: Duration,
    /// Anything the runtime asks, whatever the remote does.
    pub answer: Duration,
}

impl Limits {
    pub const STANDARD: Limits = Limits {
        connect: Duration::from_secs(3),
        request: Duration::from_secs(30),
        retries: Duration::from_secs(10),
        answer: Duration::from_secs(60),
    };
}

/// The remote tier of this kernel.
pub struct RemoteTier {
    url: String,
    limits: Limits,
    /// The store, or why there is none (a URL the kernel cannot use).
    store: Result<Arc<dyn ObjectStore>, String>,
    health: Health,
    transfers: Transfers,
}

impl RemoteTier {
    /// The tier `CELLAR_CACHE_URL` names (`s3://BUCKET/PREFIX`; endpoint and credentials come
    /// from the standard `AWS_*` variables), if it is set. A URL that cannot be used still gives a
    /// tier: every request then fails with the reason, which the notebook sees once.
    pub fn from_env() -> Option<RemoteTier> {
        let url = std::env::var(CACHE_URL_ENV)
            .ok()
            .filter(|url| !url.trim().is_empty())?;
        let limits = Limits::STANDARD;
        let store = open(url.trim(), limits);
        if let Err(why) = &store {
            eprintln!("cellar: {why}");
        }
        Some(RemoteTier {
            url,
            limits,
            store,
            health: Health::default(),
            transfers: Transfers::default(),
        })
    }

    #[cfg(test)]
    fn over(url: &str, store: Arc<dyn ObjectStore>, limits: Limits) -> RemoteTier {
        RemoteTier {
            url: url.into(),
            limits,
            store: Ok(store),
            health: Health::default(),
            transfers: Transfers::default(),
        }
    }

    /// The store, unless it is misconfigured or resting after a failure.
    fn ready(&self) -> Result<&Arc<dyn ObjectStore>, String> {
        let store = self.store.as_ref().map_err(String::clone)?;
        self.health.ready()?;
        Ok(store)
    }

    /// Runs one operation within the answer limit, recording a failure in the health.
    async fn bounded<T>(
        &self,
        what: &str,
        operation: impl std::future::Future<Output = object_store::Result<T>>,
    ) -> Result<T, String> {
        let limit = self.limits.answer;
        let outcome = match tokio::time::timeout(limit, operation).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(format!("{what} failed: {error}")),
            Err(_) => Err(format!("{what} took longer than {} s", limit.as_secs_f64())),
        };
        match &outcome {
            Ok(_) => self.health.worked(),
            Err(why) => self.health.failed(why),
        }
        outcome
    }

    /// The entry stored under `name`, if any.
    pub async fn get(&self, name: &str) -> Result<Option<bytes::Bytes>, String> {
        let store = self.ready()?;
        let path = object_path(name)?;
        let read = self.bounded("reading an entry", async {
            match store.get(&path).await {
                Ok(found) => found.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(error),
            }
        });
        let found = read.await?;
        if let Some(bytes) = &found {
            self.transfers.read(bytes.len());
        }
        Ok(found)
    }

    /// Stores an entry. An S3 PUT replaces an object whole: a reader never sees half of one.
    pub async fn put(&self, name: &str, bytes: bytes::Bytes) -> Result<(), String> {
        let store = self.ready()?;
        let path = object_path(name)?;
        let len = bytes.len();
        self.bounded(
            "storing an entry",
            store.put(&path, PutPayload::from(bytes)),
        )
        .await?;
        self.transfers.wrote(len);
        Ok(())
    }

    pub async fn delete(&self, names: &[String]) -> Result<(), String> {
        let store = self.ready()?;
        for name in names {
            self.remove(store, &object_path(name)?).await?;
        }
        Ok(())
    }

    /// Removes one object; one already gone (another kernel cleared it) is fine.
    async fn remove(&self, store: &Arc<dyn ObjectStore>, path: &Path) -> Result<(), String> {
        self.bounded("removing an entry", async {
            match store.delete(path).await {
                Err(object_store::Error::NotFound { .. }) => Ok(()),
                other => other,
            }
        })
        .await
    }

    /// Removes every entry under these function folders.
    pub async fn delete_folders(&self, folders: &[String]) -> Result<usize, String> {
        use futures::TryStreamExt;
        let store = self.ready()?;
        let mut removed = 0;
        for folder in folders {
            let prefix = object_path(folder)?;
            let listed = self.bounded(
                "listing entries",
                store.list(Some(&prefix)).try_collect::<Vec<_>>(),
            );
            let paths: Vec<Path> = listed
                .await?
                .into_iter()
                .map(|meta| meta.location)
                .collect();
            for path in paths {
                self.remove(store, &path).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// One line for `:cellar`: where the tier is, what this kernel moved, whether it works.
    pub fn summary(&self) -> String {
        let state = match (&self.store, self.health.failure()) {
            (Err(why), _) => format!("not in use: {why}"),
            (Ok(_), Some(why)) => format!("failing: {why}"),
            (Ok(_), None) => "working".to_string(),
        };
        format!(
            "remote tier: {} ({state}); this kernel {}\n",
            self.url,
            self.transfers.describe()
        )
    }
}

/// The store `url` names: `s3://BUCKET` or `s3://BUCKET/PREFIX`.
fn open(url: &str, limits: Limits) -> Result<Arc<dyn ObjectStore>, String> {
    let parsed = url::Url::parse(url).map_err(|error| {
        format!("{CACHE_URL_ENV}={url:?} is not a URL ({error}); the remote tier is off")
    })?;
    let bucket = parsed.host_str().unwrap_or_default();
    if parsed.scheme() != "s3" || bucket.is_empty() {
        return Err(format!(
            "{CACHE_URL_ENV}={url:?} is not an s3://BUCKET/PREFIX URL; the remote tier is off"
        ));
    }
    install_tls_provider();
    let retry = RetryConfig {
        max_retries: 1,
        retry_timeout: limits.retries,
        backoff: Default::default(),
    };
    // Set key by key: a whole ClientOptions would replace what the AWS_* variables set
    // (AWS_ALLOW_HTTP among them).
    let mut s3 = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_retry(retry);
    for (key, limit) in [
        (ClientConfigKey::ConnectTimeout, limits.connect),
        (ClientConfigKey::Timeout, limits.request),
    ] {
        s3 = s3.with_config(
            AmazonS3ConfigKey::Client(key),
            format!("{}ms", limit.as_millis()),
        );
    }
    let s3 = s3
        .build()
        .map_err(|error| format!("the remote tier {url} cannot be used: {error}"))?;
    let prefix = parsed.path().trim_matches('/');
    Ok(if prefix.is_empty() {
        Arc::new(s3)
    } else {
        Arc::new(PrefixStore::new(s3, prefix))
    })
}

/// reqwest's TLS comes without a crypto provider here: it uses ring's, which the kernel links
/// anyway, rather than building a C crypto library.
fn install_tls_provider() {
    // Err only when one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An entry or folder name as an object path (`folder/entry`); the runtime makes them, and
/// anything else is refused.
fn object_path(name: &str) -> Result<Path, String> {
    Path::parse(name).map_err(|error| format!("{name:?} is not an entry name: {error}"))
}

#[cfg(test)]
mod tests;
