//! Template overrides from an S3 prefix, for a deployed function: a merchant puts
//! `<prefix>order_placed.html` in the bucket and the next cold start mails with it, no rebuild.
//!
//! Read once at start-up and bounded, since a cold start waits for it: each built-in template's
//! name ([`BUILTIN`]) is asked for under the prefix, a few at a time ([`CONCURRENT_READS`]), so a
//! stray object cannot add a template or cost a read; each is at most [`MAX_TEMPLATE_BYTES`] (a
//! body is not read past it), all within [`FETCH_TIMEOUT`]. Whatever is read is then compiled and
//! rendered once ([`crate::render::Templates::with_sources`]), so a broken override stops the
//! function at start-up instead of failing a shopper's mail. A prefix with nothing under it is no
//! override: the compiled-in templates.
//!
//! The reads are GETs signed by `nanoshop_s3` (no S3 SDK: issue 19), without a listing: a name with
//! no object answers 404 `NoSuchKey`, which keeps its built-in template. S3 answers 404 only to a
//! reader allowed to list the prefix, and 403 to others, so the template still grants
//! `s3:ListBucket` on it; a 403, a missing bucket (404 `NoSuchBucket`) or any other answer stops
//! the start like a broken template.

use std::time::Duration;

use futures_util::{StreamExt as _, TryStreamExt as _};
use nanoshop_s3::read::{ReadError, Reader};

use crate::render::BUILTIN;

/// The largest override read: the built-in templates are a few KiB; a bigger one is a mistake
/// (a wrong file uploaded), refused rather than held in every instance's memory.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// How long reading every override may take before start-up gives up.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Reads in flight at once: the 22 names in a few round trips, over a few connections (each
/// one a TLS handshake in a cold start), not 22.
pub const CONCURRENT_READS: usize = 6;

/// Where the overrides are: a bucket and a key prefix (`mail/`, or empty for the bucket's root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Prefix {
    pub bucket: String,
    pub prefix: String,
}

/// Why the overrides could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    #[error("reading s3://{bucket}/{key}: {reason}")]
    Read { bucket: String, key: String, reason: String },
    #[error("{key} is {size}; an override is at most {MAX_TEMPLATE_BYTES} bytes")]
    TooLarge { key: String, size: String },
    #[error("{key} is not UTF-8 text")]
    NotText { key: String },
    #[error("reading the overrides took more than {FETCH_TIMEOUT:?}")]
    TimedOut,
}

/// The overrides under `at`, as (template name, source), within [`FETCH_TIMEOUT`].
///
/// # Errors
/// A read failed (other than "no such key"), an override is too large or not text, or it all
/// took too long.
pub async fn from_s3(reader: &Reader, at: &S3Prefix) -> Result<Vec<(String, String)>, OverrideError> {
    let reads = futures_util::stream::iter(BUILTIN.iter().map(|(name, _)| read_one(reader, at, name)))
        .buffered(CONCURRENT_READS)
        .try_filter_map(|found| async move { Ok::<_, OverrideError>(found) })
        .try_collect();
    tokio::time::timeout(FETCH_TIMEOUT, reads).await.map_err(|_| OverrideError::TimedOut)?
}

/// The override of template `name`, if there is one.
async fn read_one(reader: &Reader, at: &S3Prefix, name: &str) -> Result<Option<(String, String)>, OverrideError> {
    let key = format!("{}{name}", at.prefix);
    let bytes = match reader.get(&at.bucket, &key, MAX_TEMPLATE_BYTES).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(ReadError::TooLarge { size }) => {
            let size = size.map_or_else(|| format!("more than {MAX_TEMPLATE_BYTES} bytes"), |s| format!("{s} bytes"));
            return Err(OverrideError::TooLarge { key, size });
        }
        Err(e) => return Err(OverrideError::Read { bucket: at.bucket.clone(), key, reason: e.to_string() }),
    };
    let source = String::from_utf8(bytes.to_vec()).map_err(|_| OverrideError::NotText { key: key.clone() })?;
    Ok(Some(((*name).to_owned(), source)))
}

#[cfg(test)]
mod tests;
