//! `runbook graph`: snapshots of both formats for every shipped file, the
//! shape of the graph on small runbooks, and the rules that keep Mermaid
//! renderable on code-hosting sites (safe ids, quoted and escaped labels,
//! What-if handlers as subgraphs, every label wrapped once).
//!
//! With `RUNBOOK_MERMAID_OUT=DIR`, [`mermaid_of_every_fixture_is_written_on_request`]
//! writes the Mermaid text of every shipped runbook and every runbook fixture
//! that parses into DIR, for `tools/mermaid-check` (Mermaid's own parser) to
//! read; `.ci/run` does so.

use std::path::{Path, PathBuf};

use runbook::graph::{build, EdgeKind, Format, Graph, NodeKind, EDGE_LABEL_WIDTH, LABEL_WIDTH};
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
    // Front matter: Mermaid's configuration.
    assert_eq!(lines.next(), Some("---"));
    for line in lines.by_ref() {
        if line == "---" {
            break;
        }
    }
    assert_eq!(lines.next(), Some("flowchart TD"));
    let mut open_subgraphs = 0;
    for line in lines {
        let line = line.trim();
        if line.starts_with("classDef ") || line.starts_with("class ") {
            continue;
        }
        if line == "end" {
            assert!(open_subgraphs > 0, "`end` without a subgraph");
            open_subgraphs -= 1;
            continue;
        }
        let line = match line.strip_prefix("subgraph ") {
            Some(rest) => {
                assert_eq!(open_subgraphs, 0, "subgraphs are not nested: {line}");
                open_subgraphs += 1;
                rest
            }
            None => line,
        };
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
    assert_eq!(open_subgraphs, 0, "a subgraph is not closed");
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
    // Each What-if handler is a subgraph of its own, titled with its id and
    // title, entered through its trigger node; "any step" stays outside.
    let titles: Vec<(&str, &str)> = graph
        .subgraphs
        .iter()
        .map(|group| (group.id.as_str(), group.label.as_str()))
        .collect();
    assert_eq!(
        titles,
        [
            ("cluster_whatif_anywhere", "What if anywhere: Anywhere"),
            ("cluster_whatif_broke", "What if broke: Broke"),
        ]
    );
    let anywhere = &graph.subgraphs[0];
    assert_eq!(anywhere.nodes[0], "whatif_anywhere");
    assert_eq!(anywhere.nodes.len(), 2, "entry and retry: {anywhere:?}");
    assert!(graph
        .subgraphs
        .iter()
        .all(|group| !group.nodes.iter().any(|id| id == "any_step")));
    let entry = graph
        .nodes
        .iter()
        .find(|node| node.id == "whatif_broke")
        .expect("the entry node");
    assert_eq!(entry.label, "when failed(loop), replication-broken");
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
    assert!(
        text.contains("    subgraph cluster_whatif_broke [\"What if broke: Broke\"]\n        whatif_broke>\"when failed(loop), replication-broken\"]\n"),
        "{text}"
    );
    // The main flow comes first, the handlers after it, and the edges into
    // them last.
    let main_end = text.find("step_end_1 -->").expect("main flow");
    let subgraph = text.find("subgraph ").expect("a subgraph");
    let into = text.find("-.->").expect("an edge into a handler");
    assert!(main_end < subgraph && subgraph < into, "{text}");
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
    assert!(
        text.contains("    subgraph \"cluster_whatif_broke\" {\n        graph [label=\"What if broke: Broke\""),
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

/// Runbook fixtures under `tests/fixtures/` that parse, with their sources.
fn parsing_fixtures() -> Vec<(String, String)> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for path in entries.flatten().map(|entry| entry.path()) {
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "runbook") {
                found.push(path);
            }
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    walk(&root.join("tests/fixtures"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let source = std::fs::read_to_string(&path).ok()?;
            parse(&source).ok()?;
            let name = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .with_extension("")
                .to_string_lossy()
                .replace(['/', '\\'], "-");
            Some((name, source))
        })
        .collect()
}

/// Every graph the tests know: shipped runbooks, fixtures that parse, and
/// the sources of this file.
fn every_graph() -> Vec<(String, Graph)> {
    let mut graphs: Vec<(String, Graph)> = embedded::all()
        .iter()
        .map(|shipped| (snapshot_name(shipped.path), graph_of(shipped.source)))
        .collect();
    graphs.extend(
        parsing_fixtures()
            .into_iter()
            .map(|(name, source)| (name, graph_of(&source))),
    );
    graphs.push(("graph-flow".into(), graph_of(FLOW)));
    graphs.push(("graph-long-labels".into(), graph_of(LONG_LABELS)));
    graphs
}

/// Titles and messages with blank lines, runs of spaces and long words.
const LONG_LABELS: &str = r#"runbook long {
    title "A title that is quite a lot longer than forty characters, to be wrapped"
    step 1 one "A step title   with   runs of spaces and a verylongwordthatcannotbebrokenatall inside" {
        choose how "Which of the following rather long options do you want to take now?" {
            option a "An option label that is longer than thirty characters" default {
                stop "A stop message that goes on and on and on, well past the limit of a line, to be wrapped"
            }
            option b "B" {
                fail "short"
            }
        }
    }
    what-if broke "A What-if handler with a title longer than forty characters" when failed(one) {
        retry
    }
}
"#;

