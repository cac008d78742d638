//! The modules of each crate depend on each other one way: no `crate::` path leads from a module
//! back to itself through others. A loop (as `error`, `http` and `extract` of `nanoshop-api` once
//! were, and `local` and `local_images` of `nanoshop`) means none of its modules can be read, moved
//! or tested without the others. No services needed: `cargo test --test e2e -- layering`.
//!
//! What counts is the top-level module of a crate (`src/auth.rs` or everything under `src/auth/`)
//! and the non-test code of its files: every `crate::name` path, including grouped `use crate::{…}`
//! imports, resolved through the crate root's `pub use` re-exports. Comments (doc links too) and
//! `#[cfg(test)]` code are left out: tests may reach across freely.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where an edge was seen: the file (relative to the repository) and line.
type Site = (PathBuf, usize);

/// One crate's module graph: each top-level module, the modules it names and where.
type Graph = BTreeMap<String, BTreeMap<String, Site>>;

/// The `src` folders of every crate of the workspace.
fn crate_sources() -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from("src")];
    for group in ["shared", "functions"] {
        for entry in std::fs::read_dir(repo().join(group)).unwrap() {
            let src = Path::new(group).join(entry.unwrap().file_name()).join("src");
            if repo().join(&src).is_dir() {
                roots.push(src);
            }
        }
    }
    roots.sort();
    roots
}

/// The `.rs` files below `dir`, relative to the repository.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(repo().join(dir)).unwrap() {
        let entry = entry.unwrap();
        let path = dir.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            found.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

/// The top-level module a file belongs to (`auth` for `auth.rs`, `auth/mod.rs` and
/// `auth/jwt.rs`), or `None` for what is not a module of the crate: the crate root, binaries in
/// `src/bin` (crates of their own) and `tests.rs` files (test code).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    let is_test_file = relative.file_name().is_some_and(|f| f == "tests.rs");
    (!matches!(name, "lib" | "main" | "bin") && !is_test_file).then(|| name.to_owned())
}

/// `text` without comments and without its `#[cfg(test)]` items, lines kept where they were. A
/// test module declared by its file (`#[cfg(test)] mod testing;`) is one line; an inline one is
/// the last thing in a file by this repository's layout, so everything from it on is test code.
fn code(text: &str) -> String {
    let mut kept = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            let item = lines.next().unwrap_or_default();
            if item.trim_end().ends_with(';') {
                kept.push_str("\n\n");
                continue;
            }
            break;
        }
        kept.push_str(line.find("//").map_or(line, |at| &line[..at]));
        kept.push('\n');
    }
    kept
}

/// The first segment of every `crate::` path in `code`, with the line it is on:
/// `crate::error::ApiError` gives `error`, `crate::{http::Route, Json}` (over several lines or
/// one) gives `http` and `Json`.
fn crate_paths(code: &str) -> Vec<(String, usize)> {
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let line_of = |offset: usize| code[..offset].matches('\n').count() + 1;
    let mut names = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `nanoshop_crate::`, not ours
        }
        let rest_at = at + "crate::".len();
        let rest = &code[rest_at..];
        let Some(group) = rest.strip_prefix('{') else {
            names.push((ident(rest), line_of(at)));
            continue;
        };
        let (mut depth, mut first_of_item) = (0, true);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => first_of_item = true,
                c if first_of_item && !c.is_whitespace() => {
                    names.push((ident(&group[i..]), line_of(rest_at + 1 + i)));
                    first_of_item = false;
                }
                _ => {}
            }
        }
    }
    names.retain(|(n, _)| !n.is_empty() && n != "self");
    names
}

/// What the crate root re-exports, by name: `pub use error::{ApiError, Result};` maps `ApiError`
/// and `Result` to `error`.
fn reexports(root: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for statement in code(root).split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else { continue };
        let path = path.trim_start_matches("crate::").trim_start_matches("self::");
        let module: String = path.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !modules.contains(&module) {
            continue;
        }
        for name in path[module.len()..].split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if !name.is_empty() {
                map.entry(name.to_owned()).or_insert_with(|| module.clone());
            }
        }
    }
    map
}

fn graph(src: &Path) -> Graph {
    let files = rust_files(src);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| top_module(src, f)).collect();
    let root = ["lib.rs", "main.rs"]
        .iter()
        .filter_map(|r| std::fs::read_to_string(repo().join(src).join(r)).ok())
        .collect::<Vec<_>>()
        .join("\n");
    let reexported = reexports(&root, &modules);
    let mut graph = Graph::new();
    for file in &files {
        let Some(from) = top_module(src, file) else { continue };
        let text = std::fs::read_to_string(repo().join(file)).unwrap();
        for (name, line) in crate_paths(&code(&text)) {
            let to = if modules.contains(&name) { Some(&name) } else { reexported.get(&name) };
            if let Some(to) = to.filter(|to| **to != from) {
                graph.entry(from.clone()).or_default().entry(to.clone()).or_insert_with(|| (file.clone(), line));
            }
        }
    }
    graph
}

/// The modules `from` depends on, directly or through others.
fn reachable(graph: &Graph, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut pending = vec![from.to_owned()];
    while let Some(module) = pending.pop() {
        for next in graph.get(&module).into_iter().flat_map(BTreeMap::keys) {
            if seen.insert(next.clone()) {
                pending.push(next.clone());
            }
        }
    }
    seen
}

