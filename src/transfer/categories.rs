//! The category tree in a catalog file: its rows checked on their own and as a tree, and the
//! writes that bring a store's tree to the file's, parents first.
//!
//! A category row fills `category_slug`, `category_name` and optionally `category_parent`, and
//! nothing else. A parent may be a category of the file or one the store already has, so the
//! tree is checked twice: within the file while reading it (a slug listed twice, a cycle), and
//! against the store's tree before anything is written (a parent neither has, a cycle through
//! the store's categories).

use std::collections::HashMap;

use nanoshop_domain::catalog::{Category, Slug};

use super::model::{Catalog, CategoryDoc, CategoryEntry};
use super::table::{InvalidFile, TableError};

/// The columns of a category row, in the order an export writes them.
pub const CATEGORY_COLUMNS: [&str; 3] = ["category_slug", "category_name", "category_parent"];

/// Whether a row with these cells (by column) describes a category rather than a variant.
pub fn is_category_row<'a>(mut cell: impl FnMut(&str) -> &'a str) -> bool {
    CATEGORY_COLUMNS.iter().any(|column| !cell(column).trim().is_empty())
}

/// One category row, checked on its own. `filled` names the row's other non-empty columns.
///
/// # Errors
/// Each problem of the row: a missing or bad slug, a bad name or parent, a filled product column.
pub fn read_row<'a>(mut cell: impl FnMut(&str) -> &'a str, filled: &[&str]) -> Result<CategoryDoc, Vec<String>> {
    let mut errors = Vec::new();
    if !filled.is_empty() {
        errors.push(format!(
            "a category row leaves the product columns empty, but fills {}: put the product on a row of its own",
            filled.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    let (slug, name, parent) =
        (cell("category_slug").trim(), cell("category_name").trim(), cell("category_parent").trim());
    let checked_slug = match slug {
        "" => {
            errors.push("`category_slug` is missing (a row with a category name or parent is a category)".to_owned());
            None
        }
        s => s.parse::<Slug>().map_err(|e| errors.push(format!("category_slug `{s}`: {e}"))).ok(),
    };
    if let Some(slug) = checked_slug {
        // The domain's own rule for a name, as `PUT /categories/{slug}` will apply it.
        if let Err(invalid) = Category::new(slug, name, None, &[], 1) {
            errors.extend(invalid.0.iter().map(|e| format!("category_name: {}", e.message)));
        }
    }
    if let Err(e) = parent.parse::<Slug>()
        && !parent.is_empty()
    {
        errors.push(format!("category_parent `{parent}`: {e}"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let parent = (!parent.is_empty()).then(|| parent.to_owned());
    Ok(CategoryDoc { slug: slug.to_owned(), name: name.to_owned(), parent })
}

/// The problems of the file's categories among themselves: a slug on two rows, and cycles. A
/// parent that is not in the file may be in the store: [`plan`] checks that.
pub fn file_problems(entries: &[CategoryEntry], unit: &'static str) -> Vec<TableError> {
    let mut errors = Vec::new();
    let mut first_line: HashMap<&str, usize> = HashMap::new();
    for entry in entries {
        if let Some(first) = first_line.get(entry.category.slug.as_str()) {
            let reason = format!("category `{}` is already on {unit} {first}", entry.category.slug);
            errors.push(TableError { unit, line: entry.line, reason });
        } else {
            first_line.insert(&entry.category.slug, entry.line);
        }
    }
    errors.extend(tree_problems(entries, unit, None));
    errors
}

/// A category the store has, at its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCategory {
    pub category: CategoryDoc,
    pub version: u64,
}

/// One `PUT /categories/{slug}`: the category as the file has it, and the version it replaces
/// (`None`: it is created).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryWrite {
    pub category: CategoryDoc,
    pub replaces: Option<u64>,
}

/// The writes that make the store's tree hold the file's categories: each category that is
/// missing or differs (name or parent), ordered so every parent is written before its children.
/// Categories the file does not name are left alone.
///
/// # Errors
/// [`InvalidFile`] naming the line of each category whose parent is neither in the file nor in
/// the store, or which the file and the store together put in a cycle; nothing should be
/// written then.
pub fn plan(catalog: &Catalog, stored: &[StoredCategory]) -> Result<Vec<CategoryWrite>, InvalidFile> {
    let outside: HashMap<&str, Option<&str>> =
        stored.iter().map(|s| (s.category.slug.as_str(), s.category.parent.as_deref())).collect();
    let problems = tree_problems(&catalog.categories, catalog.unit, Some(&outside));
    if !problems.is_empty() {
        return Err(InvalidFile(problems));
    }
    let current: HashMap<&str, &StoredCategory> = stored.iter().map(|s| (s.category.slug.as_str(), s)).collect();
    let parent_of = parents(&catalog.categories, Some(&outside));
    let depth = |slug: &str| std::iter::successors(parent_of(slug), |p| parent_of(p)).count();
    let mut writes: Vec<(usize, CategoryWrite)> = catalog
        .categories
        .iter()
        .filter_map(|entry| match current.get(entry.category.slug.as_str()) {
            Some(stored) if stored.category == entry.category => None,
            stored => Some(CategoryWrite { category: entry.category.clone(), replaces: stored.map(|s| s.version) }),
        })
        .map(|write| (depth(&write.category.slug), write))
        .collect();
    // A parent is one level above its children: by depth, parents come first.
    writes.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.category.slug.cmp(&y.category.slug)));
    Ok(writes.into_iter().map(|(_, write)| write).collect())
}

/// Parent by slug: the file's word first, else the store's (`outside`).
fn parents<'a>(
    entries: &'a [CategoryEntry],
    outside: Option<&'a HashMap<&'a str, Option<&'a str>>>,
) -> impl Fn(&str) -> Option<&'a str> {
    let mut in_file: HashMap<&'a str, Option<&'a str>> = HashMap::new();
    for entry in entries {
        in_file.entry(entry.category.slug.as_str()).or_insert(entry.category.parent.as_deref());
    }
    move |slug: &str| in_file.get(slug).copied().or_else(|| outside.and_then(|o| o.get(slug).copied())).flatten()
}

