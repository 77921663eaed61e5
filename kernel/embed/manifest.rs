//! Turns a runtime crate's `Cargo.toml` into one that builds on its own, outside the workspace.
//!
//! The kernel carries the `cellar` runtime crates inside its binary and unpacks them into a data
//! folder, far from the workspace they were written in. There, `version.workspace = true` and
//! `serde = { workspace = true }` have nothing to inherit from, sibling crates are not where
//! `path = "../codegen"` says, and dev-dependencies and benches only cost build time. This module
//! is shared by `build.rs` (which writes the standalone manifests) and the kernel's unit tests.

use crate::runtime_crates::RUNTIME_CRATES;
use toml::{Table, Value};

/// Sections that only matter to the crate's own tests, benchmarks and examples.
const LEFT_OUT: [&str; 4] = ["dev-dependencies", "bench", "test", "example"];

/// A standalone manifest: workspace values filled in, sibling runtime crates referred to as
/// `../<package name>`, nothing that builds only for the crate's own tests or benches.
///
/// `workspace` is the workspace root manifest the crate inherits from (empty when the crate
/// comes from a registry, whose manifests are already resolved).
pub fn standalone(member: &Table, workspace: &Table) -> Result<Table, String> {
    let mut manifest = member.clone();
    for section in LEFT_OUT {
        manifest.remove(section);
    }
    if let Some(Value::Table(package)) = manifest.get_mut("package") {
        inherit_package_fields(package, workspace)?;
        package.remove("workspace");
    }
    for section in ["dependencies", "build-dependencies"] {
        if let Some(Value::Table(dependencies)) = manifest.get_mut(section) {
            resolve_dependencies(dependencies, workspace)?;
        }
    }
    if let Some(Value::Table(targets)) = manifest.get_mut("target") {
        for (_, target) in targets.iter_mut() {
            if let Value::Table(target) = target {
                target.remove("dev-dependencies");
                for section in ["dependencies", "build-dependencies"] {
                    if let Some(Value::Table(dependencies)) = target.get_mut(section) {
                        resolve_dependencies(dependencies, workspace)?;
                    }
                }
            }
        }
    }
    Ok(manifest)
}

fn inherit_package_fields(package: &mut Table, workspace: &Table) -> Result<(), String> {
    let shared = workspace_section(workspace, "package");
    for (key, value) in package.iter_mut() {
        if is_inherited(value) {
            *value = shared.and_then(|s| s.get(key)).cloned().ok_or_else(|| {
                format!(
                    "package.{key} inherits from the workspace, \
                         which has no workspace.package.{key}"
                )
            })?;
        }
    }
    Ok(())
}

fn resolve_dependencies(dependencies: &mut Table, workspace: &Table) -> Result<(), String> {
    let shared = workspace_section(workspace, "dependencies");
    for (name, spec) in dependencies.iter_mut() {
        if is_inherited(spec) {
            let base = shared.and_then(|s| s.get(name)).ok_or_else(|| {
                format!(
                    "dependency `{name}` inherits from the workspace, which does not declare it"
                )
            })?;
            *spec = merge_inherited(base, spec);
        }
        if let Some(sibling) = runtime_sibling(name) {
            *spec = point_at_sibling(spec, sibling);
        }
    }
    Ok(())
}

/// `[workspace.<section>]` of the workspace root manifest.
fn workspace_section<'a>(workspace: &'a Table, section: &str) -> Option<&'a Table> {
    workspace
        .get("workspace")
        .and_then(|w| w.get(section))
        .and_then(Value::as_table)
}

fn is_inherited(value: &Value) -> bool {
    value.get("workspace").and_then(Value::as_bool) == Some(true)
}

