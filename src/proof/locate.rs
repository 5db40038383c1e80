//! Where something is in a JSON file, for the proof diagnostics that quote
//! a certificate or a public key file: the byte offset of the line and
//! column `serde_json` reports an error at, and the byte range of the value
//! at a path of keys and indexes (a certificate's `format`, its second
//! signature) in a text that parsed.

use std::ops::Range;

/// One step of a path into a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// The value of this key of an object.
    Key(&'a str),
    /// The element at this index of an array (from 0).
    Index(usize),
}

/// The byte range `serde_json` points at with its 1-based `line` and
/// `column` (a column of 0: the line's start): one character, or nothing
/// at the end of the text.
pub fn error_span(text: &str, line: usize, column: usize) -> Range<usize> {
    let line_start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let mut at = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let end = text[at..]
        .chars()
        .next()
        .map_or(at, |character| at + character.len_utf8());
    at..end
}

/// [`error_span`] of an error about a value (`serde_json`'s data errors
/// point at the value's last character): the whole value when it is a
/// string, a number or a literal that ends there.
pub fn value_error_span(text: &str, line: usize, column: usize) -> Range<usize> {
    let span = error_span(text, line, column);
    let bytes = text.as_bytes();
    match bytes.get(span.start) {
        Some(b'"') => {
            let mut start = span.start;
            while start > 0 {
                start -= 1;
                if bytes[start] == b'"' && (start == 0 || bytes[start - 1] != b'\\') {
                    return start..span.end;
                }
                if bytes[start] == b'\n' {
                    break;
                }
            }
            span
        }
        Some(byte) if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'+') => {
            let start = text[..span.start]
                .rfind(|character: char| {
                    !(character.is_ascii_alphanumeric() || matches!(character, '.' | '-' | '+'))
                })
                .map_or(0, |at| at + 1);
            start..span.end
        }
        _ => span,
    }
}

/// The byte range of the value at `path` in the JSON `text`, if there is
/// one (and the text is JSON as far as the walk goes).
pub fn value_span(text: &str, path: &[Step<'_>]) -> Option<Range<usize>> {
    Walker {
        bytes: text.as_bytes(),
        at: 0,
    }
    .find(path)
}

/// A walk over JSON text that skips what it does not look for.
struct Walker<'t> {
    bytes: &'t [u8],
    at: usize,
}

impl<'t> Walker<'t> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn blank(&mut self) {
        while self.peek().is_some_and(|byte| byte.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    /// Takes `byte` (after blanks), or fails.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.blank();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn find(&mut self, path: &[Step<'_>]) -> Option<Range<usize>> {
        self.blank();
        let Some((step, rest)) = path.split_first() else {
            let start = self.at;
            self.skip()?;
            return Some(start..self.at);
        };
        match (self.peek()?, step) {
            (b'{', Step::Key(wanted)) => {
                self.at += 1;
                loop {
                    self.blank();
                    if self.peek()? == b'}' {
                        return None;
                    }
                    let key = self.string()?;
                    self.expect(b':')?;
                    if key == wanted.as_bytes() {
                        return self.find(rest);
                    }
                    self.skip()?;
                    self.blank();
                    match self.peek()? {
                        b',' => self.at += 1,
                        _ => return None,
                    }
                }
            }
            (b'[', Step::Index(wanted)) => {
                self.at += 1;
                let mut index = 0;
                loop {
                    self.blank();
                    if self.peek()? == b']' {
                        return None;
                    }
                    if index == *wanted {
                        return self.find(rest);
                    }
                    self.skip()?;
                    index += 1;
                    self.blank();
                    match self.peek()? {
                        b',' => self.at += 1,
                        _ => return None,
                    }
                }
            }
            _ => None,
        }
    }

    /// A string's raw content (escapes left as written), the quotes taken.
    fn string(&mut self) -> Option<&'t [u8]> {
        self.expect(b'"')?;
        let start = self.at;
        loop {
            match self.peek()? {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    let bytes: &'t [u8] = self.bytes;
                    return bytes.get(start..self.at - 1);
                }
                _ => self.at += 1,
            }
        }
    }

    /// Skips one value.
    fn skip(&mut self) -> Option<()> {
        self.blank();
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.at += 1;
                loop {
                    self.blank();
                    if self.peek()? == close {
                        self.at += 1;
                        return Some(());
                    }
                    if open == b'{' {
                        self.string()?;
                        self.expect(b':')?;
                    }
                    self.skip()?;
                    self.blank();
                    match self.peek()? {
                        b',' => self.at += 1,
                        byte if byte == close => {}
                        _ => return None,
                    }
                }
            }
            _ => {
                // A number, `true`, `false` or `null`.
                let start = self.at;
                while self.peek().is_some_and(|byte| {
                    !byte.is_ascii_whitespace() && !matches!(byte, b',' | b']' | b'}')
                }) {
                    self.at += 1;
                }
                (self.at > start).then_some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{error_span, value_error_span, value_span, Step};

    const TEXT: &str = "{\n  \"format\": 2,\n  \"model\": {\"v\": \"a\\\"b\"},\n  \"signatures\": [\n    {\"approver\": \"bob\"},\n    {\"approver\": \"carol\"}\n  ]\n}\n";

    #[test]
    fn values_are_found_by_key_and_index() {
        let at = |path: &[Step<'_>]| value_span(TEXT, path).map(|range| &TEXT[range]);
        assert_eq!(at(&[Step::Key("format")]), Some("2"));
        assert_eq!(
            at(&[Step::Key("signatures"), Step::Index(1)]),
            Some("{\"approver\": \"carol\"}")
        );
        assert_eq!(
            at(&[
                Step::Key("signatures"),
                Step::Index(0),
                Step::Key("approver")
            ]),
            Some("\"bob\"")
        );
        assert_eq!(at(&[Step::Key("signatures"), Step::Index(2)]), None);
        assert_eq!(at(&[Step::Key("missing")]), None);
        assert_eq!(value_span("{\"a\": ", &[Step::Key("a")]), None);
    }

    #[test]
    fn serde_json_positions_become_byte_ranges() {
        let text = "{\n  \"é\": tru\n}";
        let error = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
        let span = error_span(text, error.line(), error.column());
        assert!(text.is_char_boundary(span.start));
        assert_eq!(error_span(text, 1, 0), 0..1);
        let text = "{\n  \"servers\": \"th\\\"ree\",\n  \"states\": -12.5e3\n}";
        let error =
            serde_json::from_str::<std::collections::BTreeMap<String, u32>>(text).unwrap_err();
        let span = value_error_span(text, error.line(), error.column());
        assert_eq!(&text[span], "\"th\\\"ree\"");
        let span = value_error_span(text, 3, 19);
        assert_eq!(&text[span], "-12.5e3");
        assert_eq!(error_span(text, 9, 9), text.len()..text.len());
    }
}
