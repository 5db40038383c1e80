//! The diagnostics of the language front end: [`ParseError`] (the text is not
//! a well-formed runbook) and [`ResolveError`] (it is, but names, arguments or
//! types do not fit). Each has a stable code (`runbook::syntax::…`,
//! `runbook::resolve::…`), labels that say in words what was expected, and a
//! help line. Errors carry spans only; [`Located`] adds the file, and
//! [`super::Sources::report`] attaches its text when rendering.

use miette::Diagnostic;
use thiserror::Error;

use super::source::FileId;
use super::span::Span;

/// The text is not a well-formed runbook.
#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
pub enum ParseError {
    /// A token that does not fit the grammar here.
    #[error("expected {expected}, found {found}")]
    #[diagnostic(code(runbook::syntax::unexpected))]
    Unexpected {
        /// Where the unexpected token is (empty at end of file).
        #[label(primary, "expected {expected}")]
        span: Span,
        /// What would have fitted, in words.
        expected: String,
        /// What was found, in words.
        found: String,
        /// What to do about it.
        #[help]
        help: String,
        /// At the end of the file: the `{` that most likely lacks its `}`.
        #[label("this block may not be closed")]
        unclosed: Option<Span>,
    },
    /// A string literal runs to the end of the file.
    #[error("unterminated string")]
    #[diagnostic(
        code(runbook::syntax::unterminated_string),
        help("add the closing `\"`; write `\\\"` for a quote inside a string")
    )]
    UnterminatedString {
        /// The opening quote.
        #[label("this string is never closed")]
        span: Span,
    },
    /// Brackets nested deeper than the parser accepts.
    #[error("nesting deeper than {limit} levels")]
    #[diagnostic(
        code(runbook::syntax::too_deep),
        help("split the runbook into sub-procedures (`call`) instead of nesting blocks this deep")
    )]
    TooDeep {
        /// The bracket that goes one level too deep.
        #[label("this bracket opens level {}", limit + 1)]
        span: Span,
        /// The deepest nesting accepted.
        limit: usize,
    },
    /// An expression with too many nested operators.
    #[error("expression too complex")]
    #[diagnostic(
        code(runbook::syntax::expression_too_complex),
        help("split the expression with `let` bindings")
    )]
    ExpressionTooComplex {
        /// The expression.
        #[label("more than {limit} nested operators")]
        span: Span,
        /// The deepest nesting accepted.
        limit: usize,
    },
    /// The grammar engine gave up (call or stack budget exhausted).
    #[error("the file is too complex to parse ({reason})")]
    #[diagnostic(
        code(runbook::syntax::too_complex),
        help("split the runbook into smaller files and sub-procedures")
    )]
    TooComplex {
        /// Where parsing stopped.
        #[label("parsing stopped here")]
        span: Span,
        /// The engine's reason.
        reason: String,
    },
    /// The file is larger than the parser accepts.
    #[error("the file is {size} bytes; the limit is {limit} bytes")]
    #[diagnostic(
        code(runbook::syntax::too_large),
        help("a runbook is a small text file; is this the right path?")
    )]
    TooLarge {
        /// The file's size in bytes.
        size: u64,
        /// The largest size accepted.
        limit: u64,
    },
    /// The file is not valid UTF-8.
    #[error("the file is not valid UTF-8 (byte offset {offset})")]
    #[diagnostic(code(runbook::syntax::invalid_utf8), help("save the file as UTF-8"))]
    InvalidUtf8 {
        /// The first invalid byte, when its line is short enough to show.
        #[label("invalid UTF-8 here")]
        span: Option<Span>,
        /// The byte offset of the first invalid byte.
        offset: usize,
    },
    /// The file contains NUL bytes: a binary file.
    #[error("this is a binary file, not a runbook (NUL byte at offset {offset})")]
    #[diagnostic(
        code(runbook::syntax::binary),
        help("runbooks are UTF-8 text files ending in `.runbook`")
    )]
    Binary {
        /// The byte offset of the first NUL byte.
        offset: usize,
    },
    /// The file holds nothing but whitespace and comments.
    #[error("the file is empty")]
    #[diagnostic(
        code(runbook::syntax::empty),
        help("a runbook starts with `runbook NAME {{` or `procedure NAME {{`")
    )]
    Empty {
        /// The end of the file.
        #[label("expected `runbook` or `procedure`")]
        span: Option<Span>,
    },
    /// Digits followed by something that is not a duration unit.
    #[error("invalid duration `{text}`")]
    #[diagnostic(
        code(runbook::syntax::invalid_duration),
        help("a duration is a number followed by `ms`, `s`, `m`, `h` or `d`, or several, largest first: `10m`, `1h30m`")
    )]
    InvalidDuration {
        /// The literal.
        #[label("not a duration")]
        span: Span,
        /// Its text.
        text: String,
    },
    /// A number too large to represent.
    #[error("number `{text}` is too large")]
    #[diagnostic(
        code(runbook::syntax::invalid_number),
        help("numbers and durations must fit in 64 bits")
    )]
    InvalidNumber {
        /// The literal.
        #[label("too large")]
        span: Span,
        /// Its text.
        text: String,
    },
    /// An unknown `\x` escape in a string.
    #[error("unknown escape `{escape}` in a string")]
    #[diagnostic(
        code(runbook::syntax::invalid_escape),
        help("the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`")
    )]
    InvalidEscape {
        /// The escape.
        #[label("unknown escape")]
        span: Span,
        /// Its text.
        escape: String,
    },
    /// A `{` or `}` in a message that is not a well-formed interpolation.
    #[error("{reason}")]
    #[diagnostic(code(runbook::syntax::invalid_interpolation))]
    InvalidInterpolation {
        /// The brace, or the interpolated expression.
        #[label(primary, "{label}")]
        span: Span,
        /// What is wrong, in words.
        reason: String,
        /// The label's text.
        label: String,
        /// What to do about it.
        #[help]
        help: String,
    },
    /// A header declaration (`title`, `summary`) given twice.
    #[error("`{what}` is declared twice")]
    #[diagnostic(
        code(runbook::syntax::duplicate_declaration),
        help("keep one `{what}`")
    )]
    DuplicateDeclaration {
        /// The second declaration.
        #[label("declared again here")]
        span: Span,
        /// The first declaration.
        #[label("first declared here")]
        first: Span,
        /// Which declaration.
        what: String,
    },
    /// A header declaration after the first statement.
    #[error("`{what}` must come before the first statement")]
    #[diagnostic(
        code(runbook::syntax::misplaced_declaration),
        help("move `title`, `summary`, `param`, `import`, `requires`, `goal` and `from` to the top of the body")
    )]
    MisplacedDeclaration {
        /// The declaration.
        #[label("declared after a statement")]
        span: Span,
        /// The first statement.
        #[label("first statement")]
        first_statement: Span,
        /// Which declaration.
        what: String,
    },
}

