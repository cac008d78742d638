//! Business metrics in CloudWatch's embedded metric format (EMF): in Lambda, [`count`] writes one
//! JSON line per metric to stdout, where the function's log output goes; CloudWatch Logs reads the
//! line's `_aws` block and records the metric, with no API call, no agent and no extra latency.
//! Elsewhere (tests, containers, `nanoshop serve`) the same call is a DEBUG event under the
//! `nanoshop::metrics` target, so local logs stay readable.
//!
//! Every metric is in namespace [`NAMESPACE`] with one dimension, [`DIMENSION`]: the Lambda
//! function's name (`AWS_LAMBDA_FUNCTION_NAME`, what `!Ref <Name>Function` gives in the template,
//! so the alarms of one stack never see another's). `infra/template.yaml` alarms on
//! [`Metric::WebhookSignatureFailures`] and on a missing [`Metric::ExpirySweeps`]; the names here
//! and there are checked against each other by `tests/e2e/infra/observability.rs` and `tests/e2e/lambda.rs`.
//!
//! The lines are written to stdout directly, not through `tracing`: EMF needs `_aws` at the top
//! level of the line, where the tracing JSON formatter nests an event's fields under `fields`.
//! Lambda files a line without a `level` as INFO, and so do we, so `ApplicationLogLevel` above
//! INFO would drop them (the template keeps it at INFO).

use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// The CloudWatch namespace of every metric here.
pub const NAMESPACE: &str = "nanoshop";
/// The one dimension: the function that counted.
pub const DIMENSION: &str = "function";

/// What nanoshop counts. Each is a count of events, summed per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Checkout: an order placed, its stock reserved and its PaymentIntent made.
    OrdersPlaced,
    /// Webhook: an order became paid.
    OrdersPaid,
    /// Expiry sweep: orders expired (their stock released).
    OrdersExpired,
    /// Orders: a refund settled with the provider.
    OrdersRefunded,
    /// Webhook: a signed event changed its order.
    WebhookEventsApplied,
    /// Webhook: a signed event that changed nothing (seen before, not ours, no effect, or a type
    /// nanoshop does not act on).
    WebhookEventsIgnored,
    /// Webhook: a delivery refused for its signature (missing, wrong or stale).
    WebhookSignatureFailures,
    /// Webhook: a signed delivery that cannot be read as an event, or a body that is not UTF-8.
    WebhookEventsMalformed,
    /// Expiry sweep: a sweep completed; the heartbeat of the schedule.
    ExpirySweeps,
}

impl Metric {
    pub const ALL: [Self; 9] = [
        Self::OrdersPlaced,
        Self::OrdersPaid,
        Self::OrdersExpired,
        Self::OrdersRefunded,
        Self::WebhookEventsApplied,
        Self::WebhookEventsIgnored,
        Self::WebhookSignatureFailures,
        Self::WebhookEventsMalformed,
        Self::ExpirySweeps,
    ];

    /// The CloudWatch metric name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::OrdersPlaced => "OrdersPlaced",
            Self::OrdersPaid => "OrdersPaid",
            Self::OrdersExpired => "OrdersExpired",
            Self::OrdersRefunded => "OrdersRefunded",
            Self::WebhookEventsApplied => "WebhookEventsApplied",
            Self::WebhookEventsIgnored => "WebhookEventsIgnored",
            Self::WebhookSignatureFailures => "WebhookSignatureFailures",
            Self::WebhookEventsMalformed => "WebhookEventsMalformed",
            Self::ExpirySweeps => "ExpirySweeps",
        }
    }
}

/// Counts one `metric`.
pub fn count(metric: Metric) {
    add(metric, 1);
}

/// Counts `value` of `metric` (zero too: a datapoint of 0 says the count ran).
pub fn add(metric: Metric, value: u64) {
    match lambda_function() {
        Some(function) => {
            let line = emf_line(metric, value, function, now_millis());
            // A metric must never fail a request: a closed stdout loses the line, nothing else.
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
        None => tracing::debug!(target: "nanoshop::metrics", metric = metric.name(), value, "metric"),
    }
}

/// The function's name when running in Lambda (read once).
fn lambda_function() -> Option<&'static str> {
    static FUNCTION: OnceLock<Option<String>> = OnceLock::new();
    FUNCTION
        .get_or_init(|| {
            std::env::var_os(crate::run::LAMBDA_RUNTIME_API)
                .and(std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok())
                .filter(|name| !name.is_empty())
        })
        .as_deref()
}

fn now_millis() -> u64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

/// One EMF line: `metric` = `value` for `function` at `timestamp_ms`.
pub fn emf_line(metric: Metric, value: u64, function: &str, timestamp_ms: u64) -> String {
    let mut line = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[DIMENSION]],
                "Metrics": [{"Name": metric.name(), "Unit": "Count"}],
            }],
        },
        "level": "INFO",
        DIMENSION: function,
    });
    if let Value::Object(fields) = &mut line {
        fields.insert(metric.name().to_owned(), json!(value));
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_declares_its_metric_and_dimension_and_carries_their_values() {
        let line: Value = serde_json::from_str(&emf_line(Metric::OrdersPaid, 2, "shop-Webhook-1", 1_700_000_000_000))
            .expect("one JSON object");
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([[DIMENSION]]));
        assert_eq!(directive["Metrics"], json!([{"Name": "OrdersPaid", "Unit": "Count"}]));
        // EMF takes each declared name's value from the top level of the same line.
        assert_eq!(line["OrdersPaid"], 2);
        assert_eq!(line[DIMENSION], "shop-Webhook-1");
    }

    #[test]
    fn metric_names_are_distinct() {
        let names: std::collections::BTreeSet<_> = Metric::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names.len(), Metric::ALL.len());
    }
}