/// The labels of a Mermaid text, each with its width: edge labels (`|"…"|`)
/// at [`EDGE_LABEL_WIDTH`], node labels and subgraph titles at
/// [`LABEL_WIDTH`]. Entity codes count as one character.
fn mermaid_labels(text: &str) -> Vec<(String, usize)> {
    let mut labels = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(open) = rest.find('"') {
            let after = &rest[open + 1..];
            let close = after.find('"').expect("a closing quote");
            let width = if rest[..open].ends_with('|') {
                EDGE_LABEL_WIDTH
            } else {
                LABEL_WIDTH
            };
            labels.push((after[..close].to_string(), width));
            rest = &after[close + 1..];
        }
    }
    labels
}

/// The labels of a DOT text with their widths, escapes undone and line
/// breaks as `\n`.
fn dot_labels(text: &str) -> Vec<(String, usize)> {
    let mut labels = Vec::new();
    for line in text.lines() {
        let Some(start) = line.find("label=\"") else {
            continue;
        };
        let width = if line.contains(" -> ") {
            EDGE_LABEL_WIDTH
        } else {
            LABEL_WIDTH
        };
        let mut label = String::new();
        let mut chars = line[start + 7..].chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => label.push('\n'),
                    Some(other) => label.push(other),
                    None => break,
                },
                c => label.push(c),
            }
        }
        labels.push((label, width));
    }
    labels
}

fn assert_wrapped_once(name: &str, label: &str, lines: &[String], width: usize) {
    assert!(!lines.is_empty(), "{name}: an empty label");
    for line in lines {
        assert!(
            !line.is_empty(),
            "{name}: a doubled or dangling line break in {label:?}"
        );
        assert_eq!(line.trim(), line, "{name}: untrimmed line in {label:?}");
        assert!(
            line.chars().count() <= width || !line.contains(' '),
            "{name}: a line over {width} characters in {label:?}"
        );
    }
}

/// Every label is wrapped once, at its width: no doubled or dangling break,
/// no line over the width (but a single word longer than it).
#[test]
fn every_label_is_wrapped_once_within_its_width() {
    let entity = |text: &str| {
        // `#quot;`, `#35;`: one character each.
        let mut out = String::new();
        let mut rest = text;
        while let Some(hash) = rest.find('#') {
            out.push_str(&rest[..hash]);
            let after = &rest[hash + 1..];
            match after.find(';') {
                Some(semi) if after[..semi].chars().all(|c| c.is_ascii_alphanumeric()) => {
                    out.push('*');
                    rest = &after[semi + 1..];
                }
                _ => {
                    out.push('#');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    };
    for (name, graph) in every_graph() {
        let mermaid = graph.to_mermaid();
        // Skip the front matter.
        let body = &mermaid[mermaid.find("flowchart TD").expect("a flowchart")..];
        for (label, width) in mermaid_labels(body) {
            assert!(!label.contains("<br/><br/>"), "{name}: {label:?}");
            assert!(!label.contains('\n'), "{name}: {label:?}");
            let lines: Vec<String> = label.split("<br/>").map(entity).collect();
            assert_wrapped_once(&name, &label, &lines, width);
        }
        for (label, width) in dot_labels(&graph.to_dot()) {
            let lines: Vec<String> = label.split('\n').map(str::to_string).collect();
            assert_wrapped_once(&name, &label, &lines, width);
        }
        // The graph holds labels unwrapped: wrapping is the renderers' job.
        for node in &graph.nodes {
            assert!(
                !node.label.contains("\n\n") && !node.label.contains("<br/>"),
                "{name}: {:?}",
                node.label
            );
        }
    }
    // The long labels were wrapped, and the long word kept whole.
    let long = graph_of(LONG_LABELS).to_mermaid();
    assert!(
        long.contains("verylongwordthatcannotbebrokenatall"),
        "{long}"
    );
    assert!(long.matches("<br/>").count() >= 6, "{long}");
}

/// `RUNBOOK_MERMAID_OUT=DIR`: the Mermaid text of every graph the tests know
/// is written to `DIR/NAME.mmd`, for `tools/mermaid-check` to parse with
/// Mermaid's own parser (see `.ci/run`).
#[test]
fn mermaid_of_every_fixture_is_written_on_request() {
    let graphs = every_graph();
    for (_, graph) in &graphs {
        assert_renderable_mermaid(&graph.to_mermaid());
    }
    let Some(dir) = std::env::var_os("RUNBOOK_MERMAID_OUT") else {
        return;
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("RUNBOOK_MERMAID_OUT can be created");
    for (name, graph) in &graphs {
        std::fs::write(dir.join(format!("{name}.mmd")), graph.to_mermaid())
            .expect("RUNBOOK_MERMAID_OUT is writable");
    }
}

/// Graphviz itself lays out the DOT of every shipped file without an error
/// or a warning (`dot -Tsvg`). `.ci/run` installs Graphviz; elsewhere the
/// test says it was skipped when `dot` is missing.
#[test]
fn graphviz_renders_the_dot_of_every_shipped_file() {
    let dot = std::process::Command::new("dot").arg("-V").output();
    if dot.is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs Graphviz (`dot`): it is missing"
        );
        eprintln!("skipped: Graphviz (`dot`) is not installed");
        return;
    }
    for shipped in embedded::all() {
        let file = parse(shipped.source).expect("parses");
        let text = build(&file, shipped.source).render(Format::Dot);
        let mut child = std::process::Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("dot runs");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(text.as_bytes()).expect("DOT written");
        }
        let output = child.wait_with_output().expect("dot ends");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stderr.trim().is_empty(),
            "{}: dot says {stderr}",
            shipped.path
        );
        let svg = String::from_utf8_lossy(&output.stdout);
        assert!(svg.contains("<svg"), "{}: no SVG", shipped.path);
    }
}
