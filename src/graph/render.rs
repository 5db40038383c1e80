//! Text renderings of a [`Graph`]: Mermaid and Graphviz DOT.

use std::fmt::Write as _;

use super::{EdgeKind, Graph, NodeKind};

/// Mermaid class definitions: ends, What-if handlers and resumptions stand out.
const MERMAID_CLASSES: &[(&str, &str)] = &[
    ("stop", "fill:#fff3cd,stroke:#a67c00,color:#3d2e00"),
    ("fail", "fill:#f8d7da,stroke:#a71d2a,color:#4a0d12"),
    (
        "whatif",
        "fill:#e7f0ff,stroke:#2a5db0,stroke-dasharray:4 3,color:#0b2550",
    ),
    (
        "resume",
        "fill:#eeeeee,stroke:#777777,stroke-dasharray:4 3,color:#222222",
    ),
];

fn mermaid_class(kind: NodeKind) -> Option<&'static str> {
    match kind {
        NodeKind::Stop => Some("stop"),
        NodeKind::Fail => Some("fail"),
        NodeKind::WhatIf | NodeKind::AnyStep => Some("whatif"),
        NodeKind::Resume => Some("resume"),
        _ => None,
    }
}

/// A label inside Mermaid's double quotes: quotes and markup characters as
/// entity codes, line breaks as `<br/>`.
fn mermaid_text(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '\n' => out.push_str("<br/>"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The graph as a Mermaid flowchart.
pub(super) fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart TD\n");
    for node in &graph.nodes {
        let text = mermaid_text(&node.label);
        let (open, close) = match node.kind {
            NodeKind::Start
            | NodeKind::Done
            | NodeKind::Stop
            | NodeKind::Fail
            | NodeKind::Resume => ("([", "])"),
            NodeKind::Step => ("[", "]"),
            NodeKind::Decision => ("{", "}"),
            NodeKind::Loop => ("{{", "}}"),
            NodeKind::Call => ("[[", "]]"),
            NodeKind::Action => ("(", ")"),
            NodeKind::WhatIf => (">", "]"),
            NodeKind::AnyStep => ("((", "))"),
        };
        let _ = writeln!(out, "    {}{open}\"{text}\"{close}", node.id);
    }
    for edge in &graph.edges {
        let arrow = match edge.kind {
            EdgeKind::Flow => "-->",
            EdgeKind::WhatIf => "-.->",
        };
        match &edge.label {
            Some(label) => {
                let _ = writeln!(
                    out,
                    "    {} {arrow}|\"{}\"| {}",
                    edge.from,
                    mermaid_text(label),
                    edge.to
                );
            }
            None => {
                let _ = writeln!(out, "    {} {arrow} {}", edge.from, edge.to);
            }
        }
    }
    for (class, style) in MERMAID_CLASSES {
        let members: Vec<&str> = graph
            .nodes
            .iter()
            .filter(|node| mermaid_class(node.kind) == Some(*class))
            .map(|node| node.id.as_str())
            .collect();
        if !members.is_empty() {
            let _ = writeln!(out, "    classDef {class} {style}");
            let _ = writeln!(out, "    class {} {class}", members.join(","));
        }
    }
    out
}

/// A DOT string literal's content.
fn dot_text(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The graph as a Graphviz digraph.
pub(super) fn dot(graph: &Graph) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", dot_text(&graph.name));
    out.push_str("    graph [rankdir=TB, fontname=\"Helvetica\"];\n");
    out.push_str("    node [fontname=\"Helvetica\", fontsize=11, shape=box];\n");
    out.push_str("    edge [fontname=\"Helvetica\", fontsize=10];\n");
    for node in &graph.nodes {
        let attributes = match node.kind {
            NodeKind::Start | NodeKind::Done => "shape=oval, style=bold",
            NodeKind::Step => "shape=box",
            NodeKind::Decision => "shape=diamond",
            NodeKind::Loop => "shape=hexagon",
            NodeKind::Call => "shape=box, peripheries=2",
            NodeKind::Action => "shape=box, style=rounded",
            NodeKind::Stop => "shape=oval, style=filled, fillcolor=\"#fff3cd\", color=\"#a67c00\"",
            NodeKind::Fail => "shape=oval, style=filled, fillcolor=\"#f8d7da\", color=\"#a71d2a\"",
            NodeKind::WhatIf => "shape=box, style=\"rounded,dashed,filled\", fillcolor=\"#e7f0ff\", color=\"#2a5db0\"",
            NodeKind::AnyStep => "shape=circle, style=dashed, color=\"#2a5db0\"",
            NodeKind::Resume => "shape=oval, style=dashed",
        };
        let _ = writeln!(
            out,
            "    \"{}\" [label=\"{}\", {attributes}];",
            node.id,
            dot_text(&node.label)
        );
    }
    for edge in &graph.edges {
        let mut attributes = Vec::new();
        if let Some(label) = &edge.label {
            attributes.push(format!("label=\"{}\"", dot_text(label)));
        }
        if edge.kind == EdgeKind::WhatIf {
            attributes.push("style=dashed".to_string());
            attributes.push("color=\"#2a5db0\"".to_string());
            attributes.push("fontcolor=\"#2a5db0\"".to_string());
        }
        if attributes.is_empty() {
            let _ = writeln!(out, "    \"{}\" -> \"{}\";", edge.from, edge.to);
        } else {
            let _ = writeln!(
                out,
                "    \"{}\" -> \"{}\" [{}];",
                edge.from,
                edge.to,
                attributes.join(", ")
            );
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mermaid_labels_escape_quotes_and_markup() {
        assert_eq!(
            mermaid_text("say \"hi\" <b> #1\nnext"),
            "say #quot;hi#quot; #lt;b#gt; #35;1<br/>next"
        );
    }

    #[test]
    fn dot_labels_escape_quotes_and_backslashes() {
        assert_eq!(dot_text("a \"b\" \\ c\nd"), "a \\\"b\\\" \\\\ c\\nd");
    }
}