/// `{ workspace = true, features = [...], optional = ... }` over the workspace's own entry:
/// features add up, the member's other keys win.
fn merge_inherited(base: &Value, member: &Value) -> Value {
    let mut merged = detailed(base);
    let Some(member) = member.as_table() else {
        return Value::Table(merged);
    };
    for (key, value) in member {
        match key.as_str() {
            "workspace" => {}
            "features" => {
                let mut features: Vec<Value> = merged
                    .get("features")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for feature in value.as_array().into_iter().flatten() {
                    if !features.contains(feature) {
                        features.push(feature.clone());
                    }
                }
                merged.insert("features".into(), Value::Array(features));
            }
            _ => {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Table(merged)
}

/// A dependency as a table: `"1"` becomes `{ version = "1" }`.
fn detailed(spec: &Value) -> Table {
    match spec {
        Value::Table(table) => table.clone(),
        version => Table::from_iter([("version".to_string(), version.clone())]),
    }
}

/// The unpacked folder name of a runtime crate this dependency names, if it is one.
fn runtime_sibling(dependency: &str) -> Option<&'static str> {
    RUNTIME_CRATES
        .iter()
        .map(|krate| krate.package)
        .find(|package| *package == dependency)
}

fn point_at_sibling(spec: &Value, sibling: &str) -> Value {
    let mut table = detailed(spec);
    table.insert("path".into(), Value::String(format!("../{sibling}")));
    Value::Table(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Table {
        text.parse().unwrap()
    }

    const WORKSPACE: &str = r#"
[workspace]
members = ["runtime", "runtime/macros"]
[workspace.package]
version = "0.3.1"
edition = "2021"
license = "MIT OR Apache-2.0"
[workspace.dependencies]
blake3 = "1"
serde = { version = "1", features = ["derive"] }
"#;

    const CELLAR: &str = r#"
[package]
name = "cellar"
version.workspace = true
edition.workspace = true
license.workspace = true
[dependencies]
cellar-macros = { path = "macros", version = "0.3.1" }
blake3.workspace = true
serde = { workspace = true, features = ["rc"], optional = true }
lru = "0.16"
[dev-dependencies]
criterion = "0.7"
[[bench]]
name = "cache"
harness = false
"#;

    #[test]
    fn package_fields_come_from_the_workspace() {
        let out = standalone(&parse(CELLAR), &parse(WORKSPACE)).unwrap();
        let package = out["package"].as_table().unwrap();
        assert_eq!(package["version"].as_str(), Some("0.3.1"));
        assert_eq!(package["edition"].as_str(), Some("2021"));
        assert_eq!(package["license"].as_str(), Some("MIT OR Apache-2.0"));
    }

    #[test]
    fn inherited_dependencies_keep_the_workspace_entry_and_add_their_own_features() {
        let out = standalone(&parse(CELLAR), &parse(WORKSPACE)).unwrap();
        let deps = out["dependencies"].as_table().unwrap();
        assert_eq!(deps["blake3"]["version"].as_str(), Some("1"));
        let serde = deps["serde"].as_table().unwrap();
        assert_eq!(serde["version"].as_str(), Some("1"));
        let features: Vec<_> = serde["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert_eq!(features, ["derive", "rc"]);
        assert_eq!(serde["optional"].as_bool(), Some(true));
        assert!(!serde.contains_key("workspace"));
        assert_eq!(deps["lru"].as_str(), Some("0.16"));
    }

    #[test]
    fn sibling_runtime_crates_are_found_beside_it() {
        let out = standalone(&parse(CELLAR), &parse(WORKSPACE)).unwrap();
        let macros = out["dependencies"]["cellar-macros"].as_table().unwrap();
        assert_eq!(macros["path"].as_str(), Some("../cellar-macros"));
        assert_eq!(macros["version"].as_str(), Some("0.3.1"));
        // A registry manifest names it by version only: it gets the path too.
        let registry = parse("[package]\nname = \"cellar\"\nversion = \"0.3.1\"\n[dependencies.cellar-macros]\nversion = \"0.3.1\"\n");
        let out = standalone(&registry, &Table::new()).unwrap();
        assert_eq!(
            out["dependencies"]["cellar-macros"]["path"].as_str(),
            Some("../cellar-macros")
        );
    }

    #[test]
    fn benches_and_dev_dependencies_are_left_out() {
        let out = standalone(&parse(CELLAR), &parse(WORKSPACE)).unwrap();
        assert!(!out.contains_key("dev-dependencies"));
        assert!(!out.contains_key("bench"));
        assert!(!toml::to_string(&out).unwrap().contains("workspace"));
    }

    #[test]
    fn a_field_the_workspace_lacks_is_an_error_that_names_it() {
        let member = parse("[package]\nname = \"x\"\nversion.workspace = true\n");
        let error = standalone(&member, &Table::new()).unwrap_err();
        assert!(error.contains("package.version"), "{error}");
        let member = parse("[package]\nname = \"x\"\n[dependencies]\nsyn.workspace = true\n");
        let error = standalone(&member, &parse(WORKSPACE)).unwrap_err();
        assert!(error.contains("`syn`"), "{error}");
    }
}
