//! `infra/template.yaml` checked against the crates it deploys: what cfn-lint and
//! `sam validate --lint` cannot know (both run in `make test` too).
//!
//! The crates are the single source of truth: each function crate declares its `ROUTES`, its
//! table `ACCESS` list and the environment variables its binary reads (`config::ENV`); the
//! template is written by hand and must agree with them. [`FUNCTIONS`] lists every binary with
//! those declarations; a new function crate adds its rows there, and these tests then say what
//! the template lacks.
//!
//! Naming conventions the template follows, derived from the binary name (`payments-webhook` →
//! `PaymentsWebhook`): resource `<Name>Function`, parameter `<Name>FunctionArn`, condition
//! `Deploy<Name>`, integration `<Name>Integration`; tables are `<Table>Table`. A binary without
//! routes names what invokes it instead ([`Trigger`]): a schedule or a table's stream.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nanoshop_api::metrics::{self, Metric};
use nanoshop_api::{Access, Route};
use nanoshop_payments::stripe::{KEY_REREAD_ALLOWANCE, WORST_CASE_REQUEST};
use nanoshop_schema::orders::OUTBOX;
use nanoshop_store::port::{Action, EXPIRES_AT, GSI1_PK, GSI1_SK, Index, PK, SK, Table, TableAccess};
use serde_json::{Map, Value, json};

use crate::log_filter;

/// A deployable binary and what its crate declares about it.
struct Function {
    /// The `[[bin]]` name in its crate's Cargo.toml (`BuildProperties.Binary` in the template).
    bin: &'static str,
    /// What invokes it: API Gateway on `routes`, or (binaries without routes) something else.
    trigger: Trigger,
    routes: &'static [Route],
    access: &'static [TableAccess],
    env: &'static [&'static str],
    /// Variables its config reads that a deployment leaves unset (test endpoints such as
    /// `STRIPE_API_BASE`; the plain secret values a container or `nanoshop serve` sets where a
    /// deployment sets their Secrets Manager ids): the template must not set them.
    unset_in_aws: &'static [&'static str],
    /// IAM actions beyond DynamoDB, each justified where it is listed.
    other_actions: &'static [&'static str],
}

/// What invokes a function binary; its binary expects that event and no other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// API Gateway, on the crate's `ROUTES`.
    Api,
    /// EventBridge Scheduler, with any event (`orders-expirer`: one sweep per invocation).
    Schedule,
    /// A batch of the table's stream records, through an event source mapping.
    Stream(Table),
}

