//! The order-event path end to end on real components: orders paid through the functions (under
//! the Lambda runtime) write their outbox on DynamoDB Local, whose stream (enabled as the template
//! declares it) is read with the DynamoDB Streams API; the template's event-source filter
//! ([`filter`]) picks the batch the mapping would deliver; the relay binary, under the stand-in
//! Runtime API, puts it on the stack's EventBridge bus on moto, where a rule sends it to an SQS
//! queue. Each outbox entry arrives once, each order's events in order, in the schema
//! `docs/events.md` documents.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::aws::LocalAws;
use super::filter;
use super::functions::Mode;
use super::provision::Deployed;
use super::started::Started;

/// The stream's records as the Streams API returns them, oldest first, each as the event source
/// mapping hands it to a function (with its `eventSourceARN`).
async fn stream_records(deployed: &Deployed<'_>, stream: &str) -> Vec<Value> {
    let aws = &deployed.aws;
    let described = aws.streams("DescribeStream", json!({"StreamArn": stream})).await;
    let mut records = Vec::new();
    for shard in described["StreamDescription"]["Shards"].as_array().unwrap() {
        let request = json!({"StreamArn": stream, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"});
        let mut iterator = aws.streams("GetShardIterator", request).await["ShardIterator"].clone();
        while iterator.is_string() {
            let page = aws.streams("GetRecords", json!({"ShardIterator": iterator, "Limit": 1000})).await;
            let batch = page["Records"].as_array().cloned().unwrap_or_default();
            if batch.is_empty() {
                break;
            }
            records.extend(batch.into_iter().map(|mut r| {
                r["eventSourceARN"] = json!(stream);
                r
            }));
            iterator = page["NextShardIterator"].clone();
        }
    }
    records
}

/// The outbox as stored: event ids by order, in the order they were written.
async fn outbox(deployed: &Deployed<'_>) -> BTreeMap<String, Vec<String>> {
    let table = deployed.name_of("OrdersTable");
    let query = json!({"TableName": table, "KeyConditionExpression": "pk = :pk",
                       "ExpressionAttributeValues": {":pk": {"S": nanoshop_schema::orders::OUTBOX}}});
    let items = deployed.aws.dynamodb("Query", query).await["Items"].as_array().cloned().unwrap_or_default();
    let mut by_order: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in items {
        let id = item["sk"]["S"].as_str().unwrap().to_owned();
        let doc = item["doc"]["S"].as_str().unwrap_or_else(|| panic!("an outbox entry's doc: {item}"));
        let event: Value = serde_json::from_str(doc).unwrap();
        by_order.entry(event["order_id"].as_str().unwrap().to_owned()).or_default().push(id);
    }
    by_order
}

/// A queue that receives everything the stack's bus gets from the relay.
async fn subscribe(deployed: &Deployed<'_>) -> String {
    let aws = &deployed.aws;
    let name = format!("{}-subscriber", deployed.run);
    let url = aws.sqs("CreateQueue", json!({"QueueName": name})).await["QueueUrl"].as_str().unwrap().to_owned();
    let attributes = aws.sqs("GetQueueAttributes", json!({"QueueUrl": url, "AttributeNames": ["QueueArn"]})).await;
    let queue_arn = attributes["Attributes"]["QueueArn"].as_str().unwrap();
    let bus = deployed.name_of("EventBus");
    let rule = json!({"Name": "all-order-events", "EventBusName": bus, "EventPattern": json!({"source": ["nanoshop.orders"]}).to_string()});
    aws.events("PutRule", rule).await;
    let targets =
        json!({"Rule": "all-order-events", "EventBusName": bus, "Targets": [{"Id": "queue", "Arn": queue_arn}]});
    aws.events("PutTargets", targets).await;
    url
}

async fn received(aws: &LocalAws, queue: &str, expected: usize) -> Vec<Value> {
    let mut messages = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while messages.len() < expected && std::time::Instant::now() < deadline {
        let page = aws.sqs("ReceiveMessage", json!({"QueueUrl": queue, "MaxNumberOfMessages": 10})).await;
        for message in page["Messages"].as_array().cloned().unwrap_or_default() {
            messages.push(serde_json::from_str(message["Body"].as_str().unwrap()).unwrap());
            aws.sqs("DeleteMessage", json!({"QueueUrl": queue, "ReceiptHandle": message["ReceiptHandle"]})).await;
        }
    }
    // Anything more would be a duplicate: give it a moment to show.
    let late = aws.sqs("ReceiveMessage", json!({"QueueUrl": queue, "MaxNumberOfMessages": 10})).await;
    let late = late["Messages"].as_array().map_or(0, Vec::len);
    assert_eq!(late, 0, "more events than outbox entries arrived");
    messages
}

/// The schema of `detail` as `docs/events.md` shows it: each field of its example, with the
/// example's JSON type and, where its comment lists them (`a | b | c`), the values allowed.
fn documented_schema() -> BTreeMap<String, (Value, Option<Vec<String>>)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/events.md")).unwrap();
    let section = doc.split("## Schema").nth(1).expect("docs/events.md has a Schema section");
    let block = section.split("```json").nth(1).and_then(|b| b.split("```").next()).expect("its JSON example");
    let mut fields = BTreeMap::new();
    for line in block.lines().map(str::trim).filter(|l| l.starts_with('"')) {
        let (field, comment) = line.split_once("//").map_or((line, ""), |(f, c)| (f.trim(), c.trim()));
        let field = field.trim_end_matches(',');
        let parsed: Value = serde_json::from_str(&format!("{{{field}}}")).unwrap_or_else(|e| panic!("{field}: {e}"));
        let (name, example) = parsed.as_object().unwrap().iter().next().map(|(k, v)| (k.clone(), v.clone())).unwrap();
        let allowed = comment
            .contains(" | ")
            .then(|| comment.split('|').map(|v| v.split_whitespace().next().unwrap_or("").to_owned()).collect());
        fields.insert(name, (example, allowed));
    }
    fields
}

/// What in `detail` breaks the documented schema (nothing when it conforms).
fn schema_errors(detail: &Value, schema: &BTreeMap<String, (Value, Option<Vec<String>>)>) -> Vec<String> {
    let mut errors = Vec::new();
    let object = detail.as_object().cloned().unwrap_or_default();
    for (name, (example, allowed)) in schema {
        let Some(value) = object.get(name) else {
            errors.push(format!("{name} is missing"));
            continue;
        };
        let same_type = match (example, value) {
            // null in the example: the field may be null (`customer_id` of a guest) or a string.
            (Value::Null, v) => v.is_null() || v.is_string(),
            (Value::Object(e), Value::Object(v)) => e.keys().collect::<BTreeSet<_>>() == v.keys().collect(),
            (e, v) => std::mem::discriminant(e) == std::mem::discriminant(v),
        };
        if !same_type {
            errors.push(format!("{name} is {value}, not like the documented {example}"));
        }
        if let (Some(allowed), Some(text)) = (allowed, value.as_str())
            && !allowed.iter().any(|a| a == text)
        {
            errors.push(format!("{name} is {text}, not one of {allowed:?}"));
        }
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_outbox_entry_reaches_the_bus_once_in_order_through_the_streams_filter() {
    let Some(aws) = LocalAws::from_env() else { return };
    let mut started = Started::start(aws.clone(), Mode::Lambda).await;
    let queue = subscribe(&started.deployed).await;
    started.purchase("EVENTS-1").await;
    started.purchase("EVENTS-2").await;

    let deployed = &started.deployed;
    let mapping = deployed.stack.resources_of("AWS::Lambda::EventSourceMapping").map(|(_, m)| &m["Properties"]).next();
    let mapping = mapping.expect("the relay's event source mapping");
    assert_eq!(
        mapping["EventSourceArn"],
        json!({"Fn::GetAtt": ["OrdersTable", "StreamArn"]}),
        "the orders table's stream"
    );
    let patterns: Vec<Value> = mapping["FilterCriteria"]["Filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| serde_json::from_str(f["Pattern"].as_str().unwrap()).unwrap())
        .collect();
    let records = stream_records(deployed, deployed.attribute("OrdersTable", "StreamArn")).await;
    let (delivered, dropped): (Vec<Value>, Vec<Value>) =
        records.into_iter().partition(|r| patterns.iter().any(|p| filter::matches(p, r)));

    // The filter hands over exactly the outbox entries' insertions; everything else the orders
    // table writes (orders, listings, counters, idempotency records) never reaches the relay.
    let outbox = outbox(deployed).await;
    let entries: BTreeSet<&String> = outbox.values().flatten().collect();
    assert_eq!(outbox.len(), 2, "two orders' outboxes: {outbox:?}");
    let inserted = |r: &Value| r["dynamodb"]["Keys"]["sk"]["S"].as_str().map(str::to_owned);
    let delivered_ids: Vec<String> = delivered.iter().filter_map(inserted).collect();
    assert_eq!(
        delivered_ids.iter().collect::<BTreeSet<_>>(),
        entries,
        "the filter delivers each outbox entry's insertion and nothing else; delivered: {delivered:#?}"
    );
    assert_eq!(delivered_ids.len(), entries.len(), "each entry once");
    assert!(delivered.iter().all(|r| r["eventName"] == "INSERT"), "only insertions: {delivered:#?}");
    assert!(!dropped.is_empty(), "the orders table writes more than its outbox");
    assert!(
        dropped.iter().all(|r| !(r["eventName"] == "INSERT" && inserted(r).is_some_and(|id| entries.contains(&id)))),
        "a dropped record is an outbox insertion"
    );

    let relay = started.function("orders-events-relay");
    let answer = relay.invoke(json!({"Records": delivered})).await;
    assert_eq!(answer, Ok(json!({"batchItemFailures": []})), "the relay publishes the whole batch:\n{}", relay.logs());

    let events = received(&started.deployed.aws, &queue, entries.len()).await;
    assert_eq!(events.len(), entries.len(), "one event per outbox entry: {events:#?}");
    let schema = documented_schema();
    let mut arrived: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for event in &events {
        assert_eq!(event["source"], "nanoshop.orders", "{event}");
        let detail = &event["detail"];
        assert_eq!(event["detail-type"], detail["type"], "{event}");
        let errors = schema_errors(detail, &schema);
        assert!(errors.is_empty(), "not the schema of docs/events.md: {errors:?}\n{detail:#}");
        arrived
            .entry(detail["order_id"].as_str().unwrap().to_owned())
            .or_default()
            .push(detail["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(arrived, outbox, "each order's events arrive once each, in the order they were written");
    for order in outbox.keys() {
        let types: Vec<&Value> =
            events.iter().filter(|e| e["detail"]["order_id"] == json!(order)).map(|e| &e["detail"]["type"]).collect();
        assert_eq!(types, [&json!("order.placed"), &json!("order.paid")], "{order}");
    }
}
