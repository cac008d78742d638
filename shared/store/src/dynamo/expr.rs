//! The compiler from the port's conditions and updates to DynamoDB expressions.
//!
//! Every attribute name in an expression goes through a `#n` placeholder (many of ours, such as
//! `status`, are reserved words) and every value through a `:v` placeholder.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;

use super::convert::attribute;
use crate::port::{Condition, EXPIRES_AT, PK, SK, StoreError, StoreResult, Update, VERSION, Value};

/// An attribute no item has. An update that changes nothing still needs an `UpdateExpression`
/// (transactions require one, and moto fails without one), and removing an absent attribute is
/// the one no-op that still creates a missing item, as [`Update::apply`] does.
const NO_ATTRIBUTE: &str = "nanoshop:none";

/// One request's expressions: every attribute name becomes a `#nI` placeholder and every value a
/// `:vI` one, deduplicated. `now` is the second against which `expires_at` is judged.
pub(super) struct Expr {
    now: i64,
    names: Vec<String>,
    values: Vec<AttributeValue>,
}

impl Expr {
    pub(super) fn new(now: i64) -> Self {
        Self { now, names: Vec::new(), values: Vec::new() }
    }

    pub(super) fn name(&mut self, name: &str) -> String {
        let i = self.names.iter().position(|n| n == name).unwrap_or_else(|| {
            self.names.push(name.to_owned());
            self.names.len() - 1
        });
        format!("#n{i}")
    }

    pub(super) fn value(&mut self, value: Value) -> String {
        let value = attribute(&value);
        let i = self.values.iter().position(|v| *v == value).unwrap_or_else(|| {
            self.values.push(value);
            self.values.len() - 1
        });
        format!(":v{i}")
    }

