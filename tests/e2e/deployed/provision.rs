//! The stack as written, created on the local services from the template's own definitions:
//! each table (keys, index, TTL, stream) on DynamoDB Local, each generated secret and the Stripe
//! secret on moto's Secrets Manager, the event bus on moto's EventBridge. What the local services
//! cannot hold (the image bucket's CloudFront domain) gets a stand-in value. Then every value the
//! template gives a function (`Ref`, `Fn::GetAtt`, `Fn::Sub`) resolves to the local resource.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::aws::LocalAws;
use super::stack::{ACCOUNT, REGION, Stack, single_entry};

/// A test-only ES256 key pair (never used anywhere else): the issuer's signing key, whose public
/// half is the JWKS the template's `AuthJwks` parameter names.
const ISSUER_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgJIC0cp1vuS5x9cCh
tdojXMtERd27VuIH7BC0kxcZbrShRANCAATMjcNz+DIKZuFuSo1wylrbLgjHVP/u
FZT/Q+jn8pi1dpi8FzhXCcssqzUNynzsxx1sFb444LycBYkOXuzEpfSH
-----END PRIVATE KEY-----
";
const ISSUER_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"deployed","alg":"ES256","use":"sig","x":"zI3Dc_gyCmbhbkqNcMpa2y4Ix1T_7hWU_0Po5_KYtXY","y":"mLwXOFcJyyyrNQ3KfOzHHWwVvjjgvJwFiQ5e7MSl9Ic"}]}"#;

/// The local stack: what each resource's `Ref` and `Fn::GetAtt` give, and the parameter values.
pub(crate) struct Deployed<'a> {
    pub(crate) stack: &'a Stack,
    pub(crate) aws: LocalAws,
    /// This run's stack name: every name made from `AWS::StackName` is this run's own.
    pub(crate) run: String,
    parameters: BTreeMap<String, Value>,
    refs: BTreeMap<String, String>,
    attributes: BTreeMap<(String, String), String>,
    /// The Stripe secret's fields, as a merchant stores them (`scripts/connect-stripe.py`).
    pub(crate) stripe: Value,
}

impl<'a> Deployed<'a> {
    /// The stack with `overrides` set over the stack's own parameters (another issuer, say);
    /// without, its issuer is the test one whose tokens [`Deployed::token`] signs.
    pub(crate) async fn provision_with(stack: &'a Stack, aws: LocalAws, overrides: BTreeMap<String, Value>) -> Self {
        let run = format!("deployed-{:08x}", rand::random::<u32>());
        let mut parameters = stack.parameters.clone();
        // The values CloudFormation reads elsewhere: the SSM parameter's JWKS document, and this
        // run's own Stripe secret.
        parameters.insert("AuthJwks".into(), json!(ISSUER_JWKS));
        parameters.insert("StripeSecretId".into(), json!(format!("{run}/stripe")));
        parameters.extend(overrides);
        let stripe = json!({
            "secret_key": format!("sk_test_{}", random_text(24)),
            "publishable_key": format!("pk_test_{}", random_text(24)),
            "webhook_secret": format!("whsec_{}", random_text(32)),
        });
        let mut deployed =
            Self { stack, aws, run, parameters, refs: BTreeMap::new(), attributes: BTreeMap::new(), stripe };
        let secret_id = deployed.parameter("StripeSecretId");
        let body = json!({"Name": secret_id, "SecretString": deployed.stripe.to_string()});
        deployed.aws.secrets_manager("CreateSecret", body).await;
        for (id, resource) in &stack.resources {
            match resource["Type"].as_str().unwrap() {
                "AWS::DynamoDB::Table" => deployed.create_table(id, &resource["Properties"]).await,
                "AWS::SecretsManager::Secret" => deployed.create_secret(id, &resource["Properties"]).await,
                "AWS::Events::EventBus" => {
                    let name = deployed.resolve(&resource["Properties"]["Name"]);
                    let made = deployed.aws.events("CreateEventBus", json!({"Name": name})).await;
                    deployed
                        .attributes
                        .insert((id.clone(), "Arn".into()), made["EventBusArn"].as_str().unwrap().into());
                    deployed.refs.insert(id.clone(), name);
                }
                "AWS::S3::Bucket" => {
                    deployed.refs.insert(id.clone(), format!("{}-{}", deployed.run, id.to_lowercase()));
                }
                // CloudFront has no local stand-in; the functions only put its domain in URLs.
                "AWS::CloudFront::Distribution" => {
                    deployed
                        .attributes
                        .insert((id.clone(), "DomainName".into()), "d111111abcdef8.cloudfront.net".into());
                }
                _ => {}
            }
        }
        deployed
    }

