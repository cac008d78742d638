//! Template overrides from an S3 prefix, for a deployed function: a merchant puts
//! `<prefix>order_placed.html` in the bucket and the next cold start mails with it, no rebuild.
//!
//! Read once at start-up and bounded, since a cold start waits for it: only keys named like a
//! built-in template ([`BUILTIN`]) are read (a stray object cannot add a template or cost a read),
//! each at most [`MAX_TEMPLATE_BYTES`], all within [`FETCH_TIMEOUT`]. Whatever is read is then
//! compiled and rendered once ([`crate::render::Templates::with_sources`]), so a broken override
//! stops the function at start-up instead of failing a shopper's mail. A prefix with nothing under
//! it is no override: the compiled-in templates.

use std::time::Duration;

use crate::render::BUILTIN;

/// The largest override read: the built-in templates are a few KiB; a bigger one is a mistake
/// (a wrong file uploaded), refused rather than held in every instance's memory.
pub const MAX_TEMPLATE_BYTES: i64 = 64 * 1024;
/// How long reading every override may take, listing included, before start-up gives up.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Pages of the listing read: far more keys than templates exist, against a prefix that holds
/// other things too.
const MAX_PAGES: usize = 5;

/// Where the overrides are: a bucket and a key prefix (`mail/`, or empty for the bucket's root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Prefix {
    pub bucket: String,
    pub prefix: String,
}

/// Why the overrides could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    #[error("listing s3://{bucket}/{prefix}: {reason}")]
    List { bucket: String, prefix: String, reason: String },
    #[error("reading {key}: {reason}")]
    Read { key: String, reason: String },
    #[error("{key} is {size} bytes; an override is at most {MAX_TEMPLATE_BYTES}")]
    TooLarge { key: String, size: i64 },
    #[error("{key} is not UTF-8 text")]
    NotText { key: String },
    #[error("reading the overrides took more than {FETCH_TIMEOUT:?}")]
    TimedOut,
}

/// The overrides under `at`, as (template name, source), within [`FETCH_TIMEOUT`].
///
/// # Errors
/// The listing or a read failed, an override is too large or not text, or it all took too long.
pub async fn from_s3(client: &aws_sdk_s3::Client, at: &S3Prefix) -> Result<Vec<(String, String)>, OverrideError> {
    tokio::time::timeout(FETCH_TIMEOUT, read_all(client, at)).await.map_err(|_| OverrideError::TimedOut)?
}

async fn read_all(client: &aws_sdk_s3::Client, at: &S3Prefix) -> Result<Vec<(String, String)>, OverrideError> {
    let mut found = Vec::new();
    let mut token = None;
    for _ in 0..MAX_PAGES {
        let page = client
            .list_objects_v2()
            .bucket(&at.bucket)
            .prefix(&at.prefix)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| OverrideError::List {
                bucket: at.bucket.clone(),
                prefix: at.prefix.clone(),
                reason: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
            })?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            let Some(name) = key.strip_prefix(at.prefix.as_str()) else { continue };
            if !BUILTIN.iter().any(|(n, _)| *n == name) {
                continue;
            }
            let size = object.size().unwrap_or(0);
            if size > MAX_TEMPLATE_BYTES {
                return Err(OverrideError::TooLarge { key: key.to_owned(), size });
            }
            found.push((name.to_owned(), key.to_owned()));
        }
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let mut sources = Vec::with_capacity(found.len());
    for (name, key) in found {
        let read = |e: String| OverrideError::Read { key: key.clone(), reason: e };
        let object = client
            .get_object()
            .bucket(&at.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| read(aws_sdk_s3::error::DisplayErrorContext(e).to_string()))?;
        let bytes = object.body.collect().await.map_err(|e| read(e.to_string()))?.into_bytes();
        // The object may have been replaced by a bigger one since the listing.
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        if size > MAX_TEMPLATE_BYTES {
            return Err(OverrideError::TooLarge { key, size });
        }
        let source = String::from_utf8(bytes.to_vec()).map_err(|_| OverrideError::NotText { key: key.clone() })?;
        sources.push((name, source));
    }
    Ok(sources)
}

#[cfg(test)]
mod tests;
