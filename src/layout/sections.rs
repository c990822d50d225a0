//! Up and Down sections of one file (dbmate, goose), as byte ranges of the file's text so
//! that errors in them keep the file's real line and column (pure).
//!
//! - dbmate (`pkg/dbmate/migration.go`): the first line matching `^--\s*migrate:up` starts
//!   the Up block, the first `^--\s*migrate:down` the Down block; options follow the marker
//!   (`transaction:false`). Statements before the Up marker, or a Down marker before it,
//!   make dbmate refuse the file.
//! - goose (`internal/sqlparser/parser.go`): a line that starts with `--` and whose rest,
//!   trimmed, is exactly `+goose Up` / `+goose Down` switches sections;
//!   `+goose NO TRANSACTION` anywhere runs both without a transaction;
//!   `+goose StatementBegin`/`End` group statements for goose's own splitter, which SQLite's
//!   notion of a complete statement (what schemagate splits with) does not need.

use std::ops::Range;

/// The sections of one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sections {
    /// The Up SQL, from the line after the Up marker to the Down marker (or the end).
    pub up: Option<Range<usize>>,
    /// The Down SQL, from the line after the Down marker to the end.
    pub down: Option<Range<usize>>,
    pub up_no_transaction: bool,
    pub down_no_transaction: bool,
    /// Why the tool would refuse the file or run less of it than it looks like.
    pub problems: Vec<Problem>,
}

/// Something wrong with the markers, at a byte offset of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub offset: usize,
    pub message: String,
}

/// `(start, end_without_newline, next_line_start)` of every line.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str, usize)> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let next = (end + 1).min(text.len());
        let line = text[start..end].trim_end_matches('\r');
        // An editor's BOM is not part of the first line's text.
        let line = if start == 0 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        let item = (start, line, if end < text.len() { next } else { end });
        start = end + 1;
        Some(item)
    })
}

/// `-- migrate:up [options]`: the options, when `line` is that marker.
fn dbmate_marker<'a>(line: &'a str, which: &str) -> Option<&'a str> {
    let rest = line.strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("migrate:")?.strip_prefix(which)?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some(rest)
}

fn transaction_false(options: &str) -> bool {
    options
        .split_whitespace()
        .any(|pair| pair.split_once(':') == Some(("transaction", "false")))
}

/// Whether the file has a dbmate marker (for layout detection).
pub fn has_dbmate_marker(text: &str) -> bool {
    lines(text)
        .any(|(_, l, _)| dbmate_marker(l, "up").is_some() || dbmate_marker(l, "down").is_some())
}

/// Whether the file has a goose annotation (for layout detection).
pub fn has_goose_marker(text: &str) -> bool {
    lines(text).any(|(_, l, _)| matches!(goose_command(l), Some("+goose Up" | "+goose Down")))
}

/// The first Down marker of either tool (byte offset of its line, the marker as written):
/// in a layout that runs whole files it would run forward.
pub fn down_marker(text: &str) -> Option<(usize, &'static str)> {
    lines(text).find_map(|(start, l, _)| {
        if dbmate_marker(l, "down").is_some() {
            Some((start, "-- migrate:down"))
        } else if goose_command(l) == Some("+goose Down") {
            Some((start, "-- +goose Down"))
        } else {
            None
        }
    })
}

fn goose_command(line: &str) -> Option<&str> {
    line.strip_prefix("--").map(str::trim)
}

/// A line that is SQL, not blank and not a `--` comment.
fn is_sql_line(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with("--")
}

pub fn dbmate(text: &str) -> Sections {
    let mut up = None;
    let mut down = None;
    for (start, line, next) in lines(text) {
        if up.is_none()
            && let Some(opts) = dbmate_marker(line, "up")
        {
            up = Some((start, next, transaction_false(opts)));
        } else if down.is_none()
            && let Some(opts) = dbmate_marker(line, "down")
        {
            down = Some((start, next, transaction_false(opts)));
        }
    }
    let mut s = Sections::default();
    let Some((up_at, up_body, up_no_tx)) = up else {
        s.problems.push(Problem {
            offset: 0,
            message: "no `-- migrate:up` marker: dbmate refuses a migration without an Up block, and schemagate runs nothing of it".into(),
        });
        return s;
    };
    s.up_no_transaction = up_no_tx;
    match down {
        Some((down_at, down_body, down_no_tx)) if down_at > up_at => {
            s.up = Some(up_body..down_at);
            s.down = Some(down_body..text.len());
            s.down_no_transaction = down_no_tx;
        }
        Some((down_at, down_body, down_no_tx)) => {
            s.problems.push(Problem {
                offset: down_at,
                message: "`-- migrate:down` comes before `-- migrate:up`: dbmate requires the Up block first".into(),
            });
            s.up = Some(up_body..text.len());
            s.down = Some(down_body..up_at);
            s.down_no_transaction = down_no_tx;
        }
        None => s.up = Some(up_body..text.len()),
    }
    if let Some((start, _, _)) = lines(&text[..up_at]).find(|(_, l, _)| is_sql_line(l)) {
        s.problems.push(Problem {
            offset: start,
            message: "SQL before `-- migrate:up` belongs to no block: dbmate refuses the file, and schemagate does not run it".into(),
        });
    }
    s
}

