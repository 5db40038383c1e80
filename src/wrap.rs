//! Text wrapped for people, the crate's one wrapper: between words only
//! (a flag such as `--insecure-skip-tls-verify` is never cut at a hyphen,
//! a long word stays whole), each line of the input a paragraph, and the
//! continuation lines of a `- ` list item indented under it.

/// `text` wrapped at `width` columns.
pub fn wrap(text: &str, width: usize) -> String {
    text.split('\n')
        .map(|line| {
            let indent = if line.starts_with("- ") { "  " } else { "" };
            let options = textwrap::Options::new(width.max(1))
                .break_words(false)
                .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit)
                .word_splitter(textwrap::WordSplitter::NoHyphenation)
                .subsequent_indent(indent);
            textwrap::fill(line.trim_end(), options)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::wrap;

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
}