    /// A table as the template defines it: keys, indexes, billing, stream, deletion protection,
    /// then its TTL (a separate call, as CloudFormation makes it).
    async fn create_table(&mut self, id: &str, properties: &Value) {
        let name = format!("{}-{id}", self.run);
        let mut request = json!({"TableName": name});
        for key in
            ["AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode", "DeletionProtectionEnabled"]
        {
            if let Some(value) = properties.get(key) {
                request[key] = value.clone();
            }
        }
        if let Some(stream) = properties.get("StreamSpecification") {
            request["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": stream["StreamViewType"]});
        }
        let made = self.aws.dynamodb("CreateTable", request).await;
        let table = &made["TableDescription"];
        self.attributes.insert((id.into(), "Arn".into()), table["TableArn"].as_str().unwrap().into());
        if let Some(stream) = table["LatestStreamArn"].as_str() {
            self.attributes.insert((id.into(), "StreamArn".into()), stream.into());
        }
        if let Some(ttl) = properties.get("TimeToLiveSpecification") {
            self.aws.dynamodb("UpdateTimeToLive", json!({"TableName": name, "TimeToLiveSpecification": ttl})).await;
        }
        self.refs.insert(id.into(), name);
    }

    /// A secret with a value as its `GenerateSecretString` describes (letters and digits of the
    /// length asked for); its `Ref` is its ARN.
    async fn create_secret(&mut self, id: &str, properties: &Value) {
        let generate = &properties["GenerateSecretString"];
        let length = generate["PasswordLength"].as_u64().expect("a generated secret has a PasswordLength");
        assert_eq!(generate["ExcludePunctuation"], true, "{id}: letters and digits only are generated here");
        let body = json!({"Name": format!("{}/{id}", self.run), "SecretString": random_text(usize::try_from(length).unwrap())});
        let made = self.aws.secrets_manager("CreateSecret", body).await;
        self.refs.insert(id.into(), made["ARN"].as_str().unwrap().into());
    }

    pub(crate) fn parameter(&self, name: &str) -> String {
        match name {
            "AWS::StackName" => self.run.clone(),
            "AWS::Region" => REGION.into(),
            "AWS::AccountId" => ACCOUNT.into(),
            "AWS::Partition" => "aws".into(),
            _ => match self.parameters.get(name) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => panic!("{}: parameter {name} has no value", self.stack.name),
                Some(other) => other.to_string(),
            },
        }
    }

    /// A template value as the local stack resolves it.
    pub(crate) fn resolve(&self, value: &Value) -> String {
        match (single_entry(value), value) {
            (Some(("Ref", Value::String(name))), _) => {
                self.refs.get(name).cloned().unwrap_or_else(|| self.parameter(name))
            }
            (Some(("Fn::GetAtt", Value::Array(path))), _) => {
                let key = (path[0].as_str().unwrap().to_owned(), path[1].as_str().unwrap().to_owned());
                self.attributes.get(&key).cloned().unwrap_or_else(|| panic!("no local value for !GetAtt {key:?}"))
            }
            (Some(("Fn::Sub", Value::String(text))), _) => self.substitute(text),
            (_, Value::String(text)) => text.clone(),
            (_, Value::Number(n)) => n.to_string(),
            (_, Value::Bool(b)) => b.to_string(),
            _ => panic!("no local value for {value}"),
        }
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("a closed ${…}") + start;
            let name = &rest[start + 2..end];
            let value = match name.split_once('.') {
                Some((resource, attribute)) => json!({"Fn::GetAtt": [resource, attribute]}),
                None => json!({"Ref": name}),
            };
            out.push_str(&self.resolve(&value));
            rest = &rest[end + 1..];
        }
        out + rest
    }

    /// The environment function `id` is given, every value resolved to the local stack.
    pub(crate) fn environment(&self, id: &str) -> BTreeMap<String, String> {
        let function = self.stack.resources.get(id).unwrap_or_else(|| panic!("{id} is not created"));
        let variables = function["Properties"]["Environment"]["Variables"].as_object().cloned().unwrap_or_default();
        variables.iter().map(|(name, value)| (name.clone(), self.resolve(value))).collect()
    }

    /// The name of the local resource `id` (a table, a bus).
    pub(crate) fn name_of(&self, id: &str) -> &str {
        self.refs.get(id).unwrap_or_else(|| panic!("{id} is not provisioned"))
    }

    pub(crate) fn attribute(&self, id: &str, attribute: &str) -> &str {
        self.attributes.get(&(id.to_owned(), attribute.to_owned())).unwrap_or_else(|| panic!("no {id}.{attribute}"))
    }

    /// A token the issuer signed for `subject`, in `groups`, for the template's issuer and
    /// audience: what Cognito issues a signed-in user.
    pub(crate) fn token(&self, subject: &str, groups: &[&str]) -> String {
        use jsonwebtoken::{Algorithm, EncodingKey, Header};
        let claims = json!({
            "iss": self.parameter("AuthIssuer"),
            "aud": self.parameter("AuthAudience"),
            "sub": subject,
            "email": format!("{subject}@example.com"),
            self.parameter("AuthAdminClaim"): groups,
            "token_use": "id",
            "iat": chrono::Utc::now().timestamp(),
            "exp": chrono::Utc::now().timestamp() + 600,
        });
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("deployed".into());
        let key = EncodingKey::from_ec_pem(ISSUER_KEY_PEM.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    /// The binary a function resource of this stack runs (what `sam build` packages for it).
    pub(crate) fn binary_of(&self, id: &str) -> String {
        assert!(self.stack.resources.contains_key(id), "the stack has no resource {id}");
        crate::infra::binary_of(id)
    }

    /// The live functions, by id.
    pub(crate) fn functions(&self) -> Vec<String> {
        self.stack.resources_of("AWS::Lambda::Function").map(|(id, _)| id.clone()).collect()
    }

    /// The function resource an integration or mapping names by `value` (`!GetAtt F.Arn`, `!Ref F`).
    pub(crate) fn function_named(value: &Value) -> Option<String> {
        match single_entry(value)? {
            ("Fn::GetAtt", Value::Array(path)) => path[0].as_str().map(str::to_owned),
            ("Ref", Value::String(id)) => Some(id.clone()),
            _ => None,
        }
    }
}

fn random_text(length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..length).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect()
}