/// Unknown parents (only when the store's categories, `outside`, are known) and cycles. A cycle
/// is reported once, on the first line of the file among its categories.
fn tree_problems(
    entries: &[CategoryEntry],
    unit: &'static str,
    outside: Option<&HashMap<&str, Option<&str>>>,
) -> Vec<TableError> {
    let parent_of = parents(entries, outside);
    let line_of: HashMap<&str, usize> =
        entries.iter().rev().map(|e| (e.category.slug.as_str(), e.line)).collect::<HashMap<_, _>>();
    let known = |slug: &str| line_of.contains_key(slug) || outside.is_some_and(|o| o.contains_key(slug));
    let bound = entries.len() + outside.map_or(0, HashMap::len);
    let mut errors = Vec::new();
    for entry in entries.iter().filter(|e| line_of.get(e.category.slug.as_str()) == Some(&e.line)) {
        let slug = entry.category.slug.as_str();
        let Some(parent) = entry.category.parent.as_deref() else { continue };
        if outside.is_some() && !known(parent) {
            let reason =
                format!("category `{slug}`: its parent `{parent}` is neither a category of the file nor of the store");
            errors.push(TableError { unit, line: entry.line, reason });
            continue;
        }
        let mut path = vec![slug, parent];
        let mut at = parent;
        while at != slug && path.len() <= bound + 1 {
            let Some(next) = parent_of(at) else { break };
            path.push(next);
            at = next;
        }
        let first_in_cycle = path.iter().filter_map(|s| line_of.get(s)).min() == Some(&entry.line);
        if at == slug && first_in_cycle {
            let reason = format!("category `{slug}` is its own ancestor: {}", path.join(" → "));
            errors.push(TableError { unit, line: entry.line, reason });
        }
    }
    errors
}