pub fn goose(text: &str) -> Sections {
    let mut s = Sections::default();
    let mut up: Option<usize> = None;
    let mut down_marker: Option<(usize, usize)> = None;
    let mut no_tx = false;
    let mut sql_before_up = None;
    for (start, line, next) in lines(text) {
        match goose_command(line) {
            Some("+goose Up") if up.is_none() && down_marker.is_none() => up = Some(next),
            Some("+goose Down") if down_marker.is_none() => {
                if up.is_none() {
                    s.problems.push(Problem {
                        offset: start,
                        message: "`-- +goose Down` comes before `-- +goose Up`: goose requires the Up annotation first".into(),
                    });
                }
                down_marker = Some((start, next));
            }
            Some("+goose NO TRANSACTION") => no_tx = true,
            _ => {
                if up.is_none()
                    && down_marker.is_none()
                    && sql_before_up.is_none()
                    && is_sql_line(line)
                {
                    sql_before_up = Some(start);
                }
            }
        }
    }
    s.up_no_transaction = no_tx;
    s.down_no_transaction = no_tx;
    let Some(up_body) = up else {
        if down_marker.is_none() {
            s.problems.push(Problem {
                offset: 0,
                message: "no `-- +goose Up` annotation: goose refuses the file, and schemagate runs nothing of it".into(),
            });
        }
        if let Some((_, down_body)) = down_marker {
            s.down = Some(down_body..text.len());
        }
        return s;
    };
    match down_marker {
        Some((down_at, down_body)) if down_at > up_body => {
            s.up = Some(up_body..down_at);
            s.down = Some(down_body..text.len());
        }
        _ => s.up = Some(up_body..text.len()),
    }
    if let Some(offset) = sql_before_up {
        s.problems.push(Problem {
            offset,
            message: "SQL before `-- +goose Up` belongs to no section: goose refuses the file, and schemagate does not run it".into(),
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part<'a>(text: &'a str, r: &Option<Range<usize>>) -> &'a str {
        &text[r.clone().unwrap()]
    }

    #[test]
    fn dbmate_blocks_and_options() {
        let t = "-- migrate:up transaction:false\nCREATE TABLE u(id);\n\n-- migrate:down\nDROP TABLE u;\n";
        let s = dbmate(t);
        assert_eq!(part(t, &s.up), "CREATE TABLE u(id);\n\n");
        assert_eq!(part(t, &s.down), "DROP TABLE u;\n");
        assert!(s.up_no_transaction && !s.down_no_transaction);
        assert!(s.problems.is_empty());
        assert!(has_dbmate_marker(t));
        // `migrate:upgrade` is no marker; `--migrate:up` (no space) is one.
        let t = "-- migrate:upgrade\n--migrate:up\nSELECT 1;";
        assert_eq!(part(t, &dbmate(t).up), "SELECT 1;");
    }

    #[test]
    fn dbmate_refusals() {
        assert!(
            dbmate("CREATE TABLE u(id);\n").problems[0]
                .message
                .contains("no `-- migrate:up`")
        );
        let t = "-- migrate:down\nDROP TABLE u;\n-- migrate:up\nCREATE TABLE u(id);\n";
        let s = dbmate(t);
        assert!(s.problems[0].message.contains("before"));
        assert_eq!(part(t, &s.up), "CREATE TABLE u(id);\n");
        assert_eq!(part(t, &s.down), "DROP TABLE u;\n");
        let t = "-- a comment\nCREATE TABLE x(y);\n-- migrate:up\nSELECT 1;\n";
        let s = dbmate(t);
        assert_eq!(s.problems.len(), 1);
        assert_eq!(s.problems[0].offset, 13);
    }

    #[test]
    fn goose_sections() {
        let t = "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\nCREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\n-- +goose StatementEnd\n\n-- +goose Down\nDROP TRIGGER t;\n";
        let s = goose(t);
        assert!(part(t, &s.up).starts_with("-- +goose StatementBegin\nCREATE TRIGGER"));
        assert!(part(t, &s.up).ends_with("StatementEnd\n\n"));
        assert_eq!(part(t, &s.down), "DROP TRIGGER t;\n");
        assert!(s.up_no_transaction && s.down_no_transaction);
        assert!(s.problems.is_empty());
        // Annotations must start the line, and match exactly.
        assert!(!has_goose_marker("  -- +goose Up\n"));
        assert!(!has_goose_marker("-- +goose up\n"));
        assert!(has_goose_marker("--   +goose Up  \r\n"));
    }

    #[test]
    fn goose_refusals() {
        let s = goose("CREATE TABLE a(x);\n");
        assert!(s.up.is_none());
        assert!(s.problems[0].message.contains("no `-- +goose Up`"));
        let s = goose("-- +goose Down\nDROP TABLE a;\n-- +goose Up\nCREATE TABLE a(x);\n");
        assert!(s.up.is_none(), "goose stops at an Up after Down");
        assert!(s.problems[0].message.contains("before"));
        let s = goose("SELECT 1;\n-- +goose Up\nSELECT 2;\n");
        assert!(s.problems[0].message.contains("SQL before"));
    }
}
