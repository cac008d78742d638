//! EventBridge event patterns, as Lambda's event source mappings apply them in `FilterCriteria`
//! (the same syntax): a pattern is an object whose every key must match the event's field of
//! that name; an object value matches a nested object, a list matches when the field's value (or
//! any element of a list value) matches one of its entries. An entry is a literal (string,
//! number, boolean, null) or one operator: `prefix`, `suffix`, `equals-ignore-case`,
//! `anything-but`, `exists`, `numeric`. A field the event lacks matches only `{"exists": false}`.
//! <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html>

use serde_json::Value;

/// Whether `event` matches `pattern`. Panics on what is not a pattern, so that a template the
/// evaluator does not understand fails loudly rather than matching by accident.
pub(crate) fn matches(pattern: &Value, event: &Value) -> bool {
    let fields = pattern.as_object().unwrap_or_else(|| panic!("a pattern is an object: {pattern}"));
    fields.iter().all(|(name, wanted)| {
        let value = event.get(name);
        match wanted {
            Value::Object(_) => value.is_some_and(|v| v.is_object() && matches(wanted, v)),
            Value::Array(entries) => entries.iter().any(|entry| entry_matches(entry, value)),
            other => panic!("pattern field {name}: a list or an object, not {other}"),
        }
    })
}

fn entry_matches(entry: &Value, value: Option<&Value>) -> bool {
    if let Some(("exists", wanted)) = operator(entry) {
        return value.is_some() == (wanted == &Value::Bool(true));
    }
    match value {
        None => false,
        Some(Value::Array(items)) => items.iter().any(|item| scalar_matches(entry, item)),
        Some(item) => scalar_matches(entry, item),
    }
}

fn scalar_matches(entry: &Value, value: &Value) -> bool {
    let Some((name, argument)) = operator(entry) else {
        return match (entry, value) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (a, b) => a == b,
        };
    };
    let text = value.as_str();
    match name {
        "prefix" => text.is_some_and(|t| t.starts_with(argument.as_str().expect("prefix takes a string"))),
        "suffix" => text.is_some_and(|t| t.ends_with(argument.as_str().expect("suffix takes a string"))),
        "equals-ignore-case" => {
            text.is_some_and(|t| t.eq_ignore_ascii_case(argument.as_str().expect("equals-ignore-case takes a string")))
        }
        "anything-but" => match argument {
            Value::Array(excluded) => !excluded.iter().any(|e| scalar_matches(e, value)),
            Value::Object(_) => !scalar_matches(argument, value),
            literal => !scalar_matches(literal, value),
        },
        "numeric" => {
            let Some(number) = value.as_f64() else { return false };
            let conditions = argument.as_array().expect("numeric takes [op, value, …]");
            conditions.chunks(2).all(|pair| {
                let bound = pair[1].as_f64().expect("numeric compares with a number");
                match pair[0].as_str().expect("a numeric operator") {
                    "=" => number == bound,
                    "<" => number < bound,
                    "<=" => number <= bound,
                    ">" => number > bound,
                    ">=" => number >= bound,
                    other => panic!("numeric operator {other}"),
                }
            })
        }
        other => panic!("pattern operator {other} is not evaluated here"),
    }
}

/// `{"op": argument}` → `("op", argument)`.
fn operator(entry: &Value) -> Option<(&str, &Value)> {
    let object = entry.as_object().filter(|o| o.len() == 1)?;
    object.iter().next().map(|(k, v)| (k.as_str(), v))
}

#[test]
fn patterns_match_as_eventbridge_documents_them() {
    use serde_json::json;
    let record = json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "OUTBOX"}, "n": {"N": 5}}}, "tags": ["a", "b"]});
    let cases = [
        (json!({"eventName": ["INSERT"]}), true),
        (json!({"eventName": ["MODIFY", "REMOVE"]}), false),
        (json!({"dynamodb": {"NewImage": {"pk": {"S": ["OUTBOX"]}}}}), true),
        (json!({"dynamodb": {"NewImage": {"pk": {"S": ["ORDER"]}}}}), false),
        (json!({"dynamodb": {"OldImage": {"pk": {"S": ["OUTBOX"]}}}}), false),
        (json!({"eventName": [{"prefix": "INS"}]}), true),
        (json!({"eventName": [{"suffix": "ERT"}]}), true),
        (json!({"eventName": [{"equals-ignore-case": "insert"}]}), true),
        (json!({"eventName": [{"anything-but": ["REMOVE"]}]}), true),
        (json!({"eventName": [{"anything-but": "INSERT"}]}), false),
        (json!({"eventName": [{"anything-but": {"prefix": "IN"}}]}), false),
        (json!({"missing": [{"exists": false}]}), true),
        (json!({"missing": [{"exists": true}]}), false),
        (json!({"eventName": [{"exists": true}]}), true),
        (json!({"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 1, "<=", 5]}]}}}}), true),
        (json!({"dynamodb": {"NewImage": {"n": {"N": [{"numeric": ["<", 5]}]}}}}), false),
        (json!({"tags": ["b"]}), true),
        (json!({"tags": ["c"]}), false),
        (json!({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"pk": {"S": ["X"]}}}}), false),
    ];
    for (pattern, expected) in cases {
        assert_eq!(matches(&pattern, &record), expected, "{pattern}");
    }
}
