//! `runbook fmt`: one canonical layout for `.runbook` files, printed from the
//! AST and the file's comment list.
//!
//! The layout: 4-space indent, one statement per line, a blank line around
//! steps and What-if handlers and between header groups (title/summary,
//! params, imports, statements), other blank lines kept (at most one), step
//! and What-if clauses on their own indented lines when there are several,
//! literals (strings above all) exactly as written, `name: value` and `a, b`
//! spacing. A `check` or `wait` longer than [`MAX_WIDTH`] puts its clauses on
//! continuation lines.
//!
//! Comments are not in the tree, so they are placed by position: every
//! comment is printed on its own line before the first node that starts
//! after it (doc comments are comments too, so they stay with their item),
//! and a comment that ends a line of code stays at the end of that node's
//! line. Formatting is idempotent and keeps the AST (modulo spans).

mod expr;

pub use expr::{args_to_string, expr_to_string, trigger_to_string};

use crate::syntax::ast::{
    Block, Choose, Comment, Expr, File, If, Import, Param, Step, Stmt, StmtKind, StringLit, WhatIf,
};
use crate::syntax::{parse, ParseError};

/// One level of indentation.
pub const INDENT: &str = "    ";
/// Beyond this width a `check`/`wait` puts its clauses on their own lines.
pub const MAX_WIDTH: usize = 100;

/// Parses `source` and prints it in the canonical layout.
///
/// # Errors
/// The parse errors, when `source` is not a well-formed runbook: a file with
/// syntax errors is never reformatted.
pub fn format_source(source: &str) -> Result<String, Vec<ParseError>> {
    let file = parse(source)?;
    Ok(format_file(&file, source))
}

/// Prints `file`, parsed from `source`, in the canonical layout.
pub fn format_file(file: &File, source: &str) -> String {
    let mut printer = Printer::new(source, &file.comments);
    printer.file(file);
    printer.out
}

