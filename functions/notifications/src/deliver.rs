//! Where mail goes: the [`Mailer`] port and what a failed send means.
//!
//! Adapters: [`FileMailer`] (`.eml` files, for `nanoshop serve`), [`crate::smtp::SmtpMailer`]
//! (any SMTP server). Each one sorts its failures into [`SendError::Transient`] (retry the event
//! later) and [`SendError::Refused`] (the address will never take it: tell the merchant, stop).

use std::path::PathBuf;

use async_trait::async_trait;

use crate::message::Mail;

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server or service could not take the message now (down, throttled, timed out, a
    /// 4xx SMTP reply): the same message may be sent again later and should get through.
    #[error("mail not sent, will retry")]
    Transient(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The recipient or the message was refused for good (no such mailbox, a malformed or
    /// suppressed address, a 5xx SMTP reply): sending it again would fail the same way.
    #[error("mail refused: {0}")]
    Refused(String),
}

impl SendError {
    pub fn transient(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        SendError::Transient(e.into())
    }
}

/// Sends rendered mail.
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    /// Hands `mail` to the server or service. `Ok` means it was accepted for delivery.
    ///
    /// # Errors
    /// [`SendError::Transient`] when it may succeed later; [`SendError::Refused`] when it never
    /// will.
    async fn send(&self, mail: &Mail) -> Result<(), SendError>;
}

/// The message as an RFC 5322 message (multipart/alternative: plain text, then HTML).
///
/// # Errors
/// [`SendError::Refused`] for an address that is not one (the shopper's, or a misconfigured
/// sender).
pub fn to_message(mail: &Mail) -> Result<lettre::Message, SendError> {
    use lettre::message::{Mailbox, MultiPart};
    let mailbox = |name: Option<String>, address: &str| -> Result<Mailbox, SendError> {
        let address = address.parse().map_err(|e| SendError::Refused(format!("address {address:?}: {e}")))?;
        Ok(Mailbox::new(name, address))
    };
    let mut builder = lettre::Message::builder()
        .from(mailbox(Some(mail.from_name.clone()), &mail.from)?)
        .to(mailbox(None, &mail.to)?)
        .subject(mail.subject.clone())
        // The event id names the message: a reader (or a test) can tell which event sent it.
        .message_id(Some(format!("<{}@nanoshop>", mail.event_id)));
    if let Some(reply_to) = &mail.reply_to {
        builder = builder.reply_to(mailbox(None, reply_to)?);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|e| SendError::Refused(format!("message: {e}")))
}

/// Writes each message to `<dir>/<event id>.eml` and logs where, so a developer sees the mail a
/// shopper would get (`nanoshop serve`). Opens in any mail client.
#[derive(Debug, Clone)]
pub struct FileMailer {
    pub dir: PathBuf,
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        let message = to_message(mail)?;
        let path = self.dir.join(format!("{}-{}.eml", mail.event_id, mail.kind.template()));
        let bytes = message.formatted();
        let dir = self.dir.clone();
        let written = path.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            std::fs::write(&written, bytes)
        })
        .await
        .map_err(SendError::transient)?
        .map_err(SendError::transient)?;
        tracing::info!(path = %path.display(), to = %mail.to, subject = %mail.subject, "order e-mail written");
        Ok(())
    }
}
