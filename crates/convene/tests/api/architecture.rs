//! Architecture invariants that can be checked mechanically (ARCHITECTURE.md).

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn dependencies(krate: &str) -> String {
    let manifest =
        std::fs::read_to_string(workspace().join("crates").join(krate).join("Cargo.toml")).unwrap();
    // Only [dependencies], not dev-dependencies.
    let start = manifest.find("[dependencies]").unwrap();
    let rest = &manifest[start + 1..];
    let end = rest.find("\n[").map(|i| i + 1).unwrap_or(rest.len());
    rest[..end].to_string()
}

/// Every module says what it is for in a `//!` header.
#[test]
fn every_module_has_a_header() {
    let mut files = Vec::new();
    for krate in std::fs::read_dir(workspace().join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.exists() {
            rust_files(&src, &mut files);
        }
    }
    assert!(files.len() > 20);
    let missing: Vec<_> = files
        .iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap().starts_with("//!"))
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a //! header: {missing:?}"
    );
}

/// **Architecture Invariant:** the domain does no IO.
#[test]
fn the_domain_crate_depends_on_no_io_crate() {
    let deps = dependencies("domain");
    for forbidden in ["sqlx", "tokio", "axum", "reqwest", "lettre", "hyper"] {
        assert!(
            !deps.contains(forbidden),
            "convene-domain must not depend on {forbidden}"
        );
    }
}

/// **Architecture Invariant:** only the storage crate knows SQL.
#[test]
fn only_the_store_depends_on_sqlx() {
    for krate in ["domain", "app", "web", "convene"] {
        assert!(
            !dependencies(krate).contains("sqlx"),
            "{krate} must not depend on sqlx"
        );
    }
    assert!(dependencies("store").contains("sqlx"));
}