/// Every function binary of the workspace. (The root package depends on every function crate for
/// `nanoshop serve`, so each crate's declarations are in reach here.)
const FUNCTIONS: &[Function] = &[
    Function {
        bin: "catalog",
        trigger: Trigger::Api,
        routes: nanoshop_catalog::ROUTES,
        access: nanoshop_catalog::ACCESS,
        env: nanoshop_catalog::config::ENV,
        unset_in_aws: &["CURSOR_SECRET"],
        // Presigned image uploads are signed with the function's own credentials.
        other_actions: &["s3:PutObject"],
    },
    Function {
        bin: "cart",
        trigger: Trigger::Api,
        routes: nanoshop_cart::ROUTES,
        access: nanoshop_cart::ACCESS,
        env: nanoshop_cart::config::ENV,
        unset_in_aws: &[],
        other_actions: &[],
    },
    Function {
        bin: "checkout",
        trigger: Trigger::Api,
        routes: nanoshop_checkout::ROUTES,
        access: nanoshop_checkout::ACCESS,
        env: nanoshop_checkout::config::ENV,
        unset_in_aws: &["STRIPE_API_BASE", "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "ORDER_TOKEN_SECRET"],
        other_actions: &[],
    },
    Function {
        bin: "payments-webhook",
        trigger: Trigger::Api,
        routes: nanoshop_payments_webhook::ROUTES,
        access: nanoshop_payments_webhook::ACCESS,
        env: nanoshop_payments_webhook::config::ENV,
        unset_in_aws: &["STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET", "STRIPE_SECRET_KEY"],
        other_actions: &[],
    },
    Function {
        bin: "orders",
        trigger: Trigger::Api,
        routes: nanoshop_orders::ROUTES,
        access: nanoshop_orders::ACCESS,
        env: nanoshop_orders::config::ENV,
        unset_in_aws: &["STRIPE_API_BASE", "STRIPE_SECRET_KEY", "ORDER_TOKEN_SECRET", "CURSOR_SECRET"],
        other_actions: &[],
    },
    Function {
        bin: "orders-expirer",
        trigger: Trigger::Schedule,
        routes: &[],
        access: nanoshop_orders::EXPIRER_ACCESS,
        env: nanoshop_orders::config::EXPIRER_ENV,
        unset_in_aws: &["STRIPE_API_BASE", "STRIPE_SECRET_KEY"],
        other_actions: &[],
    },
    Function {
        bin: "orders-events-relay",
        trigger: Trigger::Stream(Table::Orders),
        routes: &[],
        access: nanoshop_orders::RELAY_ACCESS,
        env: nanoshop_orders::config::RELAY_ENV,
        unset_in_aws: &[],
        // It puts the events on the bus; its event source mapping sends the description of a
        // batch that kept failing to the dead-letter queue with the function's role.
        other_actions: &["events:PutEvents", "sqs:SendMessage"],
    },
];

/// The binaries that call Stripe. Checked against the crates: each links `nanoshop-payments`
/// and reads a `STRIPE_…` variable, and no other binary reads one.
const CALLS_STRIPE: &[&str] = &["checkout", "payments-webhook", "orders", "orders-expirer"];
/// What a function that calls Stripe needs beyond the adapter's worst case: the store calls
/// around the call (checkout's reservation before it and the give-back after a failure, a
/// refund's two writes, a sweep's order write), each a DynamoDB round trip of milliseconds that the
/// SDK retries a few times when throttled, and the function's own work.
const STORE_ALLOWANCE: Duration = Duration::from_secs(3);
/// API Gateway (HTTP API) stops waiting for a function after 30 s and answers a bare 503; a
/// function must have given its own answer (a 502 problem, its reservation given back) before.
const API_GATEWAY_TIMEOUT: Duration = Duration::from_secs(29);
/// The level Lambda gives a line without one (the embedded-metric lines): a function's
/// `ApplicationLogLevel` must keep it.
const LEVELS_KEPT_AT_INFO: &[&str] = &["TRACE", "DEBUG", "INFO"];

const RUNTIME: &str = "provided.al2023";
const ARCHITECTURE: &str = "arm64";
const BUILD_METHOD: &str = "rust-cargolambda";
/// CPU scales with memory in Lambda, and cold starts are TLS handshakes and key parsing.
const MIN_HTTP_MEMORY_MB: u64 = 512;

// ------------------------------------------------------------------------------------------------
// The tests.
// ------------------------------------------------------------------------------------------------

#[test]
fn every_function_binary_has_a_function_resource_and_every_function_resource_a_binary() {
    let template = Template::load();
    let crates = function_crates();
    let in_manifests: BTreeSet<&str> = crates.iter().flat_map(|c| c.bins.iter().map(String::as_str)).collect();
    let in_table: BTreeSet<&str> = FUNCTIONS.iter().map(|f| f.bin).collect();
    assert_eq!(
        in_table, in_manifests,
        "tests/e2e/infra.rs FUNCTIONS must list every [[bin]] of functions/*/Cargo.toml, with its crate's ROUTES, ACCESS and config::ENV"
    );

    let mut in_template = BTreeMap::new();
    for (id, resource) in template.resources_of("AWS::Serverless::Function") {
        let bin = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{id} has no Metadata.BuildProperties.Binary"));
        assert!(in_template.insert(bin, id).is_none(), "two functions build binary `{bin}`");
    }
    assert_eq!(in_template.keys().copied().collect::<BTreeSet<_>>(), in_manifests, "function resources ≠ binaries");
    for (bin, id) in in_template {
        assert_eq!(id, &function_id(bin), "the function building `{bin}` must be named {}", function_id(bin));
    }
}

#[test]
fn functions_are_rust_builds_for_arm64_on_al2023() {
    let template = Template::load();
    let crates = function_crates();
    for function in FUNCTIONS {
        let id = function_id(function.bin);
        let resource = template.resource(&id);
        let props = template.function_properties(&id);
        assert_eq!(props["Runtime"], RUNTIME, "{id} Runtime");
        assert_eq!(props["Architectures"], json!([ARCHITECTURE]), "{id} Architectures");
        assert_eq!(props["Handler"], "bootstrap", "{id} Handler");
        assert_eq!(resource["Metadata"]["BuildMethod"], BUILD_METHOD, "{id} Metadata.BuildMethod");
        let dir = crates.iter().find(|c| c.bins.iter().any(|b| b == function.bin)).map(|c| &c.dir).unwrap();
        assert_eq!(
            props["CodeUri"],
            format!("../functions/{dir}"),
            "{id} CodeUri must be the crate of `{}`",
            function.bin
        );
        if !function.routes.is_empty() {
            let memory = props["MemorySize"].as_u64().unwrap_or(128);
            assert!(memory >= MIN_HTTP_MEMORY_MB, "{id} MemorySize {memory} < {MIN_HTTP_MEMORY_MB} (cold-start TLS)");
        }
        assert!(props.get("Role").is_none(), "{id} must not bring its own Role: its policy comes from Policies");
    }
}

#[test]
fn every_route_reaches_its_function_and_only_jwt_only_routes_have_the_authorizer() {
    let template = Template::load();
    let authorizer = template.single_id_of("AWS::ApiGatewayV2::Authorizer");

    // What the crates declare: (method, path shape) → (function, path, access).
    let mut declared = BTreeMap::new();
    for function in FUNCTIONS {
        for route in function.routes {
            assert!(route.path.starts_with('/'), "{} route `{}` must start with `/`", function.bin, route.path);
            let key = (route.method.to_owned(), shape(route.path));
            if let Some((other, ..)) = declared.insert(key, (function.bin, route.path, route.access)) {
                panic!("{} {} is declared by both {other} and {}", route.method, route.path, function.bin);
            }
        }
    }

    // Which function each integration reaches.
    let mut integrations = BTreeMap::new();
    for function in FUNCTIONS.iter().filter(|f| !f.routes.is_empty()) {
        let name = pascal(function.bin);
        let id = format!("{name}Integration");
        let integration = template.resource(&id);
        assert_eq!(integration["Type"], "AWS::ApiGatewayV2::Integration", "{id}");
        let props = &integration["Properties"];
        assert_eq!(props["ApiId"], json!({"Ref": "HttpApi"}), "{id} ApiId");
        assert_eq!(props["IntegrationType"], "AWS_PROXY", "{id}");
        assert_eq!(props["PayloadFormatVersion"], "2.0", "{id}: lambda_http expects payload format 2.0");
        assert_eq!(
            props["IntegrationUri"],
            swappable(&name, json!({"Fn::GetAtt": [function_id(function.bin), "Arn"]}))
        );
        integrations.insert(id, function.bin);
    }
    let stray: Vec<_> = template
        .resources_of("AWS::ApiGatewayV2::Integration")
        .filter(|(id, _)| !integrations.contains_key(*id))
        .collect();
    assert!(stray.is_empty(), "integrations of no function: {stray:?}");

    // What the template routes.
    let mut routed = BTreeMap::new();
    let mut names_at = BTreeMap::new();
    for (id, route) in template.resources_of("AWS::ApiGatewayV2::Route") {
        let props = &route["Properties"];
        assert_eq!(props["ApiId"], json!({"Ref": "HttpApi"}), "{id} ApiId");
        let key = props["RouteKey"].as_str().unwrap_or_else(|| panic!("{id} RouteKey"));
        let (method, path) =
            key.split_once(' ').unwrap_or_else(|| panic!("{id} RouteKey `{key}` is not `METHOD /path`"));
        assert!(path.starts_with('/') && (path == "/" || !path.ends_with('/')), "{id} path `{path}`");
        check_one_parameter_name_per_position(&mut names_at, path);
        let target = props["Target"]["Fn::Sub"]
            .as_str()
            .unwrap_or_else(|| panic!("{id} Target must be !Sub integrations/${{…}}"));
        let integration = target
            .strip_prefix("integrations/${")
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or_else(|| panic!("{id} Target `{target}`"));
        let bin = *integrations
            .get(integration)
            .unwrap_or_else(|| panic!("{id} targets {integration}, no function's integration"));
        let (declared_by, declared_path, access) = *declared
            .get(&(method.to_owned(), shape(path)))
            .unwrap_or_else(|| panic!("{id} routes {key}, which no crate's ROUTES declares"));
        assert_eq!(bin, declared_by, "{key} (ROUTES of {declared_by}: {declared_path}) is routed to {bin}");
        if needs_jwt(access) {
            assert_eq!(
                props["AuthorizationType"], "JWT",
                "{key} admits only JWT holders ({access:?}): use the authorizer"
            );
            assert_eq!(props["AuthorizerId"], json!({"Ref": authorizer}), "{key} AuthorizerId");
        } else {
            assert_eq!(props["AuthorizationType"], "NONE", "{key} admits {access:?}, who may carry no JWT");
            assert!(props.get("AuthorizerId").is_none(), "{key} must not have an authorizer");
        }
        assert!(routed.insert((method.to_owned(), shape(path)), id).is_none(), "{key} is routed twice");
    }
    let unrouted: Vec<_> = declared
        .iter()
        .filter(|(k, _)| !routed.contains_key(*k))
        .map(|((m, _), (f, p, _))| format!("{f}: {m} {p}"))
        .collect();
    assert!(unrouted.is_empty(), "declared in ROUTES but not in infra/template.yaml: {unrouted:#?}");
}

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
        .map(|(id, _)| id)
        .filter(|id| !claimed.contains(*id))
        .collect();
    assert!(stray.is_empty(), "schedules and event source mappings of no function: {stray:?}");
}

