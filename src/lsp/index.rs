//! What is written where in one parsed document: every name the other
//! capabilities look up (operations and their arguments, calls, step and
//! What-if ids and the references to steps, prompts, variables, fields,
//! functions, imports, triggers), each with its span. Hover and go to
//! definition ask for the innermost one under the cursor.

use crate::syntax::ast::{ExprKind, File, StmtKind, TriggerKind};
use crate::syntax::visit;
use crate::syntax::Span;

/// A name written in the document, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Occurrence {
    /// The name of an operation (`set-standby(...)`).
    Operation(String),
    /// A named argument of an operation.
    OperationArg {
        /// The operation.
        operation: String,
        /// The argument's name.
        arg: String,
    },
    /// The callee of a `call`.
    CallTarget(String),
    /// A named argument of a `call`.
    CallArg {
        /// The callee.
        target: String,
        /// The argument's name (a parameter of the callee).
        arg: String,
    },
    /// A step's id where the step is declared.
    StepDef(String),
    /// A step named in `within … after`, `during` or `failed(…)`.
    StepRef(String),
    /// A What-if handler's id where it is declared.
    WhatIfDef(String),
    /// A trigger of a What-if (`two-actives`, `failed(…)`...).
    Trigger(&'static str),
    /// A prompt's id (`confirm`, `choose`, `record`, `select`), with the
    /// statement's keyword.
    Prompt {
        /// The id.
        id: String,
        /// `confirm`, `choose`, `record` or `select`.
        kind: &'static str,
    },
    /// An option of a `choose`.
    ChoiceOption(String),
    /// A parameter where it is declared.
    ParamDef(String),
    /// A name bound by `let`, `for` or a quantifier, where it is bound.
    Binding(String),
    /// A variable or parameter read in an expression.
    Var(String),
    /// A field of a server (`s.running`).
    Field(String),
    /// A built-in function (`active()`).
    Function(String),
    /// The path of the document's import number `n`.
    Import(usize),
}

/// Every occurrence of a document, with its span.
#[derive(Debug, Clone, Default)]
pub struct Index {
    entries: Vec<(Span, Occurrence)>,
}

impl Index {
    /// The occurrences of `file`.
    pub fn new(file: &File) -> Index {
        let mut index = Index::default();
        for param in &file.params {
            index.add(
                param.name.span,
                Occurrence::ParamDef(param.name.name.clone()),
            );
        }
        for (at, import) in file.imports.iter().enumerate() {
            index.add(import.path.span, Occurrence::Import(at));
        }
        visit::for_each_stmt(file, |stmt, _| index.statement(&stmt.kind));
        for what_if in &file.what_ifs {
            index.add(
                what_if.id.span,
                Occurrence::WhatIfDef(what_if.id.name.clone()),
            );
            for trigger in &what_if.triggers {
                index.add(trigger.span, Occurrence::Trigger(trigger.kind.keyword()));
                if let TriggerKind::Failed(step) = &trigger.kind {
                    index.add(step.span, Occurrence::StepRef(step.name.clone()));
                }
            }
            for step in &what_if.during {
                index.add(step.span, Occurrence::StepRef(step.name.clone()));
            }
        }
        visit::for_each_expr(file, |expr| match &expr.kind {
            ExprKind::Var(name) => index.add(name.span, Occurrence::Var(name.name.clone())),
            ExprKind::Field { field, .. } => {
                index.add(field.span, Occurrence::Field(field.name.clone()));
            }
            ExprKind::Call { function, .. } => {
                index.add(function.span, Occurrence::Function(function.name.clone()));
            }
            ExprKind::Quantifier { var, .. } => {
                index.add(var.span, Occurrence::Binding(var.name.clone()));
            }
            ExprKind::Select { id, .. } => index.add(
                id.span,
                Occurrence::Prompt {
                    id: id.name.clone(),
                    kind: "select",
                },
            ),
            _ => {}
        });
        index
            .entries
            .sort_by_key(|(span, _)| (span.start, span.end));
        index
    }

