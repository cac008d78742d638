//! Where an object is: the bucket in the host name (virtual-hosted style,
//! `https://{bucket}.s3.{region}.amazonaws.com/{key}`) or in the path (path style,
//! `{endpoint}/{bucket}/{key}`), and the key encoded as S3 reads it back.

use http::Uri;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::Error;

/// What a key keeps unencoded: SigV4's unreserved characters (`A-Z a-z 0-9 - . _ ~`) and the
/// `/` between its segments. Every other byte of its UTF-8 is `%XX`, space and `+` included: S3
/// decodes the path once and compares it with the signed one, so a `+` left as is would be read
/// as itself here but a space by some proxies, and a space cannot be sent at all. This is the set
/// the SDK encodes an S3 key with (its "greedy" label).
const KEY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

/// `key` as it goes into a URL's path: each segment encoded, `/` kept.
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY).to_string()
}

/// How the URL of an object is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressing {
    /// `https`, or what the endpoint override says.
    scheme: String,
    /// The host (and port) a bucket's name is put in front of, or after which it starts the path.
    authority: String,
    /// The endpoint's own path (an override may have one), without a trailing `/`.
    base_path: String,
    force_path_style: bool,
}

impl Addressing {
    /// AWS's regional endpoint for `region` (`s3.eu-west-1.amazonaws.com`,
    /// `s3.cn-north-1.amazonaws.com.cn`), or `endpoint` when one overrides it.
    ///
    /// # Errors
    /// `endpoint` is not an absolute http(s) URL.
    pub fn new(region: &str, endpoint: Option<&str>, force_path_style: bool) -> Result<Self, Error> {
        let Some(endpoint) = endpoint.map(str::trim).filter(|e| !e.is_empty()) else {
            let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
            return Ok(Self {
                scheme: "https".into(),
                authority: format!("s3.{region}.{suffix}"),
                base_path: String::new(),
                force_path_style,
            });
        };
        let bad = || Error::BadEndpoint(endpoint.to_owned());
        let uri: Uri = endpoint.parse().map_err(|_| bad())?;
        let scheme = uri.scheme_str().filter(|s| matches!(*s, "http" | "https")).ok_or_else(bad)?;
        let authority = uri.authority().filter(|a| !a.host().is_empty()).ok_or_else(bad)?;
        Ok(Self {
            scheme: scheme.to_owned(),
            authority: authority.as_str().to_owned(),
            base_path: uri.path().trim_end_matches('/').to_owned(),
            force_path_style,
        })
    }

    /// The URL of `key` in `bucket`. The bucket goes into the host name unless path style is
    /// forced or the name cannot be a host name label ([`virtual_hostable`]: a name with dots
    /// would not match S3's TLS certificate), as the SDK decides.
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        let Self { scheme, authority, base_path, .. } = self;
        let key = encode_key(key);
        if self.force_path_style || !virtual_hostable(bucket) {
            format!("{scheme}://{authority}{base_path}/{}/{key}", encode_key(bucket))
        } else {
            format!("{scheme}://{bucket}.{authority}{base_path}/{key}")
        }
    }
}

/// Whether `bucket` can be the first label of a host name under TLS: 3 to 63 lower-case letters,
/// digits and hyphens, starting and ending with a letter or digit (no dots, no upper case).
pub fn virtual_hostable(bucket: &str) -> bool {
    let bytes = bucket.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}
