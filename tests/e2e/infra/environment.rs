//! Each function's environment: exactly the variables its binary's configuration declares, secrets
//! by their Secrets Manager ids.

use std::collections::BTreeSet;

use nanoshop_store::dynamo::TableNames;
use nanoshop_store::port::Table;
use serde_json::{Value, json};

use super::tables::table_name;
use super::template::{Template, visit};
use super::{FUNCTIONS, function_id};

#[test]
fn every_function_is_given_exactly_the_variables_its_binary_reads() {
    let template = Template::load();
    let jwt =
        &template.resource(template.single_id_of("AWS::ApiGatewayV2::Authorizer"))["Properties"]["JwtConfiguration"];
    for function in FUNCTIONS {
        let id = function_id(function.bin);
        let props = template.function_properties(&id);
        let vars = &props["Environment"]["Variables"];
        let reads = (function.variables)();
        for var in function.unset_in_aws {
            assert!(
                reads.iter().any(|r| r == var),
                "{}: unset_in_aws names {var}, which it does not read",
                function.bin
            );
        }

        // Exactly: a variable it reads but is not given stops it at start-up (or silently means a
        // default), and one it is given but does not read is a stale setting or, for a secret,
        // one more place for it to leak from.
        let expected = function.deployed_environment();
        let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
        let given: BTreeSet<&str> = vars.as_object().into_iter().flat_map(|v| v.keys()).map(String::as_str).collect();
        let missing: Vec<_> = expected.difference(&given).collect();
        let unread: Vec<_> = given.difference(&expected).collect();
        assert!(
            missing.is_empty() && unread.is_empty(),
            "{id} environment vs what `{}` reads (its config type): not set {missing:?}, set but not read {unread:?}",
            function.bin
        );

        for var in &expected {
            let value = &vars[*var];
            assert!(value.as_str() != Some("") && !value.is_null(), "{id} sets {var} empty");
            if var.contains("SECRET") {
                // Secrets are read at run time: the function is given where the secret is, never
                // its value, so a changed secret reaches it without an update of the function.
                assert!(var.ends_with("_SECRET_ID"), "{id} {var}: a secret variable must be an `…_SECRET_ID`");
                secret_of(&template, value).unwrap_or_else(|| {
                    panic!("{id} {var} must be a !Ref of a Secrets Manager secret or of StripeSecretId, not {value}")
                });
            }
        }
        // A dynamic reference is resolved only when the function itself is updated: a changed
        // secret would never arrive (and it would sit in the function's configuration in clear).
        let mut resolved = Vec::new();
        visit(&props["Environment"], &mut |v| {
            if v.as_str().or_else(|| v.get("Fn::Sub").and_then(Value::as_str)).is_some_and(|t| t.contains("{{resolve:"))
            {
                resolved.push(v.clone());
            }
        });
        assert!(resolved.is_empty(), "{id} has dynamic references in its environment: {resolved:?}");
        for table in Table::ALL {
            let var = TableNames::variable(table);
            if expected.contains(var) {
                assert_eq!(vars[var], table_name(table), "{id} {var}: the table created, or the one attached");
            }
        }
        // API Gateway and the function must accept the same tokens.
        if expected.contains("AUTH_ISSUER") {
            assert_eq!(vars["AUTH_ISSUER"], jwt["Issuer"], "{id} AUTH_ISSUER ≠ the authorizer's issuer");
            assert_eq!(
                json!([vars["AUTH_AUDIENCE"]]),
                jwt["Audience"],
                "{id} AUTH_AUDIENCE ≠ the authorizer's audience"
            );
        }
    }
}

#[test]
fn each_binary_reads_the_tables_of_its_access_list_and_its_configs_variables() {
    // The lists the template is checked against are derived, not written: spot-check that the
    // derivation sees the tables, the shared pieces (the identity provider's settings) and the
    // function's own variables, and nothing of another binary.
    let cart = nanoshop_cart::config::variables();
    for var in ["CARTS_TABLE", "CATALOG_TABLE", "IMAGE_BASE_URL", "MAX_UNITS_PER_SKU", "AUTH_ISSUER", "AUTH_JWKS"] {
        assert!(cart.iter().any(|v| v == var), "cart reads {var}: {cart:?}");
    }
    assert!(!cart.iter().any(|v| v == "ORDERS_TABLE" || v.starts_with("STRIPE_")), "{cart:?}");
    assert_eq!(nanoshop_orders::config::relay_variables(), ["EVENT_BUS_NAME"]);
    let expirer = nanoshop_orders::config::expirer_variables();
    assert!(!expirer.iter().any(|v| v.starts_with("AUTH_") || v == "IDEMPOTENCY_TABLE"), "{expirer:?}");
    for function in FUNCTIONS {
        let reads = (function.variables)();
        let unique: BTreeSet<&String> = reads.iter().collect();
        assert_eq!(unique.len(), reads.len(), "{}: a variable read twice: {reads:?}", function.bin);
    }
}

#[test]
fn secrets_are_never_template_parameters() {
    let template = Template::load();
    for (name, parameter) in template.0["Parameters"].as_object().unwrap() {
        assert!(parameter.get("NoEcho").is_none(), "parameter {name} is a secret: use Secrets Manager or SSM instead");
    }
}

/// The secret a `…_SECRET_ID` variable names: a `!Ref` of a Secrets Manager secret of the stack,
/// or of the `StripeSecretId` parameter (a secret the merchant creates).
pub(super) fn secret_of(template: &Template, value: &Value) -> Option<String> {
    let name = value.get("Ref")?.as_str()?;
    let is_secret = template.resources().get(name).is_some_and(|r| r["Type"] == "AWS::SecretsManager::Secret");
    (is_secret || name == "StripeSecretId").then(|| name.to_owned())
}

/// The secrets a function reads: those its `…_SECRET_ID` variables name.
pub(super) fn secrets_read(template: &Template, props: &Value) -> BTreeSet<String> {
    let vars = props["Environment"]["Variables"].as_object().cloned().unwrap_or_default();
    vars.iter().filter(|(k, _)| k.ends_with("_SECRET_ID")).filter_map(|(_, v)| secret_of(template, v)).collect()
}
