//! Against a real SMTP server: aiosmtpd, started by the test (`tests/smtp_server.py`; installed by
//! `scripts/services.sh install`, which `make test` runs). Each received message is parsed back.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use mail_parser::MessageParser;
use nanoshop_domain::ids::OrderEventId;
use nanoshop_domain::money::Currency;
use nanoshop_domain::order::OrderFlag;
use nanoshop_schema::orders::order_writes;
use nanoshop_store::Store;
use nanoshop_store::embedded::EmbeddedStore;
use serde_json::json;

use super::*;
use crate::delivery::{NotifyError, Outcome};
use crate::render::Templates;
use crate::render::tests::{order, sender, visible};
use crate::{MailKind, Notifier};

/// The Python that has aiosmtpd: `NANOSHOP_PYTHON`, else the tools venv `scripts/services.sh`
/// installs into.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("NANOSHOP_PYTHON") {
        return p.into();
    }
    let cache = std::env::var_os("NANOSHOP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/nanoshop"));
    cache.join("venv/bin/python")
}

/// An aiosmtpd server on `port`, writing what it accepts into `dir`; stopped when dropped.
struct SmtpServer(Child);

impl SmtpServer {
    fn start(port: u16, dir: &Path) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(port.to_string())
            .arg(dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python with aiosmtpd: run scripts/services.sh install");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("reads");
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP server did not start (is aiosmtpd installed? scripts/services.sh install)"
        );
        SmtpServer(child)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Every message the server accepted, parsed: (to, subject, message id, text, html).
fn received(dir: &Path) -> Vec<(String, String, String, String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let raw = std::fs::read(path).expect("read");
            let m = MessageParser::default().parse(&raw).expect("a parsable message");
            let to = m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
            (
                to,
                m.subject().unwrap_or_default().to_owned(),
                m.message_id().unwrap_or_default().to_owned(),
                m.body_text(0).unwrap_or_default().into_owned(),
                m.body_html(0).unwrap_or_default().into_owned(),
            )
        })
        .collect()
}

struct Fixture {
    notifier: Notifier,
    store: Arc<EmbeddedStore>,
    dir: PathBuf,
    port: u16,
}

async fn fixture(name: &str) -> Fixture {
    let dir = std::env::temp_dir().join(format!("nanoshop-smtp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let port = free_port();
    let store = Arc::new(EmbeddedStore::in_memory());
    let mailer = SmtpMailer::from_url(&format!("smtp://127.0.0.1:{port}")).expect("url");
    let notifier = Notifier {
        store: store.clone(),
        mailer: Arc::new(mailer),
        templates: Arc::new(Templates::builtin()),
        sender: sender(),
        links: None,
        instance: Default::default(),
    };
    Fixture { notifier, store, dir, port }
}

async fn stored_order(store: &EmbeddedStore, email: &str) -> nanoshop_domain::order::Order {
    let mut o = order(Currency::EUR, "Ada <b>Lovelace</b>", "Linen <script>x</script> shirt");
    o.email = email.into();
    store.transact(order_writes(None, &o).expect("writes")).await.expect("stored");
    o
}

fn event(kind: &str, order: &nanoshop_domain::order::Order) -> serde_json::Value {
    json!({"detail-type": kind, "source": "nanoshop.orders",
           "detail": {"id": OrderEventId::generate().to_string(), "type": kind, "order_id": order.id}})
}

#[tokio::test]
async fn each_event_delivered_three_times_reaches_the_smtp_server_once_with_its_content() {
    let f = fixture("thrice").await;
    let _server = SmtpServer::start(f.port, &f.dir);
    let o = stored_order(&f.store, "ada@example.com").await;
    let kinds = [
        ("order.placed", MailKind::Placed, "order #1042 received", "€34.90"),
        ("order.payment_failed", MailKind::PaymentFailed, "did not go through", "€39.80"),
        ("order.fulfilled", MailKind::Fulfilled, "is on its way", "has shipped"),
        ("order.refunded", MailKind::Refunded, "refund for order #1042", "We have refunded"),
        ("order.cancelled", MailKind::Cancelled, "order #1042 cancelled", "has been cancelled"),
        ("order.expired", MailKind::Expired, "expired unpaid", "went back on sale"),
    ];
    let mut ids = Vec::new();
    for (kind, mail, ..) in kinds {
        let e = event(kind, &o);
        ids.push(e["detail"]["id"].as_str().expect("id").to_owned());
        for round in 0..3 {
            let outcome = f.notifier.handle(&e).await.expect("handled");
            assert_eq!(outcome, if round == 0 { Outcome::Sent(mail) } else { Outcome::AlreadyDone }, "{kind}");
        }
    }
    let mut got = received(&f.dir);
    assert_eq!(got.len(), kinds.len(), "one message per event: {got:#?}");
    for ((kind, _, subject, body), id) in kinds.iter().zip(&ids) {
        let i =
            got.iter().position(|m| m.2 == format!("{id}@nanoshop")).unwrap_or_else(|| panic!("no mail for {kind}"));
        let (to, got_subject, _, text, html) = got.remove(i);
        assert_eq!(to, "ada@example.com");
        assert!(got_subject.contains(subject), "{kind}: {got_subject}");
        assert!(text.contains(body), "{kind}: {text}");
        assert!(visible(&html).contains(body), "{kind}: {html}");
        assert!(text.contains("Ada <b>Lovelace</b>"), "the text part shows the name as given");
        assert!(!html.contains("<b>Lovelace") && !html.contains("<script>"), "{kind}: markup got through: {html}");
    }
    std::fs::remove_dir_all(&f.dir).expect("clean up");
}

#[tokio::test]
async fn smtp_down_then_back_the_event_is_retried_and_sent_once() {
    let f = fixture("down").await;
    let o = stored_order(&f.store, "ada@example.com").await;
    let e = event("order.placed", &o);
    for _ in 0..2 {
        let down = f.notifier.handle(&e).await;
        assert!(matches!(down, Err(NotifyError::Send(crate::SendError::Transient(_)))), "{down:?}");
    }
    let _server = SmtpServer::start(f.port, &f.dir);
    assert_eq!(f.notifier.handle(&e).await.expect("sent"), Outcome::Sent(MailKind::Placed));
    assert_eq!(f.notifier.handle(&e).await.expect("done"), Outcome::AlreadyDone);
    assert_eq!(received(&f.dir).len(), 1);
    std::fs::remove_dir_all(&f.dir).expect("clean up");
}

#[tokio::test]
async fn a_mailbox_the_server_refuses_is_flagged_on_the_order_and_acknowledged() {
    let f = fixture("refused").await;
    let _server = SmtpServer::start(f.port, &f.dir);
    let o = stored_order(&f.store, "nobody@refused.example").await;
    let e = event("order.placed", &o);
    assert_eq!(f.notifier.handle(&e).await.expect("acknowledged"), Outcome::Refused(MailKind::Placed));
    assert_eq!(f.notifier.handle(&e).await.expect("acknowledged"), Outcome::AlreadyDone);
    let item = f.store.get(nanoshop_store::Table::Orders, &nanoshop_schema::orders::order_key(&o.id)).await;
    let stored: nanoshop_domain::order::Order =
        nanoshop_schema::decode(&item.expect("read").expect("order")).expect("decodes");
    assert_eq!(stored.flags, [OrderFlag::EmailRefused]);
    assert!(received(&f.dir).is_empty());
    std::fs::remove_dir_all(&f.dir).expect("clean up");
}
