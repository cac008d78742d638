//! The stacks CloudFormation would build from `infra/template.yaml`: each parameter set that
//! changes the template's shape, transformed by AWS's SAM translator (`scripts/deployment.py`,
//! with the tools venv's samtranslator), then its conditions evaluated as CloudFormation does
//! after the transform: resources whose `Condition` is false are not created, `Fn::If` takes its
//! branch, `AWS::NoValue` removes the property it stands for.
//!
//! The transform takes seconds (a Python start, then each set): its output is cached in the
//! temporary directory under a hash of the template, the script and the parameter sets, so that
//! only a changed template is transformed again.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::infra::Template;

/// The region `scripts/deployment.py` transforms for, as `AWS::Region`.
pub(crate) const REGION: &str = "eu-west-1";
pub(crate) const ACCOUNT: &str = "123456789012";
pub(crate) const STACK: &str = "nanoshop";

/// One deployment: a parameter set and what CloudFormation creates for it.
pub(crate) struct Stack {
    pub(crate) name: String,
    /// Every parameter's value: the set's, else the template's default.
    pub(crate) parameters: BTreeMap<String, Value>,
    /// The transformed template, before conditions.
    pub(crate) transformed: Value,
    /// The resources created, conditions evaluated (see the module's doc).
    pub(crate) resources: BTreeMap<String, Value>,
}

/// Every parameter set that changes the template's shape, each as CloudFormation would build it.
/// The first is the template as written, with only the required parameters.
pub(crate) fn stacks() -> &'static [Stack] {
    static STACKS: OnceLock<Vec<Stack>> = OnceLock::new();
    STACKS.get_or_init(|| {
        let template = Template::load();
        let sets = parameter_sets(&template);
        let transformed = transform(&sets);
        sets.into_iter()
            .map(|(name, set)| {
                let transformed = transformed[&name].clone();
                Stack::new(name, &template, set, transformed)
            })
            .collect()
    })
}

/// The stack as written (nothing swapped, nothing attached).
pub(crate) fn as_written() -> &'static Stack {
    &stacks()[0]
}

/// What the template requires, as a merchant's first deploy gives it.
fn required() -> BTreeMap<String, Value> {
    BTreeMap::from([
        ("AuthIssuer".into(), json!(format!("https://cognito-idp.{REGION}.amazonaws.com/{REGION}_nanoshop"))),
        ("AuthAudience".into(), json!("nanoshop-client")),
        ("AllowedOrigins".into(), json!("https://shop.example.com")),
    ])
}

/// The sets that change which resources exist: as written; each `<Name>FunctionArn` set (that
/// function swapped for an integrator's); every `Existing<T>Table` set (the tables attached, the
/// orders table with its stream); and the optional extras on (an alarm e-mail, every reserved
/// concurrency, template overrides from a bucket).
fn parameter_sets(template: &Template) -> Vec<(String, BTreeMap<String, Value>)> {
    let names: Vec<&String> = template.0["Parameters"].as_object().expect("Parameters").keys().collect();
    let with = |extra: Vec<(String, Value)>| {
        let mut set = required();
        set.extend(extra);
        set
    };
    let mut sets = vec![("as written".to_owned(), required())];
    for swapped in names.iter().filter_map(|n| n.strip_suffix("FunctionArn")) {
        let arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:integrators-{swapped}");
        sets.push((format!("{swapped} swapped"), with(vec![(format!("{swapped}FunctionArn"), json!(arn))])));
    }
    let attached = names
        .iter()
        .filter(|n| n.starts_with("Existing") && n.ends_with("Table"))
        .map(|n| ((*n).clone(), json!(format!("retained-{}", n.trim_start_matches("Existing")))))
        .chain([(
            "ExistingOrdersTableStreamArn".to_owned(),
            json!(format!(
                "arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/retained-OrdersTable/stream/2026-01-01T00:00:00.000"
            )),
        )])
        .collect();
    sets.push(("tables attached".to_owned(), with(attached)));
    let extras = names
        .iter()
        .filter(|n| n.ends_with("ReservedConcurrency"))
        .map(|n| ((*n).clone(), json!("5")))
        .chain([("AlarmEmail".to_owned(), json!("ops@example.com"))])
        .chain([
            ("TemplatesBucket".to_owned(), json!("shop-mail-templates")),
            ("TemplatesPrefix".to_owned(), json!("mail/")),
        ])
        .collect();
    sets.push(("reserved, with an alarm e-mail".to_owned(), with(extras)));
    sets
}

/// `scripts/deployment.py` over every set, or its cached output for the same inputs.
fn transform(sets: &[(String, BTreeMap<String, Value>)]) -> Map<String, Value> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = repo.join("scripts/deployment.py");
    let input = Value::Object(sets.iter().map(|(name, set)| (name.clone(), json!(set))).collect()).to_string();
    let mut hash = Sha256::new();
    for part in [
        std::fs::read(repo.join("infra/template.yaml")).unwrap(),
        std::fs::read(&script).unwrap(),
        input.clone().into_bytes(),
    ] {
        hash.update(part);
        hash.update([0]);
    }
    let hash: String = hash.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
    let cached = std::env::temp_dir().join(format!("nanoshop-deployment-{hash}.json"));
    if let Ok(text) = std::fs::read_to_string(&cached)
        && let Ok(Value::Object(out)) = serde_json::from_str(&text)
    {
        return out;
    }

    let python = tools_python();
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}; run `scripts/services.sh tools`", python.display()));
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "scripts/deployment.py: SAM's transform refused the template:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    // Written whole, then renamed: concurrent runs never read half a file.
    let partial = cached.with_extension(format!("{}.partial", std::process::id()));
    std::fs::write(&partial, &text).unwrap();
    std::fs::rename(&partial, &cached).unwrap();
    match serde_json::from_str(&text).unwrap() {
        Value::Object(out) => out,
        other => panic!("scripts/deployment.py wrote {other}"),
    }
}

