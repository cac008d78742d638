//! [`SmtpMailer`]: mail through any SMTP server (lettre, over tokio with rustls).

use std::time::Duration;

use async_trait::async_trait;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::deliver::{Mailer, SendError, to_message};
use crate::message::Mail;

/// One SMTP conversation may take this long before it counts as the server being down; well
/// within the claim's lease ([`crate::delivery::LEASE_SECS`]).
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// SMTP replies that are permanent but say the *store's* side is wrong (authentication required
/// or failed, encryption required), not the shopper's address: retried, so a fixed configuration
/// sends them, and never flagged on an order.
const OUR_FAULT: &[&str] = &["530", "534", "535", "538"];

/// Sends through an SMTP server.
#[derive(Debug, Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMailer {
    /// From a URL as lettre reads it: `smtp://host:port` (plain, for a server on this machine),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host` (TLS).
    ///
    /// # Errors
    /// A URL lettre cannot read.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
            .timeout(Some(TIMEOUT))
            .build();
        Ok(Self { transport })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        let message = to_message(mail)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}

/// A 5xx reply about the recipient or message is a refusal for good; everything else (no
/// connection, a timeout, a 4xx, our own credentials refused) may pass later.
fn classify(e: lettre::transport::smtp::Error) -> SendError {
    let code = e.status().map(|c| c.to_string());
    if e.is_permanent() && !code.as_deref().is_some_and(|c| OUR_FAULT.contains(&c)) {
        SendError::Refused(e.to_string())
    } else {
        SendError::transient(e)
    }
}

#[cfg(test)]
mod tests;
