//! The addressing and encoding rules, and the signature against AWS's published example. That S3
//! accepts what is signed here is proven against SeaweedFS, which checks SigV4 as S3 does: the
//! catalog's uploads (`tests/e2e/images.rs`) and the notifications templates
//! (`functions/notifications/src/overrides/tests.rs`), both with keys that need encoding.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::region::Region;

use super::*;
use crate::url::{encode_key, virtual_hostable};

fn credentials() -> Credentials {
    Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None, None, "tests")
}

fn config(region: &str, endpoint: Option<&str>) -> SdkConfig {
    let mut builder = SdkConfig::builder()
        .region(Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(credentials()));
    builder.set_endpoint_url(endpoint.map(str::to_owned));
    builder.build()
}

fn url(region: &str, endpoint: Option<&str>, path_style: bool, bucket: &str, key: &str) -> String {
    S3::from_sdk_config(&config(region, endpoint), path_style).expect("configured").object_url(bucket, key)
}

#[test]
fn a_key_keeps_its_slashes_and_unreserved_characters_and_encodes_every_other_byte() {
    let check = |key: &str, expected: &str| assert_eq!(encode_key(key), expected, "{key}");
    check("products/01J/a.png", "products/01J/a.png");
    check("AZaz09-._~", "AZaz09-._~");
    check("a b", "a%20b");
    check("a+b", "a%2Bb");
    check("a%20b", "a%2520b");
    check("café/ü.html", "caf%C3%A9/%C3%BC.html");
    check("日本", "%E6%97%A5%E6%9C%AC");
    check("a?b#c&d=e;f,g:h@i", "a%3Fb%23c%26d%3De%3Bf%2Cg%3Ah%40i");
    check("mail//x", "mail//x");
    check("!$'()*[]{}|^`\\\"<>", "%21%24%27%28%29%2A%5B%5D%7B%7D%7C%5E%60%5C%22%3C%3E");
}

#[test]
fn the_bucket_is_in_the_host_name_by_default_and_in_the_path_when_forced() {
    assert_eq!(
        url("eu-west-1", None, false, "shop-images", "products/a b+ü.png"),
        "https://shop-images.s3.eu-west-1.amazonaws.com/products/a%20b%2B%C3%BC.png"
    );
    assert_eq!(
        url("eu-west-1", None, true, "shop-images", "products/a.png"),
        "https://s3.eu-west-1.amazonaws.com/shop-images/products/a.png"
    );
    assert_eq!(url("cn-north-1", None, false, "b-1", "k"), "https://b-1.s3.cn-north-1.amazonaws.com.cn/k");
}

#[test]
fn a_bucket_that_cannot_be_a_host_name_label_goes_in_the_path() {
    assert_eq!(url("us-east-1", None, false, "my.bucket", "k"), "https://s3.us-east-1.amazonaws.com/my.bucket/k");
    assert!(virtual_hostable("abc") && virtual_hostable("a-1-b") && virtual_hostable(&"a".repeat(63)));
    for bad in ["ab", "a.b.c", "Upper", "-ab", "ab-", "a_b", &"a".repeat(64)] {
        assert!(!virtual_hostable(bad), "{bad}");
    }
}

#[test]
fn an_endpoint_override_takes_the_place_of_aws_in_either_style() {
    let local = Some("http://127.0.0.1:8333");
    assert_eq!(url("us-east-1", local, true, "b", "mail/a b.html"), "http://127.0.0.1:8333/b/mail/a%20b.html");
    assert_eq!(url("us-east-1", local, false, "bkt", "k"), "http://bkt.127.0.0.1:8333/k");
    assert_eq!(url("us-east-1", Some("https://s3.example/base/"), true, "b", "k"), "https://s3.example/base/b/k");
    for bad in ["ftp://x", "127.0.0.1:8333", "/path", "http://"] {
        let e = S3::from_sdk_config(&config("us-east-1", Some(bad)), true).expect_err(bad);
        assert!(matches!(e, Error::BadEndpoint(_)), "{bad}: {e}");
    }
}

#[test]
fn no_region_is_a_configuration_error() {
    let config = SdkConfig::builder().credentials_provider(SharedCredentialsProvider::new(credentials())).build();
    assert!(matches!(S3::from_sdk_config(&config, false), Err(Error::NoRegion)));
}

