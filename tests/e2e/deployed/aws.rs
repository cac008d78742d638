//! The local AWS services, called with their JSON protocols: DynamoDB Local (tables and their
//! streams) and moto (Secrets Manager, EventBridge, SQS, Cognito). Neither checks signatures, but both
//! read the credential scope of the `Authorization` header (DynamoDB Local keeps one database per
//! access key and region; moto picks the service and region from it), so each call carries one
//! for the test credentials and [`REGION`], the region the functions are given too.

use serde_json::Value;

use super::stack::REGION;

/// The credentials every process of the deployment uses against the local services.
pub(crate) const ACCESS_KEY: &str = "test";
pub(crate) const SECRET_KEY: &str = "test";

/// Where the local services listen, from the variables `make test` sets; `None` when the caller
/// knowingly runs without services (`NANOSHOP_SKIP_SERVICES=1`).
#[derive(Clone)]
pub(crate) struct LocalAws {
    pub(crate) dynamodb: String,
    pub(crate) moto: String,
    pub(crate) localstripe: String,
    http: reqwest::Client,
}

impl LocalAws {
    pub(crate) fn from_env() -> Option<Self> {
        let vars = ["NANOSHOP_DYNAMODB_LOCAL", "NANOSHOP_MOTO", "NANOSHOP_LOCALSTRIPE"].map(std::env::var);
        let [Ok(dynamodb), Ok(moto), Ok(localstripe)] = vars else {
            assert!(
                std::env::var("NANOSHOP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
                "NANOSHOP_DYNAMODB_LOCAL, NANOSHOP_MOTO and NANOSHOP_LOCALSTRIPE must be set: run `make test`"
            );
            return None;
        };
        Some(Self { dynamodb, moto, localstripe, http: reqwest::Client::new() })
    }

    /// The variables that send a process's AWS SDK calls to these services, as the deployed
    /// functions' calls go to AWS.
    pub(crate) fn process_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
            ("AWS_ENDPOINT_URL_DYNAMODB", self.dynamodb.clone()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", self.moto.clone()),
            ("AWS_ENDPOINT_URL_EVENTBRIDGE", self.moto.clone()),
            ("AWS_ENDPOINT_URL_S3", self.moto.clone()),
        ]
    }

    pub(crate) async fn dynamodb(&self, action: &str, body: Value) -> Value {
        self.call(&self.dynamodb, "dynamodb", &format!("DynamoDB_20120810.{action}"), "1.0", body).await
    }

    pub(crate) async fn streams(&self, action: &str, body: Value) -> Value {
        self.call(&self.dynamodb, "dynamodb", &format!("DynamoDBStreams_20120810.{action}"), "1.0", body).await
    }

    pub(crate) async fn secrets_manager(&self, action: &str, body: Value) -> Value {
        self.call(&self.moto, "secretsmanager", &format!("secretsmanager.{action}"), "1.1", body).await
    }

    pub(crate) async fn events(&self, action: &str, body: Value) -> Value {
        self.call(&self.moto, "events", &format!("AWSEvents.{action}"), "1.1", body).await
    }

    pub(crate) async fn sqs(&self, action: &str, body: Value) -> Value {
        self.call(&self.moto, "sqs", &format!("AmazonSQS.{action}"), "1.0", body).await
    }

    pub(crate) async fn cognito(&self, action: &str, body: Value) -> Value {
        let target = format!("AWSCognitoIdentityProviderService.{action}");
        self.call(&self.moto, "cognito-idp", &target, "1.1", body).await
    }

    pub(crate) async fn get(&self, url: &str) -> String {
        let response = self.http.get(url).send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(response.status().is_success(), "{url}: {}", response.status());
        response.text().await.unwrap()
    }

    async fn call(&self, endpoint: &str, service: &str, target: &str, version: &str, body: Value) -> Value {
        let scope = format!("{ACCESS_KEY}/20260101/{REGION}/{service}/aws4_request");
        let response = self
            .http
            .post(endpoint)
            .header("content-type", format!("application/x-amz-json-{version}"))
            .header("x-amz-target", target)
            .header("x-amz-date", "20260101T000000Z")
            .header("authorization", format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"))
            .body(body.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{target} at {endpoint}: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{target} at {endpoint}: {status} {text}");
        if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() }
    }
}
