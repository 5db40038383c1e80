//! Expressions printed back as source: canonical spacing, the parentheses the
//! author wrote (one level) plus the ones precedence needs, literals exactly
//! as written (a `60s` stays `60s`, a long string stays on its lines).

use crate::syntax::ast::{Arg, Expr, ExprKind, Trigger, TriggerKind};

/// Binding power of an atom or a field access: never needs parentheses.
const ATOM: u8 = 10;
/// Binding power of `not` (see [`crate::syntax::ast::BinaryOp::precedence`]).
const NOT: u8 = 3;
/// A quantifier's body runs to the end of the expression: it binds loosest.
const QUANTIFIER: u8 = 0;

/// `expr` as canonical source text. `source` is the text the expression was
/// parsed from: literals are copied from it.
pub fn expr_to_string(expr: &Expr, source: &str) -> String {
    let mut out = String::new();
    write_expr(expr, source, false, &mut out);
    out
}

/// `name: value, name: value` as written between the parentheses of an
/// operation or a `call`.
pub fn args_to_string(args: &[Arg], source: &str) -> String {
    args.iter()
        .map(|arg| format!("{}: {}", arg.name.name, expr_to_string(&arg.value, source)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A What-if trigger as written: `two-actives`, `failed(step)`,
/// `upgrade-cancelled(server)`.
pub fn trigger_to_string(trigger: &Trigger, source: &str) -> String {
    match &trigger.kind {
        TriggerKind::Failed(step) => format!("failed({})", step.name),
        TriggerKind::UpgradeCancelled(server) => {
            format!("upgrade-cancelled({})", expr_to_string(server, source))
        }
        other => other.keyword().to_string(),
    }
}

fn binding_power(expr: &Expr) -> u8 {
    match &expr.kind {
        ExprKind::Binary { op, .. } => op.precedence(),
        ExprKind::Not(_) => NOT,
        ExprKind::Quantifier { .. } => QUANTIFIER,
        _ => ATOM,
    }
}

/// Whether the author wrapped this expression in parentheses: its span then
/// starts before its first token.
fn is_grouped(expr: &Expr, source: &str) -> bool {
    match &expr.kind {
        ExprKind::Binary { lhs, .. } => expr.span.start < lhs.span.start,
        ExprKind::Field { target, .. } => expr.span.start < target.span.start,
        _ => expr.span.text(source).starts_with('('),
    }
}

/// The literal's text as written, without the parentheses of a group.
fn literal_text<'s>(expr: &Expr, source: &'s str) -> &'s str {
    let mut text = expr.span.text(source).trim();
    while let Some(inner) = text
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
    {
        text = inner.trim();
    }
    text
}

fn write_expr(expr: &Expr, source: &str, needs_parens: bool, out: &mut String) {
    let parens = needs_parens || is_grouped(expr, source);
    if parens {
        out.push('(');
    }
    match &expr.kind {
        ExprKind::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
        ExprKind::Number(_)
        | ExprKind::String(_)
        | ExprKind::Duration(_)
        | ExprKind::Version(_)
        | ExprKind::State(_) => out.push_str(literal_text(expr, source)),
        ExprKind::List(items) => {
            out.push('[');
            write_list(items, source, out);
            out.push(']');
        }
        ExprKind::Var(name) => out.push_str(&name.name),
        ExprKind::Field { target, field } => {
            write_expr(target, source, binding_power(target) < ATOM, out);
            out.push('.');
            out.push_str(&field.name);
        }
        ExprKind::Call { function, args } => {
            out.push_str(&function.name);
            out.push('(');
            write_list(args, source, out);
            out.push(')');
        }
        ExprKind::Not(operand) => {
            out.push_str("not ");
            write_expr(operand, source, binding_power(operand) < NOT, out);
        }
        ExprKind::Binary { op, lhs, rhs, .. } => {
            let power = op.precedence();
            // Every binary operator is left-associative: a right operand of
            // the same power was grouped by the author.
            write_expr(lhs, source, binding_power(lhs) < power, out);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            write_expr(rhs, source, binding_power(rhs) <= power, out);
        }
        ExprKind::Quantifier {
            quantifier,
            var,
            list,
            body,
        } => {
            out.push_str(quantifier.keyword());
            out.push(' ');
            out.push_str(&var.name);
            out.push_str(" in ");
            write_expr(list, source, binding_power(list) < ATOM, out);
            out.push_str(": ");
            write_expr(body, source, false, out);
        }
        ExprKind::Select { id, text, from } => {
            out.push_str("select ");
            out.push_str(&id.name);
            out.push(' ');
            out.push_str(text.span.text(source));
            out.push_str(" from ");
            write_expr(from, source, binding_power(from) < ATOM, out);
        }
    }
    if parens {
        out.push(')');
    }
}

fn write_list(items: &[Expr], source: &str, out: &mut String) {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write_expr(item, source, false, out);
    }
}
