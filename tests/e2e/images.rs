//! Image uploads: the local signer as `nanoshop serve` runs it, and the S3 adapter against
//! SeaweedFS, which enforces SigV4, expiry and the signed content type as S3 does.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use nanoshop_catalog::images::{ImageStorage, S3Images};
use serde_json::{Value, json};

use crate::support::{TestApp, product};

#[tokio::test]
async fn local_uploads_accept_exactly_what_was_signed() {
    let t = TestApp::new();
    let id = t.create_product(&product("pictured", "PIC", "active")).await["id"].as_str().unwrap().to_owned();
    let png = b"\x89PNG\r\n\x1a\nnot really a png but 30 bytes".to_vec();
    let reply = t
        .json(
            Method::POST,
            &format!("/products/{id}/images"),
            Some(&t.admin),
            &json!({"content_type": "image/png", "content_length": png.len(), "alt": "front"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let upload = &reply.body["upload"];
    assert_eq!(upload["method"], "PUT");
    let url = upload["url"].as_str().unwrap().trim_start_matches("http://127.0.0.1:3000").to_owned();

    let put = |path: String, content_type: &'static str, bytes: Vec<u8>| {
        let t = &t;
        async move { t.send(Method::PUT, &path, None, &[("content-type", content_type)], Some(Body::from(bytes))).await }
    };
    assert_eq!(put(url.clone(), "image/jpeg", png.clone()).await.status, StatusCode::FORBIDDEN, "another content type");
    assert_eq!(put(url.clone(), "image/png", png[..10].to_vec()).await.status, StatusCode::FORBIDDEN, "another length");
    let tampered = url.replace("signature=", "signature=00");
    assert_eq!(put(tampered, "image/png", png.clone()).await.status, StatusCode::FORBIDDEN, "a tampered signature");
    let forged_key = url.replace("/dev/uploads/products/", "/dev/uploads/other/");
    assert_eq!(put(forged_key, "image/png", png.clone()).await.status, StatusCode::FORBIDDEN, "another key");
    assert_eq!(put(url, "image/png", png.clone()).await.status, StatusCode::OK);

    let product = t.get(&format!("/products/{id}"), None).await;
    let image_url =
        product.body["images"][0]["url"].as_str().unwrap().trim_start_matches("http://127.0.0.1:3000").to_owned();
    assert_eq!(product.body["images"][0]["alt"], "front");
    let served = t.get(&image_url, None).await;
    assert_eq!(served.status, StatusCode::OK);
    let _ = std::fs::remove_dir_all(&t.data_dir);
}

#[tokio::test]
async fn seaweedfs_refuses_wrong_type_tampered_and_expired_uploads() {
    let Ok(endpoint) = std::env::var("NANOSHOP_SEAWEEDFS") else {
        assert!(
            std::env::var("NANOSHOP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
            "NANOSHOP_SEAWEEDFS is not set: run `make test`"
        );
        return;
    };
    // One configuration, as a function's `Clients` holds it: the S3 client that makes the bucket
    // and checks what was stored, and the catalog's signer, both from it.
    let sdk =
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
                aws_sdk_s3::config::Credentials::new("test", "testsecret", None, None, "tests"),
            ))
            .endpoint_url(&endpoint)
            .build();
    let client = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let bucket = "nanoshop-images-test";
    let _ = client.create_bucket().bucket(bucket).send().await;
    let signer = nanoshop_s3::S3::from_sdk_config(&sdk, true).unwrap();
    let images = S3Images::new(signer, bucket, format!("{endpoint}/{bucket}"));
    let bytes = vec![7u8; 1024];
    let http = reqwest::Client::new();
    let put = |url: String, content_type: &'static str, body: Vec<u8>| {
        let http = http.clone();
        async move { http.put(url).header("content-type", content_type).body(body).send().await.unwrap().status().as_u16() }
    };

    let ok = images.presign_upload("products/a.png", "image/png", 1024, Duration::from_secs(300)).await.unwrap();
    assert!(
        ok.headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v == "image/png"),
        "{:?}",
        ok.headers
    );
    assert_eq!(put(ok.url.clone(), "image/jpeg", bytes.clone()).await, 403, "a content type other than the signed one");
    let mut tampered = ok.url.clone();
    let at = tampered.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let flipped = if &tampered[at..=at] == "0" { "1" } else { "0" };
    tampered.replace_range(at..=at, flipped);
    assert_eq!(put(tampered, "image/png", bytes.clone()).await, 403, "a tampered signature");
    assert_eq!(
        put(ok.url.clone(), "image/png", bytes[..512].to_vec()).await,
        403,
        "a length other than the signed one"
    );
    assert_eq!(put(ok.url.clone(), "image/png", bytes.clone()).await, 200, "the signed upload");
    let stored = client.head_object().bucket(bucket).key("products/a.png").send().await.unwrap();
    assert_eq!(stored.content_length(), Some(1024));

    // A key that must be encoded (a space, `+`, non-ASCII): S3 checks the signature against the
    // path it decodes and encodes again, so a key encoded otherwise is refused.
    let odd = "products/a b+é/ü.png";
    let signed = images.presign_upload(odd, "image/png", 1024, Duration::from_secs(300)).await.unwrap();
    assert_eq!(put(signed.url, "image/png", bytes.clone()).await, 200, "the signed upload of {odd}");
    let stored = client.head_object().bucket(bucket).key(odd).send().await.unwrap();
    assert_eq!(stored.content_length(), Some(1024));

    let short = images.presign_upload("products/b.png", "image/png", 1024, Duration::from_secs(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(put(short.url, "image/png", bytes).await, 403, "an expired URL");
    assert!(
        client.head_object().bucket(bucket).key("products/b.png").send().await.is_err(),
        "nothing was stored by refused uploads"
    );
    let _: Value = json!(null);
}