#[test]
fn every_function_can_be_swapped_for_an_integrators_by_its_arn_parameter() {
    let template = Template::load();
    for function in FUNCTIONS {
        let name = pascal(function.bin);
        let parameter = format!("{name}FunctionArn");
        let condition = format!("Deploy{name}");
        let declared = template.0["Parameters"].get(&parameter).unwrap_or_else(|| panic!("no parameter {parameter}"));
        assert_eq!(declared["Type"], "String", "{parameter}");
        assert_eq!(declared["Default"], "", "{parameter}: empty deploys ours");
        assert_eq!(
            template.0["Conditions"][&condition],
            json!({"Fn::Equals": [{"Ref": parameter}, ""]}),
            "condition {condition}"
        );
        let id = function_id(function.bin);
        assert_eq!(template.resource(&id)["Condition"], condition, "{id} must be skipped when {parameter} is set");
        // A SAM event vanishes with our function instead of moving to the integrator's, and some
        // (DynamoDB streams) bring a managed policy on every resource: declare routes, schedules and
        // event source mappings as resources whose target is `!If [Deploy<Name>, ours, theirs]`.
        assert!(
            template.resource(&id)["Properties"].get("Events").is_none(),
            "{id}: no SAM Events; see the comment above this assertion"
        );

        if function.routes.is_empty() {
            continue;
        }
        let expected = swappable(&name, json!({"Ref": id}));
        let permissions: Vec<_> = template
            .resources_of("AWS::Lambda::Permission")
            .filter(|(_, p)| p["Properties"]["FunctionName"] == expected)
            .map(|(_, p)| &p["Properties"])
            .collect();
        assert_eq!(permissions.len(), 1, "one invoke permission for API Gateway on {id} or {parameter}");
        let permission = permissions[0];
        assert_eq!(permission["Action"], "lambda:InvokeFunction");
        assert_eq!(permission["Principal"], "apigateway.amazonaws.com");
        let source = permission["SourceArn"]["Fn::Sub"].as_str().unwrap_or("");
        assert!(
            source.contains(":execute-api:") && source.contains("${HttpApi}"),
            "{id} permission SourceArn `{source}`"
        );
    }
}

