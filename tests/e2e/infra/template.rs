//! The template as JSON, with CloudFormation's long-form intrinsics, and the walks over it.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::repo;

pub(crate) struct Template(pub(crate) Value);

impl Template {
    pub(crate) fn load() -> Self {
        let path = repo().join("infra/template.yaml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let yaml: serde_norway::Value =
            serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self(long_form(yaml))
    }

    pub(crate) fn resources(&self) -> &Map<String, Value> {
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
    pub(crate) fn number(&self, value: &Value) -> i64 {
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
    pub(crate) fn refused_by_rules(&self, values: &BTreeMap<String, Value>) -> Vec<String> {
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

pub(crate) fn visit(value: &Value, f: &mut impl FnMut(&Value)) {
    f(value);
    match value {
        Value::Array(items) => items.iter().for_each(|v| visit(v, f)),
        Value::Object(entries) => entries.values().for_each(|v| visit(v, f)),
        _ => {}
    }
}

/// The `${Name}` / `${Resource.Attribute}` variables of an `Fn::Sub` string (not `${!Literal}`).
pub(crate) fn sub_variables(text: &str) -> Vec<String> {
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

pub(crate) fn one_or_many(value: &Value) -> Vec<Value> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    }
}
