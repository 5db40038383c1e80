//! `runbook graph`: snapshots of both formats for every shipped file, the
//! shape of the graph on small runbooks, and the rules that keep Mermaid
//! renderable on code-hosting sites (safe ids, quoted and escaped labels).

use runbook::graph::{build, EdgeKind, Format, Graph, NodeKind};
use runbook::syntax::{embedded, parse};

fn graph_of(source: &str) -> Graph {
    let file = parse(source).expect("parses");
    build(&file, source)
}

fn snapshot_name(path: &str) -> String {
    path.trim_end_matches(".runbook").replace('/', "-")
}

#[test]
fn every_shipped_file_has_graph_snapshots_in_both_formats() {
    let files = embedded::all();
    assert!(files.len() >= 3);
    for shipped in files {
        let file =
            parse(shipped.source).unwrap_or_else(|errors| panic!("{}: {errors:?}", shipped.path));
        let graph = build(&file, shipped.source);
        let name = snapshot_name(shipped.path);
        insta::assert_snapshot!(format!("{name}.mmd"), graph.render(Format::Mermaid));
        insta::assert_snapshot!(format!("{name}.dot"), graph.render(Format::Dot));
    }
}

/// Mermaid words that break a flowchart when used as a node id.
const MERMAID_RESERVED: &[&str] = &[
    "end",
    "graph",
    "flowchart",
    "subgraph",
    "style",
    "class",
    "classDef",
    "click",
    "linkStyle",
    "direction",
    "default",
];

fn assert_renderable_mermaid(text: &str) {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("flowchart TD"));
    for line in lines {
        let line = line.trim();
        if line.starts_with("classDef ") || line.starts_with("class ") {
            continue;
        }
        let id: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        assert!(!id.is_empty(), "line without a node id: {line}");
        assert!(
            id.starts_with(|c: char| c.is_ascii_alphabetic()),
            "id must start with a letter: {line}"
        );
        assert!(
            !MERMAID_RESERVED.contains(&id.as_str()),
            "reserved word as id: {line}"
        );
        // Labels are quoted; a quote inside a label would end it early.
        assert_eq!(
            line.matches('"').count() % 2,
            0,
            "unbalanced quotes: {line}"
        );
        assert!(
            line.matches('"').count() <= 2,
            "raw quote inside a label: {line}"
        );
    }
}

#[test]
fn shipped_mermaid_graphs_follow_the_rendering_rules() {
    for shipped in embedded::all() {
        let file = parse(shipped.source).expect("parses");
        assert_renderable_mermaid(&build(&file, shipped.source).to_mermaid());
    }
}

const FLOW: &str = r#"runbook flow {
    title "A \"quoted\" flow"
    param version: version = 7.4.0
    import "lib/exclude-server.runbook"
    let standbys = standbys()
    step 1 end "The end <is> near & #1" {
        choose how "How?" {
            option fast "Fast" default {
                call exclude-server(server: active())
            }
            option abort "Abort" {
                stop "Aborted by the operator"
            }
        }
    }
    step 2 loop "Loop" {
        for standby in standbys {
            if standby.running {
                call exclude-server(server: standby)
            } else if standby.excluded {
                fail "cannot happen"
            } else {
                note "nothing drawn here"
            }
        }
        if standby_count_is_ignored {
            note "an if without anything drawn is left out"
        }
    }
    what-if anywhere "Anywhere" when two-actives {
        retry
    }
    what-if broke "Broke" when failed(loop), replication-broken during end {
        note "goes on"
    }
}
"#;

