//! The layer map of `lib.rs`, enforced: the pure core imports only the core and does no
//! I/O; every module is on the map. A test, so a change that breaks the layering fails CI
//! instead of growing an import cycle one `use` at a time.
//!
//! Test code (`#[cfg(test)]` modules, which by convention close a file) may use the shell
//! to build fixtures; only the code before the first `#[cfg(test)]` line is checked.

use std::path::{Path, PathBuf};

/// Modules that touch no file, database, process or network, and import only each other.
const CORE: &[&str] = &[
    "layout",
    "name",
    "migration",
    "checksum",
    "sql",
    "plan",
    "schema",
    "config",
    "lint",
    "report",
    "base",
    "baseline",
    "cascade",
    "renumber",
    "generate",
];

/// What the core must not mention: I/O in the standard library and the crates that do it.
const IO: &[&str] = &[
    "std::fs",
    "std::process",
    "std::net",
    "std::env::var",
    "std::env::current_dir",
    "std::io::stdin",
    "std::io::stdout",
    "Command::new",
    "File::open",
    "File::create",
    "rusqlite::Connection",
    "Connection::open",
    "tokio::",
    "octocrab",
    "anstream::",
    "println!",
    "eprintln!",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The `.rs` files of a top-level module (`src/x.rs`, or everything under `src/x/`).
fn files_of(module: &str) -> Vec<PathBuf> {
    let file = src().join(format!("{module}.rs"));
    if file.is_file() {
        return vec![file];
    }
    let mut out = Vec::new();
    let mut stack = vec![src().join(module)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The code of a file without its test modules.
fn non_test_code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let cut = text.find("\n#[cfg(test)]").unwrap_or(text.len());
    text[..cut]
        .lines()
        // Doc and line comments may name other modules to point at them.
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// First segments of `crate::...` paths, including grouped imports (`crate::{a, b::c}`).
fn crate_modules(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let first = item.trim().split("::").next().unwrap_or("");
                out.push(first.to_string());
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

/// `pub mod x;` and `mod x;` lines of lib.rs.
fn declared_modules() -> Vec<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn the_core_imports_only_the_core() {
    let mut problems = Vec::new();
    for module in CORE {
        for file in files_of(module) {
            let code = non_test_code(&file);
            for used in crate_modules(&code) {
                // Items of lib.rs itself (re-exports) are not modules.
                if !CORE.contains(&used.as_str()) && declared_modules().contains(&used) {
                    problems.push(format!("{}: imports crate::{used}", file.display()));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "core modules import the shell:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_core_does_no_io() {
    let mut problems = Vec::new();
    for module in CORE {
        for file in files_of(module) {
            let code = non_test_code(&file);
            for needle in IO {
                if code.contains(needle) {
                    problems.push(format!("{}: uses {needle}", file.display()));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "I/O in the core:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_map_in_lib_rs_names_every_module() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let docs: String = lib
        .lines()
        .filter(|l| l.starts_with("//!"))
        .collect::<Vec<_>>()
        .join("\n");
    for module in declared_modules() {
        if module == "layers" {
            continue;
        }
        assert!(
            docs.contains(&format!("[`{module}`]")),
            "lib.rs's module map does not mention `{module}`"
        );
    }
    for module in CORE {
        assert!(
            declared_modules().iter().any(|m| m == module),
            "`{module}` is listed as core but not declared in lib.rs"
        );
    }
}

#[test]
fn the_checks_see_what_they_look_for() {
    assert_eq!(
        crate_modules("use crate::{cli::Format, lint};\nlet x = crate::db::open();"),
        ["cli", "lint", "db"]
    );
}
