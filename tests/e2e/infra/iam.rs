//! Each function's policy: exactly its `ACCESS` list on DynamoDB, and exactly the secrets it reads.

use std::collections::BTreeSet;

use nanoshop_store::port::{Action, Index, Table};
use serde_json::{Value, json};

use super::environment::{secret_of, secrets_read};
use super::tables::{stream_arn, table_arn};
use super::template::{Template, one_or_many};
use super::{FUNCTIONS, function_id};

#[test]
fn each_policy_grants_exactly_the_tables_and_actions_of_its_access_list() {
    let template = Template::load();
    for function in FUNCTIONS {
        let id = function_id(function.bin);
        let props = template.function_properties(&id);
        let policies = props["Policies"].as_array().unwrap_or_else(|| panic!("{id} has no Policies"));
        assert_eq!(policies.len(), 1, "{id}: one policy document, no managed policies or SAM policy templates");
        let statements =
            policies[0]["Statement"].as_array().unwrap_or_else(|| panic!("{id}: the policy is not a document"));

        let mut dynamodb = BTreeSet::new();
        let mut other = BTreeSet::new();
        for statement in statements {
            let statement = granted_when(statement);
            assert_eq!(statement["Effect"], "Allow", "{id}: {statement}");
            let actions = one_or_many(&statement["Action"]);
            let resources = one_or_many(&statement["Resource"]);
            assert!(!actions.is_empty() && !resources.is_empty(), "{id}: {statement}");
            for action in actions {
                let action = action.as_str().unwrap_or_else(|| panic!("{id}: action {action}"));
                assert!(!action.contains('*'), "{id} grants the wildcard {action}");
                if action.starts_with("dynamodb:") {
                    for resource in &resources {
                        dynamodb.insert((action.to_owned(), table_resource(resource)));
                    }
                } else if action.starts_with("secretsmanager:") {
                    assert_eq!(action, "secretsmanager:GetSecretValue", "{id}: functions only read secrets");
                } else {
                    other.insert(action.to_owned());
                }
            }
        }

        let mut expected = BTreeSet::new();
        for access in function.access {
            for action in access.actions {
                let resource = if action.on_stream() {
                    TableResource::Stream(access.table)
                } else {
                    TableResource::Table(access.table)
                };
                expected.insert((action.iam().to_owned(), resource));
            }
            if access.index {
                assert!(access.actions.contains(&Action::Query), "{}: an index is only read by Query", function.bin);
                expected.insert((Action::Query.iam().to_owned(), TableResource::Index(access.table)));
            }
        }
        let missing: Vec<_> = expected.difference(&dynamodb).collect();
        let excess: Vec<_> = dynamodb.difference(&expected).collect();
        assert!(
            missing.is_empty() && excess.is_empty(),
            "{id} policy vs ACCESS: missing {missing:?}, not in ACCESS {excess:?}"
        );
        let wanted: BTreeSet<String> = function.other_actions.iter().map(|a| (*a).to_owned()).collect();
        assert_eq!(other, wanted, "{id} actions beyond DynamoDB and Secrets Manager");
        assert_eq!(
            secrets_granted(&template, &props),
            secrets_read(&template, &props),
            "{id}: the secrets granted are not exactly those it reads"
        );
    }
}

/// A statement, or the one a condition grants (`!If [Cond, <statement>, !Ref AWS::NoValue]`:
/// granted only in deployments where it holds, such as the notifications function's template
/// bucket when one is set). Checked as granted: a policy must be right in every deployment.
fn granted_when(statement: &Value) -> &Value {
    match statement.get("Fn::If").and_then(Value::as_array).map(Vec::as_slice) {
        Some([_, then, otherwise]) => {
            assert_eq!(*otherwise, json!({"Ref": "AWS::NoValue"}), "a conditional statement grants nothing otherwise");
            then
        }
        _ => statement,
    }
}