/// The categories of a tree, parents before their children: what an export writes.
pub fn in_tree_order(stored: Vec<StoredCategory>) -> Vec<CategoryEntry> {
    let children = |parent: Option<&str>| {
        let mut level: Vec<&StoredCategory> =
            stored.iter().filter(|s| s.category.parent.as_deref() == parent).collect();
        level.sort_by(|a, b| a.category.slug.cmp(&b.category.slug));
        level
    };
    let mut ordered = Vec::with_capacity(stored.len());
    let mut pending: Vec<&StoredCategory> = children(None).into_iter().rev().collect();
    while let Some(next) = pending.pop() {
        ordered.push(CategoryEntry { line: 0, category: next.category.clone() });
        pending.extend(children(Some(&next.category.slug)).into_iter().rev());
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(line: usize, slug: &str, parent: Option<&str>) -> CategoryEntry {
        let category = CategoryDoc { slug: slug.into(), name: slug.to_uppercase(), parent: parent.map(Into::into) };
        CategoryEntry { line, category }
    }

    fn stored(slug: &str, parent: Option<&str>, version: u64) -> StoredCategory {
        StoredCategory { category: entry(0, slug, parent).category, version }
    }

    fn catalog(categories: Vec<CategoryEntry>) -> Catalog {
        Catalog { unit: "line", categories, products: Vec::new() }
    }

    fn texts(errors: &[TableError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_slug_twice_and_a_cycle_are_each_reported_once_on_their_line() {
        let entries = vec![
            entry(2, "a", Some("c")),
            entry(3, "b", Some("a")),
            entry(4, "c", Some("b")),
            entry(5, "d", None),
            entry(6, "d", None),
            entry(7, "e", Some("e")),
        ];
        assert_eq!(
            texts(&file_problems(&entries, "line")),
            [
                "line 6: category `d` is already on line 5",
                "line 2: category `a` is its own ancestor: a → c → b → a",
                "line 7: category `e` is its own ancestor: e → e",
            ]
        );
    }

    #[test]
    fn a_parent_outside_the_file_is_looked_for_in_the_store() {
        let file = catalog(vec![entry(2, "shirts", Some("clothing")), entry(3, "mugs", Some("kitchen"))]);
        let error = plan(&file, &[stored("clothing", None, 1)]).expect_err("no kitchen anywhere");
        assert_eq!(
            texts(&error.0),
            ["line 3: category `mugs`: its parent `kitchen` is neither a category of the file nor of the store"]
        );
    }

    #[test]
    fn a_cycle_through_the_stores_categories_is_refused() {
        // The store has b under a; the file puts a under b.
        let error = plan(&catalog(vec![entry(4, "a", Some("b"))]), &[stored("a", None, 1), stored("b", Some("a"), 1)])
            .expect_err("a cycle");
        assert_eq!(texts(&error.0), ["line 4: category `a` is its own ancestor: a → b → a"]);
    }

    #[test]
    fn the_plan_writes_parents_first_and_skips_what_the_store_has() {
        let file = catalog(vec![
            entry(2, "linen", Some("shirts")),
            entry(3, "shirts", Some("clothing")),
            entry(4, "clothing", None),
            entry(5, "kitchen", None),
        ]);
        let writes = plan(&file, &[stored("kitchen", None, 3), stored("shirts", None, 2)]).expect("a valid tree");
        let order: Vec<_> = writes.iter().map(|w| (w.category.slug.as_str(), w.replaces)).collect();
        assert_eq!(order, [("clothing", None), ("shirts", Some(2)), ("linen", None)]);
    }

    #[test]
    fn the_tree_is_exported_parents_first() {
        let tree = vec![stored("shirts", Some("clothing"), 1), stored("kitchen", None, 1), stored("clothing", None, 1)];
        let slugs: Vec<_> = in_tree_order(tree).into_iter().map(|e| e.category.slug).collect();
        assert_eq!(slugs, ["clothing", "shirts", "kitchen"]);
    }
}
