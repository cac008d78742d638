//! The documentation stays inside the repository: a fresh clone is all a reader has.
//!
//! Every relative link of every Markdown file must name a file or folder of the repository, and
//! no file may point at the `shared/` folder of a checkout around it (where the contract the
//! project started from once lay). ARCHITECTURE.md's code map names only paths that exist, and
//! has a row for each crate under its name. No services needed: `cargo test --test e2e -- docs`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Folders that are build output, installed packages or local state, never documentation.
const NOT_SOURCE: &[&str] = &[".git", "target", "node_modules", ".nanoshop", ".services", "test-output"];

/// The repository's files, relative to its root: what git tracks or would (untracked files not
/// ignored, so a new page is checked before it is committed), or (outside a git checkout,
/// as in a container build) every file outside [`NOT_SOURCE`].
fn files() -> Vec<PathBuf> {
    let root = repo();
    let tracked = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .output();
    if let Ok(out) = tracked
        && out.status.success()
    {
        return String::from_utf8_lossy(&out.stdout)
            .split('\0')
            .filter(|f| !f.is_empty())
            .map(PathBuf::from)
            .filter(|f| root.join(f).is_file())
            .collect();
    }
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(root.join(&dir)).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = dir.join(&name);
            if entry.file_type().unwrap().is_dir() {
                if !NOT_SOURCE.contains(&name.as_str()) {
                    pending.push(path);
                }
            } else {
                found.push(path);
            }
        }
    }
    found
}

fn markdown_files() -> Vec<PathBuf> {
    let md: Vec<PathBuf> = files().into_iter().filter(|f| f.extension().is_some_and(|e| e == "md")).collect();
    assert!(md.iter().any(|f| f == Path::new("README.md")), "the walk found no README.md: {md:?}");
    md
}

/// `text` without fenced code blocks and inline code spans, whose brackets are not links.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") || line.trim_start().starts_with("~~~") {
            fenced = !fenced;
            out.push('\n');
            continue;
        }
        if fenced {
            out.push('\n');
            continue;
        }
        // Inline code: drop what lies between pairs of backticks on the line.
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                out.push_str(part);
            } else {
                out.push(' ');
            }
        }
        out.push('\n');
    }
    out
}

/// The targets of the inline links and images (`[text](target "title")`) and of the reference
/// definitions (`[label]: target`) in `text`.
fn link_targets(text: &str) -> Vec<String> {
    let text = prose(text);
    let mut targets = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let target = match after.strip_prefix('<') {
            Some(bracketed) => bracketed.split('>').next().unwrap_or_default(),
            None => after.split([')', ' ', '\t', '\n']).next().unwrap_or_default(),
        };
        targets.push(target.to_owned());
        rest = after;
    }
    for line in text.lines() {
        let line = line.trim_start();
        if let Some(label_end) = line.strip_prefix('[').and_then(|l| l.find("]:"))
            && let Some(target) = line[label_end + 3..].split_whitespace().next()
        {
            targets.push(target.trim_start_matches('<').trim_end_matches('>').to_owned());
        }
    }
    targets
}

/// Whether a link leaves the repository on purpose: a URL with a scheme, or an anchor of the
/// same page.
fn is_external_or_anchor(target: &str) -> bool {
    if target.is_empty() || target.starts_with('#') {
        return true;
    }
    let before_path = target.split(['/', '?', '#']).next().unwrap_or_default();
    before_path.contains(':')
}

/// `relative` resolved against the folder `from` (both relative to the repository root) as a
/// path relative to the root; `None` when it climbs out of the repository. A leading `/` means
/// the root, as on GitHub.
fn resolve(from: &Path, relative: &str) -> Option<PathBuf> {
    let (mut parts, relative): (Vec<String>, &str) = match relative.strip_prefix('/') {
        Some(rooted) => (Vec::new(), rooted),
        None => (from.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect(), relative),
    };
    for segment in relative.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name.to_owned()),
        }
    }
    Some(parts.iter().collect())
}