/// The secrets a function's policy grants `secretsmanager:GetSecretValue` on.
pub(super) fn secrets_granted(template: &Template, props: &Value) -> BTreeSet<String> {
    let mut granted = BTreeSet::new();
    for statement in props["Policies"].as_array().into_iter().flatten().flat_map(|p| one_or_many(&p["Statement"])) {
        if one_or_many(&statement["Action"]).iter().any(|a| a == "secretsmanager:GetSecretValue") {
            for resource in one_or_many(&statement["Resource"]) {
                let secret = granted_secret(template, &resource)
                    .unwrap_or_else(|| panic!("a grant of a secret that cannot be named: {resource}"));
                granted.insert(secret);
            }
        }
    }
    granted
}

/// The secret a policy resource grants: a stack secret's `!Ref` (its ARN), or the ARN of the
/// secret named by a parameter (`arn:…:secret:${StripeSecretId}-??????`, exactly one secret:
/// Secrets Manager appends six random characters to the name). Anything wider is `None`.
pub(super) fn granted_secret(template: &Template, resource: &Value) -> Option<String> {
    if resource.get("Ref").is_some() {
        return secret_of(template, resource);
    }
    let arn = resource.get("Fn::Sub")?.as_str()?;
    let name = arn
        .strip_prefix("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${")?
        .strip_suffix("}-??????")?;
    (template.0["Parameters"].get(name).is_some()).then(|| name.to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum TableResource {
    Table(Table),
    Index(Table),
    Stream(Table),
}

/// A table's ARN ([`table_arn`]), its index's, or its stream's ([`stream_arn`], or
/// `…/stream/*`: its streams, as the DynamoDB and SAM stream-read policies grant `ListStreams`);
/// anything else is refused. Each form names the created table or the attached one, the same.
pub(super) fn table_resource(resource: &Value) -> TableResource {
    for table in Table::ALL {
        if *resource == table_arn(table, "") {
            return TableResource::Table(table);
        }
        if *resource == table_arn(table, &format!("/index/{}", Index::Gsi1.name())) {
            return TableResource::Index(table);
        }
        if *resource == stream_arn(table) || *resource == table_arn(table, "/stream/*") {
            return TableResource::Stream(table);
        }
    }
    panic!(
        "a DynamoDB grant on {resource}: name a table (!If [Create<T>Table, !GetAtt <T>Table.Arn, <the attached table's ARN>]), its index or its stream, never a wildcard"
    )
}

#[test]
fn the_secret_grant_check_catches_a_missing_and_an_extra_grant() {
    let template = Template::load();
    let props = template.function_properties(&function_id("checkout"));
    let read = secrets_read(&template, &props);
    assert_eq!(read, ["OrderTokenSecret", "StripeSecretId"].map(str::to_owned).into_iter().collect());
    assert_eq!(secrets_granted(&template, &props), read);

    let grant = |props: &mut Value, resources: Value| {
        let statements = props["Policies"][0]["Statement"].as_array_mut().unwrap();
        statements.retain(|s| s["Action"] != "secretsmanager:GetSecretValue");
        statements.push(json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": resources}));
    };
    let mut extra = props.clone();
    let stripe = json!({"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${StripeSecretId}-??????"});
    grant(&mut extra, json!([stripe, {"Ref": "OrderTokenSecret"}, {"Ref": "CursorSecret"}]));
    assert_ne!(secrets_granted(&template, &extra), read, "a secret it does not read");
    let mut missing = props.clone();
    grant(&mut missing, json!([{"Ref": "OrderTokenSecret"}]));
    assert_ne!(secrets_granted(&template, &missing), read, "a secret it reads, not granted");
    // A wildcard over every secret cannot be named, so it fails the check outright.
    let wildcard = json!({"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*"});
    assert_eq!(granted_secret(&template, &wildcard), None);
    assert_eq!(granted_secret(&template, &stripe).as_deref(), Some("StripeSecretId"));
}
