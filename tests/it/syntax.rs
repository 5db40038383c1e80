//! The language front end against its fixtures: every `ok/` file parses and
//! resolves (its snapshot is a compact outline of the tree, expressions fully
//! parenthesised so precedence is visible), every `err/` file's diagnostics
//! are snapshotted exactly as a user sees them; hostile inputs give
//! diagnostics, never a panic or a stack overflow.

use std::fmt::Write as _;
use std::path::Path;

use miette::{GraphicalReportHandler, GraphicalTheme};
use runbook::syntax::ast::{self, ExprKind, StmtKind, TriggerKind};
use runbook::syntax::{check_source, parse, Checked, FileId, Origin, ParseError, Workspace};

fn relative(path: &Path) -> &Path {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
}

/// Loads the file from `origin` into a fresh workspace and checks it.
fn check_origin(origin: Origin) -> (Workspace, FileId, Checked) {
    let mut workspace = Workspace::default();
    let id = workspace.load_origin(origin).expect("the file is readable");
    let checked = workspace.check(id);
    (workspace, id, checked)
}

/// Checks the fixture at `path`, named relative to the repository.
fn check_fixture(path: &Path) -> (Workspace, FileId, Checked) {
    check_origin(Origin::Path(relative(path).to_path_buf()))
}

fn render(workspace: &Workspace, errors: &[runbook::syntax::Located]) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(80)
        .with_links(false);
    let mut out = String::new();
    for error in errors {
        let report = workspace.sources.report(error.file, error.error.clone());
        handler
            .render_report(&mut out, report.as_ref())
            .expect("rendering into a String cannot fail");
        out.push('\n');
    }
    out
}

// ------------------------------------------------------------------ outline

fn expr(node: &ast::Expr) -> String {
    match &node.kind {
        ExprKind::Bool(value) => value.to_string(),
        ExprKind::Number(value) => value.to_string(),
        ExprKind::String(value) => format!("{value:?}"),
        ExprKind::Duration(value) => format!("{}ms", value.as_millis()),
        ExprKind::Version(value) => format!("v{value}"),
        ExprKind::State(value) => value.code().to_string(),
        ExprKind::List(items) => format!("[{}]", exprs(items)),
        ExprKind::Var(name) => name.name.clone(),
        ExprKind::Field { target, field } => format!("{}.{}", expr(target), field.name),
        ExprKind::Call { function, args } => format!("{}({})", function.name, exprs(args)),
        ExprKind::Not(operand) => format!("(not {})", expr(operand)),
        ExprKind::Binary { op, lhs, rhs, .. } => {
            format!("({} {} {})", expr(lhs), op.symbol(), expr(rhs))
        }
        ExprKind::Quantifier {
            quantifier,
            var,
            list,
            body,
        } => format!(
            "({} {} in {}: {})",
            quantifier.keyword(),
            var.name,
            expr(list),
            expr(body)
        ),
        ExprKind::Select { id, text, from } => {
            format!("(select {} {:?} from {})", id.name, text.value, expr(from))
        }
    }
}

fn exprs(items: &[ast::Expr]) -> String {
    items.iter().map(expr).collect::<Vec<_>>().join(", ")
}

/// ` discards changes on SERVER`, or nothing.
fn discards(server: &Option<ast::Expr>) -> String {
    server
        .as_ref()
        .map(|server| format!(" discards changes on {}", expr(server)))
        .unwrap_or_default()
}