/// What is wrong with a link `target` in the file `file`, if anything.
fn broken(file: &Path, target: &str) -> Option<String> {
    if is_external_or_anchor(target) {
        return None;
    }
    let path = target.split(['#', '?']).next().unwrap_or_default();
    let folder = file.parent().unwrap_or(Path::new(""));
    match resolve(folder, path) {
        None => Some(format!("{}: `{target}` points outside the repository", file.display())),
        Some(inside) if !repo().join(&inside).exists() => {
            Some(format!("{}: `{target}` names `{}`, which does not exist", file.display(), inside.display()))
        }
        Some(_) => None,
    }
}

#[test]
fn every_relative_link_in_the_docs_resolves_inside_the_repository() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let text = std::fs::read_to_string(repo().join(&file)).unwrap();
        for target in link_targets(&text) {
            checked += 1;
            problems.extend(broken(&file, &target));
        }
    }
    assert!(checked > 10, "only {checked} links found: is the link parser broken?");
    assert!(problems.is_empty(), "broken links:\n{}", problems.join("\n"));
}

/// Every `../`-relative mention of a `shared/` folder in `text`, with what it resolves to from
/// `folder`: the contract once lived in a `shared/` beside the checkout, and a path there means
/// nothing in a fresh clone. The crates under the repository's own `shared/` are fine (as
/// `fuzz/Cargo.toml` names them).
fn shared_mentions_outside(folder: &Path, text: &str) -> Vec<String> {
    let needle = format!("{}/shared/", "..");
    let mut found = Vec::new();
    for (at, _) in text.match_indices(&needle) {
        // Back up over a chain of `../` to where the path starts.
        let mut start = at;
        while start >= 3 && &text[start - 3..start] == "../" {
            start -= 3;
        }
        let end = text[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || "._-/".contains(c)))
            .map_or(text.len(), |n| at + n);
        let mention = &text[start..end];
        let inside = resolve(folder, mention).filter(|p| repo().join(p).exists());
        if inside.is_none() {
            found.push(mention.to_owned());
        }
    }
    found
}

#[test]
fn no_file_points_at_a_shared_folder_outside_the_repository() {
    let mut problems = Vec::new();
    for file in files() {
        let Ok(text) = std::fs::read_to_string(repo().join(&file)) else { continue };
        let folder = file.parent().unwrap_or(Path::new(""));
        for mention in shared_mentions_outside(folder, &text) {
            problems.push(format!("{}: `{mention}` is outside the repository", file.display()));
        }
    }
    assert!(problems.is_empty(), "point at docs/api.md instead:\n{}", problems.join("\n"));
}

#[test]
fn the_link_checker_tells_inside_from_outside() {
    let links = link_targets(
        "See [the API](docs/api.md#errors), ![logo](<img/a b.png> \"t\"), [web](https://x.example/a) \
         and `[not](a-link.md)`.\n```\n[nor](this.md)\n```\n[ref]: ../elsewhere.md\n",
    );
    assert_eq!(links, ["docs/api.md#errors", "img/a b.png", "https://x.example/a", "../elsewhere.md"]);

    let up = "..";
    let readme = Path::new("README.md");
    assert_eq!(broken(readme, "docs/api.md#errors"), None);
    assert_eq!(broken(readme, "https://example.com/x"), None);
    assert_eq!(broken(readme, "#anchor"), None);
    assert!(broken(readme, &format!("{up}/shared/API.md")).is_some_and(|p| p.contains("outside")));
    assert!(broken(readme, "docs/no-such-page.md").is_some_and(|p| p.contains("does not exist")));
    assert_eq!(broken(Path::new("docs/deploy.md"), "../README.md"), None);
    assert!(broken(Path::new("storefront-example/README.md"), &format!("{up}/{up}/shared/API.md")).is_some());

    let fuzz = format!("nanoshop-api = {{ path = \"{up}/shared/api\" }}");
    assert!(shared_mentions_outside(Path::new("fuzz"), &fuzz).is_empty(), "the repository's own crates");
    let readme_text = format!("its REST API (`{up}/shared/API.md`)");
    assert_eq!(shared_mentions_outside(Path::new(""), &readme_text), [format!("{up}/shared/API.md")]);
    let nested = format!("see {up}/{up}/shared/API.md.");
    assert_eq!(
        shared_mentions_outside(Path::new("storefront-example"), &nested),
        [format!("{up}/{up}/shared/API.md.")]
    );
}