#[test]
fn every_variable_a_function_reads_is_set_on_it() {
    let template = Template::load();
    let crates = function_crates();
    let jwt =
        &template.resource(template.single_id_of("AWS::ApiGatewayV2::Authorizer"))["Properties"]["JwtConfiguration"];
    for function in FUNCTIONS {
        let id = function_id(function.bin);
        let props = template.function_properties(&id);
        let vars = &props["Environment"]["Variables"];
        for var in function.env {
            let value =
                vars.get(*var).unwrap_or_else(|| panic!("{id} does not set {var}, which `{}` reads", function.bin));
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
        for var in function.unset_in_aws {
            assert!(vars.get(*var).is_none(), "{id} sets {var}, which only tests set");
        }
        // And no secret it does not read: a secret handed to a function that never uses it is one
        // more place for it to leak from. (Globals give every function the table names and the
        // issuer's public settings; those are not secret.)
        for var in vars.as_object().into_iter().flat_map(|v| v.keys()).filter(|v| v.contains("SECRET")) {
            assert!(
                function.env.contains(&var.as_str()),
                "{id} is given {var}, which `{}` does not read (not in its ENV list)",
                function.bin
            );
        }
        for table in Table::ALL {
            let var = format!("{}_TABLE", table.as_str().to_uppercase());
            if function.env.contains(&var.as_str()) {
                assert_eq!(vars[&var], table_name(table), "{id} {var}: the table created, or the one attached");
            }
        }
        // API Gateway and the function must accept the same tokens.
        if function.env.contains(&"AUTH_ISSUER") {
            assert_eq!(vars["AUTH_ISSUER"], jwt["Issuer"], "{id} AUTH_ISSUER ≠ the authorizer's issuer");
            assert_eq!(
                json!([vars["AUTH_AUDIENCE"]]),
                jwt["Audience"],
                "{id} AUTH_AUDIENCE ≠ the authorizer's audience"
            );
        }
    }

    // ENV is the list; a variable read in a config module (or straight from a binary's own source,
    // as the event relay reads its bus) but missing from it would go unchecked. Lambda sets its
    // own `AWS_LAMBDA_*` variables.
    for krate in &crates {
        let listed: BTreeSet<&str> = FUNCTIONS
            .iter()
            .filter(|f| krate.bins.iter().any(|b| b == f.bin))
            .flat_map(|f| f.env.iter().chain(f.unset_in_aws).copied())
            .collect();
        for file in env_reading_files(&krate.dir) {
            let source = std::fs::read_to_string(repo().join("functions").join(&krate.dir).join(&file))
                .unwrap_or_else(|e| panic!("functions/{}/{file}: {e}", krate.dir));
            for name in env_like_literals(&source).into_iter().filter(|n| !n.starts_with("AWS_LAMBDA_")) {
                assert!(
                    listed.contains(name.as_str()),
                    "functions/{}/{file} reads {name}: list it in the ENV of its binary's config (or, if a deployment leaves it unset, in unset_in_aws here)",
                    krate.dir
                );
            }
        }
    }
}

#[test]
fn secrets_are_never_template_parameters() {
    let template = Template::load();
    for (name, parameter) in template.0["Parameters"].as_object().unwrap() {
        assert!(parameter.get("NoEcho").is_none(), "parameter {name} is a secret: use Secrets Manager or SSM instead");
    }
}

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
fn the_jwt_authorizer_takes_issuer_and_audience_from_parameters() {
    let template = Template::load();
    let id = template.single_id_of("AWS::ApiGatewayV2::Authorizer");
    let props = &template.resource(id)["Properties"];
    assert_eq!(props["AuthorizerType"], "JWT");
    assert_eq!(props["ApiId"], json!({"Ref": "HttpApi"}));
    assert_eq!(props["IdentitySource"], json!(["$request.header.Authorization"]));
    let jwt = props["JwtConfiguration"].as_object().unwrap();
    let keys: BTreeSet<&str> = jwt.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["Audience", "Issuer"]), "JwtConfiguration keys");
    let parameter =
        |value: &Value| value["Ref"].as_str().filter(|p| template.0["Parameters"].get(*p).is_some()).map(str::to_owned);
    assert!(parameter(&jwt["Issuer"]).is_some(), "the issuer must be a template parameter, not {}", jwt["Issuer"]);
    let audience = jwt["Audience"].as_array().unwrap();
    assert!(audience.len() == 1 && parameter(&audience[0]).is_some(), "the audience must be a parameter");
}

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
fn every_reference_names_a_parameter_resource_or_condition_that_exists() {
    let template = Template::load();
    let parameters: BTreeSet<&str> = template.0["Parameters"].as_object().unwrap().keys().map(String::as_str).collect();
    let resources: BTreeSet<&str> = template.resources().keys().map(String::as_str).collect();
    let conditions: BTreeSet<&str> = template.0["Conditions"].as_object().unwrap().keys().map(String::as_str).collect();
    const PSEUDO: &[&str] = &[
        "AWS::AccountId",
        "AWS::NoValue",
        "AWS::NotificationARNs",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    ];
    let named = |name: &str| parameters.contains(name) || resources.contains(name) || PSEUDO.contains(&name);
    let mut problems = Vec::new();
    // Globals too: cfn-lint does not look at references there.
    for (section, value) in [
        ("Globals", &template.0["Globals"]),
        ("Resources", &template.0["Resources"]),
        ("Outputs", &template.0["Outputs"]),
    ] {
        visit(value, &mut |node| {
            let Some(object) = node.as_object() else { return };
            if let Some(Value::String(name)) = object.get("Ref").filter(|_| object.len() == 1)
                && !named(name)
            {
                problems.push(format!("{section}: !Ref {name}"));
            }
            if let Some(Value::Array(parts)) = object.get("Fn::GetAtt")
                && !parts.first().and_then(Value::as_str).is_some_and(|r| resources.contains(r))
            {
                problems.push(format!("{section}: !GetAtt {parts:?}"));
            }
            if let Some(sub) = object.get("Fn::Sub") {
                let (text, locals) = match sub {
                    Value::Array(parts) => (parts[0].as_str().unwrap_or(""), parts.get(1).and_then(Value::as_object)),
                    other => (other.as_str().unwrap_or(""), None),
                };
                for name in sub_variables(text) {
                    let base = name.split_once('.').map_or(name.as_str(), |(resource, _)| resource);
                    if !(named(&name) || resources.contains(base) || locals.is_some_and(|l| l.contains_key(&name))) {
                        problems.push(format!("{section}: ${{{name}}} in !Sub {text:?}"));
                    }
                }
            }
            if let Some(Value::Array(parts)) = object.get("Fn::If")
                && !parts.first().and_then(Value::as_str).is_some_and(|c| conditions.contains(c))
            {
                problems.push(format!("{section}: !If on unknown condition {:?}", parts.first()));
            }
        });
    }
    for (id, resource) in template.resources() {
        if let Some(condition) = resource.get("Condition").and_then(Value::as_str)
            && !conditions.contains(condition)
        {
            problems.push(format!("{id}: Condition {condition}"));
        }
    }
    assert!(problems.is_empty(), "dangling references: {problems:#?}");
}

// ------------------------------------------------------------------------------------------------
// Timeouts, limits, observability and data (issue 12).
// ------------------------------------------------------------------------------------------------

