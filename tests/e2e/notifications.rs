//! The shop's e-mails in `nanoshop serve`: the order events reach the notifications function in
//! process, and each mail a shopper would get is written once to `<data dir>/mail/` as `.eml`.

use std::path::Path;

use axum::http::{Method, StatusCode};
use mail_parser::MessageParser;
use serde_json::json;

use crate::cart::{guest_cart, shop};
use crate::checkout::{checkout, confirm};
use crate::support::TestApp;

/// Every mail written so far, parsed: (file name, to, subject, plain text).
fn mails(dir: &Path) -> Vec<(String, String, String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut all: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|path| {
            let raw = std::fs::read(&path).unwrap();
            let m = MessageParser::default().parse(&raw).expect("a parsable message");
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned(),
                m.subject().unwrap_or_default().to_owned(),
                m.body_text(0).unwrap_or_default().into_owned(),
            )
        })
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn a_shopper_gets_each_order_mail_once_as_a_file_in_serve() {
    let t = TestApp::new();
    let dir = t.data_dir.join("mail");
    shop(&t, 1).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    let placed = checkout(&t, &cart, "mail-1").await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let (id, number) = (placed.body["order"]["id"].as_str().unwrap(), placed.body["order"]["number"].as_str().unwrap());
    let intent = placed.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned();
    t.local.tick().await;

    let got = mails(&dir);
    assert_eq!(got.len(), 1, "{got:#?}");
    let (file, to, subject, text) = &got[0];
    assert!(file.ends_with("-order_placed.eml"), "{file}");
    assert_eq!(to, "ada@example.com");
    assert!(subject.contains(&format!("order #{number} received")), "{subject}");
    assert!(text.contains("€14.90"), "total with shipping, for the default locale en-US: {text}");
    // The link in the mail opens the order for the guest who has nothing but the mail.
    let link = text.lines().find_map(|l| l.strip_prefix("View your order: ")).expect("a link").trim();
    let token = link.split_once("?token=").map(|(_, t)| t).expect("a token");
    assert!(link.contains(&format!("#/order/{id}")), "{link}");
    let opened = t.send(Method::GET, &format!("/orders/{id}"), None, &[("x-order-token", token)], None).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);

    let declined = confirm(&t, &intent, "4000 0000 0000 0002").await;
    assert_eq!(declined.body["status"], "failed", "{}", declined.body);
    let paid = confirm(&t, &intent, "4242 4242 4242 4242").await;
    assert_eq!(paid.body["status"], "succeeded", "{}", paid.body);
    t.local.tick().await;
    let fulfil = json!({"lines": [{"sku": "P0", "quantity": 1}], "carrier": "DHL", "tracking_number": "JJD0099",
                        "tracking_url": "https://track.example/JJD0099"});
    let shipped = t.json(Method::POST, &format!("/orders/{id}/fulfillments"), Some(&t.admin), &fulfil).await;
    assert!(shipped.status.is_success(), "{}", shipped.body);
    for _ in 0..3 {
        t.local.tick().await;
    }

    let kinds: Vec<String> = mails(&dir)
        .into_iter()
        .map(|(f, ..)| f.split_once('-').unwrap().1.trim_end_matches(".eml").to_owned())
        .collect();
    let mut kinds = kinds;
    kinds.sort();
    assert_eq!(kinds, ["order_fulfilled", "order_payment_failed", "order_placed"], "order.paid sends none");
    let shipped_mail = mails(&dir).into_iter().find(|(f, ..)| f.ends_with("-order_fulfilled.eml")).unwrap();
    assert!(shipped_mail.3.contains("JJD0099") && shipped_mail.3.contains("DHL"), "{}", shipped_mail.3);
}

