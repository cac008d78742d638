//! Items and keys to DynamoDB's attribute maps and back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::failures::malformed;
use crate::port::{Item, Key, PK, PageKey, SK, StoreResult, Value};

pub(super) fn attribute(value: &Value) -> AttributeValue {
    match value {
        Value::S(s) => AttributeValue::S(s.clone()),
        Value::N(n) => AttributeValue::N(n.to_string()),
        Value::Bool(b) => AttributeValue::Bool(*b),
    }
}

pub(super) fn attributes(item: &Item) -> HashMap<String, AttributeValue> {
    item.0.iter().map(|(name, value)| (name.clone(), attribute(value))).collect()
}

pub(super) fn key_attributes(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

/// An item read from a table. Another writer may have stored types the port does not have (a
/// list, a fraction): that is an error naming the attribute, never a panic or a silent loss.
pub(super) fn item_from(attrs: &HashMap<String, AttributeValue>) -> StoreResult<Item> {
    let value = |name: &str, value: &AttributeValue| match value {
        AttributeValue::S(s) => Ok(Value::S(s.clone())),
        AttributeValue::N(n) => n
            .parse()
            .map(Value::N)
            .map_err(|_| malformed(format!("attribute `{name}` holds {n}, not a 64-bit integer"))),
        AttributeValue::Bool(b) => Ok(Value::Bool(*b)),
        _ => Err(malformed(format!("attribute `{name}` is not a string, number or boolean"))),
    };
    attrs.iter().map(|(name, v)| Ok((name.clone(), value(name, v)?))).collect::<StoreResult<_>>().map(Item)
}

pub(super) fn page_key(key: &HashMap<String, AttributeValue>) -> StoreResult<PageKey> {
    let part = |(name, value): (&String, &AttributeValue)| match value {
        AttributeValue::S(s) => Ok((name.clone(), s.clone())),
        _ => Err(malformed(format!("key attribute `{name}` of a page key is not a string"))),
    };
    key.iter().map(part).collect::<StoreResult<_>>().map(PageKey)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::StoreError;

    fn key() -> Key {
        Key::new("P#1", "S#1")
    }

    #[test]
    fn attributes_round_trip_and_foreign_types_are_errors_not_panics() {
        let item = Item::new(&key()).with("n", -42).with("s", "").with("b", true);
        assert_eq!(item_from(&attributes(&item)).expect("reads back"), item);
        for foreign in [AttributeValue::N("1.5".into()), AttributeValue::Null(true), AttributeValue::L(vec![])] {
            let mut attrs = attributes(&item);
            attrs.insert("odd".into(), foreign);
            assert!(matches!(item_from(&attrs), Err(StoreError::Backend(e)) if e.to_string().contains("`odd`")));
        }
    }
}
