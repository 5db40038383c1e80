//! Pest's errors in words: the rules pest expected, said as a reader would
//! ("expected `}` or a statement, found `stpe`"), with a help line that
//! guesses the likely mistake (an unclosed block, a keyword used as a name).

use super::scan::{word_at, ITEM_KEYWORDS};
use super::Rule;
use crate::syntax::error::ParseError;
use crate::syntax::span::Span;

/// The rules pest reports as expected, with the ones that stand for what
/// they guard replaced by it, in the grammar's order. Pest reports a rule
/// that failed before trying any rule of its own (its lookahead failed, or
/// several alternatives failed where it started) instead of what it holds.
pub(super) fn reported_rules(positives: &[Rule]) -> Vec<Rule> {
    let mut rules = Vec::with_capacity(positives.len() + 1);
    for rule in positives {
        match rule {
            // Neither an item nor the closing `}` starts here.
            Rule::item_entry => rules.extend([Rule::item, Rule::rbrace]),
            Rule::field_access => rules.push(Rule::dot),
            Rule::call_args => rules.push(Rule::lparen),
            other => rules.push(*other),
        }
    }
    rules.sort();
    rules.dedup();
    rules
}

/// What a rule means to a reader, for "expected ..." labels.
fn expected_words(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        lbrace | block => "`{`",
        rbrace => "`}`",
        lparen => "`(`",
        rparen => "`)`",
        lbracket => "`[`",
        rbracket => "`]`",
        comma => "`,`",
        colon => "`:`",
        equals => "`=`",
        EOI | file_end => "the end of the file",
        item => "a statement",
        stmt => "a statement",
        file_kind | kw_runbook | kw_procedure => "`runbook` or `procedure`",
        file_name => "a runbook name",
        step_id | step_number | step_ref => "a step id",
        prompt_id => "a prompt id",
        option_id => "an option name",
        what_if_id => "a What-if id",
        call_target => "a procedure name",
        args | arg | arg_name => "an argument such as `server: active`",
        field_access | field_name | dot => "`.`",
        var_name => "a name",
        reference | reference_name => "an expression",
        call_args => "`(`",
        operation_name | operation => "an operation",
        string | string_content => "a string such as `\"...\"`",
        expr | term | paren_expr | list | select_expr | duration | version | number | boolean
        | state | bad_number | op_not | quantifier_head => "an expression",
        op_or | op_and | op_eq | op_ne | op_le | op_ge | op_lt | op_gt | op_in | op_without => {
            "an operator"
        }
        param_type | ty_string | ty_number | ty_bool | ty_duration | ty_version | ty_server
        | ty_server_list => "a type (`string`, `number`, `bool`, `duration`, `version`, `server` or `[server]`)",
        trigger | trig_failed | trig_upgrade_cancelled | trig_two_actives | trig_standby_activated
        | trig_replication_broken => {
            "a trigger (`failed(STEP)`, `two-actives`, `standby-activated`, `upgrade-cancelled(SERVER)` or `replication-broken`)"
        }
        choice_option | kw_option => "`option`",
        kw_title => "`title`",
        kw_requires | requires_decl => "`requires`",
        kw_goal | goal_decl => "`goal`",
        goal_upgrade | kw_upgrade => "`upgrade to VERSION`",
        kw_to => "`to`",
        goal_healthy | kw_healthy => "`healthy`",
        goal_condition => "a condition and `else \"MESSAGE\"`",
        from_decl => "`from`",
        starting_state => "a starting state (`healthy`, `replication-broken`, `standby-stopped`, `split-brain`, `wizard-interrupted` or `after-restore`)",
        kw_summary => "`summary`",
        kw_param => "`param`",
        kw_import => "`import`",
        kw_what_if => "`what-if`",
        kw_when => "`when`",
        kw_during | during_clause => "`during`",
        kw_let => "`let`",
        kw_step => "`step`",
        kw_within | within_clause => "`within`",
        kw_after => "`after`",
        kw_discards | discards_clause => "`discards changes on`",
        kw_changes => "`changes`",
        kw_on => "`on`",
        kw_note => "`note`",
        kw_warning => "`warning`",
        kw_confirm => "`confirm`",
        kw_choose => "`choose`",
        kw_default => "`default`",
        kw_record => "`record`",
        kw_check => "`check`",
        kw_else | else_if | else_block => "`else`",
        kw_wait => "`wait`",
        kw_until => "`until`",
        kw_timeout | timeout_clause => "`timeout`",
        kw_every | every_clause => "`every`",
        kw_if => "`if`",
        kw_for => "`for`",
        kw_in => "`in`",
        kw_call => "`call`",
        kw_stop => "`stop`",
        kw_pause => "`pause`",
        kw_fail => "`fail`",
        kw_retry => "`retry`",
        kw_all | kw_any => "`all` or `any`",
        kw_select => "`select`",
        kw_from => "`from`",
        _ => return None,
    })
}