#[test]
fn functions_that_call_stripe_outlast_its_worst_case_and_api_functions_answer_before_api_gateway() {
    let template = Template::load();
    // The key re-read after a 401 is bounded by the Secrets Manager client's own timeout.
    assert!(KEY_REREAD_ALLOWANCE >= nanoshop_api::secrets::SECRETS_MANAGER_TIMEOUT);
    let needed = WORST_CASE_REQUEST + STORE_ALLOWANCE;
    for function in FUNCTIONS {
        let id = function_id(function.bin);
        let props = template.function_properties(&id);
        let timeout = Duration::from_secs(props["Timeout"].as_u64().unwrap_or_else(|| panic!("{id} Timeout")));
        if CALLS_STRIPE.contains(&function.bin) {
            assert!(
                timeout >= needed,
                "{id} Timeout {timeout:?} < Stripe's worst case for a request {WORST_CASE_REQUEST:?} + {STORE_ALLOWANCE:?} for the store: Lambda would end a request before it gives back what it took"
            );
        }
        if function.trigger == Trigger::Api {
            assert!(
                timeout <= API_GATEWAY_TIMEOUT,
                "{id} Timeout {timeout:?} > {API_GATEWAY_TIMEOUT:?}: API Gateway gives up first and the caller gets a bare 503"
            );
        }
    }

    // The sweep starts orders for RUN_BUDGET, then finishes the one in hand: its cancel (when
    // Stripe refuses it, the adapter retrieves the intent once to tell a canceled one from a
    // processing one: WORST_CASE_REQUEST) and its store writes.
    let id = function_id("orders-expirer");
    let timeout = Duration::from_secs(template.function_properties(&id)["Timeout"].as_u64().unwrap());
    let cancel = WORST_CASE_REQUEST;
    let needed = nanoshop_orders::expiry::RUN_BUDGET + cancel + STORE_ALLOWANCE;
    assert!(
        timeout >= needed,
        "{id} Timeout {timeout:?} < the sweep's RUN_BUDGET {:?} + one worst-case cancel {cancel:?} + {STORE_ALLOWANCE:?} for the store: Lambda would cut the last order short",
        nanoshop_orders::expiry::RUN_BUDGET
    );

    // CALLS_STRIPE is what the crates say: binaries of crates linking the adapter that read a key.
    let crates = function_crates();
    for function in FUNCTIONS {
        let dir = &crates.iter().find(|c| c.bins.iter().any(|b| b == function.bin)).unwrap().dir;
        let manifest = std::fs::read_to_string(repo().join("functions").join(dir).join("Cargo.toml")).unwrap();
        let links = manifest.lines().any(|l| l.trim_start().starts_with("nanoshop-payments"));
        let reads_a_key = function.env.iter().any(|v| v.starts_with("STRIPE_"));
        assert_eq!(
            CALLS_STRIPE.contains(&function.bin),
            links && reads_a_key,
            "{}: CALLS_STRIPE must list exactly the binaries that link nanoshop-payments and read a STRIPE_ variable",
            function.bin
        );
    }
}

#[test]
fn anonymous_write_routes_have_their_own_tighter_throttle() {
    let template = Template::load();
    let stage_id = template.single_id_of("AWS::ApiGatewayV2::Stage");
    let stage = template.resource(stage_id);
    let props = &stage["Properties"];
    let default = &props["DefaultRouteSettings"];
    let (rate, burst) =
        (template.number(&default["ThrottlingRateLimit"]), template.number(&default["ThrottlingBurstLimit"]));
    assert!(rate > 0 && burst >= rate, "{stage_id} DefaultRouteSettings: a rate and a burst at least as large");

    // The routes that make the store hold stock or reach Stripe, open to anyone: creating a cart,
    // changing one, checking out.
    let writes: Vec<(String, String)> = FUNCTIONS
        .iter()
        .filter(|f| ["cart", "checkout"].contains(&f.bin))
        .flat_map(|f| f.routes)
        .filter(|r| r.method != "GET")
        .map(|r| (r.method.to_owned(), shape(r.path)))
        .collect();
    assert!(writes.len() >= 3, "cart and checkout declare their write routes: {writes:?}");
    let routes: BTreeMap<(String, String), (&String, &str)> = template
        .resources_of("AWS::ApiGatewayV2::Route")
        .map(|(id, r)| {
            let key = r["Properties"]["RouteKey"].as_str().unwrap();
            let (method, path) = key.split_once(' ').unwrap();
            ((method.to_owned(), shape(path)), (id, key))
        })
        .collect();
    let settings = props["RouteSettings"].as_object().unwrap_or_else(|| panic!("{stage_id} has no RouteSettings"));
    let depends = one_or_many(&stage["DependsOn"]);
    for write in &writes {
        let (route_id, key) = routes[write];
        let limits = settings.get(key).unwrap_or_else(|| panic!("{stage_id} RouteSettings: no throttle on {key}"));
        let (route_rate, route_burst) =
            (template.number(&limits["ThrottlingRateLimit"]), template.number(&limits["ThrottlingBurstLimit"]));
        assert!(route_rate > 0 && route_rate < rate, "{key}: rate {route_rate} must be below the stage's {rate}");
        assert!(route_burst > 0 && route_burst < burst, "{key}: burst {route_burst} must be below the stage's {burst}");
        assert!(
            depends.contains(&json!(route_id)),
            "{stage_id} must DependsOn {route_id}: API Gateway refuses settings for a route it does not have yet"
        );
    }
    let known: BTreeSet<&str> = routes.values().map(|(_, key)| *key).collect();
    for key in settings.keys() {
        assert!(known.contains(key.as_str()), "{stage_id} RouteSettings names {key}, which no route has");
    }
}

#[test]
fn allowed_origins_must_be_named_and_a_wildcard_is_refused() {
    let template = Template::load();
    let parameter = &template.0["Parameters"]["AllowedOrigins"];
    assert_eq!(parameter["Type"], "CommaDelimitedList");
    assert!(
        parameter.get("Default").is_none(),
        "AllowedOrigins must have no default: the merchant names the storefront"
    );
    let origins = |list: &[&str]| BTreeMap::from([("AllowedOrigins".to_owned(), json!(list))]);
    assert_eq!(template.refused_by_rules(&origins(&["https://shop.example"])), Vec::<String>::new());
    assert_eq!(
        template.refused_by_rules(&origins(&["https://shop.example", "https://admin.example"])),
        Vec::<String>::new()
    );
    for refused in [&["*"][..], &["https://shop.example", "*"], &[""]] {
        assert!(!template.refused_by_rules(&origins(refused)).is_empty(), "AllowedOrigins {refused:?} must be refused");
    }
    // Both places a browser's origin is checked use it.
    let api = template.resource(template.single_id_of("AWS::ApiGatewayV2::Api"));
    assert_eq!(api["Properties"]["CorsConfiguration"]["AllowOrigins"], json!({"Ref": "AllowedOrigins"}));
    let bucket = template.resource("ImageBucket");
    for rule in one_or_many(&bucket["Properties"]["CorsConfiguration"]["CorsRules"]) {
        assert_eq!(rule["AllowedOrigins"], json!({"Ref": "AllowedOrigins"}), "ImageBucket CORS");
    }
}

