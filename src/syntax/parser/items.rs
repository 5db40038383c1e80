//! The items of a file's body that are not statements: the declarations
//! (`title`, `summary`, `param`, `import`), which must come before the
//! first statement and at most once where that applies, and the What-if
//! handlers with their triggers. [`Converter::item`] sorts an item into its
//! place in the [`File`].

use pest::iterators::Pair;

use super::convert::{missing, significant, Converted, Converter};
use super::Rule;
use crate::syntax::ast::{
    Doc, Expr, File, FromDecl, Goal, GoalKind, Import, Param, ParamType, Requirement,
    StartingStateDecl, Stmt, Trigger, TriggerKind, WhatIf,
};
use crate::syntax::error::ParseError;
use crate::syntax::span::Span;

impl Converter<'_> {
    pub(super) fn item(
        &self,
        pair: Pair<'_, Rule>,
        file: &mut File,
        first_statement: &mut Option<Span>,
    ) -> Converted<()> {
        let mut docs = None;
        for child in pair.into_inner() {
            let span = self.span(&child);
            let header = |what: &str, first_statement: &Option<Span>| match first_statement {
                Some(first) => Err(ParseError::MisplacedDeclaration {
                    span,
                    first_statement: *first,
                    what: what.to_string(),
                }),
                None => Ok(()),
            };
            match child.as_rule() {
                Rule::docs => docs = Some(self.docs(child)),
                Rule::title_decl => {
                    header("title", first_statement)?;
                    let text = self.string_child(child)?;
                    if let Some(first) = &file.title {
                        return Err(ParseError::DuplicateDeclaration {
                            span,
                            first: first.span,
                            what: "title".to_string(),
                        });
                    }
                    file.title = Some(text);
                }
                Rule::summary_decl => {
                    header("summary", first_statement)?;
                    let text = self.string_child(child)?;
                    if let Some(first) = &file.summary {
                        return Err(ParseError::DuplicateDeclaration {
                            span,
                            first: first.span,
                            what: "summary".to_string(),
                        });
                    }
                    file.summary = Some(text);
                }
                Rule::param_decl => {
                    header("param", first_statement)?;
                    file.params.push(self.param(child, docs.take())?);
                }
                Rule::import_decl => {
                    header("import", first_statement)?;
                    let path = self.string_child(child)?;
                    file.imports.push(Import { path, span });
                }
                Rule::requires_decl => {
                    header("requires", first_statement)?;
                    let mut parts = significant(child);
                    let condition =
                        self.expr(parts.next().ok_or_else(|| missing(span, "a condition"))?)?;
                    let message =
                        self.message(parts.next().ok_or_else(|| missing(span, "a message"))?)?;
                    file.requires.push(Requirement {
                        condition,
                        message,
                        span,
                    });
                }
                Rule::goal_decl => {
                    header("goal", first_statement)?;
                    let kind_pair = significant(child)
                        .next()
                        .ok_or_else(|| missing(span, "a goal"))?;
                    let kind = match kind_pair.as_rule() {
                        Rule::goal_upgrade => {
                            let mut parts = significant(kind_pair);
                            GoalKind::Upgrade(
                                self.expr(parts.next().ok_or_else(|| missing(span, "a version"))?)?,
                            )
                        }
                        Rule::goal_condition => {
                            let mut parts = significant(kind_pair);
                            let condition = self
                                .expr(parts.next().ok_or_else(|| missing(span, "a condition"))?)?;
                            let message = self
                                .message(parts.next().ok_or_else(|| missing(span, "a message"))?)?;
                            GoalKind::Condition { condition, message }
                        }
                        _ => GoalKind::Healthy,
                    };
                    file.goals.push(Goal { kind, span });
                }
                Rule::from_decl => {
                    header("from", first_statement)?;
                    let states = significant(child)
                        .map(|state| {
                            let name = self.ident(&state);
                            StartingStateDecl {
                                name: name.name,
                                span: name.span,
                            }
                        })
                        .collect();
                    file.from.push(FromDecl { states, span });
                }
                Rule::what_if => file.what_ifs.push(self.what_if(child, docs.take())?),
                _ => {
                    first_statement.get_or_insert(span);
                    let kind = self.stmt_kind(child, span)?;
                    file.body.push(Stmt {
                        docs: docs.take(),
                        kind,
                        span,
                    });
                }
            }
        }
        Ok(())
    }

    fn param(&self, pair: Pair<'_, Rule>, docs: Option<Doc>) -> Converted<Param> {
        let span = self.span(&pair);
        let mut name = None;
        let mut ty = None;
        let mut default = None;
        for child in significant(pair) {
            match child.as_rule() {
                Rule::var_name => name = Some(self.ident(&child)),
                Rule::param_type => {
                    let ty_span = self.span(&child);
                    let kind = match child.into_inner().next().map(|inner| inner.as_rule()) {
                        Some(Rule::ty_string) => ParamType::String,
                        Some(Rule::ty_number) => ParamType::Number,
                        Some(Rule::ty_bool) => ParamType::Bool,
                        Some(Rule::ty_duration) => ParamType::Duration,
                        Some(Rule::ty_version) => ParamType::Version,
                        Some(Rule::ty_server) => ParamType::Server,
                        _ => ParamType::ServerList,
                    };
                    ty = Some((kind, ty_span));
                }
                Rule::expr => default = Some(self.expr(child)?),
                _ => {}
            }
        }
        let (ty, ty_span) = ty.ok_or_else(|| missing(span, "a type"))?;
        Ok(Param {
            docs,
            name: name.ok_or_else(|| missing(span, "a name"))?,
            ty,
            ty_span,
            default,
            span,
        })
    }

    fn what_if(&self, pair: Pair<'_, Rule>, docs: Option<Doc>) -> Converted<WhatIf> {
        let span = self.span(&pair);
        let mut id = None;
        let mut title = None;
        let mut triggers = Vec::new();
        let mut during = Vec::new();
        let mut discards_changes_on = None;
        let mut body = None;
        for child in significant(pair) {
            match child.as_rule() {
                Rule::what_if_id => id = Some(self.ident(&child)),
                Rule::string => title = Some(self.string(child)?),
                Rule::trigger => triggers.push(self.trigger(child)?),
                Rule::during_clause => {
                    during.extend(significant(child).map(|step| self.ident(&step)));
                }
                Rule::discards_clause => discards_changes_on = Some(self.discards_clause(child)?),
                Rule::block => body = Some(self.block(child)?),
                _ => {}
            }
        }
        Ok(WhatIf {
            docs,
            id: id.ok_or_else(|| missing(span, "a What-if id"))?,
            title: title.ok_or_else(|| missing(span, "a title"))?,
            triggers,
            during,
            discards_changes_on,
            body: body.ok_or_else(|| missing(span, "a block"))?,
            span,
        })
    }

    fn trigger(&self, pair: Pair<'_, Rule>) -> Converted<Trigger> {
        let span = self.span(&pair);
        let mut children = significant(pair);
        let keyword = children.next().ok_or_else(|| missing(span, "a trigger"))?;
        let kind = match keyword.as_rule() {
            Rule::trig_failed => {
                let step = children.next().ok_or_else(|| missing(span, "a step id"))?;
                TriggerKind::Failed(self.ident(&step))
            }
            Rule::trig_upgrade_cancelled => {
                let server = children
                    .next()
                    .ok_or_else(|| missing(span, "an expression"))?;
                TriggerKind::UpgradeCancelled(self.expr(server)?)
            }
            Rule::trig_two_actives => TriggerKind::TwoActives,
            Rule::trig_standby_activated => TriggerKind::StandbyActivated,
            _ => TriggerKind::ReplicationBroken,
        };
        Ok(Trigger { kind, span })
    }

    /// The server of `discards changes on EXPR` (steps, options, What-ifs).
    pub(super) fn discards_clause(&self, clause: Pair<'_, Rule>) -> Converted<Expr> {
        let clause_span = self.span(&clause);
        let server = significant(clause)
            .next()
            .ok_or_else(|| missing(clause_span, "an expression"))?;
        self.expr(server)
    }
}