/// One row of ARCHITECTURE.md's code map: the folder it describes, the crate it names (`None` for
/// `—`), and every backticked text of the row.
#[derive(Debug)]
struct CodeMapRow {
    path: String,
    krate: Option<String>,
    mentions: Vec<String>,
}

/// The texts between backticks in `text`.
fn backticked(text: &str) -> Vec<String> {
    text.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// The rows of the table under `## Code map` in `architecture`.
fn code_map(architecture: &str) -> Vec<CodeMapRow> {
    let section = architecture.split("\n## Code map").nth(1).expect("ARCHITECTURE.md has a `## Code map`");
    let section = section.split("\n## ").next().unwrap_or_default();
    let mut rows = Vec::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let [path, krate, ..] = cells[..] else { continue };
        let Some(path) = backticked(path).into_iter().next() else { continue }; // header, rule
        let krate = backticked(krate).into_iter().next();
        rows.push(CodeMapRow { path, krate, mentions: backticked(line) });
    }
    rows
}

/// Whether a backticked text of the code map is meant as a file or folder: it has a `/` or a
/// file's extension, and nothing a path here never has (`::`, spaces, placeholders, variables).
/// A leading `/` is a URL path (`/docs`), not a file.
fn names_a_path(text: &str) -> bool {
    const EXTENSIONS: &[&str] = &["rs", "toml", "yaml", "yml", "md", "sh", "py", "mjs", "js", "json", "html"];
    let has_extension = Path::new(text).extension().is_some_and(|e| EXTENSIONS.iter().any(|x| e == *x));
    let plain = !text.starts_with('/') && !text.contains(|c: char| c.is_whitespace() || ":<>${}()".contains(c));
    plain && (text.contains('/') || has_extension)
}

/// Whether `pattern` (with `*` for any run of characters within one path segment) matches
/// `path`.
fn glob_matches(pattern: &str, path: &str) -> bool {
    let (pattern, path): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    pattern.len() == path.len()
        && pattern.iter().zip(&path).all(|(p, s)| {
            let parts: Vec<&str> = p.split('*').collect();
            let (first, last) = (parts[0], parts[parts.len() - 1]);
            if parts.len() == 1 {
                return p == s;
            }
            let mut rest = match s.strip_prefix(first) {
                Some(rest) if rest.len() >= last.len() => rest,
                _ => return false,
            };
            for middle in &parts[1..parts.len() - 1] {
                match rest.find(middle) {
                    Some(at) => rest = &rest[at + middle.len()..],
                    None => return false,
                }
            }
            rest.ends_with(last)
        })
}

/// Where a path the code map names in `row` may be: from the repository root, from the row's
/// folder, or from that folder's `src/` (a crate's module files). The first that exists, if any.
fn locate(row: &str, mention: &str, files: &[PathBuf]) -> Option<PathBuf> {
    let row = Path::new(row);
    let candidates = [PathBuf::from(mention), row.join(mention), row.join("src").join(mention)];
    candidates.into_iter().find(|candidate| {
        let text = candidate.to_string_lossy();
        if text.contains('*') {
            files.iter().any(|f| glob_matches(&text, &f.to_string_lossy()))
        } else {
            repo().join(candidate).exists()
        }
    })
}