#[test]
fn every_function_has_a_reserved_concurrency_parameter_empty_by_default() {
    let template = Template::load();
    for function in FUNCTIONS {
        let (name, id) = (pascal(function.bin), function_id(function.bin));
        let (parameter, condition) = (format!("{name}ReservedConcurrency"), format!("Reserve{name}"));
        let props = template.function_properties(&id);
        assert_eq!(
            props["ReservedConcurrentExecutions"],
            json!({"Fn::If": [condition, {"Ref": parameter}, {"Ref": "AWS::NoValue"}]}),
            "{id} ReservedConcurrentExecutions"
        );
        // Lambda refuses a reservation leaving the account under 100 unreserved (new accounts may
        // have 10 in all), so none is the default that deploys everywhere; 0 would stop the function.
        let declared = &template.0["Parameters"][&parameter];
        assert_eq!(declared["Default"], "", "{parameter}: empty reserves nothing");
        assert_eq!(declared["AllowedPattern"], "^([1-9][0-9]{0,3})?$", "{parameter}: empty or 1-9999, never 0");
        assert_eq!(
            template.0["Conditions"][&condition],
            json!({"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, ""]}]})
        );
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

#[test]
fn every_reference_to_a_conditional_resource_is_under_its_condition() {
    let template = Template::load();
    let conditional: BTreeMap<&str, &str> =
        template.resources().iter().filter_map(|(id, r)| r["Condition"].as_str().map(|c| (id.as_str(), c))).collect();
    let mut problems = Vec::new();
    let mut sections: Vec<(String, &Value, BTreeSet<String>)> =
        vec![("Globals".into(), &template.0["Globals"], BTreeSet::new())];
    for (section, entries) in
        [("Resources", template.resources()), ("Outputs", template.0["Outputs"].as_object().unwrap())]
    {
        for (id, entry) in entries {
            let guards = entry["Condition"].as_str().map(|c| BTreeSet::from([c.to_owned()])).unwrap_or_default();
            sections.push((format!("{section}.{id}"), entry, guards));
        }
    }
    for (place, value, guards) in sections {
        guarded_references(value, &guards, &mut |name, guards| {
            if let Some(condition) = conditional.get(name)
                && !guards.contains(*condition)
            {
                problems.push(format!("{place}: {name} outside !If [{condition}, …]"));
            }
        });
    }
    assert!(problems.is_empty(), "references to resources that may not exist: {problems:#?}");
}

/// An access-log line as API Gateway writes it in `format`: `$context.status` is `status`, every
/// other `$context.…` variable `x`.
fn render_access_log_line(format: &str, status: &str) -> String {
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

/// Calls `found` with every resource name a `Ref`, `GetAtt` or `Sub` in `value` names, and the
/// conditions known true there (those of the `!If` branches it sits in).
fn guarded_references(value: &Value, guards: &BTreeSet<String>, found: &mut impl FnMut(&str, &BTreeSet<String>)) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Array(parts)) = object.get("Fn::If")
                && let [Value::String(condition), yes, no] = parts.as_slice()
            {
                let mut inner = guards.clone();
                inner.insert(condition.clone());
                guarded_references(yes, &inner, found);
                guarded_references(no, guards, found);
                return;
            }
            if let Some(Value::String(name)) = object.get("Ref") {
                found(name, guards);
            }
            if let Some(name) = object.get("Fn::GetAtt").and_then(|p| p[0].as_str()) {
                found(name, guards);
            }
            if let Some(sub) = object.get("Fn::Sub") {
                let text = sub.as_str().or_else(|| sub[0].as_str()).unwrap_or("");
                for name in sub_variables(text) {
                    found(name.split_once('.').map_or(name.as_str(), |(resource, _)| resource), guards);
                }
            }
            if object.contains_key("DependsOn") {
                // Names, not references: a DependsOn on a resource that may be absent fails too.
                for name in one_or_many(&object["DependsOn"]) {
                    found(name.as_str().unwrap_or(""), guards);
                }
            }
            object.iter().filter(|(k, _)| *k != "DependsOn").for_each(|(_, v)| guarded_references(v, guards, found));
        }
        Value::Array(items) => items.iter().for_each(|v| guarded_references(v, guards, found)),
        _ => {}
    }
}

// ------------------------------------------------------------------------------------------------
// The template, as JSON with CloudFormation's long-form intrinsics.
// ------------------------------------------------------------------------------------------------

pub(crate) struct Template(pub(crate) Value);

impl Template {
    pub(crate) fn load() -> Self {
        let path = repo().join("infra/template.yaml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let yaml: serde_norway::Value =
            serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self(long_form(yaml))
    }

    fn resources(&self) -> &Map<String, Value> {
        self.0["Resources"].as_object().expect("Resources")
    }

    pub(crate) fn resource(&self, id: &str) -> &Value {
        self.resources().get(id).unwrap_or_else(|| panic!("infra/template.yaml has no resource {id}"))
    }

    pub(crate) fn resources_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
        self.resources().iter().filter(move |(_, r)| r["Type"] == kind)
    }

    pub(crate) fn single_id_of<'a>(&'a self, kind: &'a str) -> &'a str {
        let ids: Vec<_> = self.resources_of(kind).map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids.len(), 1, "expected exactly one {kind}, found {ids:?}");
        ids[0]
    }

    /// A number, or a `!Ref` to a parameter: its default.
    fn number(&self, value: &Value) -> i64 {
        let value = match value["Ref"].as_str() {
            Some(parameter) => &self.0["Parameters"][parameter]["Default"],
            None => value,
        };
        value
            .as_i64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("{value} is not a number"))
    }

    /// The `Rules` assertions that fail for these parameter values (the rest at their defaults),
    /// by their `AssertDescription`. Evaluates the functions rules may use that the template does.
    fn refused_by_rules(&self, values: &BTreeMap<String, Value>) -> Vec<String> {
        let parameter = |name: &str| -> Value {
            let declared = &self.0["Parameters"][name];
            let value = values.get(name).cloned().unwrap_or_else(|| declared["Default"].clone());
            match (declared["Type"].as_str(), value) {
                (Some("CommaDelimitedList"), Value::String(list)) => json!(list.split(',').collect::<Vec<_>>()),
                (_, value) => value,
            }
        };
        fn eval(node: &Value, parameter: &dyn Fn(&str) -> Value) -> Value {
            let object = node.as_object().filter(|o| o.len() == 1);
            let Some((function, arguments)) = object.and_then(|o| o.iter().next()) else { return node.clone() };
            let arguments: Vec<Value> = match arguments {
                Value::Array(items) if function != "Ref" => items.iter().map(|a| eval(a, parameter)).collect(),
                other => vec![other.clone()],
            };
            match (function.as_str(), arguments.as_slice()) {
                ("Ref", [Value::String(name)]) => parameter(name),
                ("Fn::Not", [Value::Bool(b)]) => json!(!b),
                ("Fn::And", items) => json!(items.iter().all(|i| *i == Value::Bool(true))),
                ("Fn::Or", items) => json!(items.contains(&Value::Bool(true))),
                ("Fn::Equals", [a, b]) => json!(a == b),
                ("Fn::Contains", [Value::Array(list), item]) => json!(list.contains(item)),
                (other, _) => panic!("rules: {other} {arguments:?} is not evaluated here"),
            }
        }
        let mut refused = Vec::new();
        for (rule, body) in self.0["Rules"].as_object().into_iter().flatten() {
            if body.get("RuleCondition").is_some_and(|c| eval(c, &parameter) != json!(true)) {
                continue;
            }
            for assertion in one_or_many(&body["Assertions"]) {
                if eval(&assertion["Assert"], &parameter) != json!(true) {
                    refused.push(format!("{rule}: {}", assertion["AssertDescription"]));
                }
            }
        }
        refused
    }

    /// A function's properties as SAM applies them: `Globals.Function` under the resource's own,
    /// environment variables merged.
    pub(crate) fn function_properties(&self, id: &str) -> Value {
        let resource = self.resource(id);
        assert_eq!(resource["Type"], "AWS::Serverless::Function", "{id}");
        let mut props = self.0["Globals"]["Function"].as_object().cloned().unwrap_or_default();
        let mut vars = props.get("Environment").and_then(|e| e["Variables"].as_object()).cloned().unwrap_or_default();
        for (key, value) in resource["Properties"].as_object().unwrap_or_else(|| panic!("{id} Properties")) {
            props.insert(key.clone(), value.clone());
        }
        if let Some(own) = resource["Properties"]["Environment"]["Variables"].as_object() {
            vars.extend(own.clone());
        }
        props.insert("Environment".into(), json!({"Variables": vars}));
        Value::Object(props)
    }
}