#[tokio::test]
async fn the_store_settings_name_the_store_and_set_the_locale_of_its_mail() {
    let t = TestApp::new();
    let dir = t.data_dir.join("mail");
    shop(&t, 1).await;
    let mut settings = t.get("/settings", Some(&t.admin)).await.body;
    let settings = settings.as_object_mut().unwrap();
    settings.remove("countries");
    settings.remove("version");
    settings.extend([
        ("store_name".to_owned(), json!("Kaffeehaus Mitte")),
        ("store_address".to_owned(), json!("Torstraße 9\n10119 Berlin")),
        ("locale".to_owned(), json!("de-DE")),
    ]);
    let put = t.json(Method::PUT, "/settings", Some(&t.admin), &json!(settings)).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    let placed = checkout(&t, &cart, "mail-de").await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    t.local.tick().await;

    let got = mails(&dir);
    assert_eq!(got.len(), 1, "{got:#?}");
    let (_, _, subject, text) = &got[0];
    assert!(subject.starts_with("Kaffeehaus Mitte:"), "{subject}");
    assert!(text.contains("14,90\u{a0}€") && text.contains("Torstraße 9"), "a German store's mail: {text}");
    assert!(!text.contains("EUR") && !text.contains("nanoshop (local)"), "{text}");
}

/// The notifications binary as Lambda starts it, reading template overrides from SeaweedFS (which
/// checks SigV4 as S3 does) by path: a usable override lets it take events; a broken one stops it
/// before it asks for any, with the log line naming the bucket and prefix.
#[tokio::test]
async fn the_notifications_binary_reads_overrides_from_s3_and_a_broken_one_stops_its_start() {
    use std::process::Stdio;

    use crate::lambda::{KillOnDrop, StandIn, runtime_process};
    use crate::support::workspace_binary;

    let Ok(endpoint) = std::env::var("NANOSHOP_SEAWEEDFS") else {
        assert!(
            std::env::var("NANOSHOP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
            "NANOSHOP_SEAWEEDFS is not set: run `make test`"
        );
        return;
    };
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "testsecret", None, None, "tests"))
            .endpoint_url(&endpoint)
            .force_path_style(true)
            .build(),
    );
    let bucket = "nanoshop-templates-binary";
    let _ = s3.create_bucket().bucket(bucket).send().await;
    let run = nanoshop_domain::ids::OrderEventId::generate();
    let (good, broken) = (format!("{run}/good mail/"), format!("{run}/broken mail/"));
    let put = |key: String, body: &'static str| {
        let s3 = s3.clone();
        async move { s3.put_object().bucket(bucket).key(key).body(body.as_bytes().to_vec().into()).send().await.unwrap() }
    };
    put(format!("{good}order_placed.subject.txt"), "Danke für Bestellung {{ order.number }}").await;
    put(format!("{broken}order_placed.html"), "{{ order.no_such_field }}").await;

    let binary = workspace_binary("notifications");
    let start = |prefix: &str, runtime: std::net::SocketAddr| {
        let mut command = runtime_process(&binary, runtime);
        command
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "testsecret")
            // S3 at SeaweedFS; every other service at a closed local port.
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ENDPOINT_URL_S3", &endpoint)
            .env("S3_FORCE_PATH_STYLE", "true")
            .env("TEMPLATES_BUCKET", bucket)
            .env("TEMPLATES_PREFIX", prefix)
            .env("ORDERS_TABLE", "o")
            .env("CATALOG_TABLE", "c")
            .env("IDEMPOTENCY_TABLE", "i")
            .env("STORE_NAME", "nanoshop")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };

    // No MAIL_FROM: a function that started acknowledges the event without mail.
    let mut runtime = StandIn::start(vec![]).await;
    let _running = KillOnDrop(start(&good, runtime.addr).spawn().unwrap());
    let answer = runtime.invoke(json!({"source": "nanoshop.orders", "detail-type": "order.placed"})).await;
    assert!(answer.ok, "{answer:?}");
    assert_eq!(answer.body, json!({"outcome": "MailNotConfigured"}));

    // A function that started would poll the stand-in for ever: it must exit on its own instead.
    let runtime = StandIn::start(vec![]).await;
    let mut stopping = KillOnDrop(start(&broken, runtime.addr).spawn().unwrap());
    let mut status = None;
    for _ in 0..600 {
        status = stopping.0.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let status = status.expect("the function stops at start within a minute");
    let mut log = String::new();
    for pipe in [
        stopping.0.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read>),
        stopping.0.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read>),
    ] {
        std::io::Read::read_to_string(&mut pipe.unwrap(), &mut log).unwrap();
    }
    assert!(!status.success(), "{log}");
    assert!(log.contains("template overrides unusable") && log.contains("order_placed.html"), "{log}");
    assert!(log.contains(bucket) && log.contains("broken mail/"), "{log}");
}