/// A top-level item of a file body, in source order.
enum Item<'a> {
    Title(&'a StringLit),
    Summary(&'a StringLit),
    Param(&'a Param),
    Import(&'a Import),
    Requires(&'a crate::syntax::ast::Requirement),
    Goal(&'a crate::syntax::ast::Goal),
    From(&'a crate::syntax::ast::FromDecl),
    Stmt(&'a Stmt),
    WhatIf(&'a WhatIf),
}

impl Item<'_> {
    fn start(&self) -> usize {
        match self {
            Item::Title(text) | Item::Summary(text) => text.span.start as usize,
            Item::Param(param) => param.span.start as usize,
            Item::Import(import) => import.span.start as usize,
            Item::Requires(requirement) => requirement.span.start as usize,
            Item::Goal(goal) => goal.span.start as usize,
            Item::From(from) => from.span.start as usize,
            Item::Stmt(stmt) => stmt.span.start as usize,
            Item::WhatIf(what_if) => what_if.span.start as usize,
        }
    }

    /// Items of different groups are separated by a blank line.
    fn group(&self) -> u8 {
        match self {
            Item::Title(_) | Item::Summary(_) => 0,
            Item::Param(_) => 1,
            Item::Import(_) => 2,
            Item::Requires(_) | Item::Goal(_) | Item::From(_) => 3,
            Item::Stmt(stmt) if matches!(stmt.kind, StmtKind::Step(_)) => 5,
            Item::Stmt(_) => 4,
            Item::WhatIf(_) => 6,
        }
    }

    /// Steps and What-if handlers always stand apart.
    fn stands_apart(&self) -> bool {
        self.group() >= 5
    }
}

struct Printer<'a> {
    source: &'a str,
    comments: &'a [Comment],
    /// The next comment not printed yet.
    next_comment: usize,
    out: String,
    depth: usize,
    /// Source offset of the end of what was printed last: blank lines are
    /// looked for between it and the next thing printed.
    last_end: usize,
    /// Nothing printed yet in the current block: no blank line here.
    block_start: bool,
    /// The next line is preceded by a blank line.
    force_blank: bool,
}

impl<'a> Printer<'a> {
    fn new(source: &'a str, comments: &'a [Comment]) -> Self {
        Printer {
            source,
            comments,
            next_comment: 0,
            out: String::with_capacity(source.len() + source.len() / 8),
            depth: 0,
            last_end: 0,
            block_start: true,
            force_blank: false,
        }
    }

    fn text(&self, literal: &StringLit) -> &'a str {
        literal.span.text(self.source)
    }

    /// Starts a line for something written at `src_start`, after a blank
    /// line when one is due.
    fn begin_line(&mut self, src_start: usize) {
        let blank = !self.block_start
            && !self.out.is_empty()
            && (self.force_blank || self.blank_between(self.last_end, src_start));
        if blank {
            self.out.push('\n');
        }
        self.block_start = false;
        self.force_blank = false;
        self.indent();
    }

    /// Starts a line that continues a construct (a clause, a closing brace).
    fn continue_line(&mut self, extra: usize) {
        self.block_start = false;
        self.force_blank = false;
        for _ in 0..self.depth + extra {
            self.out.push_str(INDENT);
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str(INDENT);
        }
    }

    /// Whether the source between `from` and `to` holds an empty line.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        let Some(gap) = self.source.get(from.min(to)..to) else {
            return false;
        };
        let lines: Vec<&str> = gap.split('\n').collect();
        lines.len() > 2
            && lines[1..lines.len() - 1]
                .iter()
                .any(|line| line.trim().is_empty())
    }

    /// Ends the current line, which prints source up to `src_end`: a comment
    /// that follows it on the same source line, with no code in between,
    /// goes at its end.
    fn end_line(&mut self, src_end: usize) {
        if let Some(comment) = self.comments.get(self.next_comment) {
            let start = comment.span.start as usize;
            let same_line = start >= src_end
                && self
                    .source
                    .get(src_end..start)
                    .is_some_and(|gap| gap.chars().all(|c| c == ' ' || c == '\t'));
            if same_line {
                self.out.push(' ');
                self.out.push_str(comment.span.text(self.source).trim_end());
                self.next_comment += 1;
                self.last_end = comment.span.end as usize;
                self.out.push('\n');
                return;
            }
        }
        self.last_end = self.last_end.max(src_end);
        self.out.push('\n');
    }

    /// Prints, each on its own line, the comments that start before `offset`.
    fn comments_before(&mut self, offset: usize) {
        while let Some(comment) = self.comments.get(self.next_comment) {
            if comment.span.start as usize >= offset {
                break;
            }
            self.begin_line(comment.span.start as usize);
            self.out.push_str(comment.span.text(self.source).trim_end());
            self.out.push('\n');
            self.last_end = comment.span.end as usize;
            self.next_comment += 1;
        }
    }

    /// The offset of the `}` that closes the file body: the last `}` before
    /// `end` that is not inside a comment.
    fn closing_brace(&self, end: usize) -> usize {
        let text = self.source.get(..end).unwrap_or(self.source);
        text.rmatch_indices('}')
            .map(|(offset, _)| offset)
            .find(|offset| {
                let containing = self
                    .comments
                    .partition_point(|comment| (comment.span.start as usize) <= *offset);
                containing
                    .checked_sub(1)
                    .and_then(|index| self.comments.get(index))
                    .is_none_or(|comment| (comment.span.end as usize) <= *offset)
            })
            .unwrap_or(end)
    }

    /// Whether a comment not printed yet starts before `offset`.
    fn comment_before(&self, offset: usize) -> bool {
        self.comments
            .get(self.next_comment)
            .is_some_and(|comment| (comment.span.start as usize) < offset)
    }

    /// The offset just after the `{` that follows `from`, skipping trivia;
    /// `from` itself when there is none.
    fn after_brace(&self, from: usize) -> usize {
        let bytes = self.source.as_bytes();
        let mut index = from;
        while index < bytes.len() {
            match bytes[index] {
                b' ' | b'\t' | b'\r' | b'\n' => index += 1,
                b'/' if bytes.get(index + 1) == Some(&b'/') => {
                    while index < bytes.len() && bytes[index] != b'\n' {
                        index += 1;
                    }
                }
                b'{' => return index + 1,
                _ => return from,
            }
        }
        from
    }

    fn file(&mut self, file: &File) {
        self.comments_before(file.name.span.start as usize);
        self.begin_line(file.name.span.start as usize);
        self.out.push_str(file.kind.keyword());
        self.out.push(' ');
        self.out.push_str(&file.name.name);
        self.out.push_str(" {");
        let brace_end = self.after_brace(file.name.span.end as usize);
        self.end_line(brace_end);

        let mut items: Vec<Item<'_>> = Vec::new();
        items.extend(file.title.iter().map(Item::Title));
        items.extend(file.summary.iter().map(Item::Summary));
        items.extend(file.params.iter().map(Item::Param));
        items.extend(file.imports.iter().map(Item::Import));
        items.extend(file.requires.iter().map(Item::Requires));
        items.extend(file.goals.iter().map(Item::Goal));
        items.extend(file.from.iter().map(Item::From));
        items.extend(file.body.iter().map(Item::Stmt));
        items.extend(file.what_ifs.iter().map(Item::WhatIf));
        items.sort_by_key(Item::start);

        self.depth = 1;
        self.block_start = true;
        let mut previous: Option<&Item<'_>> = None;
        for item in &items {
            if let Some(previous) = previous {
                if previous.group() != item.group()
                    || previous.stands_apart()
                    || item.stands_apart()
                {
                    self.force_blank = true;
                }
            }
            self.item(item);
            previous = Some(item);
        }
        let closing = self.closing_brace(file.span.end as usize);
        self.comments_before(closing);
        self.depth = 0;
        self.continue_line(0);
        self.out.push('}');
        self.end_line(closing + 1);
        self.block_start = false;
        self.comments_before(usize::MAX);
    }

    fn item(&mut self, item: &Item<'_>) {
        match item {
            Item::Title(text) => self.simple(
                text.span.start as usize,
                text.span.end as usize,
                &format!("title {}", self.text(text)),
            ),
            Item::Summary(text) => self.simple(
                text.span.start as usize,
                text.span.end as usize,
                &format!("summary {}", self.text(text)),
            ),
            Item::Param(param) => {
                let mut line = format!("param {}: {}", param.name.name, param.ty.keyword());
                if let Some(default) = &param.default {
                    line.push_str(" = ");
                    line.push_str(&expr_to_string(default, self.source));
                }
                self.simple(param.span.start as usize, param.span.end as usize, &line);
            }
            Item::Import(import) => self.simple(
                import.span.start as usize,
                import.span.end as usize,
                &format!("import {}", self.text(&import.path)),
            ),
            Item::Requires(requirement) => self.with_clauses(
                requirement.span.start as usize,
                requirement.span.end as usize,
                &format!(
                    "requires {}",
                    expr_to_string(&requirement.condition, self.source)
                ),
                &[format!("else {}", self.text(&requirement.message.text))],
            ),
            Item::Goal(goal) => {
                let (start, end) = (goal.span.start as usize, goal.span.end as usize);
                match &goal.kind {
                    crate::syntax::ast::GoalKind::Healthy => {
                        self.simple(start, end, "goal healthy")
                    }
                    crate::syntax::ast::GoalKind::Upgrade(version) => self.simple(
                        start,
                        end,
                        &format!("goal upgrade to {}", expr_to_string(version, self.source)),
                    ),
                    crate::syntax::ast::GoalKind::Condition { condition, message } => self
                        .with_clauses(
                            start,
                            end,
                            &format!("goal {}", expr_to_string(condition, self.source)),
                            &[format!("else {}", self.text(&message.text))],
                        ),
                }
            }
            Item::From(from) => {
                let names: Vec<&str> = from
                    .states
                    .iter()
                    .map(|state| state.name.as_str())
                    .collect();
                self.simple(
                    from.span.start as usize,
                    from.span.end as usize,
                    &format!("from {}", names.join(", ")),
                );
            }
            Item::Stmt(stmt) => self.stmt(stmt),
            Item::WhatIf(what_if) => self.what_if(what_if),
        }
    }

    /// Where the code of a node spanning `start..end` ends: a span may
    /// include trailing comments and whitespace, which are not its code.
    fn code_end(&self, start: usize, end: usize) -> usize {
        let mut end = end;
        loop {
            let trimmed = start
                + self
                    .source
                    .get(start..end)
                    .map_or(0, |text| text.trim_end().len());
            // Comments are in source order: only the last one that starts
            // before `trimmed` can end there.
            let before = self
                .comments
                .partition_point(|comment| (comment.span.start as usize) < trimmed);
            let comment = before
                .checked_sub(1)
                .and_then(|index| self.comments.get(index))
                .filter(|comment| {
                    let comment_start = comment.span.start as usize;
                    comment_start >= start
                        && comment.span.text(self.source).trim_end().len() + comment_start
                            == trimmed
                });
            match comment {
                Some(comment) => end = comment.span.start as usize,
                None => return trimmed,
            }
        }
    }

    /// A construct printed on one line (comments inside it move above it).
    fn simple(&mut self, start: usize, end: usize, line: &str) {
        let end = self.code_end(start, end);
        self.comments_before(end);
        self.begin_line(start);
        self.out.push_str(line);
        self.end_line(end);
    }

    /// A construct whose clauses go on continuation lines when it is long.
    fn with_clauses(&mut self, start: usize, end: usize, head: &str, clauses: &[String]) {
        let end = self.code_end(start, end);
        let one_line: String = std::iter::once(head.to_string())
            .chain(clauses.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ");
        let width = self.depth * INDENT.len() + one_line.chars().count();
        if width <= MAX_WIDTH || clauses.is_empty() {
            self.simple(start, end, &one_line);
            return;
        }
        self.comments_before(end);
        self.begin_line(start);
        self.out.push_str(head);
        for clause in clauses {
            self.out.push('\n');
            self.continue_line(1);
            self.out.push_str(clause);
        }
        self.end_line(end);
    }

    /// The statements of a block, one level deeper; comments before
    /// `close_at` (the closing `}`) are printed inside the block.
    fn block_body(&mut self, stmts: &[Stmt], close_at: usize) {
        self.depth += 1;
        self.block_start = true;
        let mut previous_apart = false;
        for (index, stmt) in stmts.iter().enumerate() {
            let apart = matches!(stmt.kind, StmtKind::Step(_));
            if index > 0 && (apart || previous_apart) {
                self.force_blank = true;
            }
            self.stmt(stmt);
            previous_apart = apart;
        }
        self.comments_before(close_at);
        self.depth -= 1;
    }

    /// Prints the `}` that ends the source at `src_end`.
    fn close_brace(&mut self, src_end: usize) {
        self.continue_line(0);
        self.out.push('}');
        self.end_line(src_end);
    }

    /// `HEAD {`, the block, `}`.
    fn braced(&mut self, start: usize, head: &str, block: &Block) {
        self.comments_before(block.span.start as usize);
        self.begin_line(start);
        self.out.push_str(head);
        if block.stmts.is_empty() && !self.comment_before(close_offset(block)) {
            self.out.push_str(" {}");
            self.end_line(block.span.end as usize);
            return;
        }
        self.out.push_str(" {");
        self.end_line(block.span.start as usize + 1);
        self.block_body(&block.stmts, close_offset(block));
        self.close_brace(block.span.end as usize);
    }

    /// A header whose clauses go on their own lines when there are several
    /// (or one that does not fit, or `always_apart`), then the block.
    fn clause_header(
        &mut self,
        start: usize,
        head: &str,
        clauses: &[String],
        block: &Block,
        always_apart: bool,
    ) {
        let one_line_width = self.depth * INDENT.len()
            + head.chars().count()
            + clauses
                .iter()
                .map(|clause| clause.chars().count() + 1)
                .sum::<usize>()
            + 2;
        if clauses.is_empty()
            || (!always_apart && clauses.len() == 1 && one_line_width <= MAX_WIDTH)
        {
            let mut line = head.to_string();
            for clause in clauses {
                line.push(' ');
                line.push_str(clause);
            }
            self.braced(start, &line, block);
            return;
        }
        self.comments_before(block.span.start as usize);
        self.begin_line(start);
        self.out.push_str(head);
        for clause in clauses {
            self.out.push('\n');
            self.continue_line(1);
            self.out.push_str(clause);
        }
        self.out.push('\n');
        self.continue_line(0);
        self.out.push('{');
        self.end_line(block.span.start as usize + 1);
        self.block_body(&block.stmts, close_offset(block));
        self.close_brace(block.span.end as usize);
    }

    /// Prints one statement, dispatching on its kind.
    fn stmt(&mut self, stmt: &Stmt) {
        let start = stmt.span.start as usize;
        let end = stmt.span.end as usize;
        let source = self.source;
        match &stmt.kind {
            StmtKind::Let { name, value } => self.simple(
                start,
                end,
                &format!("let {} = {}", name.name, expr_to_string(value, source)),
            ),
            StmtKind::Step(step) => self.step(start, step),
            StmtKind::Note { text } => {
                self.simple(start, end, &format!("note {}", self.text(&text.text)))
            }
            StmtKind::Warning { text } => {
                self.simple(start, end, &format!("warning {}", self.text(&text.text)))
            }
            StmtKind::Operation(operation) => self.simple(
                start,
                end,
                &format!(
                    "{}({})",
                    operation.name.name,
                    args_to_string(&operation.args, source)
                ),
            ),
            StmtKind::Confirm { id, text } => self.simple(
                start,
                end,
                &format!("confirm {} {}", id.name, self.text(text)),
            ),
            StmtKind::Record { id, text } => self.simple(
                start,
                end,
                &format!("record {} {}", id.name, self.text(text)),
            ),
            StmtKind::Choose(choose) => self.choose(start, end, choose),
            StmtKind::Check { condition, message } => self.with_clauses(
                start,
                end,
                &format!("check {}", expr_to_string(condition, source)),
                &[format!("else {}", self.text(&message.text))],
            ),
            StmtKind::Wait {
                condition,
                timeout,
                every,
            } => self.wait(start, end, condition, timeout.as_ref(), every.as_ref()),
            StmtKind::If(if_stmt) => self.if_chain(start, end, if_stmt),
            StmtKind::For { var, list, body } => {
                let head = format!("for {} in {}", var.name, expr_to_string(list, source));
                self.braced(start, &head, body);
            }
            StmtKind::Call(call) => self.simple(
                start,
                end,
                &format!(
                    "call {}({})",
                    call.target.name,
                    args_to_string(&call.args, source)
                ),
            ),
            StmtKind::Stop { message } => {
                self.simple(start, end, &format!("stop {}", self.text(&message.text)))
            }
            StmtKind::Pause { message } => {
                self.simple(start, end, &format!("pause {}", self.text(&message.text)))
            }
            StmtKind::Fail { message } => {
                self.simple(start, end, &format!("fail {}", self.text(&message.text)))
            }
            StmtKind::Retry => self.simple(start, end, "retry"),
        }
    }

    /// Prints a `step` header (number, id, title, clauses) and its body.
    fn step(&mut self, start: usize, step: &Step) {
        let source = self.source;
        let mut head = String::from("step ");
        if let Some(number) = &step.number {
            head.push_str(&number.text);
            head.push(' ');
        }
        head.push_str(&step.id.name);
        head.push(' ');
        head.push_str(self.text(&step.title));
        let mut clauses = Vec::new();
        if let Some(window) = &step.window {
            clauses.push(format!(
                "within {} after {}",
                expr_to_string(&window.duration, source),
                window.after.name
            ));
        }
        clauses.extend(discards_clause(&step.discards_changes_on, source));
        self.clause_header(start, &head, &clauses, &step.body, false);
    }

    /// Prints a `choose` block: its header line, each `option`, the `}`.
    fn choose(&mut self, start: usize, end: usize, choose: &Choose) {
        let source = self.source;
        let head = format!("choose {} {} {{", choose.id.name, self.text(&choose.text));
        let brace_end = self.after_brace(choose.text.span.end as usize);
        self.comments_before(brace_end);
        self.begin_line(start);
        self.out.push_str(&head);
        self.end_line(brace_end);
        self.depth += 1;
        self.block_start = true;
        for option in &choose.options {
            let mut head = format!("option {} {}", option.name.name, self.text(&option.label));
            if option.is_default {
                head.push_str(" default");
            }
            let clauses: Vec<String> = discards_clause(&option.discards_changes_on, source)
                .into_iter()
                .collect();
            self.clause_header(
                option.span.start as usize,
                &head,
                &clauses,
                &option.body,
                false,
            );
        }
        self.comments_before(end.saturating_sub(1));
        self.depth -= 1;
        self.close_brace(end);
    }

    /// Prints `wait until EXPR` with its `timeout`/`every` clauses.
    fn wait(
        &mut self,
        start: usize,
        end: usize,
        condition: &Expr,
        timeout: Option<&Expr>,
        every: Option<&Expr>,
    ) {
        let source = self.source;
        let mut clauses = Vec::new();
        if let Some(timeout) = timeout {
            clauses.push(format!("timeout {}", expr_to_string(timeout, source)));
        }
        if let Some(every) = every {
            clauses.push(format!("every {}", expr_to_string(every, source)));
        }
        self.with_clauses(
            start,
            end,
            &format!("wait until {}", expr_to_string(condition, source)),
            &clauses,
        );
    }

    /// Prints an `if` / `else if` / `else` chain, each block in turn.
    fn if_chain(&mut self, start: usize, end: usize, if_stmt: &If) {
        let source = self.source;
        let mut first = true;
        for branch in &if_stmt.branches {
            let block = &branch.body;
            let head = format!(
                "{}if {} {{",
                if first { "" } else { "} else " },
                expr_to_string(&branch.condition, source)
            );
            self.comments_before(block.span.start as usize);
            if first {
                self.begin_line(start);
            } else {
                self.continue_line(0);
            }
            self.out.push_str(&head);
            self.end_line(block.span.start as usize + 1);
            first = false;
            let close_at = next_block_start(if_stmt, block).unwrap_or(close_offset(block));
            self.block_body(&block.stmts, close_at);
        }
        if let Some(otherwise) = &if_stmt.otherwise {
            self.continue_line(0);
            self.out.push_str("} else {");
            self.end_line(otherwise.span.start as usize + 1);
            self.block_body(&otherwise.stmts, close_offset(otherwise));
        }
        self.close_brace(end);
    }

    fn what_if(&mut self, what_if: &WhatIf) {
        let source = self.source;
        let head = format!("what-if {} {}", what_if.id.name, self.text(&what_if.title));
        let triggers: Vec<String> = what_if
            .triggers
            .iter()
            .map(|trigger| trigger_to_string(trigger, source))
            .collect();
        let mut clauses = vec![format!("when {}", triggers.join(", "))];
        if !what_if.during.is_empty() {
            let steps: Vec<&str> = what_if
                .during
                .iter()
                .map(|step| step.name.as_str())
                .collect();
            clauses.push(format!("during {}", steps.join(", ")));
        }
        clauses.extend(discards_clause(&what_if.discards_changes_on, source));
        self.clause_header(
            what_if.span.start as usize,
            &head,
            &clauses,
            &what_if.body,
            true,
        );
    }
}

/// `discards changes on EXPR`, as a header clause (steps, options, What-ifs).
fn discards_clause(server: &Option<crate::syntax::ast::Expr>, source: &str) -> Option<String> {
    server
        .as_ref()
        .map(|server| format!("discards changes on {}", expr_to_string(server, source)))
}

/// The offset of a block's closing `}`.
fn close_offset(block: &Block) -> usize {
    (block.span.end as usize).saturating_sub(1)
}

/// In an `if` chain, where the block after `block` opens: comments between
/// the two blocks are printed at the end of the first.
fn next_block_start(if_stmt: &crate::syntax::ast::If, block: &Block) -> Option<usize> {
    let mut blocks = if_stmt
        .branches
        .iter()
        .map(|branch| &branch.body)
        .chain(if_stmt.otherwise.iter());
    blocks
        .find(|candidate| candidate.span.start > block.span.start)
        .map(|next| {
            // Comments up to the `else` keyword: it is on the closing line.
            next.span.start as usize
        })
}
