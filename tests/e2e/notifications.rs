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