fn args(args: &[ast::Arg]) -> String {
    args.iter()
        .map(|arg| format!("{}: {}", arg.name.name, expr(&arg.value)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn docs(out: &mut String, indent: usize, docs: &Option<ast::Doc>) {
    if let Some(doc) = docs {
        let _ = writeln!(out, "{:indent$}/// {:?}", "", doc.text);
    }
}

/// A message as written; with braces, its parts too:
/// `"a {x} b" = "a " {x} " b"`.
fn message(message: &ast::Message) -> String {
    let mut text = format!("{:?}", message.text.value);
    if message.text.value.contains(['{', '}']) {
        let parts: Vec<String> = message
            .parts
            .iter()
            .map(|part| match part {
                ast::MessagePart::Text(literal) => format!("{literal:?}"),
                ast::MessagePart::Expr { expr: value, .. } => format!("{{{}}}", expr(value)),
            })
            .collect();
        let _ = write!(text, " = {}", parts.join(" "));
    }
    text
}

fn block(out: &mut String, indent: usize, stmts: &[ast::Stmt]) {
    for stmt in stmts {
        docs(out, indent, &stmt.docs);
        let pad = format!("{:indent$}", "");
        let _ = match &stmt.kind {
            StmtKind::Let { name, value } => {
                writeln!(out, "{pad}let {} = {}", name.name, expr(value))
            }
            StmtKind::Step(step) => {
                let mut head = format!("{pad}step");
                if let Some(number) = &step.number {
                    let _ = write!(head, " {}", number.text);
                }
                let _ = write!(head, " {} {:?}", step.id.name, step.title.value);
                if let Some(window) = &step.window {
                    let _ = write!(
                        head,
                        " within {} after {}",
                        expr(&window.duration),
                        window.after.name
                    );
                }
                let _ = writeln!(out, "{head}{}", discards(&step.discards_changes_on));
                block(out, indent + 2, &step.body.stmts);
                Ok(())
            }
            StmtKind::Note { text } => writeln!(out, "{pad}note {}", message(text)),
            StmtKind::Warning { text } => writeln!(out, "{pad}warning {}", message(text)),
            StmtKind::Operation(call) => {
                writeln!(out, "{pad}{}({})", call.name.name, args(&call.args))
            }
            StmtKind::Confirm { id, text } => {
                writeln!(out, "{pad}confirm {} {:?}", id.name, text.value)
            }
            StmtKind::Choose(choose) => {
                let _ = writeln!(
                    out,
                    "{pad}choose {} {:?}",
                    choose.id.name, choose.text.value
                );
                for option in &choose.options {
                    docs(out, indent + 2, &option.docs);
                    let default = if option.is_default { " default" } else { "" };
                    let _ = writeln!(
                        out,
                        "{pad}  option {} {:?}{default}{}",
                        option.name.name,
                        option.label.value,
                        discards(&option.discards_changes_on)
                    );
                    block(out, indent + 4, &option.body.stmts);
                }
                Ok(())
            }
            StmtKind::Record { id, text } => {
                writeln!(out, "{pad}record {} {:?}", id.name, text.value)
            }
            StmtKind::Check { condition, message } => {
                writeln!(
                    out,
                    "{pad}check {} else {}",
                    expr(condition),
                    self::message(message)
                )
            }
            StmtKind::Wait {
                condition,
                timeout,
                every,
            } => {
                let mut line = format!("{pad}wait until {}", expr(condition));
                if let Some(timeout) = timeout {
                    let _ = write!(line, " timeout {}", expr(timeout));
                }
                if let Some(every) = every {
                    let _ = write!(line, " every {}", expr(every));
                }
                writeln!(out, "{line}")
            }
            StmtKind::If(if_stmt) => {
                for (index, branch) in if_stmt.branches.iter().enumerate() {
                    let keyword = if index == 0 { "if" } else { "else if" };
                    let _ = writeln!(out, "{pad}{keyword} {}", expr(&branch.condition));
                    block(out, indent + 2, &branch.body.stmts);
                }
                if let Some(otherwise) = &if_stmt.otherwise {
                    let _ = writeln!(out, "{pad}else");
                    block(out, indent + 2, &otherwise.stmts);
                }
                Ok(())
            }
            StmtKind::For { var, list, body } => {
                let _ = writeln!(out, "{pad}for {} in {}", var.name, expr(list));
                block(out, indent + 2, &body.stmts);
                Ok(())
            }
            StmtKind::Call(call) => {
                writeln!(out, "{pad}call {}({})", call.target.name, args(&call.args))
            }
            StmtKind::Stop { message } => writeln!(out, "{pad}stop {}", self::message(message)),
            StmtKind::Pause { message } => writeln!(out, "{pad}pause {}", self::message(message)),
            StmtKind::Fail { message } => writeln!(out, "{pad}fail {}", self::message(message)),
            StmtKind::Retry => writeln!(out, "{pad}retry"),
        };
    }
}

fn outline(file: &ast::File) -> String {
    let mut out = String::new();
    if let Some(module_docs) = &file.module_docs {
        let _ = writeln!(out, "//! {:?}", module_docs.text);
    }
    docs(&mut out, 0, &file.docs);
    let _ = writeln!(out, "{} {}", file.kind.keyword(), file.name.name);
    if let Some(title) = &file.title {
        let _ = writeln!(out, "  title {:?}", title.value);
    }
    if let Some(summary) = &file.summary {
        let _ = writeln!(out, "  summary {:?}", summary.value);
    }
    for param in &file.params {
        docs(&mut out, 2, &param.docs);
        let default = param
            .default
            .as_ref()
            .map(|default| format!(" = {}", expr(default)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  param {}: {}{default}",
            param.name.name,
            param.ty.keyword()
        );
    }
    for import in &file.imports {
        let _ = writeln!(out, "  import {:?}", import.path.value);
    }
    block(&mut out, 2, &file.body);
    for what_if in &file.what_ifs {
        docs(&mut out, 2, &what_if.docs);
        let triggers: Vec<String> = what_if
            .triggers
            .iter()
            .map(|trigger| match &trigger.kind {
                TriggerKind::Failed(step) => format!("failed({})", step.name),
                TriggerKind::UpgradeCancelled(server) => {
                    format!("upgrade-cancelled({})", expr(server))
                }
                other => other.keyword().to_string(),
            })
            .collect();
        let during = if what_if.during.is_empty() {
            String::new()
        } else {
            let steps: Vec<&str> = what_if
                .during
                .iter()
                .map(|step| step.name.as_str())
                .collect();
            format!(" during {}", steps.join(", "))
        };
        let _ = writeln!(
            out,
            "  what-if {} {:?} when {}{during}{}",
            what_if.id.name,
            what_if.title.value,
            triggers.join(", "),
            discards(&what_if.discards_changes_on)
        );
        block(&mut out, 4, &what_if.body.stmts);
    }
    for comment in &file.comments {
        let _ = writeln!(out, "{:?} {:?}", comment.kind, comment.text);
    }
    out
}

/// Every `span` in the tree lies inside the source, on character boundaries.
fn assert_spans_valid(file: &ast::File, source: &str) {
    fn walk(value: &serde_json::Value, source: &str) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, child) in map {
                    if key == "span" || key.ends_with("_span") {
                        let start = child["start"].as_u64().unwrap_or(u64::MAX) as usize;
                        let end = child["end"].as_u64().unwrap_or(u64::MAX) as usize;
                        assert!(
                            start <= end && end <= source.len(),
                            "span {start}..{end} out of range"
                        );
                        assert!(source.is_char_boundary(start) && source.is_char_boundary(end));
                        let text = &source[start..end];
                        assert_eq!(
                            text,
                            text.trim_end(),
                            "span {start}..{end} ends with whitespace"
                        );
                    } else {
                        walk(child, source);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| walk(item, source)),
            _ => {}
        }
    }
    let mut tree = serde_json::to_value(file).expect("the tree serializes");
    // The file's own span is the whole text, trailing newline included.
    if let Some(map) = tree.as_object_mut() {
        map.remove("span");
    }
    walk(&tree, source);
}

#[test]
fn ok_fixtures_parse_resolve_and_outline() {
    insta::glob!("..", "fixtures/syntax/ok/*.runbook", |path| {
        let (workspace, id, checked) = check_fixture(path);
        assert!(
            checked.errors.is_empty(),
            "{}",
            render(&workspace, &checked.errors)
        );
        let program = checked.program.expect("a clean check gives a program");
        let source = workspace.sources.get(id).text.clone();
        assert_spans_valid(&program.main_file().ast, &source);
        insta::assert_snapshot!(outline(&program.main_file().ast));
    });
}

#[test]
fn err_fixtures_render_their_diagnostics() {
    insta::glob!("..", "fixtures/syntax/err/*.runbook", |path| {
        let (workspace, _, checked) = check_fixture(path);
        assert!(
            !checked.errors.is_empty(),
            "{} has no error",
            path.display()
        );
        assert!(checked.program.is_none());
        insta::assert_snapshot!(render(&workspace, &checked.errors));
    });
}

#[test]
fn shipped_runbooks_check_clean() {
    for shipped in runbook::syntax::embedded::all() {
        let (workspace, _, checked) = check_origin(Origin::Embedded(shipped.path.to_string()));
        assert!(
            checked.errors.is_empty(),
            "{}",
            render(&workspace, &checked.errors)
        );
    }
}

#[test]
fn the_program_resolves_calls_and_what_ifs() {
    let (_, checked) = check_source(
        "memory.runbook",
        r#"runbook memory {
            title "T"
            import "lib/exclude-server.runbook"
            step 1 first "First" { call exclude-server(server: active()) }
            what-if broken "Broken" when replication-broken { stop "x" }
        }"#,
    );
    let program = checked.program.expect("resolves");
    let callee = program.file(
        program
            .callee(program.main, "exclude-server")
            .expect("imported"),
    );
    assert_eq!(callee.ast.kind, ast::FileKind::Procedure);
    assert_eq!(callee.name, "runbooks/lib/exclude-server.runbook");
    assert!(program.what_if("broken").is_ok());
    let missing = program.what_if("nope").expect_err("no such handler");
    assert!(missing.to_string().contains("nope"));
}

#[test]
fn equality_ignoring_spans_sees_structure_only() {
    let compact = parse(r#"runbook a { title "T" step 1 s "S" { check healthy() else "x" } }"#)
        .expect("parses");
    let spread = parse("runbook a {\n  title \"T\"\n  // comment-free layout change\n\n  step 1 s \"S\" {\n    check healthy()\n      else \"x\"\n  }\n}\n")
        .expect("parses");
    let mut spread = spread;
    spread.comments.clear();
    assert_ne!(compact, spread);
    assert!(compact.eq_ignoring_spans(&spread));
    let different = parse(r#"runbook a { title "T" step 1 s "S" { check healthy() else "y" } }"#)
        .expect("parses");
    assert!(!compact.eq_ignoring_spans(&different));
}

#[test]
fn precedence_follows_the_reference() {
    let file = parse(
        r#"runbook p { title "T"
        check not a or b and c == d else "x"
        check all s in xs without y: s.running or z else "x"
        check a in xs without ys and true else "x"
        }"#,
    )
    .expect("parses");
    let conditions: Vec<String> = file
        .body
        .iter()
        .filter_map(|stmt| match &stmt.kind {
            StmtKind::Check { condition, .. } => Some(expr(condition)),
            _ => None,
        })
        .collect();
    assert_eq!(
        conditions,
        [
            "((not a) or (b and (c == d)))",
            "(all s in (xs without y): (s.running or z))",
            "((a in (xs without ys)) and true)",
        ]
    );
}

// ------------------------------------------------------------------ hostile input

fn parse_errors(source: &str) -> Vec<ParseError> {
    parse(source).expect_err("hostile input must not parse")
}

#[test]
fn deep_brackets_are_a_diagnostic_not_a_stack_overflow() {
    for (open, close) in [("{", "}"), ("(", ")"), ("[", "]")] {
        let source = format!(
            "runbook deep {{ title \"T\" check {}true{} else \"x\" }}",
            open.repeat(100_000),
            close.repeat(100_000)
        );
        let errors = parse_errors(&source);
        assert!(
            matches!(errors.as_slice(), [ParseError::TooDeep { limit: 64, .. }]),
            "{errors:?}"
        );
    }
}

#[test]
fn the_deepest_accepted_nesting_parses_on_a_test_thread() {
    // 62 levels inside the body's `{` and the step's `{`: exactly the limit.
    let depth = runbook::syntax::MAX_NESTING - 2;
    let source = format!(
        "runbook deep {{ title \"T\" step s \"S\" {{ check {}true{} else \"x\" }} }}",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    parse(&source).expect("the deepest accepted nesting parses");
    let nested_ifs = format!(
        "runbook deep {{ title \"T\" {} note \"x\" {} }}",
        "if true { ".repeat(depth + 1),
        "} ".repeat(depth + 1)
    );
    parse(&nested_ifs).expect("nested blocks up to the limit parse");
    // Resolution and dropping the tree happen on the caller's thread.
    let (_, checked) = check_source("deep.runbook", &nested_ifs);
    assert!(checked.errors.is_empty());
}

#[test]
fn long_operator_chains_are_a_diagnostic() {
    for source in [
        format!(
            "runbook r {{ title \"T\" check {}true else \"x\" }}",
            "not ".repeat(100_000)
        ),
        format!(
            "runbook r {{ title \"T\" check true{} else \"x\" }}",
            " and true".repeat(100_000)
        ),
        format!(
            "runbook r {{ title \"T\" check {}true else \"x\" }}",
            "all s in xs: ".repeat(100_000)
        ),
        format!(
            "runbook r {{ title \"T\" check x{} else \"x\" }}",
            ".f".repeat(100_000)
        ),
    ] {
        let errors = parse_errors(&source);
        assert!(
            matches!(errors.as_slice(), [ParseError::ExpressionTooComplex { .. }]),
            "{errors:?}"
        );
    }
}

#[test]
fn bytes_that_are_not_a_runbook_are_diagnostics() {
    use runbook::syntax::decode;
    assert!(matches!(
        decode(b"runbook \0 {"),
        Err(ParseError::Binary { offset: 8 })
    ));
    assert!(matches!(
        decode(b"runbook x {\n  title \"\xff\"\n}"),
        Err(ParseError::InvalidUtf8 {
            offset: 21,
            span: Some(_)
        })
    ));
    let big = vec![b' '; runbook::syntax::MAX_FILE_SIZE as usize + 1];
    assert!(matches!(decode(&big), Err(ParseError::TooLarge { .. })));
    assert!(matches!(
        parse_errors("").as_slice(),
        [ParseError::Empty { span: None }]
    ));
    assert!(matches!(
        parse_errors("  // nothing\n\n").as_slice(),
        [ParseError::Empty { span: Some(_) }]
    ));
}

#[test]
fn a_byte_order_mark_is_accepted() {
    parse("\u{feff}runbook bom { title \"T\" }").expect("a BOM is not an error");
}

#[test]
fn several_errors_are_reported_in_source_order() {
    let errors = parse_errors(
        "runbook r {\n title \"T\"\n step 1 a \"A\" { check x \"m\" }\n step 2 b \"B\" { let = 1 }\n step 3 c \"C\" { wait until x timeout 3min }\n}\n",
    );
    assert_eq!(errors.len(), 3, "{errors:?}");
}

#[test]
fn a_token_where_an_item_should_start_is_named_as_such() {
    // The second string starts right where the next item should (it used
    // to be reported as "expected something else").
    let errors = parse_errors("runbook r {\n    title \"T\"\"U\"\n}\n");
    match errors.as_slice() {
        [ParseError::Unexpected {
            expected, found, ..
        }] => {
            assert_eq!(expected, "a statement or `}`");
            assert_eq!(found, "a string");
        }
        other => panic!("{other:?}"),
    }
}

// ------------------------------------------------------------------ robustness

mod mutations {
    use proptest::prelude::*;
    use runbook::syntax::check_source;

    const DRAFT: &str = include_str!("../fixtures/syntax/ok/upgrade-with-downtime-draft.runbook");
    const PIECES: &[&str] = &[
        "{", "}", "(", ")", "[", "]", "\"", "\\", ",", ":", "=", "==", ".", "//", "///", "//!",
        "\n", "step", "what-if", "not", "all s in", "é", "⚠️", "7.4.0", "10min", "ACT_REP", "-",
        "\u{feff}",
    ];

    proptest! {
        #![proptest_config(crate::support::proptest_config(200))]

        /// Any edit of a real runbook gives a result or diagnostics, never a
        /// panic; every diagnostic's labels lie inside the text.
        #[test]
        fn edits_never_panic(edits in proptest::collection::vec((0usize..4000, 0usize..PIECES.len(), 0usize..8), 1..6)) {
            let mut text = DRAFT.to_string();
            for (position, piece, delete) in edits {
                let mut at = position % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let mut end = (at + delete).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(at..end, PIECES[piece]);
            }
            let (workspace, checked) = check_source("mutated.runbook", &text);
            for error in &checked.errors {
                use miette::Diagnostic;
                let source = workspace.sources.get(error.file);
                for label in error.error.labels().into_iter().flatten() {
                    prop_assert!(label.offset() + label.len() <= source.text.len());
                    prop_assert!(source.text.is_char_boundary(label.offset()));
                }
            }
        }
    }
}