#[test]
fn graph_has_branches_loops_ends_and_what_if_edges() {
    let graph = graph_of(FLOW);
    let node = |kind: NodeKind| graph.nodes.iter().filter(move |node| node.kind == kind);
    assert_eq!(node(NodeKind::Step).count(), 2);
    assert_eq!(node(NodeKind::Decision).count(), 3, "choose, if, else if");
    assert_eq!(node(NodeKind::Loop).count(), 1);
    assert_eq!(node(NodeKind::Call).count(), 2);
    assert_eq!(node(NodeKind::Stop).count(), 1);
    assert_eq!(node(NodeKind::Fail).count(), 1);
    assert_eq!(node(NodeKind::WhatIf).count(), 2);
    assert_eq!(node(NodeKind::AnyStep).count(), 1);
    let labels: Vec<&str> = graph
        .edges
        .iter()
        .filter_map(|edge| edge.label.as_deref())
        .collect();
    for expected in [
        "Fast (default)",
        "Abort",
        "yes",
        "no",
        "each",
        "next",
        "done",
        "failed",
        "two-actives",
        "replication-broken",
    ] {
        assert!(
            labels.contains(&expected),
            "no edge labelled {expected:?} in {labels:?}"
        );
    }
    let what_if_edges: Vec<_> = graph
        .edges
        .iter()
        .filter(|edge| edge.kind == EdgeKind::WhatIf)
        .collect();
    assert_eq!(what_if_edges.len(), 3);
    assert!(what_if_edges
        .iter()
        .any(|edge| edge.from == "any_step" && edge.to == "whatif_anywhere"));
    assert!(what_if_edges
        .iter()
        .any(|edge| edge.from == "step_loop" && edge.label.as_deref() == Some("failed")));
    assert!(
        what_if_edges
            .iter()
            .any(|edge| edge.from == "step_end"
                && edge.label.as_deref() == Some("replication-broken"))
    );
    // The loop's back edge.
    // The loop's back edge, and node ids named after their step.
    let loop_node = graph
        .nodes
        .iter()
        .find(|node| node.kind == NodeKind::Loop)
        .expect("a loop");
    assert_eq!(loop_node.id, "step_loop_1");
    assert!(graph
        .edges
        .iter()
        .any(|edge| edge.to == loop_node.id && edge.label.as_deref() == Some("next")));
}

#[test]
fn mermaid_escapes_labels_and_draws_what_ifs_dashed() {
    let text = graph_of(FLOW).to_mermaid();
    assert_renderable_mermaid(&text);
    assert!(
        text.contains("start([\"A #quot;quoted#quot; flow\"])"),
        "{text}"
    );
    assert!(
        text.contains("step_end[\"1. The end #lt;is#gt; near #amp; #35;1\"]"),
        "{text}"
    );
    assert!(
        text.contains("step_loop -.->|\"failed\"| whatif_broke"),
        "{text}"
    );
    assert!(
        text.contains("any_step -.->|\"two-actives\"| whatif_anywhere"),
        "{text}"
    );
    assert!(text.contains("classDef whatif"), "{text}");
}

#[test]
fn dot_quotes_ids_and_labels_and_dashes_what_if_edges() {
    let text = graph_of(FLOW).to_dot();
    assert!(text.starts_with("digraph \"flow\" {\n"));
    assert!(text.trim_end().ends_with('}'));
    assert!(
        text.contains("\"start\" [label=\"A \\\"quoted\\\" flow\""),
        "{text}"
    );
    assert!(
        text.contains("\"step_loop\" -> \"whatif_broke\" [label=\"failed\", style=dashed"),
        "{text}"
    );
}

#[test]
fn procedures_show_their_operations() {
    let source = "procedure p {\n    title \"P\"\n    param server: server\n    exclude(server: server)\n    check server.excluded else \"no\"\n}\n";
    let graph = graph_of(source);
    let labels: Vec<&str> = graph.nodes.iter().map(|node| node.label.as_str()).collect();
    assert!(labels.contains(&"exclude(server: server)"), "{labels:?}");
    assert!(labels.contains(&"check server.excluded"), "{labels:?}");
    assert!(
        labels.iter().any(|label| label.starts_with("procedure p")),
        "{labels:?}"
    );
}

/// Mermaid rejects an empty quoted label: an untitled runbook or step is
/// drawn `(untitled)`, and an empty option label leaves its edge unlabelled.
#[test]
fn empty_labels_never_reach_mermaid() {
    let source =
        "runbook demo {\n    title \"\"\n    step a \"\" {\n        note \"x\"\n    }\n}\n";
    let mermaid = graph_of(source).render(Format::Mermaid);
    assert!(!mermaid.contains("\"\""), "{mermaid}");
    assert!(mermaid.contains("step_a[\"(untitled)\"]"), "{mermaid}");
}
