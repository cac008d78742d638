//! What CloudFormation would create, checked for every parameter set that changes it
//! ([`stacks`]): the template after SAM's own transform, conditions evaluated. `infra.rs` checks
//! the text as written; this checks the resources SAM makes of it (roles, managed policies,
//! merged environments) and what is left of them when a function is swapped or a table attached.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::stack::{Stack, single_entry, stacks};
use crate::infra::{Template, one_or_many};

/// What SAM attaches to each function's role for what the template asks of every function:
/// logging (`AWSLambdaBasicExecutionRole`) and traces (`Tracing: Active`).
const LOGGING_AND_TRACES: [&str; 2] = [
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
];

#[test]
fn every_reference_names_a_resource_or_parameter_of_the_same_deployment() {
    for stack in stacks() {
        let mut missing = Vec::new();
        let outputs = stack.resolved(&stack.transformed["Outputs"]);
        let places = stack.resources.iter().map(|(id, r)| (id.as_str(), r)).chain([("Outputs", &outputs)]);
        for (id, value) in places {
            for name in references(value) {
                let known = name.starts_with("AWS::")
                    || stack.parameters.contains_key(&name)
                    || stack.resources.contains_key(&name);
                if !known {
                    missing.push(format!("{id} → {name}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "{}: references to what this deployment does not create:\n{}",
            stack.name,
            missing.join("\n")
        );
    }
}

#[test]
fn every_function_role_holds_exactly_its_own_policy_plus_logging_and_traces() {
    let template = Template::load();
    for stack in stacks() {
        let mut roles_seen = BTreeSet::new();
        for (id, function) in stack.resources_of("AWS::Lambda::Function") {
            let label = format!("{}: {id}", stack.name);
            let role_id = match single_entry(&function["Properties"]["Role"]) {
                Some(("Fn::GetAtt", Value::Array(path))) if path[1] == "Arn" => path[0].as_str().unwrap().to_owned(),
                _ => {
                    panic!("{label}: Role must be the ARN of a role of this stack: {}", function["Properties"]["Role"])
                }
            };
            assert!(roles_seen.insert(role_id.clone()), "{label}: role {role_id} is shared with another function");
            let role = &stack.resources[&role_id]["Properties"];
            assert_eq!(
                role["AssumeRolePolicyDocument"]["Statement"],
                json!([{"Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}}]),
                "{label}: only Lambda assumes the role"
            );
            let managed: BTreeSet<&str> = one_or_many(&role["ManagedPolicyArns"])
                .iter()
                .map(|arn| arn.as_str().unwrap_or_else(|| panic!("{label}: managed policy {arn}")))
                .map(|arn| {
                    LOGGING_AND_TRACES
                        .into_iter()
                        .find(|l| *l == arn)
                        .unwrap_or_else(|| panic!("{label}: SAM attached {arn}"))
                })
                .collect();
            assert_eq!(managed, BTreeSet::from(LOGGING_AND_TRACES), "{label}: logging and traces, nothing else");

            let own: Vec<Value> =
                one_or_many(&template.function_properties(id)["Policies"]).iter().map(|p| stack.resolved(p)).collect();
            let granted: Vec<Value> =
                one_or_many(&role["Policies"]).iter().map(|p| p["PolicyDocument"].clone()).collect();
            assert_eq!(granted, own, "{label}: the role's inline policies must be the function's own Policies");
            for statement in granted.iter().flat_map(|p| one_or_many(&p["Statement"])) {
                let resources = one_or_many(&statement["Resource"]);
                assert!(
                    !resources.is_empty() && resources.iter().all(|r| !r.is_null() && *r != json!("")),
                    "{label}: statement {} grants on no resource here",
                    statement["Sid"]
                );
                assert!(
                    statement["Resource"] != json!("*"),
                    "{label}: statement {} grants on every resource",
                    statement["Sid"]
                );
            }
            // And nothing attaches more to the role from outside it.
            for (policy_id, policy) in stack.resources.iter().filter(|(_, r)| {
                matches!(
                    r["Type"].as_str(),
                    Some("AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" | "AWS::IAM::RolePolicy")
                )
            }) {
                assert!(
                    !policy.to_string().contains(&json!({"Ref": role_id}).to_string()),
                    "{label}: {policy_id} adds to the role"
                );
            }
        }
    }
}

#[test]
fn every_route_reaches_a_live_integration_allowed_to_invoke_its_function() {
    for stack in stacks() {
        let api = only(stack, "AWS::ApiGatewayV2::Api");
        let authorizer = only(stack, "AWS::ApiGatewayV2::Authorizer");
        let routes: Vec<_> = stack.resources_of("AWS::ApiGatewayV2::Route").collect();
        assert!(!routes.is_empty(), "{}: no routes", stack.name);
        for (id, route) in routes {
            let route = &route["Properties"];
            let label = format!("{}: {id} ({})", stack.name, route["RouteKey"]);
            assert_eq!(route["ApiId"], json!({"Ref": api}), "{label}");
            let target = route["Target"]["Fn::Sub"].as_str().and_then(|t| t.strip_prefix("integrations/${"));
            let integration = target.and_then(|t| t.strip_suffix('}')).unwrap_or_else(|| {
                panic!("{label}: Target must be !Sub integrations/${{<Integration>}}, not {}", route["Target"])
            });
            let integration = stack
                .resources
                .get(integration)
                .filter(|r| r["Type"] == "AWS::ApiGatewayV2::Integration")
                .unwrap_or_else(|| panic!("{label}: integration {integration} is not created here"));
            let integration = &integration["Properties"];
            assert_eq!(integration["ApiId"], json!({"Ref": api}), "{label}");
            assert_eq!(integration["IntegrationType"], "AWS_PROXY", "{label}");
            assert_eq!(integration["PayloadFormatVersion"], "2.0", "{label}");
            let function = invoked(stack, &integration["IntegrationUri"], &label);
            assert!(
                stack.resources_of("AWS::Lambda::Permission").any(|(_, p)| {
                    let p = &p["Properties"];
                    p["Action"] == "lambda:InvokeFunction"
                        && p["Principal"] == "apigateway.amazonaws.com"
                        && invoked(stack, &p["FunctionName"], &label) == function
                        && p["SourceArn"]["Fn::Sub"].as_str().is_some_and(|s| s.contains(&format!("${{{api}}}")))
                }),
                "{label}: no permission lets this API invoke {function}"
            );
            if route["AuthorizationType"] == "JWT" {
                assert_eq!(route["AuthorizerId"], json!({"Ref": authorizer}), "{label}");
            }
        }
    }
}

#[test]
fn a_swapped_function_is_invoked_wherever_ours_was() {
    let ours = super::stack::as_written();
    for stack in stacks() {
        let swapped = stack.parameters.keys().filter(|p| p.ends_with("FunctionArn"));
        for (parameter, arn) in swapped.filter_map(|p| Some((p, stack.set(p)?))) {
            // (The integrator's ARN is the parameter's value: `!Ref <Name>FunctionArn`.)
            let name = parameter.trim_end_matches("Arn");
            assert!(!stack.resources.contains_key(name), "{}: {name} is still created", stack.name);
            // What invoked ours and is still created (an integration, its permission, a schedule
            // and its role, a stream mapping) names theirs instead; nothing else does.
            let naming = |s: &Stack, target: &[Value]| -> BTreeSet<String> {
                let targets: Vec<String> = target.iter().map(Value::to_string).collect();
                s.resources
                    .iter()
                    .filter(|(_, r)| targets.iter().any(|t| r.to_string().contains(t.as_str())))
                    .map(|(id, _)| id.clone())
                    .collect()
            };
            let invokers: BTreeSet<String> =
                naming(ours, &[json!({"Fn::GetAtt": [name, "Arn"]}), json!({"Ref": name})])
                    .into_iter()
                    .filter(|id| stack.resources.contains_key(id))
                    .collect();
            assert!(!invokers.is_empty(), "{}: nothing invoked {name}", stack.name);
            assert_eq!(
                naming(stack, &[json!({"Ref": parameter})]),
                invokers,
                "{}: what invoked {name} must invoke {arn}",
                stack.name
            );
        }
    }
}

#[test]
fn every_function_created_has_its_log_group_and_its_failure_alarm() {
    for stack in stacks() {
        for (id, function) in stack.resources_of("AWS::Lambda::Function") {
            let label = format!("{}: {id}", stack.name);
            let group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{label}: LoggingConfig.LogGroup must name a log group of the stack"));
            assert_eq!(
                stack.resources.get(group).map(|g| &g["Type"]),
                Some(&json!("AWS::Logs::LogGroup")),
                "{label}: {group}"
            );
            assert!(
                stack.resources[group]["Properties"]["RetentionInDays"].is_object(),
                "{label}: {group} keeps logs for LogRetentionDays"
            );
            let watched = stack.resources_of("AWS::CloudWatch::Alarm").any(|(_, alarm)| {
                let alarm = &alarm["Properties"];
                let mut metrics = vec![alarm.clone()];
                metrics.extend(one_or_many(&alarm["Metrics"]).iter().map(|m| m["MetricStat"]["Metric"].clone()));
                metrics.iter().any(|m| {
                    m["Namespace"] == "AWS/Lambda"
                        && m["MetricName"] == "Errors"
                        && one_or_many(&m["Dimensions"]).iter().any(|d| d["Value"] == json!({"Ref": id}))
                })
            });
            assert!(watched, "{label}: no alarm watches its failed invocations");
        }
    }
}

/// The one resource of `kind` in `stack`.
fn only<'a>(stack: &'a Stack, kind: &'a str) -> &'a str {
    let ids: Vec<&String> = stack.resources_of(kind).map(|(id, _)| id).collect();
    assert_eq!(ids.len(), 1, "{}: one {kind}", stack.name);
    ids[0]
}

/// The function an integration URI or a permission's `FunctionName` names: one of the stack's
/// (by id) or an integrator's (the ARN set in its `<Name>FunctionArn` parameter).
fn invoked(stack: &Stack, value: &Value, label: &str) -> String {
    let id = match single_entry(value) {
        Some(("Fn::GetAtt", Value::Array(path))) if path[1] == "Arn" => path[0].as_str(),
        Some(("Ref", Value::String(id))) if !stack.parameters.contains_key(id) => Some(id.as_str()),
        Some(("Ref", Value::String(parameter))) => {
            assert!(parameter.ends_with("FunctionArn"), "{label}: invokes the function named by {parameter}");
            let arn =
                stack.set(parameter).unwrap_or_else(|| panic!("{label}: invokes {parameter}, which is empty here"));
            return arn.to_owned();
        }
        _ => None,
    };
    if let Some(id) = id {
        let created = stack.resources.get(id).is_some_and(|r| r["Type"] == "AWS::Lambda::Function");
        assert!(created, "{label}: invokes {id}, which is not created here");
        return id.to_owned();
    }
    panic!("{label}: invokes {value}, neither a function of the stack nor a <Name>FunctionArn")
}

/// Every name a `Ref`, `Fn::GetAtt`, `Fn::Sub` or `DependsOn` in `value` refers to.
pub(crate) fn references(value: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    collect_references(value, &mut names);
    if let Some(depends) = value.get("DependsOn") {
        names.extend(one_or_many(depends).iter().filter_map(|d| d.as_str().map(str::to_owned)));
    }
    names
}

fn collect_references(value: &Value, names: &mut BTreeSet<String>) {
    match single_entry(value) {
        Some(("Ref", Value::String(name))) => {
            names.insert(name.clone());
        }
        Some(("Fn::GetAtt", Value::Array(path))) => {
            names.extend(path[0].as_str().map(str::to_owned));
        }
        Some(("Fn::GetAtt", Value::String(path))) => {
            names.insert(path.split('.').next().unwrap().to_owned());
        }
        Some(("Fn::Sub", sub)) => {
            let (text, locals) = match sub {
                Value::Array(parts) => (parts[0].as_str().unwrap_or(""), parts.get(1).cloned().unwrap_or(Value::Null)),
                other => (other.as_str().unwrap_or(""), Value::Null),
            };
            for name in sub_variables(text) {
                if locals.get(&name).is_none() {
                    names.insert(name);
                }
            }
            if let Value::Object(locals) = locals {
                locals.values().for_each(|v| collect_references(v, names));
            }
        }
        _ => match value {
            Value::Array(items) => items.iter().for_each(|v| collect_references(v, names)),
            Value::Object(entries) => entries.values().for_each(|v| collect_references(v, names)),
            _ => {}
        },
    }
}

/// The resource or parameter each `${Name}` / `${Resource.Attribute}` of a `Fn::Sub` names
/// (not `${!Literal}`).
fn sub_variables(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let name = &rest[..end];
        if !name.starts_with('!') {
            names.push(name.split('.').next().unwrap().to_owned());
        }
        rest = &rest[end + 1..];
    }
    names
}

#[test]
fn the_notifications_role_reads_template_overrides_only_from_the_prefix_set() {
    let template = Template::load();
    for stack in stacks() {
        let Some(function) = stack.resources.get("NotificationsFunction") else { continue };
        let role_id = function["Properties"]["Role"]["Fn::GetAtt"][0].as_str().expect("the role");
        let s3: Vec<Value> = one_or_many(&stack.resources[role_id]["Properties"]["Policies"])
            .iter()
            .flat_map(|p| one_or_many(&p["PolicyDocument"]["Statement"]))
            .filter(|s| one_or_many(&s["Action"]).iter().any(|a| a.as_str().is_some_and(|a| a.starts_with("s3:"))))
            .collect();
        let label = format!("{}: NotificationsFunction", stack.name);
        if stack.parameter("TemplatesBucket") == json!("") {
            assert!(s3.is_empty(), "{label}: no bucket set, yet it may read S3: {s3:?}");
            continue;
        }
        let vars = &template.function_properties("NotificationsFunction")["Environment"]["Variables"];
        assert_eq!(vars["TEMPLATES_BUCKET"], json!({"Ref": "TemplatesBucket"}), "{label}");
        assert_eq!(vars["TEMPLATES_PREFIX"], json!({"Ref": "TemplatesPrefix"}), "{label}");
        let get = json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::${TemplatesBucket}/${TemplatesPrefix}*"});
        let list = json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::${TemplatesBucket}"});
        let granted: Vec<(Value, Value, Value)> =
            s3.iter().map(|s| (s["Action"].clone(), s["Resource"].clone(), s["Condition"].clone())).collect();
        assert_eq!(
            granted,
            [
                (json!("s3:GetObject"), get, Value::Null),
                (
                    json!("s3:ListBucket"),
                    list,
                    json!({"StringLike": {"s3:prefix": {"Fn::Sub": "${TemplatesPrefix}*"}}})
                ),
            ],
            "{label}: exactly the prefix's objects and its listing"
        );
    }
}
