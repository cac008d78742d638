//! The function crates of the workspace and their binaries, read from their manifests with a
//! TOML parser.

use serde::Deserialize;

use super::repo;

/// A function crate: its folder under `functions/`, and its binaries.
pub(super) struct Crate {
    pub(super) dir: String,
    pub(super) bins: Vec<String>,
    /// Whether it links the Stripe adapter.
    pub(super) links_payments: bool,
}

/// What the checks read of a `Cargo.toml`.
#[derive(Debug, Deserialize)]
struct Manifest {
    package: Package,
    #[serde(default)]
    bin: Vec<Bin>,
    #[serde(default)]
    dependencies: toml::Table,
}

#[derive(Debug, Deserialize)]
struct Package {
    name: String,
}

#[derive(Debug, Deserialize)]
struct Bin {
    name: String,
}

/// Each `functions/*` crate with its binaries: its `[[bin]]` names, or the package name for an
/// implicit `src/main.rs`.
pub(super) fn function_crates() -> Vec<Crate> {
    let mut crates = Vec::new();
    for entry in std::fs::read_dir(repo().join("functions")).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else { continue };
        let manifest = read_manifest(&text);
        let mut bins: Vec<String> = manifest.bin.into_iter().map(|b| b.name).collect();
        if bins.is_empty() && dir.join("src/main.rs").exists() {
            bins.push(manifest.package.name);
        }
        let dir = dir.file_name().unwrap().to_string_lossy().into_owned();
        crates.push(Crate { dir, bins, links_payments: manifest.dependencies.contains_key("nanoshop-payments") });
    }
    crates.sort_by(|a, b| a.dir.cmp(&b.dir));
    crates
}

/// The crate that builds `bin`.
pub(super) fn crate_of<'a>(crates: &'a [Crate], bin: &str) -> &'a Crate {
    crates.iter().find(|c| c.bins.iter().any(|b| b == bin)).unwrap_or_else(|| panic!("no crate builds `{bin}`"))
}

fn read_manifest(text: &str) -> Manifest {
    toml::from_str(text).unwrap_or_else(|e| panic!("a function's Cargo.toml: {e}"))
}

#[test]
fn manifests_are_read_for_their_package_binaries_and_dependencies() {
    let manifest = read_manifest(
        "[package]\nname = \"nanoshop-orders\" # the crate\n\n[[bin]]\nname = \"orders\"\npath = \"src/main.rs\"\n\
         [[bin]]\nname = 'orders-expirer'\n\n[dependencies]\nnanoshop-payments = { workspace = true }\n",
    );
    assert_eq!(manifest.package.name, "nanoshop-orders");
    assert_eq!(manifest.bin.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(), ["orders", "orders-expirer"]);
    assert!(manifest.dependencies.contains_key("nanoshop-payments"));
    let orders = function_crates().into_iter().find(|c| c.dir == "orders").unwrap();
    assert_eq!(orders.bins, ["orders", "orders-expirer", "orders-events-relay"]);
    assert!(orders.links_payments);
}
