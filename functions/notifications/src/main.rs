//! The notifications Lambda: invoked by the EventBridge rule on the order events it mails about
//! (`infra/template.yaml`, `NotificationsRule`). Configuration, clients built once, then one event
//! per invocation: `Ok` acknowledges it (sent, already sent, refused and flagged, or nothing to
//! send); an error makes Lambda retry it and, after the retries, put it on the dead-letter queue.

use std::sync::Arc;

use nanoshop_api::capability::OrderTokens;
use nanoshop_api::startup::Clients;
use nanoshop_notifications::config::Config;
use nanoshop_notifications::overrides;
use nanoshop_notifications::render::Templates;
use nanoshop_notifications::{Mailer, Notifier, OrderLinks, SesMailer, SmtpMailer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let clients = Clients::load(config.tables.clone()).await?;
    // Overrides compile (and render) now: a broken template stops the function here.
    let templates = match (&config.templates_dir, config.templates_s3()?) {
        (Some(dir), _) => Templates::with_overrides(dir)?,
        (None, Some(at)) => {
            let compiled = async {
                let s3 = nanoshop_s3::S3::from_sdk_config(&clients.aws, config.s3_force_path_style)?;
                let reader = nanoshop_s3::read::Reader::new(s3, nanoshop_api::https_client(None)?);
                Ok::<_, anyhow::Error>(Templates::with_sources(overrides::from_s3(&reader, &at).await?)?)
            };
            match compiled.await {
                Ok(templates) => templates,
                Err(e) => {
                    tracing::error!(error = %e, bucket = %at.bucket, prefix = %at.prefix, "template overrides unusable; the function stops: fix or remove them");
                    return Err(e.context(format!("template overrides in s3://{}/{}", at.bucket, at.prefix)));
                }
            }
        }
        (None, None) => Templates::builtin(),
    };
    let order_token_keys = config
        .storefront_url
        .as_ref()
        .map(|_| clients.secrets.key_ring(&config.order_token_secret.source(), "order token"));
    let mailer: Arc<dyn Mailer> = match &config.smtp_url {
        Some(url) => Arc::new(SmtpMailer::from_url(url)?),
        None => Arc::new(SesMailer {
            client: aws_sdk_sesv2::Client::new(&clients.aws),
            configuration_set: config.ses_configuration_set.clone(),
        }),
    };
    clients.warm().await;
    let Some(sender) = config.sender() else {
        // No sending address yet: the store has chosen no mail. Events are acknowledged (not
        // retried into the dead-letter queue), each with a warning that says what to set.
        tracing::warn!("MAIL_FROM is not set: no order e-mails are sent");
        return lambda_runtime::run(lambda_runtime::service_fn(
            |_: lambda_runtime::LambdaEvent<serde_json::Value>| async {
                tracing::warn!("order event acknowledged without mail: MAIL_FROM is not set");
                Ok::<_, lambda_runtime::Error>(serde_json::json!({"outcome": "MailNotConfigured"}))
            },
        ))
        .await
        .map_err(|e| anyhow::anyhow!(e));
    };
    let notifier = Notifier {
        store: Arc::new(clients.store),
        mailer,
        templates: Arc::new(templates),
        sender,
        links: config
            .storefront_url
            .clone()
            .map(|storefront| OrderLinks { storefront, tokens: order_token_keys.map(OrderTokens::rotating) }),
        instance: Default::default(),
    };
    lambda_runtime::run(lambda_runtime::service_fn(|event: lambda_runtime::LambdaEvent<serde_json::Value>| {
        let notifier = &notifier;
        async move {
            match notifier.handle(&event.payload).await {
                Ok(outcome) => Ok(serde_json::json!({"outcome": format!("{outcome:?}")})),
                Err(e) => {
                    tracing::error!(error = %e, "order event not handled; it will be retried");
                    Err(lambda_runtime::Error::from(format!("{e}")))
                }
            }
        }
    }))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}