/// The runbook is well formed, but a name, an argument or a type does not fit.
#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
pub enum ResolveError {
    /// A name that no `let`, `param`, `for`, quantifier or `record` binds here.
    #[error("undefined variable `{name}`")]
    #[diagnostic(code(runbook::resolve::undefined_variable))]
    UndefinedVariable {
        /// The use.
        #[label("not defined here")]
        span: Span,
        /// The name.
        name: String,
        /// A suggestion.
        #[help]
        help: String,
    },
    /// A step id that no step of the file has.
    #[error("undefined step `{name}`")]
    #[diagnostic(code(runbook::resolve::undefined_step))]
    UndefinedStep {
        /// The reference.
        #[label("no step has this id")]
        span: Span,
        /// The id.
        name: String,
        /// A suggestion.
        #[help]
        help: String,
    },
    /// A `call` to a name that is neither this file nor an imported file.
    #[error("undefined procedure `{name}`")]
    #[diagnostic(code(runbook::resolve::undefined_procedure))]
    UndefinedProcedure {
        /// The callee.
        #[label("no imported procedure or runbook has this name")]
        span: Span,
        /// The name.
        name: String,
        /// A suggestion.
        #[help]
        help: String,
    },
    /// A What-if id that the runbook does not define.
    #[error("undefined What-if `{name}`")]
    #[diagnostic(code(runbook::resolve::undefined_what_if))]
    UndefinedWhatIf {
        /// The id.
        name: String,
        /// The ids that exist.
        #[help]
        help: String,
    },
    /// Two definitions of the same id.
    #[error("duplicate {what} `{name}`")]
    #[diagnostic(code(runbook::resolve::duplicate_definition))]
    Duplicate {
        /// The second definition.
        #[label("defined again here")]
        span: Span,
        /// The first definition.
        #[label("first defined here")]
        first: Span,
        /// What kind of id (`step id`, `prompt id`...).
        what: String,
        /// The id.
        name: String,
        /// What to do.
        #[help]
        help: String,
    },
    /// An operation name that is not in the operation table.
    #[error("unknown operation `{name}`")]
    #[diagnostic(code(runbook::resolve::unknown_operation))]
    UnknownOperation {
        /// The operation.
        #[label("not an operation")]
        span: Span,
        /// The name.
        name: String,
        /// A suggestion.
        #[help]
        help: String,
    },
    /// A built-in function name that does not exist.
    #[error("unknown function `{name}`")]
    #[diagnostic(code(runbook::resolve::unknown_function))]
    UnknownFunction {
        /// The call.
        #[label("not a built-in function")]
        span: Span,
        /// The name.
        name: String,
        /// The functions that exist.
        #[help]
        help: String,
    },
    /// A field that servers do not have.
    #[error("unknown field `{name}`")]
    #[diagnostic(code(runbook::resolve::unknown_field))]
    UnknownField {
        /// The field.
        #[label("not a field of {owner}")]
        span: Span,
        /// The name.
        name: String,
        /// The type read from.
        owner: String,
        /// The fields that exist.
        #[help]
        help: String,
    },
    /// A named argument the callee does not take.
    #[error("`{callee}` has no argument `{name}`")]
    #[diagnostic(code(runbook::resolve::unknown_argument))]
    UnknownArgument {
        /// The argument.
        #[label("unknown argument")]
        span: Span,
        /// The argument's name.
        name: String,
        /// The operation or procedure.
        callee: String,
        /// The arguments it takes.
        #[help]
        help: String,
    },
    /// A required argument not given.
    #[error("`{callee}` needs the argument `{name}`")]
    #[diagnostic(code(runbook::resolve::missing_argument))]
    MissingArgument {
        /// The call.
        #[label("`{name}` missing")]
        span: Span,
        /// The missing argument.
        name: String,
        /// The operation or procedure.
        callee: String,
        /// What to write.
        #[help]
        help: String,
    },
    /// A built-in function called with the wrong number of arguments.
    #[error("`{function}` takes {expected} argument(s), {found} given")]
    #[diagnostic(code(runbook::resolve::wrong_argument_count))]
    WrongArgumentCount {
        /// The call.
        #[label("wrong number of arguments")]
        span: Span,
        /// The function.
        function: String,
        /// How many it takes.
        expected: usize,
        /// How many were given.
        found: usize,
        /// Its signature.
        #[help]
        help: String,
    },
    /// A value of the wrong type.
    #[error("type mismatch: expected {expected}, found {found}")]
    #[diagnostic(code(runbook::resolve::type_mismatch))]
    TypeMismatch {
        /// The value.
        #[label("this is {found}")]
        span: Span,
        /// The type required here.
        expected: String,
        /// The type of the value.
        found: String,
        /// Why that type is required, and what to write.
        #[help]
        help: String,
    },
    /// An import that cannot be read.
    #[error("cannot import `{path}`: {reason}")]
    #[diagnostic(code(runbook::resolve::import_not_found))]
    ImportNotFound {
        /// The import.
        #[label("cannot be loaded")]
        span: Span,
        /// The path as written.
        path: String,
        /// What went wrong.
        reason: String,
        /// What to do.
        #[help]
        help: String,
    },
    /// An import of a file outside the directory tree of the runbook
    /// being checked or run.
    #[error("`{path}` is outside {root}: imports stay in the runbook's folder tree")]
    #[diagnostic(
        code(runbook::resolve::import_outside),
        help("move the file under {root}, import a shipped procedure (`lib/...`), or allow it explicitly with `--allow-outside-imports`")
    )]
    ImportOutside {
        /// The import.
        #[label("outside the runbook's folder tree")]
        span: Span,
        /// The path as written.
        path: String,
        /// The folder imports are confined to.
        root: String,
    },
    /// Files importing each other in a circle.
    #[error("import cycle: {chain}")]
    #[diagnostic(
        code(runbook::resolve::import_cycle),
        help("move what both files need into a third file that both import")
    )]
    ImportCycle {
        /// The import that closes the circle.
        #[label("this import leads back to this file")]
        span: Span,
        /// The files in the circle.
        chain: String,
    },
    /// A step where steps are not allowed.
    #[error("a step cannot be {place}")]
    #[diagnostic(code(runbook::resolve::misplaced_step))]
    MisplacedStep {
        /// The step.
        #[label("step not allowed here")]
        span: Span,
        /// Where it is (`inside another step`, `in a procedure`...).
        place: String,
        /// What to do.
        #[help]
        help: String,
    },
    /// `retry` outside a What-if handler.
    #[error("`retry` outside a What-if handler")]
    #[diagnostic(
        code(runbook::resolve::misplaced_retry),
        help("`retry` runs the interrupted step again; it only makes sense in a `what-if` body")
    )]
    MisplacedRetry {
        /// The statement.
        #[label("not inside a what-if")]
        span: Span,
    },
    /// A `select` in a `requires` condition: a requirement asks nothing.
    #[error("a `requires` condition cannot ask the operator")]
    #[diagnostic(
        code(runbook::resolve::select_in_requires),
        help("`requires` is judged on the cluster before the run acts; ask with `select` in the body, and `check` the answer there")
    )]
    SelectInRequires {
        /// The `select`.
        #[label("asks the operator")]
        span: Span,
    },
    /// A `select` in a `goal` condition: a goal asks nothing.
    #[error("a `goal` condition cannot ask the operator")]
    #[diagnostic(
        code(runbook::resolve::select_in_goal),
        help("a goal is judged on the cluster when the run ends; ask with `select` in the body, and `check` the answer there")
    )]
    SelectInGoal {
        /// The `select`.
        #[label("asks the operator")]
        span: Span,
    },
    /// `from NAME` with a name that is no starting state.
    #[error("unknown starting state `{name}`")]
    #[diagnostic(code(runbook::resolve::unknown_starting_state), help("{help}"))]
    UnknownStartingState {
        /// The name as written.
        name: String,
        /// Where.
        #[label("not a starting state")]
        span: Span,
        /// The closest name, and the list.
        help: String,
    },
    /// `goal` or `from` in a procedure: they describe a whole run.
    #[error("`{what}` in a procedure")]
    #[diagnostic(
        code(runbook::resolve::run_declaration_in_procedure),
        help("`goal` and `from` describe a whole run: declare them in the runbook that calls this procedure")
    )]
    RunDeclarationInProcedure {
        /// `goal` or `from`.
        what: String,
        /// The declaration.
        #[label("declared in a procedure")]
        span: Span,
    },
    /// `pause` outside a What-if body.
    #[error("`pause` outside a What-if handler")]
    #[diagnostic(
        code(runbook::resolve::misplaced_pause),
        help("`pause` leaves the step a What-if interrupted to be run again by `runbook resume`; elsewhere, wait for the operator with `confirm`, or end the run for good with `stop`")
    )]
    MisplacedPause {
        /// The statement.
        #[label("not inside a what-if")]
        span: Span,
    },
    /// A `runbook` without a title.
    #[error("runbook `{name}` has no title")]
    #[diagnostic(
        code(runbook::resolve::missing_title),
        help("add `title \"...\"` at the top of the body: it is what the operator sees first")
    )]
    MissingTitle {
        /// The name.
        #[label("needs a `title`")]
        span: Span,
        /// The runbook's name.
        name: String,
    },
    /// A file that calls itself.
    #[error("`{name}` calls itself")]
    #[diagnostic(
        code(runbook::resolve::recursive_call),
        help("runbooks cannot recurse; repeat work with `for` instead")
    )]
    RecursiveCall {
        /// The call.
        #[label("recursive call")]
        span: Span,
        /// The name.
        name: String,
    },
}

/// An error of either front-end phase.
#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
pub enum SyntaxError {
    /// The text is not well formed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Parse(#[from] ParseError),
    /// Names, arguments or types do not fit.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Resolve(#[from] ResolveError),
}

/// An error with the file it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The file.
    pub file: FileId,
    /// The error.
    pub error: SyntaxError,
}

/// Where a diagnostic's primary label (else its first label) starts.
pub(crate) fn first_label_offset(diagnostic: &dyn Diagnostic) -> Option<usize> {
    let labels: Vec<_> = diagnostic.labels()?.collect();
    labels
        .iter()
        .find(|label| label.primary())
        .or(labels.first())
        .map(|label| label.offset())
}

impl Located {
    /// `error` in `file`.
    pub fn new(file: FileId, error: impl Into<SyntaxError>) -> Self {
        Located {
            file,
            error: error.into(),
        }
    }

    /// Where the error's first label starts (for sorting and line/column).
    pub fn offset(&self) -> usize {
        first_label_offset(&self.error)
            .or(match &self.error {
                SyntaxError::Parse(ParseError::InvalidUtf8 { offset, .. })
                | SyntaxError::Parse(ParseError::Binary { offset }) => Some(*offset),
                _ => None,
            })
            .unwrap_or(0)
    }
}
