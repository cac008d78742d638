//! The start-up every function binary shares, between reading its configuration and building its
//! router: the AWS configuration loaded once, the clients built from it, and one warm-up during
//! init. Kept in one place so a change to how functions start (a timeout, a client setting, what
//! is warmed) reaches all five.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use nanoshop_store::dynamo::{DynamoStore, TableNames};

use crate::Secrets;
use crate::secrets::secrets_manager_client;

/// What a function's `main` builds once and hands to its router: the AWS configuration (for any
/// further client, such as the catalog's S3), the table store, and the secrets reader.
#[derive(Debug)]
pub struct Clients {
    pub aws: SdkConfig,
    pub store: DynamoStore,
    /// Opens the function's secrets; [`Clients::warm`] reads those opened before it.
    pub secrets: Secrets,
}

impl Clients {
    /// The AWS configuration from the environment (region, credentials, endpoint overrides), and
    /// the clients of `tables` and of Secrets Manager built from it. Nothing is sent yet.
    ///
    /// # Errors
    /// Built for Lambda, when Lambda's region or credential variables are missing ([`aws_config`]).
    pub async fn load(tables: TableNames) -> anyhow::Result<Self> {
        let aws = aws_config().await?;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), tables);
        let secrets = Secrets::new(Some(secrets_manager_client(&aws)));
        Ok(Self { aws, store, secrets })
    }

    /// Both during init, before the first request is taken: the table's TLS connection, and the
    /// first read of every secret opened so far (a failure is logged; requests then answer 503
    /// until a read succeeds). A function with no secrets opened warms only the table. Init is
    /// billed like the rest of the invocation for a custom runtime, so this moves the work ahead
    /// of a request rather than making it free (docs/benchmarks.md measures what it costs).
    ///
    /// The table is warmed only over TLS: the warm-up is there to move the handshake into init,
    /// and over a plain `http` endpoint (DynamoDB Local, moto: never AWS) there is none to move,
    /// so it would only add a round trip to the cold start; the first request connects instead.
    pub async fn warm(&self) {
        let table = async {
            if over_tls(&self.aws) {
                self.store.warm().await;
            }
        };
        tokio::join!(table, self.secrets.load());
    }
}

