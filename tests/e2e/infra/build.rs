//! How `sam build` builds each function: `infra/Makefile` (the template's `BuildMethod: makefile`)
//! names, per logical id, the binary of the one workspace build (`make lambdas`) it packages.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::repo;

/// The `Metadata` every function resource carries: built by `build-<LogicalId>` of the Makefile
/// in the template's own directory (`ContextPath` is relative to it).
pub(crate) fn metadata() -> Value {
    json!({"BuildMethod": "makefile", "ContextPath": "."})
}

/// Every function's binary by logical id: the `build-<LogicalId>: BIN := <bin>` lines of
/// `infra/Makefile`. The place a function's binary is named; everything else reads it here.
pub(crate) fn binaries() -> BTreeMap<String, String> {
    let path = repo().join("infra/Makefile");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut binaries = BTreeMap::new();
    for line in text.lines() {
        let Some((id, bin)) = line.strip_prefix("build-").and_then(|rest| rest.split_once(": BIN := ")) else {
            continue;
        };
        let previous = binaries.insert(id.trim().to_owned(), bin.trim().to_owned());
        assert!(previous.is_none(), "infra/Makefile names the binary of {id} twice");
    }
    assert!(!binaries.is_empty(), "infra/Makefile names no binary (`build-<LogicalId>: BIN := <bin>` lines)");
    binaries
}

/// The binary the function resource `id` runs.
pub(crate) fn binary_of(id: &str) -> String {
    binaries()
        .remove(id)
        .unwrap_or_else(|| panic!("infra/Makefile names no binary for {id}: add `build-{id}: BIN := <bin>`"))
}