/// `!Ref X` → `{"Ref": "X"}`, `!GetAtt A.b` → `{"Fn::GetAtt": ["A", "b"]}`, `!Sub …` →
/// `{"Fn::Sub": …}`, and so on, so that short and long forms compare equal.
fn long_form(value: serde_norway::Value) -> Value {
    use serde_norway::Value as Yaml;
    match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => serde_json::to_value(n).unwrap(),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(long_form).collect()),
        Yaml::Mapping(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k.as_str().unwrap_or_else(|| panic!("non-string key {k:?}")).to_owned(), long_form(v)))
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = long_form(tagged.value);
            match (name, inner) {
                ("Ref", inner) => json!({"Ref": inner}),
                ("Condition", inner) => json!({"Condition": inner}),
                ("GetAtt", Value::String(path)) => {
                    let (resource, attribute) = path.split_once('.').unwrap_or_else(|| panic!("!GetAtt {path}"));
                    json!({"Fn::GetAtt": [resource, attribute]})
                }
                (other, inner) => json!({ format!("Fn::{other}"): inner }),
            }
        }
    }
}

fn visit(value: &Value, f: &mut impl FnMut(&Value)) {
    f(value);
    match value {
        Value::Array(items) => items.iter().for_each(|v| visit(v, f)),
        Value::Object(entries) => entries.values().for_each(|v| visit(v, f)),
        _ => {}
    }
}

/// The `${Name}` / `${Resource.Attribute}` variables of an `Fn::Sub` string (not `${!Literal}`).
fn sub_variables(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let end = rest.find('}').unwrap_or(rest.len());
        if !rest.starts_with('!') {
            names.push(rest[..end].trim().to_owned());
        }
        rest = &rest[end..];
    }
    names
}

/// The secret a `…_SECRET_ID` variable names: a `!Ref` of a Secrets Manager secret of the stack,
/// or of the `StripeSecretId` parameter (a secret the merchant creates).
fn secret_of(template: &Template, value: &Value) -> Option<String> {
    let name = value.get("Ref")?.as_str()?;
    let is_secret = template.resources().get(name).is_some_and(|r| r["Type"] == "AWS::SecretsManager::Secret");
    (is_secret || name == "StripeSecretId").then(|| name.to_owned())
}

/// The secrets a function reads: those its `…_SECRET_ID` variables name.
fn secrets_read(template: &Template, props: &Value) -> BTreeSet<String> {
    let vars = props["Environment"]["Variables"].as_object().cloned().unwrap_or_default();
    vars.iter().filter(|(k, _)| k.ends_with("_SECRET_ID")).filter_map(|(_, v)| secret_of(template, v)).collect()
}

/// The secrets a function's policy grants `secretsmanager:GetSecretValue` on.
fn secrets_granted(template: &Template, props: &Value) -> BTreeSet<String> {
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
fn granted_secret(template: &Template, resource: &Value) -> Option<String> {
    if resource.get("Ref").is_some() {
        return secret_of(template, resource);
    }
    let arn = resource.get("Fn::Sub")?.as_str()?;
    let name = arn
        .strip_prefix("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${")?
        .strip_suffix("}-??????")?;
    (template.0["Parameters"].get(name).is_some()).then(|| name.to_owned())
}

pub(crate) fn one_or_many(value: &Value) -> Vec<Value> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    }
}