/// The tools venv's Python (scripts/services.sh tools: SAM CLI, with samtranslator).
fn tools_python() -> PathBuf {
    let cache = std::env::var_os("NANOSHOP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/nanoshop"));
    let python = cache.join("venv/bin/python");
    assert!(python.exists(), "{} is missing: run `scripts/services.sh tools` (make test does)", python.display());
    python
}

impl Stack {
    fn new(name: String, template: &Template, set: BTreeMap<String, Value>, transformed: Value) -> Self {
        let mut parameters: BTreeMap<String, Value> = template.0["Parameters"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, declared)| {
                let value = declared.get("Default").cloned().unwrap_or(Value::Null);
                (name.clone(), value)
            })
            .collect();
        parameters.extend(set);
        let mut stack = Self { name, parameters, transformed, resources: BTreeMap::new() };
        let resources: Vec<(String, Value)> =
            stack.transformed["Resources"].as_object().expect("Resources").clone().into_iter().collect();
        for (id, resource) in resources {
            let created = resource.get("Condition").and_then(Value::as_str).is_none_or(|c| stack.condition(c));
            if created && let Some(resource) = stack.resolve(&resource) {
                stack.resources.insert(id, resource);
            }
        }
        stack
    }

    /// The value of condition `name` for this stack's parameters.
    pub(crate) fn condition(&self, name: &str) -> bool {
        let body =
            self.transformed["Conditions"].get(name).unwrap_or_else(|| panic!("{}: no condition {name}", self.name));
        self.truth(body)
    }

    /// A condition function (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`).
    fn truth(&self, node: &Value) -> bool {
        let (function, arguments) = single_entry(node).unwrap_or_else(|| panic!("{}: condition {node}", self.name));
        let all = || arguments.as_array().unwrap_or_else(|| panic!("{function} takes a list: {node}"));
        match function {
            "Fn::Equals" => {
                let [a, b] = all().as_slice() else { panic!("Fn::Equals takes two: {node}") };
                scalar(&self.value(a)) == scalar(&self.value(b))
            }
            "Fn::Not" => !self.truth(&all()[0]),
            "Fn::And" => all().iter().all(|c| self.truth(c)),
            "Fn::Or" => all().iter().any(|c| self.truth(c)),
            "Condition" => self.condition(arguments.as_str().expect("Condition names a condition")),
            other => panic!("{}: {other} is not a condition function", self.name),
        }
    }

    /// What a condition compares: a parameter's value or a literal.
    fn value(&self, node: &Value) -> Value {
        match single_entry(node) {
            Some(("Ref", Value::String(name))) => self.parameter(name),
            _ => node.clone(),
        }
    }

    pub(crate) fn parameter(&self, name: &str) -> Value {
        match name {
            "AWS::Region" => json!(REGION),
            "AWS::AccountId" => json!(ACCOUNT),
            "AWS::StackName" => json!(STACK),
            "AWS::Partition" => json!("aws"),
            _ => self.parameters.get(name).cloned().unwrap_or_else(|| panic!("{}: no parameter {name}", self.name)),
        }
    }

    /// `node` with every `Fn::If` taken and every `AWS::NoValue` removed; `None` when it is itself
    /// no value.
    fn resolve(&self, node: &Value) -> Option<Value> {
        if let Some(("Ref", Value::String(name))) = single_entry(node)
            && name == "AWS::NoValue"
        {
            return None;
        }
        if let Some(("Fn::If", Value::Array(branches))) = single_entry(node) {
            let [condition, then, otherwise] = branches.as_slice() else { panic!("Fn::If takes three: {node}") };
            let condition = condition.as_str().expect("Fn::If names a condition");
            return self.resolve(if self.condition(condition) { then } else { otherwise });
        }
        match node {
            Value::Array(items) => Some(Value::Array(items.iter().filter_map(|i| self.resolve(i)).collect())),
            Value::Object(entries) => {
                Some(Value::Object(entries.iter().filter_map(|(k, v)| Some((k.clone(), self.resolve(v)?))).collect()))
            }
            other => Some(other.clone()),
        }
    }

    /// The live resources of type `kind`.
    pub(crate) fn resources_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
        self.resources.iter().filter(move |(_, r)| r["Type"] == kind)
    }

    /// Parameters set to something other than their default (what makes this set).
    pub(crate) fn set(&self, name: &str) -> Option<&str> {
        self.parameters.get(name).and_then(Value::as_str).filter(|v| !v.is_empty())
    }

    /// A template value of the original (untransformed) template, resolved under this stack's
    /// conditions.
    pub(crate) fn resolved(&self, node: &Value) -> Value {
        self.resolve(node).unwrap_or(Value::Null)
    }
}

/// `{"Fn::X": args}` → `("Fn::X", args)`.
pub(crate) fn single_entry(node: &Value) -> Option<(&str, &Value)> {
    let object = node.as_object().filter(|o| o.len() == 1)?;
    object.iter().next().map(|(k, v)| (k.as_str(), v))
}

/// Condition comparisons are of strings (`30` and `"30"` are equal to CloudFormation).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