    /// DynamoDB refuses empty placeholder maps.
    pub(super) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty())
            .then(|| self.names.iter().enumerate().map(|(i, n)| (format!("#n{i}"), n.clone())).collect())
    }

    pub(super) fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty())
            .then(|| self.values.iter().enumerate().map(|(i, v)| (format!(":v{i}"), v.clone())).collect())
    }

    /// `expires_at` is at or before now. A comparison with a missing attribute, or one of another
    /// type, is false, so this is exactly [`Item::is_expired`].
    fn expired(&mut self) -> String {
        format!("{} <= {}", self.name(EXPIRES_AT), self.value(Value::N(self.now)))
    }

    /// No item, or one that has not expired. Written as a negation rather than
    /// `attribute_not_exists(e) OR e > now` so that a non-numeric `expires_at` counts as live, as
    /// in [`Item::is_expired`].
    pub(super) fn live(&mut self) -> String {
        format!("NOT ({})", self.expired())
    }

    /// The condition as a `ConditionExpression` that holds exactly when [`Condition::holds`] does.
    pub(super) fn condition(&mut self, condition: &Condition) -> String {
        match condition {
            Condition::NotExists => format!("(attribute_not_exists({}) OR {})", self.name(PK), self.expired()),
            Condition::Exists => {
                format!("(attribute_exists({}) AND {})", self.name(PK), self.live())
            }
            Condition::VersionIs(v) => {
                format!("({} = {} AND {})", self.name(VERSION), self.value(Value::N(*v)), self.live())
            }
            Condition::AtLeast(name, min) => {
                format!("({} >= {} AND {})", self.name(name), self.value(Value::N(*min)), self.live())
            }
            Condition::Equals(name, value) => {
                format!("({} = {} AND {})", self.name(name), self.value(value.clone()), self.live())
            }
            // An empty conjunction holds; DynamoDB has no `true`, and a condition check needs one.
            Condition::And(all) if all.is_empty() => {
                format!("(attribute_exists({0}) OR attribute_not_exists({0}))", self.name(PK))
            }
            Condition::And(all) => {
                format!("({})", all.iter().map(|c| self.condition(c)).collect::<Vec<_>>().join(" AND "))
            }
        }
    }

    /// The update as an `UpdateExpression`, and a `ConditionExpression` that holds when the port's
    /// condition holds, the stored item is not expired (see [the adapter](super)) and no addition
    /// overflows an `i64` (DynamoDB's numbers would hold the result, which we could not read back).
    ///
    /// DynamoDB refuses two actions on one attribute, so the actions are first merged per
    /// attribute into the net effect [`Update::apply`] has: sets, then additions, then removals.
    pub(super) fn update(&mut self, update: &Update) -> StoreResult<(String, String)> {
        enum Effect {
            Set(Value),
            Add(i64),
            Remove,
        }
        let overflow = |name: &str| StoreError::Invalid(format!("`{name}` would overflow"));
        let mut effects = BTreeMap::new();
        for (name, value) in &update.set {
            effects.insert(name.as_str(), Effect::Set(value.clone()));
        }
        for (name, delta) in &update.add {
            let effect = match effects.remove(name.as_str()) {
                Some(Effect::Set(Value::N(n))) => {
                    Effect::Set(Value::N(n.checked_add(*delta).ok_or_else(|| overflow(name))?))
                }
                Some(Effect::Set(_)) => Effect::Set(Value::N(*delta)),
                Some(Effect::Add(d)) => Effect::Add(d.checked_add(*delta).ok_or_else(|| overflow(name))?),
                Some(Effect::Remove) | None => Effect::Add(*delta),
            };
            effects.insert(name.as_str(), effect);
        }
        for name in &update.remove {
            effects.insert(name.as_str(), Effect::Remove);
        }
        if effects.contains_key(PK) || effects.contains_key(SK) {
            return Err(StoreError::Invalid(format!("an update of {} cannot change pk or sk", update.key)));
        }

        let mut condition: Vec<String> = update.condition.iter().map(|c| self.condition(c)).collect();
        condition.push(self.live());
        let (mut set, mut remove) = (Vec::new(), Vec::new());
        for (name, effect) in effects {
            let n = self.name(name);
            match effect {
                Effect::Set(value) => set.push(format!("{n} = {}", self.value(value))),
                Effect::Add(delta) => {
                    set.push(format!(
                        "{n} = if_not_exists({n}, {}) + {}",
                        self.value(Value::N(0)),
                        self.value(Value::N(delta))
                    ));
                    // Missing counts as 0, which cannot overflow; the negation keeps that true.
                    match delta.signum() {
                        1 => condition.push(format!("NOT ({n} > {})", self.value(Value::N(i64::MAX - delta)))),
                        -1 => condition.push(format!("NOT ({n} < {})", self.value(Value::N(i64::MIN - delta)))),
                        _ => {}
                    }
                }
                Effect::Remove => remove.push(n),
            }
        }
        if set.is_empty() && remove.is_empty() {
            remove.push(self.name(NO_ATTRIBUTE));
        }
        let expression = [("SET", set), ("REMOVE", remove)]
            .into_iter()
            .filter(|(_, actions)| !actions.is_empty())
            .map(|(verb, actions)| format!("{verb} {}", actions.join(", ")))
            .collect::<Vec<_>>()
            .join(" ");
        Ok((expression, condition.join(" AND ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::Key;

    const NOW: i64 = 1_000;

    fn key() -> Key {
        Key::new("P#1", "S#1")
    }

    /// The condition with its placeholders substituted back, for readable assertions.
    fn compiled(condition: &Condition) -> String {
        let mut x = Expr::new(NOW);
        let text = x.condition(condition);
        substitute(&x, text)
    }

    fn substitute(x: &Expr, mut text: String) -> String {
        // Longest placeholders first, so `#n1` does not eat the start of `#n10`.
        for (i, name) in x.names.iter().enumerate().rev() {
            text = text.replace(&format!("#n{i}"), name);
        }
        for (i, value) in x.values.iter().enumerate().rev() {
            let shown = match value {
                AttributeValue::S(s) => format!("'{s}'"),
                AttributeValue::N(n) => n.clone(),
                other => format!("{other:?}"),
            };
            text = text.replace(&format!(":v{i}"), &shown);
        }
        text
    }

    #[test]
    fn conditions_treat_expired_items_as_absent() {
        assert_eq!(compiled(&Condition::NotExists), "(attribute_not_exists(pk) OR expires_at <= 1000)");
        assert_eq!(compiled(&Condition::Exists), "(attribute_exists(pk) AND NOT (expires_at <= 1000))");
        assert_eq!(compiled(&Condition::VersionIs(3)), "(version = 3 AND NOT (expires_at <= 1000))");
        assert_eq!(compiled(&Condition::AtLeast("stock".into(), 2)), "(stock >= 2 AND NOT (expires_at <= 1000))");
        assert_eq!(
            compiled(&Condition::And(vec![Condition::Exists, Condition::Equals("status".into(), "paid".into())])),
            "((attribute_exists(pk) AND NOT (expires_at <= 1000)) AND (status = 'paid' AND NOT (expires_at <= 1000)))"
        );
    }

    #[test]
    fn an_empty_conjunction_compiles_to_a_condition_that_always_holds() {
        assert_eq!(compiled(&Condition::And(vec![])), "(attribute_exists(pk) OR attribute_not_exists(pk))");
    }

    #[test]
    fn every_name_and_value_goes_through_a_deduplicated_placeholder() {
        let mut x = Expr::new(NOW);
        let text = x.condition(&Condition::And(vec![
            Condition::Equals("status".into(), "paid".into()),
            Condition::VersionIs(3),
        ]));
        assert!(!text.contains("status") && !text.contains("paid"), "{text}");
        assert_eq!(x.names, ["status", "expires_at", "version"]);
        assert_eq!(
            x.values,
            [AttributeValue::S("paid".into()), AttributeValue::N("1000".into()), AttributeValue::N("3".into())]
        );
        assert_eq!(x.names().map(|m| m["#n0"].clone()).as_deref(), Some("status"));
        assert_eq!(Expr::new(NOW).names(), None, "DynamoDB refuses an empty map");
    }

    fn compiled_update(update: &Update) -> StoreResult<(String, String)> {
        let mut x = Expr::new(NOW);
        let (expression, condition) = x.update(update)?;
        Ok((substitute(&x, expression), substitute(&x, condition)))
    }

    #[test]
    fn an_update_compiles_to_the_net_effect_of_apply() {
        let update = Update::new(key())
            .set("status", "paid")
            .set("a", 7)
            .add("a", 2)
            .add("stock", -3)
            .add("stock", 1)
            .set("gone", true)
            .remove("gone")
            .when(Condition::VersionIs(3));
        let (expression, condition) = compiled_update(&update).expect("compiles");
        assert_eq!(expression, "SET a = 9, status = 'paid', stock = if_not_exists(stock, 0) + -2 REMOVE gone");
        assert_eq!(
            condition,
            "(version = 3 AND NOT (expires_at <= 1000)) AND NOT (expires_at <= 1000) AND NOT (stock < -9223372036854775806)"
        );
    }

    #[test]
    fn an_update_refuses_an_expired_item_and_guards_against_overflow() {
        let (expression, condition) = compiled_update(&Update::new(key()).add("n", 5)).expect("compiles");
        assert_eq!(expression, "SET n = if_not_exists(n, 0) + 5");
        assert_eq!(condition, "NOT (expires_at <= 1000) AND NOT (n > 9223372036854775802)");
    }

    #[test]
    fn an_update_that_changes_nothing_still_creates_a_missing_item() {
        let (expression, _) = compiled_update(&Update::new(key())).expect("compiles");
        assert_eq!(expression, format!("REMOVE {NO_ATTRIBUTE}"));
    }

    #[test]
    fn an_update_may_not_change_the_key_or_overflow_in_itself() {
        assert!(matches!(compiled_update(&Update::new(key()).set(SK, "other")), Err(StoreError::Invalid(_))));
        let overflowing = Update::new(key()).add("n", i64::MAX).add("n", 1);
        assert!(matches!(compiled_update(&overflowing), Err(StoreError::Invalid(m)) if m.contains("`n`")));
    }
}