/// Whether the AWS clients of `aws` reach their services over TLS: AWS's own endpoints, or an
/// endpoint override that is not a plain `http` URL.
fn over_tls(aws: &SdkConfig) -> bool {
    !aws.endpoint_url().is_some_and(|url| url.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://")))
}

/// The AWS configuration every client of a function is built from.
///
/// Built for Lambda (feature `lambda-env`, which `cargo lambda build` turns on for every build,
/// `make lambdas` and `make deploy`, through `[workspace.metadata.lambda.build]` in Cargo.toml):
/// [`from_lambda_environment`], because Lambda hands a function its region and credentials as
/// variables, and the default chain's other providers (profile files, web identity through STS,
/// ECS, IMDS) are 0.26 MiB of every zipped package that would never run there
/// (docs/benchmarks.md). Built otherwise (containers, `nanoshop serve`, tests): the SDK's default
/// chain, which containers need for IRSA, ECS task roles or instance profiles, on the SDK's own
/// HTTPS client where the build has it (feature `sdk-default-client`), else on nanoshop's.
///
/// # Errors
/// Built for Lambda, when `AWS_REGION` or the credential variables are missing: the function
/// stops at init, naming them, rather than answering every request with an error. Either way, when
/// nanoshop's HTTPS client cannot be built ([`crate::sdk_http`]; it always can).
pub async fn aws_config() -> anyhow::Result<SdkConfig> {
    #[cfg(feature = "lambda-env")]
    {
        let config = from_lambda_environment(|name| std::env::var(name).ok())?;
        anyhow::ensure!(
            config.credentials_provider().is_some() && config.region().is_some(),
            "built for Lambda: AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set, as Lambda \
             sets them; outside Lambda, run a build without the feature lambda-env (the container image)"
        );
        Ok(config)
    }
    #[cfg(all(not(feature = "lambda-env"), feature = "sdk-default-client"))]
    {
        Ok(aws_config::load_defaults(BehaviorVersion::latest()).await)
    }
    #[cfg(all(not(feature = "lambda-env"), not(feature = "sdk-default-client")))]
    {
        Ok(aws_config::defaults(BehaviorVersion::latest())
            .http_client(crate::sdk_http::sdk_http_client()?)
            .load()
            .await)
    }
}

/// The AWS configuration from the variables Lambda sets for a function, and nothing else: region
/// (`AWS_REGION`, else `AWS_DEFAULT_REGION`), the execution role's credentials
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: Lambda sets them once for
/// the life of the instance, so they are read once) and `AWS_ENDPOINT_URL`, the one endpoint
/// override honoured (the per-service `AWS_ENDPOINT_URL_<SERVICE>` variables need the default
/// chain's configuration loader). A blank variable counts as unset. Every client built from it
/// sends through nanoshop's HTTPS client ([`crate::sdk_http`]); retries, timeouts and the identity
/// cache are each SDK client's defaults for the behaviour version, as with the default chain.
///
/// # Errors
/// Nanoshop's HTTPS client cannot be built (it always can).
pub fn from_lambda_environment(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<SdkConfig> {
    let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    let credentials = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => Some(SharedCredentialsProvider::new(Credentials::new(
            id,
            secret,
            var("AWS_SESSION_TOKEN"),
            None,
            "lambda-environment",
        ))),
        _ => None,
    };
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(crate::sdk_http::sdk_http_client()?);
    config.set_region(var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).map(Region::new));
    config.set_credentials_provider(credentials);
    config.set_endpoint_url(var("AWS_ENDPOINT_URL"));
    Ok(config.build())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aws_sdk_dynamodb::config::ProvideCredentials;
    use nanoshop_store::dynamo::{DynamoStore, TableNames};
    use tokio::net::TcpListener;

    use super::{Clients, from_lambda_environment};
    use crate::Secrets;

    /// Whether `Clients::warm` connects to `scheme://` a local listener within half a second.
    async fn warm_connects(scheme: &str) -> bool {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("{scheme}://{}", listener.local_addr().unwrap());
        let aws = lambda(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_ENDPOINT_URL", &endpoint),
        ]);
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), TableNames::with_prefix("warm"));
        let clients = Clients { aws, store, secrets: Secrets::new(None) };
        let accepted = async { listener.accept().await.is_ok() };
        let (accepted, ()) = tokio::join!(tokio::time::timeout(Duration::from_millis(500), accepted), clients.warm());
        accepted.unwrap_or(false)
    }

    #[tokio::test]
    async fn the_table_is_warmed_over_tls_and_not_over_plain_http() {
        assert!(warm_connects("https").await, "over TLS the warm-up opens the connection during init");
        assert!(!warm_connects("http").await, "over plain http there is no handshake to move into init");
        assert!(!warm_connects("HTTP").await, "the scheme in capitals is still plain http");
    }

    fn lambda(vars: &[(&str, &str)]) -> aws_config::SdkConfig {
        from_lambda_environment(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
            .expect("the HTTPS client")
    }

    #[tokio::test]
    async fn lambdas_variables_give_region_credentials_and_endpoint() {
        let config = lambda(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:8000"),
        ]);
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:8000"));
        let credentials = config.credentials_provider().expect("credentials").provide_credentials().await.unwrap();
        assert_eq!(credentials.access_key_id(), "ASIAEXAMPLE");
        assert_eq!(credentials.secret_access_key(), "secret");
        assert_eq!(credentials.session_token(), Some("token"));
    }

    #[test]
    fn the_default_region_is_the_fallback_and_blank_is_unset() {
        let config = lambda(&[
            ("AWS_REGION", " "),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", ""),
            ("AWS_ENDPOINT_URL", ""),
        ]);
        assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert!(config.credentials_provider().is_none(), "a key id without its secret is no credentials");
        assert_eq!(config.endpoint_url(), None);
    }
}