/// `<Name>FunctionArn` when set, ours otherwise.
fn swappable(name: &str, ours: Value) -> Value {
    json!({"Fn::If": [format!("Deploy{name}"), ours, {"Ref": format!("{name}FunctionArn")}]})
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TableResource {
    Table(Table),
    Index(Table),
    Stream(Table),
}

/// A table's ARN ([`table_arn`]), its index's, or its stream's ([`stream_arn`], or
/// `…/stream/*`: its streams, as the DynamoDB and SAM stream-read policies grant `ListStreams`);
/// anything else is refused. Each form names the created table or the attached one, the same.
fn table_resource(resource: &Value) -> TableResource {
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

/// `Existing<T>Table`: empty creates `<T>Table`, a name attaches that table instead.
fn existing_parameter(table: Table) -> String {
    format!("Existing{}", table_id(table))
}

/// `Create<T>Table`: true when `Existing<T>Table` is empty.
fn create_condition(table: Table) -> String {
    format!("Create{}", table_id(table))
}

/// The table's name as every reference must give it: the table created, or the one attached.
fn table_name(table: Table) -> Value {
    json!({"Fn::If": [create_condition(table), {"Ref": table_id(table)}, {"Ref": existing_parameter(table)}]})
}

/// How an ARN of an attached table is spelt: its name in this account and region.
const ATTACHED_TABLE_ARN: &str = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/";

/// The ARN of the table (`suffix` empty) or of something under it (`/index/gsi1`, `/stream/*`),
/// created or attached.
fn table_arn(table: Table, suffix: &str) -> Value {
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
fn stream_arn(table: Table) -> Value {
    let attached = format!("${{{}StreamArn}}", existing_parameter(table));
    json!({"Fn::If": [create_condition(table), {"Fn::GetAtt": [table_id(table), "StreamArn"]}, {"Fn::Sub": attached}]})
}

// ------------------------------------------------------------------------------------------------
// Names, routes and the workspace.
// ------------------------------------------------------------------------------------------------

/// `payments-webhook` → `PaymentsWebhook`.
fn pascal(name: &str) -> String {
    name.split(['-', '_'])
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

fn function_id(bin: &str) -> String {
    format!("{}Function", pascal(bin))
}

fn table_id(table: Table) -> String {
    format!("{}Table", pascal(table.as_str()))
}

/// A path with its parameter names erased: API Gateway matches `/products/{id}` and
/// `/products/{id_or_slug}` alike (and refuses two names at one position), and the functions
/// read the raw path, so the template uses one name per position.
fn shape(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/")
}

fn check_one_parameter_name_per_position(seen: &mut BTreeMap<String, String>, path: &str) {
    let segments: Vec<&str> = path.split('/').collect();
    for (i, segment) in segments.iter().enumerate().filter(|(_, s)| s.starts_with('{')) {
        let position = shape(&segments[..=i].join("/"));
        let previous = seen.entry(position.clone()).or_insert_with(|| (*segment).to_owned());
        assert_eq!(previous, segment, "two parameter names at {position}: API Gateway takes one");
    }
}

/// Whether every caller a route admits carries a JWT, so API Gateway may refuse the rest. Guests
/// hold cart and order tokens, Stripe signs its webhooks, and "anyone" includes the anonymous.
fn needs_jwt(access: Access) -> bool {
    match access {
        Access::Anyone | Access::CartTokenOrOwner | Access::OrderOwnerTokenOrAdmin | Access::StripeSignature => false,
        Access::Customer
        | Access::Admin
        | Access::CustomerAndCartToken
        | Access::CustomerOrAdmin
        | Access::OwnerOrAdmin => true,
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Crate {
    /// The folder under `functions/`.
    dir: String,
    bins: Vec<String>,
}

/// Each `functions/*` crate with its binaries: its `[[bin]]` names, or the package name for an
/// implicit `src/main.rs`.
fn function_crates() -> Vec<Crate> {
    let mut crates = Vec::new();
    for entry in std::fs::read_dir(repo().join("functions")).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else { continue };
        let (package, mut bins) = manifest_names(&manifest);
        if bins.is_empty() && dir.join("src/main.rs").exists() {
            bins.push(package);
        }
        crates.push(Crate { dir: file_name(&dir), bins });
    }
    crates.sort_by(|a, b| a.dir.cmp(&b.dir));
    crates
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// The `[package]` name and the `[[bin]]` names of a Cargo.toml.
fn manifest_names(manifest: &str) -> (String, Vec<String>) {
    let (mut section, mut package, mut bins) = ("", String::new(), Vec::new());
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if let Some(value) = line.strip_prefix("name").and_then(|r| r.trim_start().strip_prefix('=')) {
            let name = value.trim().trim_matches('"').to_owned();
            match section {
                "[package]" => package = name,
                "[[bin]]" => bins.push(name),
                _ => {}
            }
        }
    }
    (package, bins)
}

/// The files of a function crate that read its environment: `src/config.rs`, `src/main.rs` and the
/// extra binaries under `src/bin/`, relative to the crate.
fn env_reading_files(dir: &str) -> Vec<String> {
    let krate = repo().join("functions").join(dir);
    let mut files: Vec<String> =
        ["src/config.rs", "src/main.rs"].into_iter().filter(|f| krate.join(f).exists()).map(str::to_owned).collect();
    if let Ok(entries) = std::fs::read_dir(krate.join("src/bin")) {
        let mut bins: Vec<String> = entries
            .map(|e| file_name(&e.unwrap().path()))
            .filter(|f| f.ends_with(".rs"))
            .map(|f| format!("src/bin/{f}"))
            .collect();
        bins.sort();
        files.extend(bins);
    }
    files
}

/// Quoted upper-case names (`"IMAGE_BUCKET"`) in Rust source: the variables a config module reads.
fn env_like_literals(source: &str) -> BTreeSet<String> {
    source
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.len() > 2
                && s.contains('_')
                && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .map(str::to_owned)
        .collect()
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

#[test]
fn the_checks_themselves_read_names_and_paths_as_intended() {
    assert_eq!(pascal("payments-webhook"), "PaymentsWebhook");
    assert_eq!(function_id("orders-expirer"), "OrdersExpirerFunction");
    assert_eq!(table_id(Table::Idempotency), "IdempotencyTable");
    assert_eq!(shape("/products/{id_or_slug}/images"), "/products/{}/images");
    assert_eq!(
        sub_variables("arn:${AWS::Partition}:x:${HttpApi}/${!Literal}/${A.Arn}"),
        ["AWS::Partition", "HttpApi", "A.Arn"]
    );
    let (package, bins) = manifest_names(
        "[package]\nname = \"nanoshop-orders\"\n\n[[bin]]\nname = \"orders\"\n[[bin]]\nname = \"orders-expirer\"\n",
    );
    assert_eq!((package.as_str(), bins), ("nanoshop-orders", vec!["orders".to_owned(), "orders-expirer".to_owned()]));
    assert_eq!(
        env_like_literals(r#"var("CURSOR_SECRET")?; std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true")"#),
        ["CURSOR_SECRET", "S3_FORCE_PATH_STYLE"].map(str::to_owned).into_iter().collect()
    );
}