/// "a, b or c"
fn join_words(words: &[&str]) -> String {
    match words {
        [] => "something else".to_string(),
        [only] => (*only).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

pub(super) fn unexpected(
    source: &str,
    position: usize,
    positives: &[Rule],
    suspect_unclosed: Option<usize>,
) -> ParseError {
    let mut words: Vec<&str> = Vec::new();
    for word in positives.iter().filter_map(|rule| expected_words(*rule)) {
        if !words.contains(&word) {
            words.push(word);
        }
    }
    // Generic alternatives go last: "expected `else` or an operator".
    words.sort_by_key(|word| matches!(*word, "an operator" | "`.`"));
    let expected = join_words(&words);
    let at_end = source[position.min(source.len())..].trim().is_empty();
    let word = word_at(source, position);
    let found = if at_end {
        "the end of the file".to_string()
    } else if source[position..].starts_with('"') {
        "a string".to_string()
    } else if !word.is_empty() {
        format!("`{word}`")
    } else {
        let character = source[position..].chars().next().unwrap_or(' ');
        format!("`{character}`")
    };
    let is_keyword = ITEM_KEYWORDS.contains(&word)
        || matches!(
            word,
            "and"
                | "or"
                | "not"
                | "in"
                | "without"
                | "all"
                | "any"
                | "true"
                | "false"
                | "else"
                | "option"
                | "default"
        );
    let unclosed = suspect_unclosed
        .filter(|_| at_end && words.contains(&"`}`"))
        .map(|offset| Span::new(offset, offset + 1));
    let help = if unclosed.is_some() {
        "judging by the indentation, this `{` lacks its `}`: add it where the block ends"
            .to_string()
    } else if at_end {
        "the file ends too early: a closing `}` or the end of a statement is missing".to_string()
    } else if words.contains(&"`}`") && matches!(word, "step" | "what-if" | "param" | "import") {
        "a block is not closed before this line: add the missing `}`".to_string()
    } else if is_keyword && words.iter().any(|word| word.contains("name")) {
        format!("`{word}` is a keyword and cannot be used as a name here")
    } else if words.contains(&"a statement") {
        "statements start with a keyword (`let`, `step`, `check`, `wait`, `if`, ...) or an operation such as `exclude(server: s)`; see docs/language.md".to_string()
    } else {
        "see docs/language.md for the syntax of this construct".to_string()
    };
    let span = if at_end {
        let end = source.trim_end().len();
        if end == source.len() {
            // miette shows no label at the very end of a file without a
            // final newline: point at the last character instead.
            let width = source[..end].chars().next_back().map_or(0, char::len_utf8);
            Span::new(end - width, end)
        } else {
            Span::empty(end)
        }
    } else {
        token_span(source, position)
    };
    ParseError::Unexpected {
        span,
        expected,
        found,
        help,
        unclosed,
    }
}

/// The token at `position`: a word, or one character.
pub(super) fn token_span(source: &str, position: usize) -> Span {
    let position = position.min(source.len());
    let word = word_at(source, position);
    if !word.is_empty() {
        return Span::new(position, position + word.len());
    }
    let width = source[position..].chars().next().map_or(0, char::len_utf8);
    Span::new(position, position + width)
}
