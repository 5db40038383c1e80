//! Statements: [`Converter::block`] and [`Converter::stmt`], and one method
//! per kind of statement that has more to it than a keyword and a string
//! (`let`, `step`, `choose`, `check`, `wait`, `if`, `for`, `call` and
//! operations), with the parts they share (choice options, named
//! arguments).

use pest::iterators::Pair;

use super::convert::{missing, next_child, significant, Converted, Converter};
use super::Rule;
use crate::syntax::ast::{
    Arg, Block, Call, ChoiceOption, Choose, Ident, If, IfBranch, OperationCall, Step, StepNumber,
    Stmt, StmtKind, StringLit, Window,
};
use crate::syntax::span::Span;

impl Converter<'_> {
    pub(super) fn block(&self, pair: Pair<'_, Rule>) -> Converted<Block> {
        let span = self.span(&pair);
        let stmts = significant(pair)
            .map(|stmt| self.stmt(stmt))
            .collect::<Converted<Vec<_>>>()?;
        Ok(Block { stmts, span })
    }

    fn stmt(&self, pair: Pair<'_, Rule>) -> Converted<Stmt> {
        let mut docs = None;
        let whole = pair.clone();
        for child in pair.into_inner() {
            if child.as_rule() == Rule::docs {
                docs = Some(self.docs(child));
            } else {
                let span = self.span(&child);
                return Ok(Stmt {
                    docs,
                    kind: self.stmt_kind(child, span)?,
                    span,
                });
            }
        }
        Err(missing(self.span(&whole), "a statement"))
    }

    /// `span` is the statement's (`self.span(&pair)`).
    pub(super) fn stmt_kind(&self, pair: Pair<'_, Rule>, span: Span) -> Converted<StmtKind> {
        let rule = pair.as_rule();
        let mut children = significant(pair);
        Ok(match rule {
            Rule::let_stmt => self.let_stmt(children, span)?,
            Rule::step_stmt => {
                return self.step(children, span).map(StmtKind::Step);
            }
            Rule::note_stmt => StmtKind::Note {
                text: self.message(next_child(&mut children, span, "a string")?)?,
            },
            Rule::warning_stmt => StmtKind::Warning {
                text: self.message(next_child(&mut children, span, "a string")?)?,
            },
            Rule::confirm_stmt => {
                let (id, text) = self.prompt(&mut children, span)?;
                StmtKind::Confirm { id, text }
            }
            Rule::record_stmt => {
                let (id, text) = self.prompt(&mut children, span)?;
                StmtKind::Record { id, text }
            }
            Rule::choose_stmt => StmtKind::Choose(self.choose(children, span)?),
            Rule::check_stmt => StmtKind::Check {
                condition: self.expr(next_child(&mut children, span, "an expression")?)?,
                message: self.message(next_child(&mut children, span, "a string")?)?,
            },
            Rule::wait_stmt => self.wait(children, span)?,
            Rule::if_stmt => StmtKind::If(self.if_stmt(children, span)?),
            Rule::for_stmt => self.for_stmt(children, span)?,
            Rule::call_stmt => StmtKind::Call(self.call(children, span)?),
            Rule::stop_stmt => StmtKind::Stop {
                message: self.message(next_child(&mut children, span, "a string")?)?,
            },
            Rule::pause_stmt => StmtKind::Pause {
                message: self.message(next_child(&mut children, span, "a string")?)?,
            },
            Rule::fail_stmt => StmtKind::Fail {
                message: self.message(next_child(&mut children, span, "a string")?)?,
            },
            Rule::retry_stmt => StmtKind::Retry,
            Rule::operation => StmtKind::Operation(self.operation(children, span)?),
            _ => return Err(missing(span, "a statement")),
        })
    }

    /// `let NAME = EXPR`
    fn let_stmt<'p>(
        &self,
        mut children: impl Iterator<Item = Pair<'p, Rule>>,
        span: Span,
    ) -> Converted<StmtKind> {
        Ok(StmtKind::Let {
            name: self.ident(&next_child(&mut children, span, "a name")?),
            value: self.expr(next_child(&mut children, span, "an expression")?)?,
        })
    }

    /// The prompt id and text that start `confirm`, `record` and `choose`.
    fn prompt<'p>(
        &self,
        children: &mut impl Iterator<Item = Pair<'p, Rule>>,
        span: Span,
    ) -> Converted<(Ident, StringLit)> {
        let id = self.ident(&next_child(children, span, "a prompt id")?);
        let text = self.string(next_child(children, span, "a string")?)?;
        Ok((id, text))
    }

    /// `choose ID "TEXT" { option ... }`
    fn choose<'p>(
        &self,
        mut children: impl Iterator<Item = Pair<'p, Rule>>,
        span: Span,
    ) -> Converted<Choose> {
        let (id, text) = self.prompt(&mut children, span)?;
        let options = children
            .map(|option| self.choice_option(option))
            .collect::<Converted<Vec<_>>>()?;
        Ok(Choose {
            id,
            text,
            options,
            span,
        })
    }

    /// `wait until EXPR [timeout EXPR] [every EXPR]`
    fn wait<'p>(
        &self,
        mut children: impl Iterator<Item = Pair<'p, Rule>>,
        span: Span,
    ) -> Converted<StmtKind> {
        let condition = self.expr(next_child(&mut children, span, "an expression")?)?;
        let mut timeout = None;
        let mut every = None;
        for clause in children {
            let clause_rule = clause.as_rule();
            let clause_span = self.span(&clause);
            let value = significant(clause)
                .next()
                .ok_or_else(|| missing(clause_span, "a duration"))?;
            let value = Some(self.expr(value)?);
            if clause_rule == Rule::timeout_clause {
                timeout = value;
            } else {
                every = value;
            }
        }
        Ok(StmtKind::Wait {
            condition,
            timeout,
            every,
        })
    }

    /// `if EXPR { ... } else if EXPR { ... } else { ... }`
    fn if_stmt<'p>(
        &self,
        mut children: impl Iterator<Item = Pair<'p, Rule>>,
        span: Span,
    ) -> Converted<If> {
        let condition = self.expr(next_child(&mut children, span, "an expression")?)?;
        let body = self.block(next_child(&mut children, span, "a block")?)?;
        let mut branches = vec![IfBranch { condition, body }];
        let mut otherwise = None;
        for clause in children {
            let clause_span = self.span(&clause);
            if clause.as_rule() == Rule::else_if {
                let mut parts = significant(clause);
                let condition = parts
                    .next()
                    .ok_or_else(|| missing(clause_span, "an expression"))?;
                let body = parts
                    .next()
                    .ok_or_else(|| missing(clause_span, "a block"))?;
                branches.push(IfBranch {
                    condition: self.expr(condition)?,
                    body: self.block(body)?,
                });
            } else {
                let body = significant(clause)
                    .next()
                    .ok_or_else(|| missing(clause_span, "a block"))?;
                otherwise = Some(self.block(body)?);
            }
        }
        Ok(If {
            branches,
            otherwise,
            span,
        })
    }

    /// `for NAME in EXPR { ... }`
    fn for_stmt<'p>(
        &self,
        mut children: impl Iterator<Item = Pair<'p, Rule>>,
        span: Span,
    ) -> Converted<StmtKind> {
        Ok(StmtKind::For {
            var: self.ident(&next_child(&mut children, span, "a name")?),
            list: self.expr(next_child(&mut children, span, "an expression")?)?,
            body: self.block(next_child(&mut children, span, "a block")?)?,
        })
    }

    /// `call NAME(ARGS)`
    fn call<'p>(
        &self,
        mut children: impl Iterator<Item = Pair<'p, Rule>>,
        span: Span,
    ) -> Converted<Call> {
        let target = self.ident(&next_child(&mut children, span, "a procedure name")?);
        Ok(Call {
            target,
            args: self.args(children.next())?,
            span,
        })
    }

    /// `OPERATION(ARGS)`
    fn operation<'p>(
        &self,
        mut children: impl Iterator<Item = Pair<'p, Rule>>,
        span: Span,
    ) -> Converted<OperationCall> {
        let name = self.ident(&next_child(&mut children, span, "an operation")?);
        Ok(OperationCall {
            name,
            args: self.args(children.next())?,
            span,
        })
    }

    fn step<'p>(
        &self,
        children: impl Iterator<Item = Pair<'p, Rule>>,
        span: Span,
    ) -> Converted<Step> {
        let mut number = None;
        let mut id = None;
        let mut title = None;
        let mut window = None;
        let mut discards_changes_on = None;
        let mut body = None;
        for child in children {
            match child.as_rule() {
                Rule::step_number => {
                    let (span, text) = self.token(&child);
                    number = Some(StepNumber {
                        text: text.to_string(),
                        span,
                    })
                }
                Rule::step_id => id = Some(self.ident(&child)),
                Rule::string => title = Some(self.string(child)?),
                Rule::within_clause => {
                    let clause_span = self.span(&child);
                    let mut parts = significant(child);
                    let duration = parts
                        .next()
                        .ok_or_else(|| missing(clause_span, "a duration"))?;
                    let after = parts
                        .next()
                        .ok_or_else(|| missing(clause_span, "a step id"))?;
                    window = Some(Window {
                        duration: self.expr(duration)?,
                        after: self.ident(&after),
                        span: clause_span,
                    });
                }
                Rule::discards_clause => discards_changes_on = Some(self.discards_clause(child)?),
                Rule::block => body = Some(self.block(child)?),
                _ => {}
            }
        }
        Ok(Step {
            number,
            id: id.ok_or_else(|| missing(span, "a step id"))?,
            title: title.ok_or_else(|| missing(span, "a title"))?,
            window,
            discards_changes_on,
            body: body.ok_or_else(|| missing(span, "a block"))?,
            span,
        })
    }

    fn choice_option(&self, pair: Pair<'_, Rule>) -> Converted<ChoiceOption> {
        let span = self.span(&pair);
        let mut docs = None;
        let mut name = None;
        let mut label = None;
        let mut is_default = false;
        let mut discards_changes_on = None;
        let mut body = None;
        for child in significant(pair) {
            match child.as_rule() {
                Rule::docs => docs = Some(self.docs(child)),
                Rule::option_id => name = Some(self.ident(&child)),
                Rule::string => label = Some(self.string(child)?),
                Rule::kw_default => is_default = true,
                Rule::discards_clause => discards_changes_on = Some(self.discards_clause(child)?),
                Rule::block => body = Some(self.block(child)?),
                _ => {}
            }
        }
        Ok(ChoiceOption {
            docs,
            name: name.ok_or_else(|| missing(span, "an option name"))?,
            label: label.ok_or_else(|| missing(span, "a label"))?,
            is_default,
            discards_changes_on,
            body: body.ok_or_else(|| missing(span, "a block"))?,
            span,
        })
    }

    fn args(&self, pair: Option<Pair<'_, Rule>>) -> Converted<Vec<Arg>> {
        let Some(pair) = pair else {
            return Ok(Vec::new());
        };
        significant(pair)
            .map(|arg| {
                let span = self.span(&arg);
                let mut parts = significant(arg);
                let name = parts
                    .next()
                    .ok_or_else(|| missing(span, "an argument name"))?;
                let value = parts.next().ok_or_else(|| missing(span, "an expression"))?;
                Ok(Arg {
                    name: self.ident(&name),
                    value: self.expr(value)?,
                    span,
                })
            })
            .collect()
    }
}
