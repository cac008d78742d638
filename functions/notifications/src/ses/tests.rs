//! Against moto's SES v2 (`NANOSHOP_MOTO`, started by `make test`): the message moto kept is read
//! back from `/moto-api/data.json` and parsed.

use std::sync::Arc;

use mail_parser::MessageParser;
use nanoshop_domain::ids::OrderEventId;
use nanoshop_domain::money::Currency;
use nanoshop_schema::orders::order_writes;
use nanoshop_store::Store;
use nanoshop_store::embedded::EmbeddedStore;
use serde_json::json;

use super::*;
use crate::delivery::{NotifyError, Outcome};
use crate::render::Templates;
use crate::render::tests::{order, sender};
use crate::{MailKind, Notifier};

/// moto's address, or `None` when the caller knowingly runs without services.
fn moto() -> Option<String> {
    match std::env::var("NANOSHOP_MOTO") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var("NANOSHOP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
                "NANOSHOP_MOTO is not set: run `make test`, which starts moto, or set NANOSHOP_SKIP_SERVICES=1 to skip knowingly"
            );
            None
        }
    }
}

async fn client(url: &str) -> aws_sdk_sesv2::Client {
    let config = aws_sdk_sesv2::Config::builder()
        .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
        .region(aws_sdk_sesv2::config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_sesv2::config::Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(url)
        .build();
    aws_sdk_sesv2::Client::from_conf(config)
}

/// The raw messages moto's SES kept that were sent to `to`.
async fn sent_to(url: &str, to: &str) -> Vec<String> {
    let data: serde_json::Value =
        reqwest::get(format!("{url}/moto-api/data.json")).await.expect("moto").json().await.expect("json");
    let mut raw = Vec::new();
    // data.json: {"ses": {"<kind>": {"<account>": {"<region>": [messages…]}}}}; keep any message
    // object with a raw body addressed to `to`.
    fn walk(v: &serde_json::Value, to: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(body) = m.get("raw_data").and_then(|b| b.as_str())
                    && body.contains(to)
                {
                    out.push(body.to_owned());
                }
                m.values().for_each(|v| walk(v, to, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, to, out)),
            _ => {}
        }
    }
    walk(&data["ses"], to, &mut raw);
    raw
}

#[tokio::test]
async fn an_event_delivered_three_times_reaches_ses_once_and_reads_back_as_sent() {
    let Some(url) = moto() else { return };
    let ses = client(&url).await;
    ses.create_email_identity().email_identity("orders@linen.example").send().await.expect("identity");
    let store = Arc::new(EmbeddedStore::in_memory());
    let to = format!("ses-{}@example.com", OrderEventId::generate().as_str().to_lowercase());
    let mut o = order(Currency::EUR, "Ada Lovelace", "Linen shirt");
    o.email = to.clone();
    store.transact(order_writes(None, &o).expect("writes")).await.expect("stored");
    let notifier = Notifier {
        store,
        mailer: Arc::new(SesMailer { client: ses, configuration_set: None }),
        templates: Arc::new(Templates::builtin()),
        sender: sender(),
        links: None,
        instance: Default::default(),
    };
    let e = json!({"detail": {"id": OrderEventId::generate().to_string(), "type": "order.placed", "order_id": o.id}});
    let outcomes = [
        notifier.handle(&e).await.expect("1"),
        notifier.handle(&e).await.expect("2"),
        notifier.handle(&e).await.expect("3"),
    ];
    assert_eq!(outcomes, [Outcome::Sent(MailKind::Placed), Outcome::AlreadyDone, Outcome::AlreadyDone]);

    let sent = sent_to(&url, &to).await;
    assert_eq!(sent.len(), 1, "one message kept by SES: {sent:#?}");
    let m = MessageParser::default().parse(sent[0].as_bytes()).expect("parses");
    assert_eq!(m.subject(), Some("Linen & Co: order #1042 received"));
    assert!(m.body_text(0).is_some_and(|t| t.contains("€39.80")), "{:?}", m.body_text(0));
}

#[tokio::test]
async fn an_unverified_sender_is_retried_not_blamed_on_the_shopper() {
    let Some(url) = moto() else { return };
    let store = Arc::new(EmbeddedStore::in_memory());
    let o = order(Currency::EUR, "Ada", "Shirt");
    store.transact(order_writes(None, &o).expect("writes")).await.expect("stored");
    let mut from = sender();
    from.from = format!("nobody-verified-{}@unverified.example", std::process::id());
    let notifier = Notifier {
        store,
        mailer: Arc::new(SesMailer { client: client(&url).await, configuration_set: None }),
        templates: Arc::new(Templates::builtin()),
        sender: from,
        links: None,
        instance: Default::default(),
    };
    let e = json!({"detail": {"id": OrderEventId::generate().to_string(), "type": "order.placed", "order_id": o.id}});
    let result = notifier.handle(&e).await;
    assert!(matches!(result, Err(NotifyError::Send(crate::SendError::Transient(_)))), "{result:?}");
}
