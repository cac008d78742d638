//! [`SesMailer`]: mail through Amazon SES v2 (`SendEmail` with the raw RFC 5322 message, so SES
//! sends exactly what the SMTP path and the `.eml` files hold).

use async_trait::async_trait;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};

use crate::deliver::{Mailer, SendError, to_message};
use crate::message::Mail;

/// Sends with SES v2 from the function's role (`ses:SendEmail` on the sending identity).
#[derive(Debug, Clone)]
pub struct SesMailer {
    pub client: aws_sdk_sesv2::Client,
    /// A configuration set for bounce and complaint events, if the merchant has one.
    pub configuration_set: Option<String>,
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        let raw = to_message(mail)?.formatted();
        let content = EmailContent::builder()
            .raw(RawMessage::builder().data(Blob::new(raw)).build().map_err(SendError::transient)?)
            .build();
        let result = self
            .client
            .send_email()
            .from_email_address(&mail.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(content)
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => Err(classify(mail, e.into_service_error())),
        }
    }
}

/// SES refuses a message for good when the recipient is not an address (`BadRequest`) or the
/// message was rejected for it (`MessageRejected`, such as an unverified recipient in the SES
/// sandbox). A rejection that names our own sender, an unverified sending domain, a paused or
/// suspended account, throttling and anything unexpected are the store's to fix or wait out:
/// retried, then dead-lettered, never flagged on a shopper's order.
fn classify(mail: &Mail, e: SendEmailError) -> SendError {
    let message = e.to_string();
    let about_us = message.contains(&mail.from);
    match e {
        SendEmailError::BadRequestException(_) | SendEmailError::MessageRejected(_) if !about_us => {
            SendError::Refused(message)
        }
        other => SendError::transient(other),
    }
}

#[cfg(test)]
mod tests;
