//! Datasets in S3 and S3-compatible stores: the store built from the
//! `AWS_*` settings every S3 tool reads, and the store's failures said in
//! the words a user acts on (bucket missing, access denied, endpoint
//! unreachable) instead of an HTTP trace.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

use super::{DataLocation, StorageError};

/// An S3 bucket's store and where in it a dataset lies.
pub(super) struct S3Store<'a> {
    pub(super) store: Arc<dyn ObjectStore>,
    pub(super) bucket: &'a str,
    pub(super) prefix: &'a str,
    /// Where requests go, for messages.
    pub(super) endpoint: String,
}

/// The store of `location` (`s3://bucket/prefix`, `rest` being what follows
/// the scheme), configured from the `AWS_*` pairs of `env`.
pub(super) fn s3<'a>(
    location: &str,
    rest: &'a str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<S3Store<'a>, StorageError> {
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(StorageError::Url {
            url: location.to_string(),
            message: "names no bucket (write s3://bucket/prefix)".into(),
        });
    }
    // An unreachable endpoint fails in seconds, not after object_store's
    // default three minutes of retries; slow-downs are still retried. Set
    // before the environment's settings: `with_client_options` replaces
    // them all, `AWS_ALLOW_HTTP` among them.
    let retry = RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 4,
        retry_timeout: Duration::from_secs(60),
    };
    let mut builder = AmazonS3Builder::new()
        .with_retry(retry)
        .with_client_options(ClientOptions::new().with_connect_timeout(Duration::from_secs(5)));
    let mut settings = std::collections::BTreeMap::new();
    for (key, value) in env {
        if !key.starts_with("AWS_") || value.is_empty() {
            continue;
        }
        // Unknown AWS_ variables (AWS_PROFILE, …) belong to other tools.
        if let Ok(config) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
            builder = builder.with_config(config, value.clone());
        }
        settings.insert(key, value);
    }
    let store = builder
        .with_bucket_name(bucket)
        .build()
        .map_err(|e| StorageError::Url {
            url: location.to_string(),
            message: e.to_string(),
        })?;
    Ok(S3Store {
        store: Arc::new(store),
        bucket,
        prefix,
        endpoint: endpoint(&settings),
    })
}

/// The endpoint S3 requests go to under `settings`, for messages.
fn endpoint(settings: &std::collections::BTreeMap<String, String>) -> String {
    ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
        .iter()
        .find_map(|k| settings.get(*k).cloned())
        .unwrap_or_else(|| {
            let region = settings
                .get("AWS_REGION")
                .or_else(|| settings.get("AWS_DEFAULT_REGION"))
                .map_or("us-east-1", String::as_str);
            format!("https://s3.{region}.amazonaws.com")
        })
}

/// What went wrong with a remote store, in the user's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteProblem {
    /// The bucket does not exist.
    NoBucket,
    /// The credentials are refused, or do not allow the request.
    AccessDenied,
    /// Nothing answers at the endpoint.
    Unreachable,
}

/// Classifies an object-store failure of `loc`, or `None` when it is none
/// of the [`RemoteProblem`]s (or `loc` is local).
pub fn classify(loc: &DataLocation, err: &object_store::Error) -> Option<RemoteProblem> {
    loc.endpoint()?;
    match err {
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => {
            return Some(RemoteProblem::AccessDenied);
        }
        _ => {}
    }
    let text = error_chain(err);
    if text.contains("NoSuchBucket") {
        Some(RemoteProblem::NoBucket)
    } else if [
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "403 Forbidden",
    ]
    .iter()
    .any(|code| text.contains(code))
    {
        Some(RemoteProblem::AccessDenied)
    } else if [
        "error sending request",
        "Connection refused",
        "dns error",
        "tcp connect error",
        "operation timed out",
    ]
    .iter()
    .any(|cause| text.contains(cause))
    {
        Some(RemoteProblem::Unreachable)
    } else {
        None
    }
}

/// The error and every cause below it, for matching on the S3 error code
/// or the transport's reason wherever in the chain it sits.
fn error_chain(err: &object_store::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(" / ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Wraps an object-store failure about `rel` of `loc`: a classified problem
/// becomes [`StorageError::Remote`], anything else [`StorageError::Store`].
pub fn explain(loc: &DataLocation, rel: &str, err: object_store::Error) -> StorageError {
    match classify(loc, &err) {
        Some(problem) => StorageError::Remote {
            dataset: loc.display(),
            bucket: loc.bucket().unwrap_or_default().to_string(),
            endpoint: loc.endpoint().unwrap_or_default().to_string(),
            problem,
            detail: err.to_string(),
        },
        None => StorageError::Store {
            path: rel.to_string(),
            source: err,
        },
    }
}

impl RemoteProblem {
    /// The sentence a user reads, for the dataset, bucket and endpoint.
    pub fn describe(self, dataset: &str, bucket: &str, endpoint: &str) -> String {
        match self {
            RemoteProblem::NoBucket => {
                format!("{dataset}: bucket {bucket} does not exist at {endpoint}")
            }
            RemoteProblem::AccessDenied => format!(
                "{dataset}: access denied by {endpoint} (check AWS_ACCESS_KEY_ID, \
                 AWS_SECRET_ACCESS_KEY and the bucket's policy)"
            ),
            RemoteProblem::Unreachable => format!(
                "{dataset}: the object store endpoint {endpoint} cannot be reached \
                 (check AWS_ENDPOINT_URL and that the server is up)"
            ),
        }
    }
}
