//! Text renderings of a [`Graph`]: Mermaid and Graphviz DOT.
//!
//! Both draw the main flow first, then each What-if handler as a subgraph
//! (Mermaid `subgraph`, DOT `cluster_`), then the dashed edges from the
//! watched steps into the handlers. Every label is wrapped here, once, by
//! [`crate::wrap::label`], with the format's line break: `<br/>` in Mermaid,
//! `\n` in DOT. Mermaid would wrap a label again on its own when a line is
//! wider than its `flowchart.wrappingWidth` (200 pixels, about 25
//! characters); the front matter of the Mermaid text raises that width to
//! [`MERMAID_WRAPPING_WIDTH`] so that the lines stay as drawn here.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{Edge, EdgeKind, Graph, NodeKind, EDGE_LABEL_WIDTH, LABEL_WIDTH};
use crate::wrap::label;

/// Mermaid's `flowchart.wrappingWidth`, in pixels: wider than any line of
/// [`LABEL_WIDTH`] characters, so that Mermaid never wraps a label again.
const MERMAID_WRAPPING_WIDTH: usize = 600;

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

/// The style of a What-if handler's subgraph.
const MERMAID_SUBGRAPH_CLASS: (&str, &str) = (
    "whatifgroup",
    "fill:#f7faff,stroke:#2a5db0,stroke-dasharray:4 3,color:#0b2550",
);

fn mermaid_class(kind: NodeKind) -> Option<&'static str> {
    match kind {
        NodeKind::Stop => Some("stop"),
        NodeKind::Fail => Some("fail"),
        NodeKind::WhatIf | NodeKind::AnyStep => Some("whatif"),
        NodeKind::Resume => Some("resume"),
        _ => None,
    }
}

/// A label inside Mermaid's double quotes, wrapped at `width`: lines joined
/// by `<br/>`.
fn mermaid_label(text: &str, width: usize) -> String {
    label(text, width, "<br/>", mermaid_text)
}

/// One line inside Mermaid's double quotes: quotes and markup characters as
/// entity codes.
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
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Which subgraph (index into [`Graph::subgraphs`]) each grouped node is in.
fn groups(graph: &Graph) -> HashMap<&str, usize> {
    graph
        .subgraphs
        .iter()
        .enumerate()
        .flat_map(|(index, subgraph)| subgraph.nodes.iter().map(move |id| (id.as_str(), index)))
        .collect()
}

/// Where an edge is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Both ends in the main flow.
    Main,
    /// Both ends in this subgraph.
    Group(usize),
    /// From the main flow into a subgraph (or between subgraphs).
    Between,
}

fn place(groups: &HashMap<&str, usize>, edge: &Edge) -> Place {
    match (groups.get(edge.from.as_str()), groups.get(edge.to.as_str())) {
        (None, None) => Place::Main,
        (Some(from), Some(to)) if from == to => Place::Group(*from),
        _ => Place::Between,
    }
}

