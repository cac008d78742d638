//! Logs, traces and alarms: every function's failures alarm someone, and so do throttles, forged
//! webhooks, dead letters and a stopped expiry sweep.

use std::collections::BTreeSet;

use nanoshop_api::metrics::{self, Metric};
use serde_json::{Value, json};

use super::template::{Template, one_or_many, visit};
use super::{FUNCTIONS, Trigger, function_id};
use crate::log_filter;

/// The level Lambda gives a line without one (the embedded-metric lines): a function's
/// `ApplicationLogLevel` must keep it.
pub(super) const LEVELS_KEPT_AT_INFO: &[&str] = &["TRACE", "DEBUG", "INFO"];

#[test]
fn every_function_logs_with_retention_and_has_an_alarm_on_its_failures_and_5xx() {
    let template = Template::load();
    for function in FUNCTIONS {
        let id = function_id(function.bin);
        let props = template.function_properties(&id);
        let condition = &template.resource(&id)["Condition"];
        let log_group =
            props["LoggingConfig"]["LogGroup"]["Ref"].as_str().unwrap_or_else(|| panic!("{id} LoggingConfig.LogGroup"));
        let group = template.resource(log_group);
        assert_eq!(group["Type"], "AWS::Logs::LogGroup");
        assert!(group["Properties"]["RetentionInDays"] != Value::Null, "{log_group} keeps logs forever");
        assert_eq!(&group["Condition"], condition, "{log_group} must come and go with {id}");

        let dimension = json!({"Name": "FunctionName", "Value": {"Ref": id}});
        let watches = |alarm: &Value, metric: &str| {
            let mut found = false;
            visit(alarm, &mut |node| {
                found |= node["MetricName"] == metric && one_or_many(&node["Dimensions"]).contains(&dimension);
            });
            found
        };
        let alarms: Vec<&Value> = template
            .resources_of("AWS::CloudWatch::Alarm")
            .map(|(_, alarm)| alarm)
            .filter(|alarm| {
                let mut watches = false;
                visit(alarm, &mut |node| watches |= *node == dimension);
                watches
            })
            .collect();
        for alarm in &alarms {
            assert!(!one_or_many(&alarm["Properties"]["AlarmActions"]).is_empty(), "{id}: an alarm notifies no one");
        }
        // A stream consumer that falls behind fails no invocation: its records just age.
        let (lag, failures): (Vec<&Value>, Vec<&Value>) = alarms.into_iter().partition(|a| watches(a, "IteratorAge"));
        let streamed = matches!(function.trigger, Trigger::Stream(_));
        assert_eq!(lag.len(), usize::from(streamed), "{id}: an IteratorAge alarm exactly when a stream invokes it");
        assert_eq!(failures.len(), 1, "{id}: one alarm on its failures and 5xx responses");
        let alarm = &failures[0]["Properties"];
        assert!(watches(alarm, "Errors"), "{id}: its alarm must count its failed invocations (AWS/Lambda Errors)");
        if function.routes.is_empty() {
            continue; // No HTTP responses to count: failed invocations are the alarm.
        }
        let watched: BTreeSet<&str> = alarm["Metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["MetricStat"]["Metric"]["MetricName"].as_str())
            .collect();
        let counted = template.resources_of("AWS::Logs::MetricFilter").any(|(_, filter)| {
            let props = &filter["Properties"];
            props["LogGroupName"] == json!({"Ref": log_group})
                && props["FilterPattern"].as_str().is_some_and(|p| p.contains("status >= 500"))
                && one_or_many(&props["MetricTransformations"])
                    .iter()
                    .any(|t| t["MetricName"].as_str().is_some_and(|m| watched.contains(m)))
        });
        assert!(counted, "{id}: its alarm must watch a metric filter counting 5xx responses in {log_group}");
    }
}

#[test]
fn every_function_is_traced_and_logs_json_lines_that_lambda_keeps() {
    let template = Template::load();
    for function in FUNCTIONS {
        let id = function_id(function.bin);
        let props = template.function_properties(&id);
        assert_eq!(props["Tracing"], "Active", "{id} Tracing");
        let logging = &props["LoggingConfig"];
        assert_eq!(logging["LogFormat"], "JSON", "{id}: JSON lines, filtered by their level");
        let level = logging["ApplicationLogLevel"].as_str().unwrap_or("");
        assert!(
            LEVELS_KEPT_AT_INFO.contains(&level),
            "{id} ApplicationLogLevel `{level}` drops INFO lines: the `request handled` lines its 5xx filter counts and every metric line"
        );
    }
}

#[test]
fn alarms_watch_throttles_signature_failures_dead_letters_and_a_stopped_expiry_sweep() {
    let template = Template::load();
    let alarms: Vec<(&String, &Value)> = template.resources_of("AWS::CloudWatch::Alarm").collect();
    for (id, alarm) in &alarms {
        assert!(!one_or_many(&alarm["Properties"]["AlarmActions"]).is_empty(), "{id} notifies no one");
    }
    let on = |namespace: &Value, metric: &str| {
        let watches = |alarm: &Value| alarm["Namespace"] == *namespace && alarm["MetricName"] == metric;
        alarms.iter().filter(|(_, a)| watches(&a["Properties"])).copied().collect::<Vec<_>>()
    };

    // Throttles: a filter over the API's access log counting 429s, tried on access-log lines
    // written in the stage's own format.
    let stage = &template.resource(template.single_id_of("AWS::ApiGatewayV2::Stage"))["Properties"];
    let access_group = stage["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0].as_str().unwrap();
    let format = stage["AccessLogSettings"]["Format"].as_str().unwrap();
    let access_line = |status: &str| render_access_log_line(format, status);
    let throttled = template
        .resources_of("AWS::Logs::MetricFilter")
        .filter(|(_, f)| f["Properties"]["LogGroupName"] == json!({"Ref": access_group}))
        .find(|(_, f)| {
            let pattern = f["Properties"]["FilterPattern"].as_str().unwrap();
            log_filter::matches(pattern, &access_line("429")).unwrap()
                && !log_filter::matches(pattern, &access_line("200")).unwrap()
        })
        .unwrap_or_else(|| {
            panic!("no metric filter on {access_group} counts 429 answers (tried on {})", access_line("429"))
        });
    let transformation = &one_or_many(&throttled.1["Properties"]["MetricTransformations"])[0];
    let metric = transformation["MetricName"].as_str().unwrap();
    assert_eq!(on(&transformation["MetricNamespace"], metric).len(), 1, "one alarm on {metric} (the API's 429s)");

    // Webhook signature failures: the metric the webhook emits, under the name and namespace
    // nanoshop_api::metrics gives it (tests/e2e/lambda.rs reads the line the binary writes).
    let function_dimension = |bin: &str| json!([{"Name": metrics::DIMENSION, "Value": {"Ref": function_id(bin)}}]);
    let signature = on(&json!(metrics::NAMESPACE), Metric::WebhookSignatureFailures.name());
    assert_eq!(signature.len(), 1, "one alarm on webhook signature failures");
    assert_eq!(signature[0].1["Properties"]["Dimensions"], function_dimension("payments-webhook"));
    assert_eq!(signature[0].1["Condition"], "DeployPaymentsWebhook");

    // The expiry heartbeat: no completed sweep (no data at all, when the schedule stops) alarms.
    let heartbeat = on(&json!(metrics::NAMESPACE), Metric::ExpirySweeps.name());
    assert_eq!(heartbeat.len(), 1, "one alarm on the expiry heartbeat");
    let props = &heartbeat[0].1["Properties"];
    assert_eq!(props["Dimensions"], function_dimension("orders-expirer"));
    assert_eq!(props["TreatMissingData"], "breaching", "a schedule that stopped sends no data at all");
    assert_eq!(props["ComparisonOperator"], "LessThanThreshold");
    assert!(template.number(&props["Threshold"]) >= 1, "fewer than one sweep alarms");

    // The dead-letter queue the stream's mapping sends failed batches to has an alarm on its depth.
    for (id, mapping) in template.resources_of("AWS::Lambda::EventSourceMapping") {
        let queue = &mapping["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0];
        let depth = on(&json!("AWS/SQS"), "ApproximateNumberOfMessagesVisible");
        let watched = depth.iter().any(|(_, a)| {
            a["Properties"]["Dimensions"]
                == json!([{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}])
                && template.number(&a["Properties"]["Threshold"]) <= 1
        });
        assert!(watched, "{id}: an alarm on the first message in its dead-letter queue {queue}");
    }
}

/// An access-log line as API Gateway writes it in `format`: `$context.status` is `status`, every
/// other `$context.…` variable `x`.
pub(super) fn render_access_log_line(format: &str, status: &str) -> String {
    const VARIABLE: &str = "$context.";
    let (mut line, mut rest) = (String::new(), format);
    while let Some(at) = rest.find(VARIABLE) {
        line.push_str(&rest[..at]);
        let after = &rest[at + VARIABLE.len()..];
        let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '.')).unwrap_or(after.len());
        line.push_str(if &after[..end] == "status" { status } else { "x" });
        rest = &after[end..];
    }
    line + rest
}
