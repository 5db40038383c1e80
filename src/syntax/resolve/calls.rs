//! Calls: operations (against the built-in table) and `call NAME(...)` of
//! procedures (against the parameters of the file that declares them), and
//! the named arguments both take: each known, given once, of the right
//! type, none missing.

use std::collections::HashMap;

use super::builtins::{operation, OPERATIONS};
use super::checker::{first_definition, Checker, Context};
use super::suggest::{closest, list_names};
use super::types::Type;
use crate::syntax::ast;
use crate::syntax::error::ResolveError;
use crate::syntax::span::Span;

impl Checker<'_> {
    /// Checks a call's arguments against `params` (name, type, optional);
    /// `example` (how a complete call looks) is built only for an error.
    fn args(
        &mut self,
        callee: &str,
        args: &[ast::Arg],
        params: &[(&str, Type, bool)],
        call_span: Span,
        example: impl Fn() -> String,
    ) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for arg in args {
            let found = self.expr(&arg.value);
            if !first_definition(
                &mut self.errors,
                &mut seen,
                &arg.name.name,
                &arg.name,
                "argument",
                "give each argument once",
            ) {
                continue;
            }
            match params.iter().find(|(name, _, _)| *name == arg.name.name) {
                Some((_, expected, _)) => {
                    self.expect_with(&arg.value, &found, expected, || {
                        format!(
                            "argument `{}` of `{callee}` is {}",
                            arg.name.name,
                            expected.describe()
                        )
                    });
                }
                None => {
                    let names = params.iter().map(|(name, _, _)| *name);
                    let help = match closest(&arg.name.name, names.clone()) {
                        Some(similar) => format!("did you mean `{similar}`?"),
                        None if params.is_empty() => format!("`{callee}` takes no arguments"),
                        None => format!("`{callee}` takes: {}", list_names(names)),
                    };
                    self.errors.push(ResolveError::UnknownArgument {
                        span: arg.name.span,
                        name: arg.name.name.clone(),
                        callee: callee.to_string(),
                        help,
                    });
                }
            }
        }
        for (name, _, optional) in params {
            if !optional && !seen.contains_key(name) {
                self.errors.push(ResolveError::MissingArgument {
                    span: call_span,
                    name: name.to_string(),
                    callee: callee.to_string(),
                    help: format!("add `{name}: ...`: `{}`", example()),
                });
            }
        }
    }

    pub(super) fn operation(&mut self, call: &ast::OperationCall) {
        let Some(signature) = operation(&call.name.name) else {
            let help = match closest(
                &call.name.name,
                OPERATIONS.iter().map(|operation| operation.name),
            ) {
                Some(similar) => format!("did you mean `{similar}`?"),
                None if self.callees.contains_key(&call.name.name) => {
                    format!(
                        "`{}` is a procedure: write `call {}(...)`",
                        call.name.name, call.name.name
                    )
                }
                None => format!(
                    "the operations are: {}",
                    list_names(OPERATIONS.iter().map(|operation| operation.name))
                ),
            };
            self.errors.push(ResolveError::UnknownOperation {
                span: call.name.span,
                name: call.name.name.clone(),
                help,
            });
            for arg in &call.args {
                self.expr(&arg.value);
            }
            return;
        };
        let params: Vec<(&str, Type, bool)> = signature
            .params
            .iter()
            .map(|param| (param.name, Type::of_param(param.ty), param.optional))
            .collect();
        let example = || {
            format!(
                "{}({})",
                signature.name,
                signature
                    .params
                    .iter()
                    .filter(|param| !param.optional)
                    .map(|param| format!("{}: ...", param.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        self.args(signature.name, &call.args, &params, call.span, example);
    }

    pub(super) fn call(&mut self, call: &ast::Call, context: Context) {
        let name = &call.target.name;
        if *name == self.file.name.name {
            self.errors.push(ResolveError::RecursiveCall {
                span: call.target.span,
                name: name.clone(),
            });
            return;
        }
        let Some(callee) = self.callees.get(name).cloned() else {
            if !self.imports_complete {
                for arg in &call.args {
                    self.expr(&arg.value);
                }
                return;
            }
            let help = match closest(name, self.callees.keys().map(String::as_str)) {
                Some(similar) => format!("did you mean `{similar}`?"),
                None if operation(name).is_some() => {
                    format!("`{name}` is an operation: write `{name}(...)` without `call`")
                }
                None => format!("import the file that declares `procedure {name}`, e.g. `import \"lib/{name}.runbook\"`"),
            };
            self.errors.push(ResolveError::UndefinedProcedure {
                span: call.target.span,
                name: name.clone(),
                help,
            });
            for arg in &call.args {
                self.expr(&arg.value);
            }
            return;
        };
        if context.in_step && !callee.steps().is_empty() {
            self.errors.push(ResolveError::MisplacedStep {
                span: call.target.span,
                place: "run inside another step".into(),
                help: format!("`{name}` has steps of its own: call it outside any step"),
            });
        }
        let params: Vec<(&str, Type, bool)> = callee
            .params
            .iter()
            .map(|param| {
                (
                    param.name.name.as_str(),
                    Type::of_param(param.ty),
                    param.default.is_some(),
                )
            })
            .collect();
        let example = || {
            format!(
                "call {name}({})",
                params
                    .iter()
                    .filter(|(_, _, optional)| !optional)
                    .map(|(param, _, _)| format!("{param}: ..."))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        self.args(name, &call.args, &params, call.span, example);
    }
}
