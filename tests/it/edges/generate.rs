//! 12.13: `generate` past a version too large to count on is exit 2 with a clear message,
//! and writes nothing (it wrote `000…001_x.sql`, below every other version).

use super::checked;
use crate::common::Project;

#[test]
fn generate_refuses_past_a_very_long_version() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    let long = format!("{}_b.sql", "9".repeat(45));
    p.file(&long, "CREATE TABLE b(x);\n");
    let out = checked(&p.cmd().args(["generate", "add_c"]).assert().code(2));
    assert!(out.contains("too large to count on"), "{out}");
    let names: Vec<_> = std::fs::read_dir(p.migrations())
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(names.len(), 2);
}