/// The loops of `graph`: each set of modules that all depend on each other.
fn loops(graph: &Graph) -> BTreeSet<BTreeSet<String>> {
    let reach: BTreeMap<&String, BTreeSet<String>> = graph.keys().map(|m| (m, reachable(graph, m))).collect();
    graph
        .keys()
        .filter(|m| reach[m].contains(*m))
        .map(|m| reach[m].iter().filter(|n| reach.get(n).is_some_and(|r| r.contains(m))).cloned().collect())
        .collect()
}

/// A shortest way around the loop `members`, from its first module back to it: each module with
/// where it names the next.
fn walk(graph: &Graph, members: &BTreeSet<String>) -> Vec<(String, Site)> {
    let first = members.first().expect("a loop has members");
    // Breadth first inside the loop, until an edge leads back to `first`.
    let mut came_from: BTreeMap<&String, (&String, &Site)> = BTreeMap::new();
    let mut queue = VecDeque::from([first]);
    while let Some(module) = queue.pop_front() {
        for (next, site) in graph[module].iter().filter(|(next, _)| members.contains(*next)) {
            if next == first {
                let mut path = vec![(module.clone(), site.clone())];
                let mut at = module;
                while at != first {
                    let (previous, site) = came_from[at];
                    path.push((previous.clone(), site.clone()));
                    at = previous;
                }
                path.reverse();
                return path;
            }
            if !came_from.contains_key(next) {
                came_from.insert(next, (module, site));
                queue.push_back(next);
            }
        }
    }
    unreachable!("every member of a loop leads back to the others")
}

fn describe(found: &[(String, Site)]) -> String {
    let mut text = String::new();
    for (i, (module, (file, line))) in found.iter().enumerate() {
        let next = &found[(i + 1) % found.len()].0;
        text.push_str(&format!("\n  {module} -> {next} ({}:{line})", file.display()));
    }
    text
}

/// Loops left on purpose, each with its reason (none today: the last, `shared/api`'s key ring and
/// secrets, ended when the key ring became a module of `secrets`). The test fails once a listed
/// loop is gone, so its entry goes with it; nothing is added here to let a new loop in.
const KNOWN_LOOPS: &[(&str, &[&str])] = &[];

#[test]
fn the_modules_of_every_crate_depend_one_way() {
    let mut problems = Vec::new();
    let mut edges = 0;
    let mut known_seen = BTreeSet::new();
    for src in crate_sources() {
        let graph = graph(&src);
        edges += graph.values().map(BTreeMap::len).sum::<usize>();
        for members in loops(&graph) {
            let known = KNOWN_LOOPS
                .iter()
                .find(|(crate_src, modules)| Path::new(crate_src) == src && members.iter().eq(modules.iter().copied()));
            match known {
                Some(known) => {
                    known_seen.insert(known.0);
                }
                None => {
                    let names: Vec<&str> = members.iter().map(String::as_str).collect();
                    let around = describe(&walk(&graph, &members));
                    problems.push(format!(
                        "{}: {} depend on each other, e.g.{around}",
                        src.display(),
                        names.join(", ")
                    ));
                }
            }
        }
    }
    for (crate_src, modules) in KNOWN_LOOPS {
        if !known_seen.contains(crate_src) {
            problems.push(format!("{crate_src}: the loop of {modules:?} is gone; take it out of KNOWN_LOOPS"));
        }
    }
    assert!(edges > 30, "only {edges} module dependencies found: is the scanner broken?");
    assert!(problems.is_empty(), "modules in a loop (move what both need below both):\n{}", problems.join("\n"));
}

#[test]
fn the_scanner_sees_every_form_of_crate_path_and_finds_loops() {
    let names = |code: &str| crate_paths(code).into_iter().map(|(name, _)| name).collect::<Vec<_>>();
    assert_eq!(names("use crate::error::ApiError;"), ["error"]);
    assert_eq!(names("use crate::{http::{Route, Access}, Json, self};"), ["http", "Json"]);
    assert_eq!(names("let x = crate::local::decode(&s); nanoshop_crate::y"), ["local"]);
    assert_eq!(
        crate_paths("use a;\nuse crate::{\n    error::ApiError,\n    http,\n};"),
        [("error".to_owned(), 3), ("http".to_owned(), 4)]
    );
    assert_eq!(code("use a; // crate::b\n#[cfg(test)]\nmod tests { use crate::c; }"), "use a; \n");
    assert_eq!(
        code("#[cfg(test)]\nmod testing;\npub use crate::x;\n#[cfg(test)]\nmod tests {}"),
        "\n\npub use crate::x;\n"
    );

    let modules = ["error", "http"].map(str::to_owned).into();
    let map = reexports("pub use error::{ApiError, Result};\npub use http::Route as R;\nmod x;", &modules);
    assert_eq!(map["ApiError"], "error");
    assert_eq!(map["R"], "http");

    let site = |line| (PathBuf::from("f.rs"), line);
    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into(), site(1));
    graph.entry("b".into()).or_default().insert("c".into(), site(2));
    graph.entry("c".into()).or_default().insert("d".into(), site(3));
    assert!(loops(&graph).is_empty());
    graph.entry("c".into()).or_default().insert("a".into(), site(4));
    graph.entry("d".into()).or_default().insert("d2".into(), site(5));
    graph.entry("d2".into()).or_default().insert("d".into(), site(6));
    let found = loops(&graph);
    let sets: Vec<Vec<&str>> = found.iter().map(|l| l.iter().map(String::as_str).collect()).collect();
    assert_eq!(sets, [vec!["a", "b", "c"], vec!["d", "d2"]]);
    let abc = found.first().unwrap();
    assert_eq!(describe(&walk(&graph, abc)), "\n  a -> b (f.rs:1)\n  b -> c (f.rs:2)\n  c -> a (f.rs:4)");
}