/// The workspace's packages: each one's folder relative to the repository (`""` for the root
/// package) and name, from `cargo metadata`.
fn workspace_packages() -> Vec<(String, String)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .current_dir(repo())
        .args(["metadata", "--offline", "--no-deps", "--format-version", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let root = std::fs::canonicalize(repo()).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| {
            let manifest = std::fs::canonicalize(package["manifest_path"].as_str().unwrap()).unwrap();
            let folder = manifest.parent().unwrap().strip_prefix(&root).unwrap().to_string_lossy().into_owned();
            (folder, package["name"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// The folder of the code map row that describes the package in `folder`: the folder itself, or
/// `src/` for the root package, whose code is there.
fn row_folder(folder: &str) -> &str {
    if folder.is_empty() { "src" } else { folder }
}

#[test]
fn every_path_the_code_map_names_exists() {
    let architecture = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap();
    let rows = code_map(&architecture);
    assert!(rows.len() > 10, "only {} code map rows found: is the table parser broken?", rows.len());
    let files = files();
    let mut problems = Vec::new();
    let mut checked = 0;
    for row in &rows {
        // A row may name a folder and then the files in it (`dynamo/` (`mod.rs`: …; `names.rs`…)):
        // a path is also looked for in each folder the row named before it.
        let mut folders: Vec<PathBuf> = Vec::new();
        for mention in row.mentions.iter().filter(|m| names_a_path(m)) {
            checked += 1;
            let found = locate(&row.path, mention, &files)
                .or_else(|| folders.iter().rev().map(|f| f.join(mention)).find(|p| repo().join(p).exists()));
            match found {
                Some(path) if mention.ends_with('/') => folders.push(path),
                Some(_) => {}
                None => problems.push(format!("the `{}` row names `{mention}`, which does not exist", row.path)),
            }
        }
    }
    assert!(checked > 40, "only {checked} paths found: is the path parser broken?");
    assert!(problems.is_empty(), "ARCHITECTURE.md's code map is out of date:\n{}", problems.join("\n"));
}

#[test]
fn the_code_map_has_a_row_for_each_crate_with_its_name() {
    let architecture = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap();
    let rows = code_map(&architecture);
    let row_of = |folder: &str| rows.iter().find(|r| r.path.trim_end_matches('/') == folder);
    let packages = workspace_packages();
    assert!(packages.len() > 5, "{packages:?}");
    let mut problems = Vec::new();
    for (folder, name) in &packages {
        match row_of(row_folder(folder)) {
            None => problems.push(format!("no row for `{}` (crate `{name}`)", row_folder(folder))),
            Some(row) if row.krate.as_deref() != Some(name) => {
                problems.push(format!("the `{}` row names crate {:?}, not `{name}`", row.path, row.krate));
            }
            Some(_) => {}
        }
    }
    for row in rows.iter().filter(|r| r.krate.is_some()) {
        if !packages.iter().any(|(folder, _)| row_folder(folder) == row.path.trim_end_matches('/')) {
            problems.push(format!("the `{}` row names crate {:?}, but no crate is there", row.path, row.krate));
        }
    }
    assert!(problems.is_empty(), "ARCHITECTURE.md's code map is out of date:\n{}", problems.join("\n"));
}

#[test]
fn the_code_map_reader_finds_paths_and_only_paths() {
    let map = "# A\n\n## Code map\n\n| path | crate | what |\n|---|---|---|\n\
               | `shared/x` | `nanoshop-x` | `port.rs` (the `Store` trait), `http/`, `nanoshop_api::run`, `$PORT` |\n\
               | `web/` | — | `tests/*.test.mjs`, `/docs`, `Existing<T>Table`, `docs/deploy.md` |\n\n## Next\n| `not/a/row` | | |\n";
    let rows = code_map(map);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].path.as_str(), rows[0].krate.as_deref()), ("shared/x", Some("nanoshop-x")));
    assert_eq!(rows[1].krate, None);
    let paths: Vec<&str> =
        rows.iter().flat_map(|r| &r.mentions).map(String::as_str).filter(|m| names_a_path(m)).collect();
    assert_eq!(paths, ["shared/x", "port.rs", "http/", "web/", "tests/*.test.mjs", "docs/deploy.md"]);

    assert!(glob_matches("web/tests/*.test.mjs", "web/tests/cart.test.mjs"));
    assert!(!glob_matches("web/tests/*.test.mjs", "web/tests/cart.spec.mjs"));
    assert!(!glob_matches("web/tests/*.test.mjs", "web/tests/deep/cart.test.mjs"));

    let files = files();
    assert_eq!(locate("shared/api", "capability.rs", &files), Some(PathBuf::from("shared/api/src/capability.rs")));
    assert_eq!(locate("infra/", "docs/deploy.md", &files), Some(PathBuf::from("docs/deploy.md")));
    assert_eq!(locate("shared/api", "no_such_module.rs", &files), None);
    assert!(locate("storefront-example/", "tests/*.test.mjs", &files).is_some());
    assert_eq!(locate("storefront-example/", "tests/*.nothing.mjs", &files), None);
}