/// The graph as a Mermaid flowchart.
pub(super) fn mermaid(graph: &Graph) -> String {
    let groups = groups(graph);
    let mut out = format!(
        "---\nconfig:\n  flowchart:\n    wrappingWidth: {MERMAID_WRAPPING_WIDTH}\n---\nflowchart TD\n"
    );
    let node_line = |out: &mut String, indent: &str, node: &super::Node| {
        let text = mermaid_label(&node.label, LABEL_WIDTH);
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
        let _ = writeln!(out, "{indent}{}{open}\"{text}\"{close}", node.id);
    };
    let edge_line = |out: &mut String, indent: &str, edge: &Edge| {
        let arrow = match edge.kind {
            EdgeKind::Flow => "-->",
            EdgeKind::WhatIf => "-.->",
        };
        match &edge.label {
            Some(text) => {
                let _ = writeln!(
                    out,
                    "{indent}{} {arrow}|\"{}\"| {}",
                    edge.from,
                    mermaid_label(text, EDGE_LABEL_WIDTH),
                    edge.to
                );
            }
            None => {
                let _ = writeln!(out, "{indent}{} {arrow} {}", edge.from, edge.to);
            }
        }
    };
    for node in graph
        .nodes
        .iter()
        .filter(|node| !groups.contains_key(node.id.as_str()))
    {
        node_line(&mut out, "    ", node);
    }
    for edge in &graph.edges {
        if place(&groups, edge) == Place::Main {
            edge_line(&mut out, "    ", edge);
        }
    }
    for (index, subgraph) in graph.subgraphs.iter().enumerate() {
        let _ = writeln!(
            out,
            "    subgraph {} [\"{}\"]",
            subgraph.id,
            mermaid_label(&subgraph.label, LABEL_WIDTH)
        );
        for node in graph
            .nodes
            .iter()
            .filter(|node| groups.get(node.id.as_str()) == Some(&index))
        {
            node_line(&mut out, "        ", node);
        }
        for edge in &graph.edges {
            if place(&groups, edge) == Place::Group(index) {
                edge_line(&mut out, "        ", edge);
            }
        }
        out.push_str("    end\n");
    }
    for edge in &graph.edges {
        if place(&groups, edge) == Place::Between {
            edge_line(&mut out, "    ", edge);
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
    if !graph.subgraphs.is_empty() {
        let (class, style) = MERMAID_SUBGRAPH_CLASS;
        let members: Vec<&str> = graph
            .subgraphs
            .iter()
            .map(|group| group.id.as_str())
            .collect();
        let _ = writeln!(out, "    classDef {class} {style}");
        let _ = writeln!(out, "    class {} {class}", members.join(","));
    }
    out
}

/// A DOT string literal's content, wrapped at `width`: lines joined by `\n`.
fn dot_label(text: &str, width: usize) -> String {
    label(text, width, "\\n", dot_text)
}

/// One line of a DOT string literal's content.
fn dot_text(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The graph as a Graphviz digraph.
pub(super) fn dot(graph: &Graph) -> String {
    let groups = groups(graph);
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", dot_text(&graph.name));
    out.push_str("    graph [rankdir=TB, fontname=\"Helvetica\"];\n");
    out.push_str("    node [fontname=\"Helvetica\", fontsize=11, shape=box];\n");
    out.push_str("    edge [fontname=\"Helvetica\", fontsize=10];\n");
    let node_line = |out: &mut String, indent: &str, node: &super::Node| {
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
            "{indent}\"{}\" [label=\"{}\", {attributes}];",
            node.id,
            dot_label(&node.label, LABEL_WIDTH)
        );
    };
    let edge_line = |out: &mut String, indent: &str, edge: &Edge| {
        let mut attributes = Vec::new();
        if let Some(text) = &edge.label {
            attributes.push(format!("label=\"{}\"", dot_label(text, EDGE_LABEL_WIDTH)));
        }
        if edge.kind == EdgeKind::WhatIf {
            attributes.push("style=dashed".to_string());
            attributes.push("color=\"#2a5db0\"".to_string());
            attributes.push("fontcolor=\"#2a5db0\"".to_string());
        }
        if attributes.is_empty() {
            let _ = writeln!(out, "{indent}\"{}\" -> \"{}\";", edge.from, edge.to);
        } else {
            let _ = writeln!(
                out,
                "{indent}\"{}\" -> \"{}\" [{}];",
                edge.from,
                edge.to,
                attributes.join(", ")
            );
        }
    };
    for node in graph
        .nodes
        .iter()
        .filter(|node| !groups.contains_key(node.id.as_str()))
    {
        node_line(&mut out, "    ", node);
    }
    for edge in &graph.edges {
        if place(&groups, edge) == Place::Main {
            edge_line(&mut out, "    ", edge);
        }
    }
    for (index, subgraph) in graph.subgraphs.iter().enumerate() {
        let _ = writeln!(out, "    subgraph \"{}\" {{", subgraph.id);
        let _ = writeln!(
            out,
            "        graph [label=\"{}\", labeljust=l, style=\"rounded,dashed\", color=\"#2a5db0\", fontcolor=\"#0b2550\"];",
            dot_label(&subgraph.label, LABEL_WIDTH)
        );
        for node in graph
            .nodes
            .iter()
            .filter(|node| groups.get(node.id.as_str()) == Some(&index))
        {
            node_line(&mut out, "        ", node);
        }
        for edge in &graph.edges {
            if place(&groups, edge) == Place::Group(index) {
                edge_line(&mut out, "        ", edge);
            }
        }
        out.push_str("    }\n");
    }
    for edge in &graph.edges {
        if place(&groups, edge) == Place::Between {
            edge_line(&mut out, "    ", edge);
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
            mermaid_label("say \"hi\" <b> #1\nnext", 40),
            "say #quot;hi#quot; #lt;b#gt; #35;1<br/>next"
        );
        assert_eq!(mermaid_label("a bb ccc", 4), "a bb<br/>ccc");
    }

    #[test]
    fn dot_labels_escape_quotes_and_backslashes() {
        assert_eq!(dot_label("a \"b\" \\ c\nd", 40), "a \\\"b\\\" \\\\ c\\nd");
        assert_eq!(dot_label("a bb ccc", 4), "a bb\\nccc");
    }
}