/// AWS's own example of a presigned URL ("Authenticating Requests: Using Query Parameters", S3
/// API reference): the same canonical request rules (single encoding, no normalisation, unsigned
/// payload) give the same signature.
#[test]
fn a_presigned_request_carries_the_signature_aws_documents() {
    let s3 = S3::from_sdk_config(&config("us-east-1", None), false).expect("configured");
    let mut settings = s3_settings();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(86400));
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
    let request = s3
        .sign(
            &credentials().into(),
            time,
            settings,
            "GET",
            "https://examplebucket.s3.amazonaws.com/test.txt",
            &[],
            SignableBody::UnsignedPayload,
        )
        .expect("signs");
    let url = request.uri().to_string();
    assert!(url.ends_with("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"), "{url}");
}

#[test]
fn a_presigned_put_binds_its_type_and_length_and_its_lifetime() {
    let s3 = S3::from_sdk_config(&config("eu-west-1", None), false).expect("configured");
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let lifetime = Duration::from_secs(900);
    let put = s3
        .presign_put_at(&credentials().into(), time, "shop", "products/a b.png", "image/png", 1024, lifetime)
        .expect("signs");
    assert!(put.url.starts_with("https://shop.s3.eu-west-1.amazonaws.com/products/a%20b.png?"), "{}", put.url);
    assert!(put.url.contains("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"), "{}", put.url);
    assert!(put.url.contains("X-Amz-Expires=900"), "{}", put.url);
    assert_eq!(put.headers, [("content-type".into(), "image/png".into()), ("content-length".into(), "1024".into())]);
    let e = s3
        .presign_put_at(&credentials().into(), time, "shop", "k", "image/png", 1, MAX_PRESIGNED_LIFETIME * 2)
        .expect_err("S3 refuses more than a week");
    assert!(matches!(e, Error::Lifetime(_)), "{e}");
}

#[tokio::test]
async fn a_signed_get_carries_its_signature_and_payload_hash_in_headers() {
    let s3 = S3::from_sdk_config(&config("eu-west-1", Some("http://127.0.0.1:9")), true).expect("configured");
    let get = s3.signed_get("templates", "mail/order_placed.html").await.expect("signs");
    assert_eq!(get.uri(), "http://127.0.0.1:9/templates/mail/order_placed.html");
    let header = |name: &str| get.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(header("authorization").starts_with("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"), "{get:?}");
    assert!(header("authorization").contains("/eu-west-1/s3/aws4_request"), "{get:?}");
    assert_eq!(header("x-amz-content-sha256"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert!(!header("x-amz-date").is_empty(), "{get:?}");
}

/// A provider that counts how often it is asked, and gives credentials expiring `lasting` from now.
#[derive(Debug)]
struct Counting {
    asked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    lasting: Duration,
}

impl aws_credential_types::provider::ProvideCredentials for Counting {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let expiry = SystemTime::now() + self.lasting;
        aws_credential_types::provider::future::ProvideCredentials::ready(Ok(Credentials::new(
            "ASIATEMPORARY",
            "secret",
            Some("session".into()),
            Some(expiry),
            "counting",
        )))
    }
}

/// Outside Lambda a provider's every answer is a request (ECS, IMDS, STS): signed requests share
/// credentials until five minutes before they expire, then ask again.
#[tokio::test]
async fn credentials_are_asked_for_once_until_they_near_their_expiry() {
    for (lasting, asked) in [(Duration::from_secs(3600), 1), (Duration::from_secs(240), 3)] {
        let asked_so_far = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let provider = Counting { asked: asked_so_far.clone(), lasting };
        let mut builder = SdkConfig::builder().region(Region::new("eu-west-1"));
        builder.set_credentials_provider(Some(SharedCredentialsProvider::new(provider)));
        let s3 = S3::from_sdk_config(&builder.build(), false).expect("configured");
        for _ in 0..3 {
            s3.signed_get("templates", "mail/order_placed.html").await.expect("signs");
        }
        assert_eq!(asked_so_far.load(std::sync::atomic::Ordering::SeqCst), asked, "credentials lasting {lasting:?}");
    }
}
