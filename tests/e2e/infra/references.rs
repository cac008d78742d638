//! References: every name a `Ref`, `GetAtt`, `Sub` or `If` uses exists, and a conditional resource
//! is only named where its condition holds.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::template::{Template, one_or_many, sub_variables, visit};

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

/// Calls `found` with every resource name a `Ref`, `GetAtt` or `Sub` in `value` names, and the
/// conditions known true there (those of the `!If` branches it sits in).
pub(super) fn guarded_references(
    value: &Value,
    guards: &BTreeSet<String>,
    found: &mut impl FnMut(&str, &BTreeSet<String>),
) {
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
