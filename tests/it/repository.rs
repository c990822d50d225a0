//! What the repository promises about itself: its documents link only to what it holds,
//! docs/report.md describes every field of the report's JSON Schema, the licence file is
//! the one Cargo.toml names, and no dependency needs an assembler to build (the release
//! once failed on Windows for want of NASM: octocrab's default features pulled aws-lc-sys).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `(target, line)` of every Markdown link `[text](target)` outside code blocks.
fn links(markdown: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut in_code = false;
    for (i, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push((after[..end].to_string(), i + 1));
            rest = &after[end..];
        }
    }
    out
}

/// GitHub's anchor of a heading: lower case, spaces to dashes, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    markdown
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn links_in_the_documents_resolve_inside_the_repository() {
    let mut docs: Vec<PathBuf> = vec![root().join("README.md"), root().join("python/README.md")];
    docs.extend(
        std::fs::read_dir(root().join("docs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "md")),
    );
    let mut checked = 0;
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        for (target, line) in links(&text) {
            if target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            let (file, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let path = if file.is_empty() {
                doc.clone()
            } else {
                doc.parent().unwrap().join(file)
            };
            assert!(
                path.exists(),
                "{}:{line}: {target} is not in the repository",
                doc.display()
            );
            if !fragment.is_empty() {
                let heads = anchors(&std::fs::read_to_string(&path).unwrap());
                assert!(
                    heads.contains(fragment),
                    "{}:{line}: no heading #{fragment} in {}",
                    doc.display(),
                    path.display()
                );
            }
            checked += 1;
        }
        // Names of documents that are not in the repository, written without a link.
        assert!(
            !text.contains("DESIGN §"),
            "{} cites DESIGN.md",
            doc.display()
        );
    }
    assert!(checked >= 4, "only {checked} links checked");
}

#[test]
fn the_report_document_describes_every_field_of_the_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schema/report-v1.json")).unwrap(),
    )
    .unwrap();
    let doc = std::fs::read_to_string(root().join("docs/report.md")).unwrap();
    let mut fields: BTreeSet<String> = BTreeSet::new();
    let mut collect = |props: &serde_json::Value| {
        if let Some(map) = props.as_object() {
            fields.extend(map.keys().cloned());
        }
    };
    collect(&schema["properties"]);
    for def in schema["$defs"].as_object().unwrap().values() {
        collect(&def["properties"]);
    }
    assert!(fields.len() > 20, "{fields:?}");
    let missing: Vec<&String> = fields
        .iter()
        .filter(|f| !doc.contains(&format!("`{f}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/report.md does not describe {missing:?}"
    );
}

#[test]
fn the_licence_file_is_the_one_cargo_toml_names() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"MIT\""));
    let licence = std::fs::read_to_string(root().join("LICENSE")).unwrap();
    assert!(licence.starts_with("MIT License"), "{licence}");
    let pyproject = std::fs::read_to_string(root().join("pyproject.toml")).unwrap();
    assert!(pyproject.contains("license = { text = \"MIT\" }"));
}

/// `cargo tree --target all -i NAME` for each crate that needs an assembler or CMake:
/// none is in the graph, for any target, with any kind of dependency edge. (Cargo.lock
/// lists aws-lc-rs anyway, as an optional dependency of rustls that nothing enables.)
#[test]
fn no_dependency_needs_an_assembler_or_cmake() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for name in ["aws-lc-sys", "aws-lc-rs", "cmake", "openssl-sys"] {
        let out = std::process::Command::new(&cargo)
            .current_dir(root())
            .args([
                "tree",
                "--locked",
                "--offline",
                "--target",
                "all",
                "-i",
                name,
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Absent from the graph ("nothing to print") or not even in Cargo.lock.
        let absent = (out.status.success() && stderr.contains("nothing to print"))
            || stderr.contains("did not match any packages");
        assert!(
            absent && stdout.trim().is_empty(),
            "{name} is in the dependency graph (check the features of octocrab: rustls on ring):\n{stdout}\n{stderr}"
        );
    }
}
