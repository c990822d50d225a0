//! Byte offset → (line, column) mapping for diagnostics.

/// Lines end at `\n` (so `\r\n` works; a lone `\r` does not end a line).
/// Columns count chars, not bytes. The index keeps no copy of the text: it
/// records where each multi-byte char sits, so a lookup is two binary searches.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    /// Byte offset of the start of each line; `starts[0] == 0`.
    starts: Vec<usize>,
    wide: Vec<Wide>,
    len: usize,
}

#[derive(Debug, Clone, Copy)]
struct Wide {
    at: usize,
    len: usize,
    /// Extra bytes (beyond one per char) of all multi-byte chars before this one.
    extra_before: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        let mut wide = Vec::new();
        let mut extra = 0;
        for (i, &b) in text.as_bytes().iter().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            } else if b >= 0xC0 {
                let len = match b {
                    0xF0.. => 4,
                    0xE0.. => 3,
                    _ => 2,
                };
                wide.push(Wide {
                    at: i,
                    len,
                    extra_before: extra,
                });
                extra += len - 1;
            }
        }
        LineIndex {
            starts,
            wide,
            len: text.len(),
        }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Number of chars that start before `offset`; an offset inside a char
    /// counts as that char's start.
    fn chars_before(&self, offset: usize) -> usize {
        let k = self.wide.partition_point(|w| w.at < offset);
        let Some(w) = k.checked_sub(1).map(|k| self.wide[k]) else {
            return offset;
        };
        let inside = if offset >= w.at + w.len {
            w.len - 1
        } else {
            offset - w.at
        };
        offset - w.extra_before - inside
    }

    /// 1-based line and 1-based column (in chars). Offsets past the end map
    /// to the end of the text.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.len);
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        (
            line,
            self.chars_before(offset) - self.chars_before(start) + 1,
        )
    }

    /// Byte offset where 1-based `line` starts.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line.checked_sub(1)?).copied()
    }

    /// Text of 1-based `line` without its `\n` / `\r\n`; `""` when out of range.
    pub fn line_text<'a>(&self, text: &'a str, line: usize) -> &'a str {
        let Some(start) = self.line_start(line) else {
            return "";
        };
        let end = self.starts.get(line).map_or(self.len, |&s| s - 1);
        let s = text.get(start..end).unwrap_or("");
        s.strip_suffix('\r').unwrap_or(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_crlf_and_multibyte() {
        let text = "ab\r\ncé€😀x\n\nlast";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_count(), 4);
        assert_eq!(idx.line_col(0), (1, 1));
        assert_eq!(idx.line_col(2), (1, 3)); // the '\r'
        assert_eq!(idx.line_col(4), (2, 1));
        let x = text.find('x').unwrap();
        assert_eq!(idx.line_col(x), (2, 5));
        // Inside the 4-byte emoji: its own column.
        assert_eq!(idx.line_col(x - 2), (2, 4));
        assert_eq!(idx.line_col(x + 1), (2, 6));
        assert_eq!(idx.line_col(x + 2), (3, 1));
        assert_eq!(idx.line_col(text.len()), (4, 5));
        assert_eq!(idx.line_col(usize::MAX), (4, 5));
        assert_eq!(idx.line_text(text, 1), "ab");
        assert_eq!(idx.line_text(text, 2), "cé€😀x");
        assert_eq!(idx.line_text(text, 3), "");
        assert_eq!(idx.line_text(text, 4), "last");
        assert_eq!(idx.line_text(text, 0), "");
        assert_eq!(idx.line_text(text, 5), "");
    }

    #[test]
    fn columns_match_char_counting_everywhere() {
        let text = "é\r\n  ñé -- ü\n\u{feff}x€\n";
        let idx = LineIndex::new(text);
        for (off, _) in text.char_indices() {
            let before = &text[..off];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
            assert_eq!(idx.line_col(off), (line, col), "offset {off}");
        }
        assert_eq!(LineIndex::new("").line_col(0), (1, 1));
    }
}
