//! Byte offsets in the source text: lines, columns, line endings.

/// The source text with a table of line starts, for offset → line/column.
#[derive(Debug)]
pub(crate) struct Source<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, line_starts }
    }

    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    /// The 1-based line holding the byte at `offset`.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    /// The 0-based column of `offset`, in characters.
    pub(crate) fn column(&self, offset: usize) -> usize {
        let start = line_start(self.text, offset);
        self.text
            .get(start..offset)
            .map_or(0, |s| s.chars().count())
    }
}

/// The offset where the line holding `offset` starts.
pub(crate) fn line_start(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// The start of the line after the content that ends (exclusive) at `end`:
/// `end` itself when the content ends with a line break, else just past the next `\n`,
/// else the end of the text.
pub(crate) fn after_line_of(text: &str, end: usize) -> usize {
    let bytes = text.as_bytes();
    if end == 0 || bytes.get(end - 1) == Some(&b'\n') {
        return end;
    }
    bytes[end.min(bytes.len())..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| end + i + 1)
}

/// The file's line ending: `\r\n` when its first line ends so, else `\n`.
pub(crate) fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// Whether the text holds nothing but an optional byte order mark.
pub(crate) fn is_blank_file(text: &str) -> bool {
    text.strip_prefix('\u{feff}').unwrap_or(text).is_empty()
}

/// Converts the parser's character indexes to byte offsets.
pub(crate) enum CharToByte {
    /// ASCII text: a character index is a byte offset.
    Ascii,
    /// The byte offset of every character, then the text length.
    Table(Vec<usize>),
}

impl CharToByte {
    pub(crate) fn new(text: &str) -> Self {
        if text.is_ascii() {
            return Self::Ascii;
        }
        let mut table: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        table.push(text.len());
        Self::Table(table)
    }

    pub(crate) fn byte(&self, char_index: usize, text_len: usize) -> usize {
        match self {
            Self::Ascii => char_index.min(text_len),
            Self::Table(table) => table.get(char_index).copied().unwrap_or(text_len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let source = Source::new("a: 1\r\nbé: x\n");
        assert_eq!(source.line(0), 1);
        assert_eq!(source.line(5), 1);
        assert_eq!(source.line(6), 2);
        assert_eq!(source.column(11), 4);
    }

    #[test]
    fn after_line() {
        let text = "a: 1 # c\nb: 2";
        assert_eq!(after_line_of(text, 4), 9);
        assert_eq!(after_line_of(text, 9), 9);
        assert_eq!(after_line_of(text, 13), 13);
    }

    #[test]
    fn endings() {
        assert_eq!(line_ending("a: 1\r\nb: 2\r\n"), "\r\n");
        assert_eq!(line_ending("a: 1\nb: 2\r\n"), "\n");
        assert_eq!(line_ending("a: 1"), "\n");
    }

    #[test]
    fn char_indexes_to_bytes() {
        let text = "é: ü";
        let map = CharToByte::new(text);
        assert_eq!(map.byte(0, text.len()), 0);
        assert_eq!(map.byte(1, text.len()), 2);
        assert_eq!(map.byte(3, text.len()), 4);
        assert_eq!(map.byte(4, text.len()), 6);
        assert_eq!(map.byte(99, text.len()), 6);
    }
}
