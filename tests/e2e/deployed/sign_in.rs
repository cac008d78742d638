//! Sign-in with a real identity provider: a user pool on moto's Cognito with an app client, an
//! `admin` group and users, who sign in with `USER_PASSWORD_AUTH`. The stack is deployed with
//! the pool as its issuer (the template's `AuthIssuer`, `AuthAudience` and `AuthJwks`: the pool's
//! issuer URL, the app client, the JWKS the pool publishes), and the functions verify the tokens
//! Cognito issued. (moto signs every pool's tokens with one key: a token from another pool differs
//! by its issuer and audience, which is what must refuse it.)

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::aws::LocalAws;
use super::functions::{Call, Mode};
use super::started::Started;

const PASSWORD: &str = "Correct-horse-battery-9";

/// A user pool with an app client that allows password sign-in, and an `admin` group.
struct Pool {
    id: String,
    client: String,
}

impl Pool {
    async fn create(aws: &LocalAws, name: &str) -> Self {
        let made = aws.cognito("CreateUserPool", json!({"PoolName": name})).await;
        let id = made["UserPool"]["Id"].as_str().unwrap().to_owned();
        let client = json!({"UserPoolId": id, "ClientName": "storefront", "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]});
        let client = aws.cognito("CreateUserPoolClient", client).await;
        let client = client["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
        aws.cognito("CreateGroup", json!({"UserPoolId": id, "GroupName": "admin"})).await;
        Self { id, client }
    }

    /// A confirmed user with a permanent password, in `groups`.
    async fn user(&self, aws: &LocalAws, name: &str, groups: &[&str]) {
        let attributes = [json!({"Name": "email", "Value": format!("{name}@example.com")})];
        let user =
            json!({"UserPoolId": self.id, "Username": name, "UserAttributes": attributes, "MessageAction": "SUPPRESS"});
        aws.cognito("AdminCreateUser", user).await;
        let password = json!({"UserPoolId": self.id, "Username": name, "Password": PASSWORD, "Permanent": true});
        aws.cognito("AdminSetUserPassword", password).await;
        for group in groups {
            aws.cognito("AdminAddUserToGroup", json!({"UserPoolId": self.id, "Username": name, "GroupName": group}))
                .await;
        }
    }

    /// `USER_PASSWORD_AUTH` as the storefront signs a user in: the ID token (the audience is the
    /// app client, what `AuthAudience` names).
    async fn sign_in(&self, aws: &LocalAws, name: &str) -> String {
        let auth = json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": self.client,
                          "AuthParameters": {"USERNAME": name, "PASSWORD": PASSWORD}});
        let answer = aws.cognito("InitiateAuth", auth).await;
        answer["AuthenticationResult"]["IdToken"].as_str().unwrap_or_else(|| panic!("no ID token: {answer}")).to_owned()
    }

    /// The issuer URL Cognito puts in its tokens and the merchant gives as `AuthIssuer`.
    fn issuer(&self) -> String {
        let region = self.id.split('_').next().unwrap();
        format!("https://cognito-idp.{region}.amazonaws.com/{}", self.id)
    }
}

fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cognito_users_are_verified_against_the_pools_jwks_and_only_admins_pass_admin_routes() {
    let Some(aws) = LocalAws::from_env() else { return };
    let run = format!("{:08x}", rand::random::<u32>());
    let pool = Pool::create(&aws, &format!("nanoshop-{run}")).await;
    pool.user(&aws, "ada", &[]).await;
    pool.user(&aws, "grace", &["admin"]).await;
    // Another pool, whose admin must be nobody here.
    let other = Pool::create(&aws, &format!("elsewhere-{run}")).await;
    other.user(&aws, "eve", &["admin"]).await;

    let customer = pool.sign_in(&aws, "ada").await;
    let admin = pool.sign_in(&aws, "grace").await;
    let stranger = other.sign_in(&aws, "eve").await;
    assert_eq!(claims(&admin)["cognito:groups"], json!(["admin"]), "Cognito lists the admin's groups");

    // What a merchant deploys with: the pool's issuer, the app client, the pool's published JWKS.
    let jwks = aws.get(&format!("{}/{}/.well-known/jwks.json", aws.moto, pool.id)).await;
    let parameters = BTreeMap::from([
        ("AuthIssuer".to_owned(), json!(pool.issuer())),
        ("AuthAudience".to_owned(), json!(pool.client)),
        ("AuthJwks".to_owned(), json!(jwks)),
    ]);
    let mut started = Started::start_with(aws.clone(), Mode::Lambda, parameters).await;

    // API Gateway's authorizer checks the issuer and audience the template gives it: Cognito's
    // tokens carry exactly those, the other pool's do not.
    let authorizer = started.deployed.stack.resources_of("AWS::ApiGatewayV2::Authorizer").next().unwrap().1;
    let jwt = &authorizer["Properties"]["JwtConfiguration"];
    let (issuer, audience) = (started.deployed.resolve(&jwt["Issuer"]), started.deployed.resolve(&jwt["Audience"][0]));
    for token in [&customer, &admin] {
        assert_eq!((claims(token)["iss"].as_str(), claims(token)["aud"].as_str()), (Some(&*issuer), Some(&*audience)));
    }
    assert_ne!(claims(&stranger)["iss"].as_str(), Some(&*issuer));

    let settings = json!({"currencies": ["EUR"], "prices_include_tax": true, "tax_rates": [], "shipping_zones": []});
    for (who, token, expected) in
        [("the admin", &admin, 200), ("the customer", &customer, 403), ("another pool's admin", &stranger, 401)]
    {
        let reply = started.call("catalog", Call::new("PUT", "/settings").token(token).json(settings.clone())).await;
        assert_eq!(reply.status, expected, "PUT /settings by {who}: {}", reply.body);
    }
    for (who, token, expected) in
        [("the customer", &customer, 200), ("the admin", &admin, 200), ("another pool's admin", &stranger, 401)]
    {
        let reply = started.call("orders", Call::new("GET", "/orders").token(token)).await;
        assert_eq!(reply.status, expected, "GET /orders by {who}: {}", reply.body);
    }
}
