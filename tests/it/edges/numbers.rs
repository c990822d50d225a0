//! 12.9: timeouts too large for SQLite or for a deadline are exit 2 naming the flag or the
//! key (they panicked with exit 101); the largest allowed value works.

use super::checked;
use crate::common::Project;

#[test]
fn oversized_timeouts_are_exit_2_naming_the_flag_or_key() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    for (flag, value) in [
        ("--busy-timeout", "3000000"),
        ("--migration-timeout", "18446744073709551615"),
        ("--migration-timeout", "18446744073709551616"),
        ("--lock-timeout", "2147484"),
    ] {
        let out = checked(&p.run(&["migrate", flag, value]).code(2));
        assert!(
            out.contains(flag) && out.contains(value),
            "{flag} {value}: {out}"
        );
        assert!(!p.db().exists());
    }
    p.config("[apply]\nbusy_timeout = 2147484\n");
    let out = checked(&p.run(&["migrate"]).code(2));
    assert!(
        out.contains("apply.busy_timeout = 2147484 is too large"),
        "{out}"
    );
    assert!(!p.db().exists());
    p.config("[apply]\nbusy_timeout = 2147483\nmigration_timeout = 2147483\n");
    checked(&p.run(&["migrate", "--lock-timeout", "2147483"]).code(0));
}
