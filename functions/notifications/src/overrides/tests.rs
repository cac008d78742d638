//! Against SeaweedFS (`NANOSHOP_SEAWEEDFS`, started by `make test`), which speaks S3 with SigV4.

use super::*;
use crate::message::MailKind;
use crate::render::tests::{order, sender};
use crate::render::{MailContext, Templates};
use nanoshop_domain::locale::Locale;
use nanoshop_domain::money::Currency;

fn seaweedfs() -> Option<String> {
    match std::env::var("NANOSHOP_SEAWEEDFS") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var("NANOSHOP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
                "NANOSHOP_SEAWEEDFS is not set: run `make test`, which starts SeaweedFS, or set NANOSHOP_SKIP_SERVICES=1 to skip knowingly"
            );
            None
        }
    }
}

/// The S3 client that makes the bucket and objects, and the reader the function builds, both from
/// one configuration as `main` has it in `Clients`.
async fn client(endpoint: &str) -> (aws_sdk_s3::Client, Reader) {
    let sdk =
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
                aws_sdk_s3::config::Credentials::new("test", "testsecret", None, None, "tests"),
            ))
            .endpoint_url(endpoint)
            .build();
    let client = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let _ = client.create_bucket().bucket(BUCKET).send().await;
    let s3 = nanoshop_s3::S3::from_sdk_config(&sdk, true).expect("configured");
    let reader = Reader::new(s3, nanoshop_api::https_client(None).expect("TLS"));
    (client, reader)
}

const BUCKET: &str = "nanoshop-templates-test";

/// A prefix no other test run uses.
fn fresh_prefix(what: &str) -> S3Prefix {
    let run = nanoshop_domain::ids::OrderEventId::generate();
    // A space, `+` and non-ASCII: the keys read must be encoded as S3 checks them.
    S3Prefix { bucket: BUCKET.into(), prefix: format!("{run}/{what} +ü/") }
}

async fn put(client: &aws_sdk_s3::Client, at: &S3Prefix, name: &str, body: impl Into<Vec<u8>>) {
    let key = format!("{}{name}", at.prefix);
    client.put_object().bucket(BUCKET).key(key).body(body.into().into()).send().await.expect("put");
}

async fn started(reader: &Reader, at: &S3Prefix) -> Result<Templates, String> {
    let sources = from_s3(reader, at).await.map_err(|e| e.to_string())?;
    Templates::with_sources(sources).map_err(|e| e.to_string())
}

fn subject(templates: &Templates) -> String {
    let context = MailContext::new(&order(Currency::EUR, "Ada", "Shirt"), &sender(), Locale::EnUs, true, None);
    templates.compose("oevt_1", MailKind::Placed, &context).expect("renders").subject
}

#[tokio::test]
async fn a_template_under_the_prefix_changes_the_mail_and_nothing_else_is_read() {
    let Some(endpoint) = seaweedfs() else { return };
    let (client, reader) = client(&endpoint).await;
    let at = fresh_prefix("changed");
    put(&client, &at, "order_placed.subject.txt", "Danke für Bestellung {{ order.number }}").await;
    // Not a template name, and one level down: neither is read, however broken.
    put(&client, &at, "notes.txt", "{% if %}").await;
    put(&client, &at, "old/order_placed.subject.txt", "{% if %}").await;
    let templates = started(&reader, &at).await.expect("starts");
    assert_eq!(subject(&templates), "Danke für Bestellung 1042");
}

#[tokio::test]
async fn a_prefix_with_nothing_under_it_means_the_compiled_in_templates() {
    let Some(endpoint) = seaweedfs() else { return };
    let (_, reader) = client(&endpoint).await;
    let at = fresh_prefix("empty");
    assert!(from_s3(&reader, &at).await.expect("read").is_empty());
    let templates = started(&reader, &at).await.expect("starts");
    assert_eq!(subject(&templates), subject(&Templates::builtin()));
}

#[tokio::test]
async fn a_broken_oversized_or_binary_override_stops_the_start_naming_it() {
    let Some(endpoint) = seaweedfs() else { return };
    let (client, reader) = client(&endpoint).await;
    let broken = fresh_prefix("broken");
    put(&client, &broken, "order_expired.html", "{{ order.no_such_field }}").await;
    let e = started(&reader, &broken).await.expect_err("a template naming a value that does not exist");
    assert!(e.contains("order_expired.html"), "{e}");

    let large = fresh_prefix("large");
    put(&client, &large, "base.html", vec![b'x'; 64 * 1024 + 1]).await;
    let e = started(&reader, &large).await.expect_err("over 64 KiB");
    assert!(e.contains("base.html") && e.contains("65537"), "{e}");

    let binary = fresh_prefix("binary");
    put(&client, &binary, "base.txt", vec![0xff, 0xfe, 0x00]).await;
    let e = started(&reader, &binary).await.expect_err("not text");
    assert!(e.contains("base.txt"), "{e}");

    let e = from_s3(&reader, &S3Prefix { bucket: "no-such-bucket-nanoshop".into(), prefix: String::new() })
        .await
        .expect_err("a bucket that does not exist");
    assert!(e.to_string().contains("no-such-bucket-nanoshop"), "{e}");
}
