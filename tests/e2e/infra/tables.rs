//! The tables: the schema the DynamoDB adapter creates, retained, created or attached; and how a
//! reference names one.

use std::collections::{BTreeMap, BTreeSet};

use nanoshop_store::port::{EXPIRES_AT, GSI1_PK, GSI1_SK, Index, PK, SK, Table};
use serde_json::{Value, json};

use super::table_id;
use super::template::Template;

#[test]
fn tables_have_the_schema_the_dynamodb_adapter_creates() {
    let template = Template::load();
    let tables: BTreeSet<&str> = template.resources_of("AWS::DynamoDB::Table").map(|(id, _)| id.as_str()).collect();
    let expected: BTreeSet<String> = Table::ALL.iter().map(|t| table_id(*t)).collect();
    assert_eq!(tables, expected.iter().map(String::as_str).collect());
    let key = |hash: &str, range: &str| json!([{"AttributeName": hash, "KeyType": "HASH"}, {"AttributeName": range, "KeyType": "RANGE"}]);
    for table in Table::ALL {
        let id = table_id(table);
        let resource = template.resource(&id);
        assert_eq!(resource["DeletionPolicy"], "Retain", "{id}: a store's data outlives its stack");
        assert_eq!(resource["UpdateReplacePolicy"], "Retain", "{id}");
        let props = &resource["Properties"];
        assert_eq!(props["DeletionProtectionEnabled"], true, "{id}: nobody deletes a store's data by accident");
        // Created unless a table is attached in its place.
        let (parameter, condition) = (existing_parameter(table), create_condition(table));
        assert_eq!(resource["Condition"], condition.as_str(), "{id} is created only when {parameter} is empty");
        assert_eq!(template.0["Parameters"][&parameter]["Default"], "", "{parameter}: empty creates {id}");
        assert_eq!(
            template.0["Conditions"][&condition],
            json!({"Fn::Equals": [{"Ref": parameter}, ""]}),
            "condition {condition}"
        );
        assert_eq!(props["BillingMode"], "PAY_PER_REQUEST", "{id}");
        assert_eq!(props["KeySchema"], key(PK, SK), "{id}");
        let attributes: BTreeSet<(String, String)> = props["AttributeDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["AttributeName"].as_str().unwrap().to_owned(), a["AttributeType"].as_str().unwrap().to_owned()))
            .collect();
        let strings = [PK, SK, GSI1_PK, GSI1_SK].map(|a| (a.to_owned(), "S".to_owned())).into_iter().collect();
        assert_eq!(attributes, strings, "{id} AttributeDefinitions");
        let index = json!([{"IndexName": Index::Gsi1.name(), "KeySchema": key(GSI1_PK, GSI1_SK), "Projection": {"ProjectionType": "ALL"}}]);
        assert_eq!(props["GlobalSecondaryIndexes"], index, "{id}");
        assert_eq!(props["PointInTimeRecoverySpecification"], json!({"PointInTimeRecoveryEnabled": true}), "{id}");
        assert_eq!(props["TimeToLiveSpecification"], json!({"AttributeName": EXPIRES_AT, "Enabled": true}), "{id}");
        let stream = if table == Table::Orders { json!({"StreamViewType": "NEW_IMAGE"}) } else { Value::Null };
        assert_eq!(props["StreamSpecification"], stream, "{id}: only orders feed the event relay");
    }
}

#[test]
fn the_order_token_key_is_retained_with_the_tables() {
    let template = Template::load();
    let secret = template.resource("OrderTokenSecret");
    assert_eq!(secret["Type"], "AWS::SecretsManager::Secret");
    assert_eq!(secret["DeletionPolicy"], "Retain", "guests' order links are only as good as this key");
    assert_eq!(secret["UpdateReplacePolicy"], "Retain");
}

#[test]
fn an_attached_orders_table_must_come_with_its_stream() {
    let template = Template::load();
    let values = |table: &str, stream: &str| {
        BTreeMap::from([
            ("AllowedOrigins".to_owned(), json!(["https://shop.example"])),
            ("ExistingOrdersTable".to_owned(), json!(table)),
            ("ExistingOrdersTableStreamArn".to_owned(), json!(stream)),
        ])
    };
    let stream = "arn:aws:dynamodb:eu-west-1:123456789012:table/shop-OrdersTable-1/stream/2026-12-07T00:00:00.000";
    assert!(template.refused_by_rules(&values("", "")).is_empty(), "created: no stream to give");
    assert!(template.refused_by_rules(&values("shop-OrdersTable-1", stream)).is_empty());
    assert!(!template.refused_by_rules(&values("shop-OrdersTable-1", "")).is_empty(), "attached without its stream");
    assert!(!template.refused_by_rules(&values("", stream)).is_empty(), "a stream without its table");
}

/// `Existing<T>Table`: empty creates `<T>Table`, a name attaches that table instead.
pub(super) fn existing_parameter(table: Table) -> String {
    format!("Existing{}", table_id(table))
}

/// `Create<T>Table`: true when `Existing<T>Table` is empty.
pub(super) fn create_condition(table: Table) -> String {
    format!("Create{}", table_id(table))
}

/// The table's name as every reference must give it: the table created, or the one attached.
pub(super) fn table_name(table: Table) -> Value {
    json!({"Fn::If": [create_condition(table), {"Ref": table_id(table)}, {"Ref": existing_parameter(table)}]})
}

/// How an ARN of an attached table is spelt: its name in this account and region.
pub(super) const ATTACHED_TABLE_ARN: &str = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/";

/// The ARN of the table (`suffix` empty) or of something under it (`/index/gsi1`, `/stream/*`),
/// created or attached.
pub(super) fn table_arn(table: Table, suffix: &str) -> Value {
    let id = table_id(table);
    let ours = if suffix.is_empty() {
        json!({"Fn::GetAtt": [id, "Arn"]})
    } else {
        json!({"Fn::Sub": format!("${{{id}.Arn}}{suffix}")})
    };
    let attached = json!({"Fn::Sub": format!("{ATTACHED_TABLE_ARN}${{{}}}{suffix}", existing_parameter(table))});
    json!({"Fn::If": [create_condition(table), ours, attached]})
}

/// The table's stream: the created table's, or the one given with the attached table (a stream's
/// ARN ends in a label nobody can derive from the table's name).
pub(super) fn stream_arn(table: Table) -> Value {
    let attached = format!("${{{}StreamArn}}", existing_parameter(table));
    json!({"Fn::If": [create_condition(table), {"Fn::GetAtt": [table_id(table), "StreamArn"]}, {"Fn::Sub": attached}]})
}
