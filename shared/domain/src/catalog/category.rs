//! Categories: a tree of slugs, checked against the existing ones so it never has a cycle.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Slug;
use crate::validation::{ValidationErrors, text};

/// A category; `parent` makes a tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Category {
    pub slug: Slug,
    pub name: String,
    pub parent: Option<Slug>,
    pub version: u64,
}

impl Category {
    /// A category, checked against the existing ones: the parent must exist, and may be neither
    /// the category itself nor one of its descendants (no cycles).
    ///
    /// # Errors
    /// A bad name, an unknown parent, or a cycle.
    pub fn new(
        slug: Slug,
        name: &str,
        parent: Option<Slug>,
        existing: &[Category],
        version: u64,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        text(&mut errors, "name", name, 1, 100);
        if let Some(parent) = &parent {
            let by_slug: BTreeMap<&Slug, &Category> = existing.iter().map(|c| (&c.slug, c)).collect();
            if !by_slug.contains_key(parent) {
                errors.add("parent", format!("there is no category `{parent}`"));
            } else {
                // Walk up from the parent; reaching `slug` means the new edge closes a cycle.
                let mut at = Some(parent);
                let mut steps = 0;
                while let Some(s) = at {
                    if *s == slug || steps > existing.len() {
                        errors.add("parent", "a category cannot be its own ancestor");
                        break;
                    }
                    at = by_slug.get(s).and_then(|c| c.parent.as_ref());
                    steps += 1;
                }
            }
        }
        errors.into_result(Self { slug, name: name.trim().to_owned(), parent, version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_refuse_unknown_parents_and_cycles() {
        let slug = |s: &str| s.parse::<Slug>().expect("slug");
        let a = Category::new(slug("a"), "A", None, &[], 1).expect("root");
        let b = Category::new(slug("b"), "B", Some(slug("a")), std::slice::from_ref(&a), 1).expect("child");
        let all = [a, b];
        assert!(Category::new(slug("c"), "C", Some(slug("zzz")), &all, 1).is_err());
        assert!(Category::new(slug("a"), "A", Some(slug("b")), &all, 2).is_err());
        assert!(Category::new(slug("a"), "A", Some(slug("a")), &all, 2).is_err());
        assert!(Category::new(slug("c"), "C", Some(slug("b")), &all, 1).is_ok());
    }
}
