//! Each binary has its function resource, built for Lambda and swappable for an integrator's.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::build::{binaries, metadata};
use super::template::Template;
use super::workspace::{crate_of, function_crates};
use super::{FUNCTIONS, function_id, pascal, swappable};

pub(super) const RUNTIME: &str = "provided.al2023";

pub(super) const ARCHITECTURE: &str = "arm64";

/// CPU scales with memory in Lambda, and cold starts are TLS handshakes and key parsing.
pub(super) const MIN_HTTP_MEMORY_MB: u64 = 512;

#[test]
fn every_function_binary_has_a_function_resource_and_every_function_resource_a_binary() {
    let template = Template::load();
    let crates = function_crates();
    let in_manifests: BTreeSet<&str> = crates.iter().flat_map(|c| c.bins.iter().map(String::as_str)).collect();
    let in_table: BTreeSet<&str> = FUNCTIONS.iter().map(|f| f.bin).collect();
    assert_eq!(
        in_table, in_manifests,
        "tests/e2e/infra/mod.rs FUNCTIONS must list every [[bin]] of functions/*/Cargo.toml, with its crate's ROUTES, ACCESS and config variables"
    );

    let named = binaries();
    let resources: BTreeSet<&str> =
        template.resources_of("AWS::Serverless::Function").map(|(id, _)| id.as_str()).collect();
    let stray: Vec<&String> = named.keys().filter(|id| !resources.contains(id.as_str())).collect();
    assert!(stray.is_empty(), "infra/Makefile names binaries for {stray:?}, which are no function of the template");
    let mut in_template = BTreeMap::new();
    for id in resources {
        let bin = named.get(id).unwrap_or_else(|| panic!("infra/Makefile names no binary for {id}")).clone();
        assert!(in_template.insert(bin.clone(), id).is_none(), "two functions build binary `{bin}`");
    }
    assert_eq!(
        in_template.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        in_manifests,
        "function resources ≠ binaries"
    );
    for (bin, id) in in_template {
        assert_eq!(id, function_id(&bin), "the function building `{bin}` must be named {}", function_id(&bin));
    }
}

#[test]
fn functions_are_rust_builds_for_arm64_on_al2023() {
    let template = Template::load();
    let crates = function_crates();
    let metadata = metadata();
    for function in FUNCTIONS {
        let id = function_id(function.bin);
        let resource = template.resource(&id);
        let props = template.function_properties(&id);
        assert_eq!(props["Runtime"], RUNTIME, "{id} Runtime");
        assert_eq!(props["Architectures"], json!([ARCHITECTURE]), "{id} Architectures");
        assert_eq!(props["Handler"], "bootstrap", "{id} Handler");
        // Built by infra/Makefile from the one workspace build (`make lambdas`), not by SAM's
        // per-function cargo-lambda builder: see the comment above the template's functions.
        assert_eq!(resource["Metadata"], metadata, "{id} Metadata");
        let dir = &crate_of(&crates, function.bin).dir;
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
