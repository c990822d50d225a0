//! Placeholder until the splitter lands.
pub fn skeleton(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}
