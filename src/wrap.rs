//! Text wrapped for people, the crate's one wrapper: between words only
//! (a flag such as `--insecure-skip-tls-verify` is never cut at a hyphen,
//! a long word stays whole), each line of the input a paragraph, and the
//! continuation lines of a `- ` list item indented under it.
//!
//! [`label`] wraps the labels of `runbook graph` drawings: the graph holds
//! its labels unwrapped, and each renderer wraps every label exactly once,
//! here, joining the lines with its own line break (`<br/>` in Mermaid, `\n`
//! in DOT) after escaping each line.

/// `text` wrapped at `width` columns.
pub fn wrap(text: &str, width: usize) -> String {
    text.split('\n')
        .map(|line| fill(line, width))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One paragraph wrapped at `width` columns.
fn fill(line: &str, width: usize) -> String {
    let indent = if line.starts_with("- ") { "  " } else { "" };
    let options = textwrap::Options::new(width.max(1))
        .break_words(false)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .subsequent_indent(indent);
    textwrap::fill(line.trim_end(), options)
}

/// A label of a drawing: `text` wrapped once at `width` columns, each line
/// passed through `escape` and the lines joined by `line_break`.
///
/// Runs of whitespace (line breaks included) inside a paragraph count as
/// one space and blank lines are dropped, so a label never holds an empty
/// line or a doubled break; the lines of `text` stay paragraphs of their
/// own. Only a single word longer than `width` makes a line over it.
pub fn label(
    text: &str,
    width: usize,
    line_break: &str,
    escape: impl Fn(&str) -> String,
) -> String {
    label_lines(text, width)
        .iter()
        .map(|line| escape(line))
        .collect::<Vec<_>>()
        .join(line_break)
}

/// The lines of [`label`], unescaped.
pub fn label_lines(text: &str, width: usize) -> Vec<String> {
    text.lines()
        .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|paragraph| !paragraph.is_empty())
        .flat_map(|paragraph| {
            textwrap::wrap(
                &paragraph,
                textwrap::Options::new(width.max(1))
                    .break_words(false)
                    .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit)
                    .word_splitter(textwrap::WordSplitter::NoHyphenation),
            )
            .into_iter()
            .map(|line| line.trim_end().to_string())
            .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{label, label_lines, wrap};

    #[test]
    fn wraps_between_words_and_keeps_lines() {
        assert_eq!(wrap("a bb ccc dddd", 6), "a bb\nccc\ndddd");
        assert_eq!(
            wrap("averyveryverylongword x", 4),
            "averyveryverylongword\nx"
        );
        assert_eq!(wrap("a bb ccc", 4), "a bb\nccc");
        assert_eq!(wrap("one\n- two three", 7), "one\n- two\n  three");
        assert_eq!(
            wrap("use --insecure-skip-tls-verify now", 12),
            "use\n--insecure-skip-tls-verify\nnow"
        );
        assert_eq!(wrap("", 10), "");
    }

    #[test]
    fn labels_are_wrapped_once_without_blank_lines() {
        assert_eq!(label_lines("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(
            label_lines("one\n\n  two  three \n", 20),
            ["one", "two three"]
        );
        assert_eq!(
            label("say <b>\nnext", 40, "<br/>", |line| line
                .replace('<', "#lt;")),
            "say #lt;b><br/>next"
        );
        assert_eq!(label("a bb ccc", 4, "\\n", str::to_string), "a bb\\nccc");
        assert_eq!(label("", 10, "<br/>", str::to_string), "");
    }
}