    fn add(&mut self, span: Span, occurrence: Occurrence) {
        self.entries.push((span, occurrence));
    }

    fn statement(&mut self, kind: &StmtKind) {
        match kind {
            StmtKind::Let { name, .. } => {
                self.add(name.span, Occurrence::Binding(name.name.clone()))
            }
            StmtKind::For { var, .. } => self.add(var.span, Occurrence::Binding(var.name.clone())),
            StmtKind::Step(step) => {
                self.add(step.id.span, Occurrence::StepDef(step.id.name.clone()));
                if let Some(window) = &step.window {
                    self.add(
                        window.after.span,
                        Occurrence::StepRef(window.after.name.clone()),
                    );
                }
            }
            StmtKind::Operation(call) => {
                self.add(
                    call.name.span,
                    Occurrence::Operation(call.name.name.clone()),
                );
                for arg in &call.args {
                    self.add(
                        arg.name.span,
                        Occurrence::OperationArg {
                            operation: call.name.name.clone(),
                            arg: arg.name.name.clone(),
                        },
                    );
                }
            }
            StmtKind::Call(call) => {
                self.add(
                    call.target.span,
                    Occurrence::CallTarget(call.target.name.clone()),
                );
                for arg in &call.args {
                    self.add(
                        arg.name.span,
                        Occurrence::CallArg {
                            target: call.target.name.clone(),
                            arg: arg.name.name.clone(),
                        },
                    );
                }
            }
            StmtKind::Confirm { id, .. } => self.prompt(id, "confirm"),
            StmtKind::Record { id, .. } => self.prompt(id, "record"),
            StmtKind::Choose(choose) => {
                self.prompt(&choose.id, "choose");
                for option in &choose.options {
                    self.add(
                        option.name.span,
                        Occurrence::ChoiceOption(option.name.name.clone()),
                    );
                }
            }
            _ => {}
        }
    }

    fn prompt(&mut self, id: &crate::syntax::ast::Ident, kind: &'static str) {
        self.add(
            id.span,
            Occurrence::Prompt {
                id: id.name.clone(),
                kind,
            },
        );
    }

    /// The innermost occurrence at byte `offset` (a cursor just after a
    /// name is on it, as editors place it after a double click's end).
    pub fn at(&self, offset: usize) -> Option<(Span, &Occurrence)> {
        self.entries
            .iter()
            .filter(|(span, _)| span.start as usize <= offset && offset <= span.end as usize)
            .min_by_key(|(span, _)| {
                // Inside beats touching the end; then the smaller span.
                (usize::from(offset == span.end as usize), span.len())
            })
            .map(|(span, occurrence)| (*span, occurrence))
    }

    /// Every occurrence, in source order.
    pub fn entries(&self) -> &[(Span, Occurrence)] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    #[test]
    fn finds_the_innermost_name() {
        let source = "runbook r {\n    title \"t\"\n    step one \"One\" {\n        set-standby(server: active(), force: true)\n    }\n    step two \"Two\" within 5m after one {\n    }\n}\n";
        let Ok(file) = parse(source) else {
            panic!("the test runbook parses")
        };
        let index = Index::new(&file);
        let at = |needle: &str, delta: usize| {
            let offset = source.find(needle).unwrap_or(0) + delta;
            index.at(offset).map(|(_, occurrence)| occurrence.clone())
        };
        assert_eq!(
            at("set-standby", 2),
            Some(Occurrence::Operation("set-standby".into()))
        );
        assert_eq!(
            at("force", 0),
            Some(Occurrence::OperationArg {
                operation: "set-standby".into(),
                arg: "force".into()
            })
        );
        assert_eq!(
            at("active()", 1),
            Some(Occurrence::Function("active".into()))
        );
        assert_eq!(at("one {", 1), Some(Occurrence::StepRef("one".into())));
        assert_eq!(at("two", 3), Some(Occurrence::StepDef("two".into())));
        assert_eq!(at("title", 1), None);
    }
}
