//! What invokes the binaries without routes: a schedule, a table's stream, or a rule on the
//! order-event bus.

use std::collections::BTreeSet;

use nanoshop_schema::orders::OUTBOX;
use serde_json::{Value, json};

use super::tables::stream_arn;
use super::template::{Template, one_or_many, visit};
use super::{FUNCTIONS, Trigger, function_id, pascal, swappable, table_id};

#[test]
fn functions_without_routes_are_invoked_by_their_schedule_or_stream_whoever_runs_them() {
    let template = Template::load();
    let mut claimed = BTreeSet::new();
    for function in FUNCTIONS {
        let name = pascal(function.bin);
        let id = function_id(function.bin);
        assert_eq!(
            function.trigger == Trigger::Api,
            !function.routes.is_empty(),
            "{}: API Gateway invokes exactly the functions with routes",
            function.bin
        );
        let (kind, target, found) = match function.trigger {
            Trigger::Api => continue,
            Trigger::Schedule => {
                let target = swappable(&name, json!({"Fn::GetAtt": [id, "Arn"]}));
                let found: Vec<_> = template
                    .resources_of("AWS::Scheduler::Schedule")
                    .filter(|(_, s)| s["Properties"]["Target"]["Arn"] == target)
                    .collect();
                ("AWS::Scheduler::Schedule with Target.Arn", target, found)
            }
            Trigger::Stream(_) => {
                let target = swappable(&name, json!({"Ref": id}));
                let found: Vec<_> = template
                    .resources_of("AWS::Lambda::EventSourceMapping")
                    .filter(|(_, m)| m["Properties"]["FunctionName"] == target)
                    .collect();
                ("AWS::Lambda::EventSourceMapping with FunctionName", target, found)
            }
            Trigger::Events(_) => {
                let target = swappable(&name, json!({"Fn::GetAtt": [id, "Arn"]}));
                let found: Vec<_> = template
                    .resources_of("AWS::Events::Rule")
                    .filter(|(_, r)| one_or_many(&r["Properties"]["Targets"]).iter().any(|t| t["Arn"] == target))
                    .collect();
                ("AWS::Events::Rule with a target", target, found)
            }
        };
        assert_eq!(found.len(), 1, "{id}: one {kind} {target}");
        let (trigger_id, trigger) = found[0];
        claimed.insert(trigger_id.clone());
        assert!(trigger.get("Condition").is_none(), "{trigger_id} must invoke the integrator's function too");
        let props = &trigger["Properties"];

        match function.trigger {
            Trigger::Api => unreachable!(),
            Trigger::Schedule => {
                assert!(props.get("State").is_none_or(|s| s == "ENABLED"), "{trigger_id} is disabled");
                assert!(
                    props["ScheduleExpression"]
                        .as_str()
                        .is_some_and(|e| e.starts_with("rate(") || e.starts_with("cron(")),
                    "{trigger_id} ScheduleExpression"
                );
                // The scheduler's own role, allowed to invoke that target and nothing else.
                let role_id = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
                    .as_str()
                    .unwrap_or_else(|| panic!("{trigger_id} Target.RoleArn must be !GetAtt <Role>.Arn"));
                let role = template.resource(role_id);
                assert_eq!(role["Type"], "AWS::IAM::Role", "{role_id}");
                assert!(role.get("Condition").is_none(), "{role_id} must outlive our function");
                let principals: Vec<Value> = one_or_many(&role["Properties"]["AssumeRolePolicyDocument"]["Statement"])
                    .iter()
                    .map(|s| s["Principal"]["Service"].clone())
                    .collect();
                assert_eq!(
                    principals,
                    [json!("scheduler.amazonaws.com")],
                    "{role_id} is assumed by the scheduler only"
                );
                let mut grants = Vec::new();
                visit(&role["Properties"]["Policies"], &mut |node| {
                    if let Some(actions) = node.get("Action") {
                        grants.push((one_or_many(actions), one_or_many(&node["Resource"])));
                    }
                });
                assert_eq!(
                    grants,
                    [(vec![json!("lambda:InvokeFunction")], vec![target.clone()])],
                    "{role_id} may invoke {id} (or the integrator's) only"
                );
            }
            Trigger::Events(types) => {
                assert_eq!(props["EventBusName"], json!({"Ref": "EventBus"}), "{trigger_id}: the order-event bus");
                let pattern = &props["EventPattern"];
                assert_eq!(pattern["source"], json!([nanoshop_orders::events::SOURCE]), "{trigger_id} source");
                let subscribed: BTreeSet<String> =
                    one_or_many(&pattern["detail-type"]).iter().filter_map(|t| t.as_str().map(str::to_owned)).collect();
                let declared: BTreeSet<String> = types.iter().map(|t| (*t).to_owned()).collect();
                assert_eq!(subscribed, declared, "{trigger_id}: the event types the crate subscribes to");
                let targets = one_or_many(&props["Targets"]);
                assert_eq!(targets.len(), 1, "{trigger_id}: one target");
                let t = &targets[0];
                assert!(t["RetryPolicy"]["MaximumRetryAttempts"].as_i64().is_some(), "{trigger_id}: bounded retries");
                let queue = t["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
                    .as_str()
                    .unwrap_or_else(|| panic!("{trigger_id}: DeadLetterConfig.Arn !GetAtt <Queue>.Arn"));
                assert_eq!(template.resource(queue)["Type"], "AWS::SQS::Queue", "{queue}");
                // What Lambda gives up on goes to the same queue, and someone hears of it.
                let config = template
                    .resources_of("AWS::Lambda::EventInvokeConfig")
                    .find(|(_, c)| c["Properties"]["FunctionName"] == json!({"Ref": function_id(function.bin)}))
                    .unwrap_or_else(|| panic!("{trigger_id}: an AWS::Lambda::EventInvokeConfig of the function"));
                let config = &config.1["Properties"];
                assert!(config["MaximumRetryAttempts"].as_i64().is_some(), "{trigger_id}: Lambda's retries, bounded");
                assert_eq!(
                    config["DestinationConfig"]["OnFailure"]["Destination"],
                    json!({"Fn::GetAtt": [queue, "Arn"]}),
                    "{trigger_id}: the function's failed events go to {queue}"
                );
                let alarmed = template.resources_of("AWS::CloudWatch::Alarm").any(|(_, a)| {
                    one_or_many(&a["Properties"]["Dimensions"])
                        .contains(&json!({"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}))
                });
                assert!(alarmed, "{queue}: an alarm on its depth");
                let invoke = swappable(&name, json!({"Ref": function_id(function.bin)}));
                let permitted = template.resources_of("AWS::Lambda::Permission").any(|(_, p)| {
                    let p = &p["Properties"];
                    p["FunctionName"] == invoke
                        && p["Principal"] == "events.amazonaws.com"
                        && p["SourceArn"] == json!({"Fn::GetAtt": [trigger_id, "Arn"]})
                });
                assert!(permitted, "{trigger_id}: a permission for EventBridge to invoke {invoke} from this rule only");
            }
            Trigger::Stream(table) => {
                let id = table_id(table);
                assert_eq!(props["EventSourceArn"], stream_arn(table), "{trigger_id}");
                assert!(
                    template.resource(&id)["Properties"].get("StreamSpecification").is_some(),
                    "{trigger_id}: {id} has no stream"
                );
                assert_eq!(
                    props["BisectBatchOnFunctionError"], true,
                    "{trigger_id}: a batch fails as a whole; bisecting isolates the record that fails it"
                );
                // Without it Lambda ignores the relay's `batchItemFailures` and counts the batch
                // as relayed: a refused event would be lost.
                assert_eq!(
                    props["FunctionResponseTypes"],
                    json!(["ReportBatchItemFailures"]),
                    "{trigger_id}: the relay reports per record which events it could not publish"
                );
                assert!(
                    props["MaximumRetryAttempts"].as_i64().is_some_and(|n| n >= 0),
                    "{trigger_id}: bounded retries, or one bad record holds up its shard until the stream drops it"
                );
                let queue =
                    props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0].as_str().unwrap_or_else(
                        || panic!("{trigger_id}: DestinationConfig.OnFailure.Destination !GetAtt <Queue>.Arn"),
                    );
                assert_eq!(template.resource(queue)["Type"], "AWS::SQS::Queue", "{queue}");
                // A filter drops records before the function sees them: it must let through every
                // record the relay (the one stream consumer) reads, the outbox inserts.
                if let Some(filters) = props.get("FilterCriteria") {
                    let patterns: Vec<Value> = one_or_many(&filters["Filters"])
                        .iter()
                        .map(|f| serde_json::from_str(f["Pattern"].as_str().unwrap_or("")).unwrap())
                        .collect();
                    let outbox = json!({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"pk": {"S": [OUTBOX]}}}});
                    assert_eq!(patterns, [outbox], "{trigger_id}: the filter must pass what events_in_stream reads");
                }
            }
        }
    }
    let stray: Vec<&String> = template
        .resources_of("AWS::Scheduler::Schedule")
        .chain(template.resources_of("AWS::Lambda::EventSourceMapping"))
        .chain(template.resources_of("AWS::Events::Rule"))
        .map(|(id, _)| id)
        .filter(|id| !claimed.contains(*id))
        .collect();
    assert!(stray.is_empty(), "schedules and event source mappings of no function: {stray:?}");
}
