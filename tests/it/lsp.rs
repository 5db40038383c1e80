//! `runbook lsp` driven as an editor drives it: the real binary, JSON-RPC
//! over its stdin and stdout. Every wait is bounded (a message that does not
//! come within [`TIMEOUT`] fails the test, the server is killed); positions
//! are asserted exactly, in UTF-16 code units.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::process::binary;

/// The longest wait for one message.
const TIMEOUT: Duration = Duration::from_secs(20);

/// A runbook with one error: `nowhere` is bound nowhere, after a character
/// outside the Basic Multilingual Plane (two UTF-16 units, four bytes).
const BROKEN: &str = "runbook demo {
    title \"Démo\"

    /// The version to upgrade to.
    param target: version = 7.4.0

    step 1 prepare \"Prepare\" {
        let first = active()
        note \"🚀 {nowhere}\"
        set-standby(server: first, force: false)
    }

    step finish \"Finish\" within 10m after prepare {
        note \"Upgraded to {target}\"
    }
}
";

/// A client: the server process, and the messages it sent, read by a thread.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Messages read while waiting for another one.
    pending: Vec<Value>,
    next_id: i64,
}

impl Client {
    fn start(dir: &Path) -> Client {
        let mut child = Command::new(binary())
            .arg("lsp")
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("runbook lsp starts");
        let stdin = child.stdin.take().expect("a stdin");
        let stdout = child.stdout.take().expect("a stdout");
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(value) = line.strip_prefix("Content-Length: ") {
                        length = value.parse::<usize>().ok();
                    }
                }
                let Some(length) = length else { return };
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let Ok(message) = serde_json::from_slice::<Value>(&body) else {
                    return;
                };
                if sender.send(message).is_err() {
                    return;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            messages,
            pending: Vec::new(),
            next_id: 1,
        };
        let initialized = client.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        let capabilities = &initialized["result"]["capabilities"];
        assert_eq!(capabilities["textDocumentSync"], json!(1), "{initialized}");
        for provider in [
            "hoverProvider",
            "definitionProvider",
            "documentFormattingProvider",
            "documentSymbolProvider",
        ] {
            assert_eq!(capabilities[provider], json!(true), "{provider}");
        }
        assert!(capabilities["completionProvider"].is_object());
        assert_eq!(initialized["result"]["serverInfo"]["name"], "runbook");
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = serde_json::to_string(&message).expect("JSON");
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("written");
        self.stdin.flush().expect("flushed");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next message that satisfies `wanted` (earlier ones are kept).
    fn wait(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(at) = self.pending.iter().position(&wanted) {
            return self.pending.remove(at);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) if wanted(&message) => return message,
                Ok(message) => self.pending.push(message),
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("no {what} within {TIMEOUT:?}; received: {:?}", self.pending);
                }
            }
        }
    }

    /// Sends a request; its whole response.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(&format!("response to `{method}`"), |message| {
            message["id"] == json!(id) && message.get("method").is_none()
        })
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Value {
        let published = self.wait("publishDiagnostics", |message| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
        });
        published["params"].clone()
    }

    fn open(&mut self, uri: &str, text: &str) -> Value {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "runbook", "version": 1, "text": text}}),
        );
        self.diagnostics(uri)
    }

    /// `shutdown` then `exit`; the exit code, waited for at most [`TIMEOUT`].
    fn shutdown(mut self) -> Option<i32> {
        let response = self.request("shutdown", Value::Null);
        assert_eq!(response["result"], Value::Null, "{response}");
        assert!(response.get("error").is_none(), "{response}");
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("waited") {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit within {TIMEOUT:?} of `exit`");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn position(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

fn range(start: (u32, u32), end: (u32, u32)) -> Value {
    json!({"start": position(start.0, start.1), "end": position(end.0, end.1)})
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": uri}, "position": position(line, character)})
}

/// A folder with `name` written in it (the server reads open documents from
/// the editor, the rest from disk), and the file's URI.
fn document(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("written");
    lsp_types::Url::from_file_path(&path)
        .expect("an absolute path")
        .to_string()
}

#[test]
fn diagnostics_as_you_type_in_utf16_positions() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let uri = document(dir.path(), "demo.runbook", BROKEN);
    let mut client = Client::start(dir.path());
    let published = client.open(&uri, BROKEN);
    assert_eq!(published["version"], 1);
    let diagnostics = published["diagnostics"].as_array().expect("a list");
    assert_eq!(diagnostics.len(), 1, "{published}");
    let diagnostic = &diagnostics[0];
    // `        note "🚀 {nowhere}"`: 8 spaces, `note "` (6), the rocket (2
    // UTF-16 units), a space and `{`: `nowhere` starts at unit 18.
    assert_eq!(diagnostic["range"], range((8, 18), (8, 25)));
    assert_eq!(diagnostic["severity"], 1);
    assert_eq!(diagnostic["code"], "runbook::resolve::undefined_variable");
    assert_eq!(diagnostic["source"], "runbook");
    let message = diagnostic["message"].as_str().expect("a message");
    assert!(
        message.starts_with("undefined variable `nowhere`\nhelp: "),
        "{message}"
    );
    assert!(
        diagnostic["codeDescription"]["href"].as_str().is_some_and(
            |href| href.ends_with("docs/diagnostics.md#runbookresolveundefined_variable")
        )
    );

    // The fix, typed: the error is gone, and `runbook check`'s lint runs.
    let fixed = BROKEN.replace("{nowhere}", "{first.name}");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let published = client.diagnostics(&uri);
    assert_eq!(published["version"], 2);
    let errors: Vec<&Value> = published["diagnostics"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|diagnostic| diagnostic["severity"] == 1)
        .collect();
    assert!(errors.is_empty(), "{published}");

    // A syntax error, typed in an incremental change: reported where it is.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [
            {"range": range((9, 8), (9, 19)), "text": "set-standby server"}
        ]}),
    );
    let published = client.diagnostics(&uri);
    let diagnostics = published["diagnostics"].as_array().expect("a list");
    assert_eq!(diagnostics.len(), 1, "{published}");
    assert_eq!(diagnostics[0]["code"], "runbook::syntax::unexpected");
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 9);

    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let published = client.diagnostics(&uri);
    assert_eq!(published["diagnostics"], json!([]));
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn hover_definition_completion_symbols() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let text = BROKEN.replace("{nowhere}", "{first.name}");
    let uri = document(dir.path(), "demo.runbook", &text);
    let mut client = Client::start(dir.path());
    client.open(&uri, &text);

    // Hover on an operation: its signature and what it does.
    let hover = client.request("textDocument/hover", at(&uri, 9, 12));
    assert_eq!(
        hover["result"],
        json!({
            "contents": {"kind": "markdown", "value": "```runbook\nset-standby(server: server, force?: bool)\n```\nDeclares the server Standby (`force` defaults to false)."},
            "range": range((9, 8), (9, 19)),
        })
    );
    // On its argument.
    let hover = client.request("textDocument/hover", at(&uri, 9, 36));
    let value = hover["result"]["contents"]["value"].as_str().expect("text");
    assert!(
        value.starts_with("```runbook\nforce: bool\n```\nAn optional argument of `set-standby`."),
        "{value}"
    );
    assert_eq!(hover["result"]["range"], range((9, 35), (9, 40)));
    // On a server field, after the rocket (UTF-16 columns).
    let hover = client.request("textDocument/hover", at(&uri, 8, 25));
    assert_eq!(
        hover["result"]["contents"]["value"],
        "```runbook\nserver.name: string\n```\nThe server's name."
    );
    assert_eq!(hover["result"]["range"], range((8, 24), (8, 28)));
    // On a parameter: its declaration and docs.
    let hover = client.request("textDocument/hover", at(&uri, 13, 32));
    assert_eq!(
        hover["result"]["contents"]["value"],
        "```runbook\nparam target: version = 7.4.0\n```\n\n---\nThe version to upgrade to."
    );
    // Nothing to say on a keyword.
    let hover = client.request("textDocument/hover", at(&uri, 6, 5));
    assert_eq!(hover["result"], Value::Null);

    // Go to definition: the step named after `after`, the parameter.
    let definition = client.request("textDocument/definition", at(&uri, 12, 44));
    assert_eq!(
        definition["result"],
        json!({"uri": uri, "range": range((6, 11), (6, 18))})
    );
    let definition = client.request("textDocument/definition", at(&uri, 13, 31));
    assert_eq!(
        definition["result"],
        json!({"uri": uri, "range": range((4, 10), (4, 16))})
    );

    // Completion: the named arguments of an operation, the step ids after
    // `after`, the fields after `.`.
    let labels = |response: &Value| -> Vec<String> {
        response["result"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|item| item["label"].as_str().expect("a label").to_owned())
            .collect()
    };
    let completion = client.request("textDocument/completion", at(&uri, 9, 20));
    assert_eq!(labels(&completion), ["server", "force"]);
    assert_eq!(completion["result"][0]["insertText"], "server: ");
    let completion = client.request("textDocument/completion", at(&uri, 12, 42));
    assert_eq!(labels(&completion), ["prepare", "finish"]);
    let completion = client.request("textDocument/completion", at(&uri, 8, 24));
    assert_eq!(
        labels(&completion),
        [
            "name",
            "running",
            "excluded",
            "is_active",
            "is_standby",
            "version",
            "changes",
            "state"
        ]
    );
    // At the start of a statement: keywords, operations with their
    // required arguments, the names in scope.
    let completion = client.request("textDocument/completion", at(&uri, 11, 0));
    let items = completion["result"].as_array().expect("a list");
    let upgrade = items
        .iter()
        .find(|item| item["label"] == "upgrade")
        .expect("the operation `upgrade`");
    assert_eq!(upgrade["insertText"], "upgrade(server: , version: )");
    assert_eq!(
        upgrade["detail"],
        "upgrade(server: server, version: version)"
    );
    for label in ["step", "wait until", "target", "first", "active"] {
        assert!(items.iter().any(|item| item["label"] == label), "{label}");
    }

    // The outline.
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let outline: Vec<(String, i64, Value)> = symbols["result"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|symbol| {
            (
                symbol["name"].as_str().expect("a name").to_owned(),
                symbol["kind"].as_i64().expect("a kind"),
                symbol["selectionRange"].clone(),
            )
        })
        .collect();
    assert_eq!(
        outline,
        [
            ("target".to_owned(), 13, range((4, 10), (4, 16))),
            ("1 prepare".to_owned(), 12, range((6, 11), (6, 18))),
            ("finish".to_owned(), 12, range((12, 9), (12, 15))),
        ]
    );
    assert_eq!(symbols["result"][1]["range"], range((6, 4), (10, 5)));
    assert_eq!(symbols["result"][1]["detail"], "Prepare");
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn formatting_is_runbook_fmt() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let messy = "runbook tidy {\ntitle   \"Tidy\"\n  step a \"A\" {\n note \"x\"\n      }\n}\n";
    let uri = document(dir.path(), "tidy.runbook", messy);
    let mut client = Client::start(dir.path());
    client.open(&uri, messy);
    let edits = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert_eq!(
        edits["result"],
        json!([{
            "range": range((0, 0), (6, 0)),
            "newText": "runbook tidy {\n    title \"Tidy\"\n\n    step a \"A\" {\n        note \"x\"\n    }\n}\n",
        }])
    );
    let formatted = runbook::fmt::format_source(messy).expect("it parses");
    assert_eq!(edits["result"][0]["newText"], formatted);
    // Formatted already, or broken: no edit.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": formatted}]}),
    );
    client.diagnostics(&uri);
    let edits = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert_eq!(edits["result"], json!([]));
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn calls_and_imports_lead_to_the_procedure() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir(dir.path().join("lib")).expect("a folder");
    let procedure = "procedure drain {\n    title \"Drain\"\n\n    /// The server to drain.\n    param server: server\n\n    diagnostic(server: server)\n}\n";
    let procedure_uri = document(dir.path(), "lib/drain.runbook", procedure);
    let main = "runbook main {\n    title \"Main\"\n\n    import \"lib/drain.runbook\"\n\n    step one \"One\" {\n        call drain(server: active())\n    }\n}\n";
    let uri = document(dir.path(), "main.runbook", main);
    let mut client = Client::start(dir.path());
    let published = client.open(&uri, main);
    let errors: Vec<&Value> = published["diagnostics"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|diagnostic| diagnostic["severity"] == 1)
        .collect();
    assert!(errors.is_empty(), "{published}");

    let definition = client.request("textDocument/definition", at(&uri, 6, 15));
    assert_eq!(
        definition["result"],
        json!({"uri": procedure_uri, "range": range((0, 10), (0, 15))})
    );
    let definition = client.request("textDocument/definition", at(&uri, 6, 20));
    assert_eq!(
        definition["result"],
        json!({"uri": procedure_uri, "range": range((4, 10), (4, 16))})
    );
    let definition = client.request("textDocument/definition", at(&uri, 3, 15));
    assert_eq!(
        definition["result"],
        json!({"uri": procedure_uri, "range": range((0, 10), (0, 15))})
    );
    let hover = client.request("textDocument/hover", at(&uri, 6, 15));
    let value = hover["result"]["contents"]["value"].as_str().expect("text");
    assert!(
        value.starts_with("```runbook\nprocedure drain(server: server)\n```\n**Drain**"),
        "{value}"
    );
    let completion = client.request("textDocument/completion", at(&uri, 6, 19));
    assert_eq!(completion["result"][0]["label"], "server");

    // An error in the imported file, open in the editor and not saved, is
    // shown on the import.
    let broken = procedure.replace("diagnostic(server: server)", "diagnostic(server: nobody)");
    client.open(&procedure_uri, &broken);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": main}]}),
    );
    let published = client.diagnostics(&uri);
    let diagnostics = published["diagnostics"].as_array().expect("a list");
    assert_eq!(diagnostics.len(), 1, "{published}");
    assert_eq!(diagnostics[0]["range"], range((3, 11), (3, 30)));
    assert_eq!(
        diagnostics[0]["code"],
        "runbook::resolve::undefined_variable"
    );
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn survives_garbage_and_keeps_answering() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut client = Client::start(dir.path());
    let garbage = [
        "",
        "runbook",
        "runbook {{{{ ((( \"unterminated 🚀",
        "\u{0}\u{feff}step step step",
        "runbook x {\n    title \"t\"\n    step a \"A\" within after {\n",
        "//! only docs\n/// and more\n",
        "runbook x { what-if w \"W\" when failed( during , { retry } }",
    ];
    for (n, text) in garbage.iter().enumerate() {
        let uri = format!("untitled:garbage-{n}");
        let published = client.open(&uri, text);
        assert!(published["diagnostics"].is_array());
        for (line, character) in [(0, 0), (0, 3), (2, 20), (1000, 5000)] {
            for method in [
                "textDocument/hover",
                "textDocument/definition",
                "textDocument/completion",
            ] {
                let response = client.request(method, at(&uri, line, character));
                assert!(response.get("error").is_none(), "{method}: {response}");
            }
        }
        for method in ["textDocument/documentSymbol", "textDocument/formatting"] {
            let response = client.request(
                method,
                json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
            );
            assert!(response.get("error").is_none(), "{method}: {response}");
        }
    }
    // Bad parameters and unknown methods are errors, not crashes.
    let response = client.request("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(response["error"]["code"], -32602);
    let response = client.request("workspace/unknown", json!({}));
    assert_eq!(response["error"]["code"], -32601);
    // A document that was never opened: nothing.
    let response = client.request("textDocument/hover", at("file:///nowhere.runbook", 0, 0));
    assert_eq!(response["result"], Value::Null);
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn exits_1_without_shutdown() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut client = Client::start(dir.path());
    client.notify("exit", Value::Null);
    let deadline = Instant::now() + TIMEOUT;
    let code = loop {
        if let Some(status) = client.child.try_wait().expect("waited") {
            break status.code();
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(1));
}

#[test]
fn the_command_is_listed_completed_and_explained() {
    let output = Command::new(binary())
        .env("RUNBOOK_COMPLETE", "fish")
        .args(["--", "runbook", "ls"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let candidates = String::from_utf8_lossy(&output.stdout);
    assert!(candidates.starts_with("lsp\t"), "{candidates}");
    let help = Command::new(binary())
        .args(["lsp", "--help"])
        .output()
        .expect("runs");
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Examples:") && help.contains("runbook lsp"),
        "{help}"
    );
    let root = Command::new(binary()).arg("--help").output().expect("runs");
    assert!(String::from_utf8_lossy(&root.stdout).contains("  lsp "));
}
