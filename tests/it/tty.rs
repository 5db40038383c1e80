//! The operator's prompts on a real terminal: the `runbook` binary runs under
//! a pseudo-terminal, the test types the answers (letters, arrow keys,
//! Enter, Ctrl-C) once the question is on screen, and asserts on the screen
//! as a terminal renders it (`vt100`) and on the journal or the JSON events.
//! Every wait for the screen is bounded, so a prompt that never appears (or
//! a run that hangs) fails the test instead of blocking it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::process;

/// How long a question may take to appear, or a run to end, before the
/// test fails (generous: CI shares two cores between several builds).
const PATIENCE: Duration = Duration::from_secs(60);
/// The terminal: tall enough that nothing of a run scrolls off the screen.
const ROWS: u16 = 150;
const COLUMNS: u16 = 110;

const DOWN: &str = "\x1b[B";
const UP: &str = "\x1b[A";
const ENTER: &str = "\r";
const CTRL_C: &str = "\x03";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tty")
        .join(name)
}

fn prompts_runbook() -> String {
    fixture("prompts.runbook").display().to_string()
}

/// The `runbook` binary on a pseudo-terminal [`ROWS`] high.
struct Terminal {
    pty: Arc<pty_process::blocking::Pty>,
    child: Child,
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

/// What a finished run left.
struct Finished {
    status: ExitStatus,
    /// The screen, as a person sees it.
    screen: String,
    /// Every byte the run wrote to the terminal.
    raw: String,
    /// Whether the cursor was left hidden.
    cursor_hidden: bool,
}

impl Terminal {
    /// `runbook ARGS` in `dir`, stdin, stdout and stderr on the terminal.
    fn start(dir: &Path, args: &[&str]) -> Self {
        Self::start_with(dir, args, COLUMNS, |command| command)
    }

    /// `runbook ARGS` on a terminal `columns` wide, its command adjusted by
    /// `configure`.
    fn start_with(
        dir: &Path,
        args: &[&str],
        columns: u16,
        configure: impl FnOnce(pty_process::blocking::Command) -> pty_process::blocking::Command,
    ) -> Self {
        let (pty, pts) = pty_process::blocking::open().expect("a pseudo-terminal");
        pty.resize(pty_process::Size::new(ROWS, columns))
            .expect("terminal size");
        let command = pty_process::blocking::Command::new(env!("CARGO_BIN_EXE_runbook"))
            .args(args)
            .current_dir(dir)
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("COLUMNS")
            .env_remove("LINES")
            .env("RUNBOOK_API_KEY", process::KEY);
        let child = configure(command).spawn(pts).expect("runbook starts");
        let pty = Arc::new(pty);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            ROWS.try_into().expect("rows"),
            columns.try_into().expect("columns"),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let (pty, parser, raw) = (Arc::clone(&pty), Arc::clone(&parser), Arc::clone(&raw));
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                // Ends with EIO once the run has exited and closed the terminal.
                while let Ok(read @ 1..) = (&*pty).read(&mut buffer) {
                    parser.lock().unwrap().process(&buffer[..read]);
                    raw.lock().unwrap().extend_from_slice(&buffer[..read]);
                }
            })
        };
        Terminal {
            pty,
            child,
            parser,
            raw,
            reader: Some(reader),
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows `text`; returns the screen.
    fn wait_for(&mut self, text: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            let exited = self.child.try_wait().ok().flatten().is_some()
                && self.reader.as_ref().is_some_and(JoinHandle::is_finished);
            if exited || Instant::now() > deadline {
                panic!(
                    "the screen never showed {text:?} ({}):\n{screen}",
                    if exited { "the run ended" } else { "timed out" }
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Types `keys` (one write, as a fast typist or a paste would).
    fn type_keys(&self, keys: &str) {
        let mut pty = &*self.pty;
        pty.write_all(keys.as_bytes()).expect("typed");
        pty.flush().expect("typed");
    }

    /// Waits for the run to end and for the terminal to be drained.
    fn finish(mut self) -> Finished {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                break status;
            }
            if Instant::now() > deadline {
                panic!("the run did not end; the screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the reader ends");
        }
        let parser = self.parser.lock().unwrap();
        Finished {
            status,
            screen: parser.screen().contents(),
            raw: String::from_utf8_lossy(&self.raw.lock().unwrap()).into_owned(),
            cursor_hidden: parser.screen().hide_cursor(),
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The journal's records.
fn journal(path: &Path) -> Vec<Value> {
    process::records(path)
}

fn answers(records: &[Value]) -> Vec<(String, Value)> {
    records
        .iter()
        .filter(|record| record["record"] == "prompt")
        .map(|record| {
            (
                record["id"].as_str().unwrap_or("?").to_string(),
                record["answer"].clone(),
            )
        })
        .collect()
}

fn operations(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .filter(|record| record["record"] == "operation_finished" && record["ok"] == true)
        .map(|record| {
            format!(
                "{} {}",
                record["operation"]["operation"].as_str().unwrap_or("?"),
                record["operation"]["server"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

fn step_outcomes(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .filter(|record| record["record"] == "step_finished")
        .map(|record| {
            format!(
                "{} {}",
                record["step"]["id"].as_str().unwrap_or("?"),
                record["outcome"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// The screen with what changes from run to run replaced.
fn stable(screen: &str) -> String {
    screen
        .lines()
        .map(|line| match line.find("(run ") {
            Some(at) => format!("{}(run RUN-ID)", &line[..at]),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The screen lines that contain `text`.
fn lines_with<'s>(screen: &'s str, text: &str) -> Vec<&'s str> {
    screen.lines().filter(|line| line.contains(text)).collect()
}

#[test]
fn an_observation_a_choice_by_arrow_keys_and_a_confirmation_are_answered_by_typing() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = prompts_runbook();
    let mut terminal = Terminal::start(dir.path(), &["run", &runbook, "--journal", "run.jsonl"]);

    terminal.wait_for("[seen] What does the Management Client show?\n  >");
    terminal.type_keys("all green");
    terminal.wait_for("  > all green");
    terminal.type_keys(ENTER);

    // The question is written first, the menu under it.
    let menu = terminal.wait_for("  > keep — Keep them running");
    assert!(
        menu.contains(
            "[handling] How should the Standby Servers be handled?\n  > keep — Keep them running"
        ),
        "{menu}"
    );
    terminal.type_keys(DOWN);
    let menu = terminal.wait_for("  > stop — Stop every Standby Server");
    assert!(menu.contains("    keep — Keep them running"), "{menu}");
    terminal.type_keys(ENTER);

    terminal.wait_for("[proceed] Proceed with the upgrade?\n  [y/N]");
    terminal.type_keys("y");

    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    assert!(!finished.cursor_hidden, "the cursor is visible again");
    insta::assert_snapshot!("answered_by_typing", stable(&finished.screen));

    assert_prompts_runbook_completed(&journal(&dir.path().join("run.jsonl")));
}

/// The journal of `prompts.runbook` answered "all green", `stop`, yes: the
/// three answers, then both Standbys stopped.
fn assert_prompts_runbook_completed(records: &[Value]) {
    assert_eq!(
        answers(records),
        [
            ("seen".to_string(), Value::from("all green")),
            ("handling".to_string(), Value::from("stop")),
            ("proceed".to_string(), Value::from(true)),
        ]
    );
    assert_eq!(
        operations(records),
        ["stop-server mgt-2", "stop-server mgt-3"]
    );
}

#[test]
fn upgrade_preparation_takes_the_no_downtime_branch_chosen_with_the_arrow_keys() {
    let dir = tempfile::tempdir().unwrap();
    let answers_file = fixture("preparation.toml").display().to_string();
    let mut terminal = Terminal::start(
        dir.path(),
        &[
            "run",
            "upgrade-preparation",
            "--answers",
            &answers_file,
            "--journal",
            "run.jsonl",
        ],
    );
    // Both questions are longer than the terminal is wide.
    terminal.wait_for("[downtime-acceptable] Is downtime of the Management Server acceptable");
    terminal.wait_for("  > acceptable — Yes, downtime is acceptable");
    terminal.type_keys(DOWN);
    terminal.wait_for("  > minimal — No, minimizing downtime is a priority");
    terminal.type_keys(ENTER);
    terminal.wait_for("[server-switching] Is server switching ever performed in your environment?");
    // Its options are too wide for the menu: written out in full above a
    // menu of their names.
    terminal.wait_for("• never — Never");
    terminal.wait_for("  > never");
    terminal.type_keys(DOWN);
    terminal.wait_for("  > performed");
    terminal.type_keys(ENTER);
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    let screen = &finished.screen;
    assert!(
        screen.contains("→ minimal [downtime-acceptable, terminal]"),
        "{screen}"
    );
    assert!(
        screen.contains("→ performed [server-switching, terminal]"),
        "{screen}"
    );
    assert!(
        screen.contains("Outcome: succeeded: upgrade-preparation completed"),
        "{screen}"
    );
    for entry in ["acceptable — ", "minimal — ", "never — ", "performed — "] {
        assert!(
            lines_with(screen, entry).is_empty(),
            "no menu left behind: {entry:?}\n{screen}"
        );
    }
    let records = journal(&dir.path().join("run.jsonl"));
    let answered = answers(&records);
    assert!(
        answered.contains(&("downtime-acceptable".to_string(), Value::from("minimal")))
            && answered.contains(&("server-switching".to_string(), Value::from("performed"))),
        "{answered:?}"
    );
    // The procedure without downtime ran: the Final Active was forced Active.
    let journal_text = serde_json::to_string(&records).unwrap();
    assert!(journal_text.contains("force-activate"), "{journal_text}");
}

#[test]
fn keys_typed_before_a_question_appears_do_not_answer_it() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = prompts_runbook();
    let mut terminal = Terminal::start(dir.path(), &["run", &runbook, "--journal", "run.jsonl"]);
    terminal.wait_for("[seen] What does the Management Client show?\n  >");
    // A second Enter pressed too early: the choice that follows must not
    // take its default from it.
    terminal.type_keys("all green\r\r");
    terminal.wait_for("  > keep — Keep them running");
    terminal.type_keys(DOWN);
    terminal.wait_for("  > stop — Stop every Standby Server");
    terminal.type_keys(ENTER);
    terminal.wait_for("[proceed] Proceed with the upgrade?\n  [y/N]");
    terminal.type_keys("y");
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    let records = journal(&dir.path().join("run.jsonl"));
    assert_eq!(
        answers(&records)[1],
        ("handling".to_string(), Value::from("stop"))
    );
}

#[test]
fn on_a_narrow_terminal_wrapped_questions_and_answers_leave_no_pieces_behind() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = prompts_runbook();
    let mut terminal = Terminal::start_with(
        dir.path(),
        &["run", &runbook, "--journal", "run.jsonl"],
        40,
        |command| command,
    );
    let observation =
        "all green, but mgt-2 shows a warning about a certificate that expires in ten days";
    terminal.wait_for("[seen] What does the Management Client show?\n  >");
    terminal.type_keys(observation);
    terminal.wait_for("ten days");
    terminal.type_keys(ENTER);
    terminal.wait_for("  > keep — Keep them running");
    terminal.type_keys(DOWN);
    terminal.wait_for("  > stop — Stop every Standby Server");
    terminal.type_keys(ENTER);
    terminal.wait_for("  [y/N]");
    terminal.type_keys("y");
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    // Rows the terminal wrapped read as one line here: a piece left behind
    // by a redraw shows as a repeated or cut line.
    insta::assert_snapshot!("narrow_terminal", stable(&finished.screen));
    let records = journal(&dir.path().join("run.jsonl"));
    assert_eq!(answers(&records)[0].1, Value::from(observation));
}

#[test]
fn a_declined_confirmation_stops_the_run_resumably_and_resume_asks_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = prompts_runbook();
    let answers_file = fixture("observed.toml").display().to_string();
    let mut terminal = Terminal::start(
        dir.path(),
        &[
            "run",
            &runbook,
            "--answers",
            &answers_file,
            "--journal",
            "run.jsonl",
        ],
    );
    terminal.wait_for("[proceed] Proceed with the upgrade?\n  [y/N]");
    terminal.type_keys("n");
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(1), "{}", finished.screen);
    let screen = &finished.screen;
    assert!(
        screen.contains(
            "[proceed] Proceed with the upgrade?\n  ? Proceed with the upgrade? → no [proceed, terminal]"
        ),
        "{screen}"
    );
    assert!(
        screen.contains("✗ proceed failed: the operator declined `proceed`"),
        "{screen}"
    );
    assert!(
        screen.contains("Outcome: stopped: the operator declined `proceed`"),
        "{screen}"
    );
    assert!(
        screen
            .trim_end()
            .ends_with("To continue: runbook resume run.jsonl"),
        "{screen}"
    );
    let journal_path = dir.path().join("run.jsonl");
    let records = journal(&journal_path);
    let last = records.last().unwrap();
    assert_eq!(last["record"], "run_finished");
    assert_eq!(last["outcome"], "stopped");
    assert_eq!(last["resumable"], true);
    assert_eq!(
        step_outcomes(&records),
        ["observe ok", "handling ok", "proceed failed"]
    );

    // The answers given before are replayed; the declined one is asked again.
    let mut terminal = Terminal::start(dir.path(), &["resume", "run.jsonl"]);
    terminal.wait_for("[proceed] Proceed with the upgrade?\n  [y/N]");
    terminal.type_keys("y");
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    let screen = &finished.screen;
    assert!(screen.contains("Resuming: tty-prompts"), "{screen}");
    assert!(
        screen.contains("↷ observe skipped (completed before the run was resumed)"),
        "{screen}"
    );
    assert!(
        screen.contains("? Proceed with the upgrade? → yes [proceed, terminal]"),
        "{screen}"
    );
    assert!(
        screen.contains("Outcome: succeeded: tty-prompts completed"),
        "{screen}"
    );
    let records = journal(&journal_path);
    assert_eq!(
        operations(&records),
        ["stop-server mgt-2", "stop-server mgt-3"],
        "nothing done twice"
    );
}

#[test]
fn ctrl_c_at_a_choice_stops_the_run_and_resume_asks_the_choice_again() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = prompts_runbook();
    let mut terminal = Terminal::start(dir.path(), &["run", &runbook, "--journal", "run.jsonl"]);
    terminal.wait_for("[seen] What does the Management Client show?\n  >");
    terminal.type_keys("all green\r");
    terminal.wait_for("  > keep — Keep them running");
    terminal.type_keys(DOWN);
    terminal.wait_for("  > stop — Stop every Standby Server");
    terminal.type_keys(CTRL_C);
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(1), "{}", finished.screen);
    assert!(
        !finished.cursor_hidden,
        "the cursor the menu hid is shown again:\n{}",
        finished.screen
    );
    let screen = &finished.screen;
    assert_eq!(
        lines_with(screen, "handling failed"),
        ["  ✗ handling failed: interrupted at prompt `handling`"],
        "{screen}"
    );
    assert!(
        screen.contains(
            "Outcome: stopped: interrupted at prompt `handling`; the step under way was \
             journaled as interrupted and runs again on resume"
        ),
        "{screen}"
    );
    assert!(screen.contains("runbook::run::interrupted"), "{screen}");
    assert!(
        screen.contains("help: continue with `runbook resume run.jsonl`"),
        "{screen}"
    );
    assert!(
        screen
            .trim_end()
            .ends_with("To continue: runbook resume run.jsonl"),
        "{screen}"
    );
    let journal_path = dir.path().join("run.jsonl");
    let records = journal(&journal_path);
    assert_eq!(
        answers(&records),
        [("seen".to_string(), Value::from("all green"))],
        "nothing is journaled for the abandoned prompt"
    );
    assert_eq!(
        step_outcomes(&records),
        ["observe ok", "handling interrupted"]
    );
    let last = records.last().unwrap();
    assert_eq!(last["outcome"], "stopped");
    assert_eq!(last["resumable"], true);
    assert!(operations(&records).is_empty());

    let mut terminal = Terminal::start(dir.path(), &["resume", "run.jsonl"]);
    let menu = terminal.wait_for("  > keep — Keep them running");
    assert!(
        menu.contains("↷ observe skipped (completed before the run was resumed)"),
        "{menu}"
    );
    assert!(
        menu.contains("[handling] How should the Standby Servers be handled?"),
        "{menu}"
    );
    terminal.type_keys(DOWN);
    terminal.wait_for("  > stop — Stop every Standby Server");
    terminal.type_keys(ENTER);
    terminal.wait_for("[proceed] Proceed with the upgrade?\n  [y/N]");
    terminal.type_keys("y");
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    assert_prompts_runbook_completed(&journal(&journal_path));
}

#[test]
fn ctrl_c_while_typing_an_observation_ends_the_line_and_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = prompts_runbook();
    let mut terminal = Terminal::start(dir.path(), &["run", &runbook, "--journal", "run.jsonl"]);
    terminal.wait_for("[seen] What does the Management Client show?\n  >");
    terminal.type_keys("half a sen");
    terminal.wait_for("  > half a sen");
    terminal.type_keys(CTRL_C);
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(1), "{}", finished.screen);
    let screen = &finished.screen;
    // The failure starts its own line, under the half-typed answer.
    assert_eq!(
        lines_with(screen, "observe failed"),
        ["  ✗ observe failed: interrupted at prompt `seen`"],
        "{screen}"
    );
    assert!(
        screen.contains("Outcome: stopped: interrupted at prompt `seen`"),
        "{screen}"
    );
    let records = journal(&dir.path().join("run.jsonl"));
    assert!(answers(&records).is_empty(), "{records:?}");
    assert_eq!(step_outcomes(&records), ["observe interrupted"]);
}

#[test]
fn json_events_report_terminal_answers_and_a_ctrl_c_at_a_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = prompts_runbook();
    let mut terminal = Terminal::start(
        dir.path(),
        &[
            "run",
            &runbook,
            "--format",
            "json",
            "--journal",
            "run.jsonl",
        ],
    );
    terminal.wait_for("[seen] What does the Management Client show?\n  >");
    terminal.type_keys("all green\r");
    terminal.wait_for("  > keep — Keep them running");
    terminal.type_keys(ENTER);
    terminal.wait_for("[proceed] Proceed with the upgrade?\n  [y/N]");
    terminal.type_keys(CTRL_C);
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(1), "{}", finished.screen);
    // Events go to stdout, the questions to stderr: both on this terminal.
    let events: Vec<Value> = finished
        .raw
        .split('\n')
        .filter_map(|line| {
            // A prompt may leave an escape sequence (show the cursor) first.
            let start = line.find("{\"")?;
            serde_json::from_str(line[start..].trim_end_matches('\r')).ok()
        })
        .collect();
    let prompts: Vec<(&str, &Value, &str)> = events
        .iter()
        .filter(|event| event["event"] == "prompt")
        .map(|event| {
            (
                event["id"].as_str().unwrap_or("?"),
                &event["answer"],
                event["source"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert_eq!(
        prompts,
        [
            ("seen", &Value::from("all green"), "terminal"),
            ("handling", &Value::from("keep"), "terminal"),
        ],
        "{}",
        finished.raw
    );
    let last = events.last().expect("events");
    assert_eq!(last["event"], "run_finished", "{}", finished.raw);
    assert_eq!(last["outcome"], "stopped");
    assert_eq!(last["resume"], "runbook resume run.jsonl");
    assert!(
        last["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("interrupted at prompt `proceed`"),
        "{last}"
    );
}

#[test]
fn without_a_terminal_on_stdin_a_prompt_fails_at_once_even_when_output_is_one() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = prompts_runbook();
    let terminal = Terminal::start_with(
        dir.path(),
        &["run", &runbook, "--journal", "run.jsonl"],
        COLUMNS,
        |command| command.stdin(Stdio::null()),
    );
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(1), "{}", finished.screen);
    let screen = &finished.screen;
    assert!(
        screen.contains("runbook::run::prompt_unavailable"),
        "{screen}"
    );
    assert!(screen.contains("prompt `seen` needs an answer"), "{screen}");
    assert!(!screen.contains("[seen]"), "never asked: {screen}");
}

#[test]
fn without_a_terminal_on_stderr_a_prompt_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = prompts_runbook();
    let terminal = Terminal::start_with(
        dir.path(),
        &["run", &runbook, "--journal", "run.jsonl"],
        COLUMNS,
        |command| command.stderr(Stdio::null()),
    );
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(1), "{}", finished.screen);
    assert!(
        finished
            .screen
            .contains("Outcome: failed: prompt `seen` needs an answer"),
        "{}",
        finished.screen
    );
}

#[test]
fn with_stdout_in_a_file_the_questions_are_still_asked_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = prompts_runbook();
    let output = std::fs::File::create(dir.path().join("out.txt")).unwrap();
    let mut terminal = Terminal::start_with(
        dir.path(),
        &[
            "run",
            &runbook,
            "--answers",
            &fixture("observed.toml").display().to_string(),
            "--journal",
            "run.jsonl",
        ],
        COLUMNS,
        |command| command.stdout(output),
    );
    terminal.wait_for("[proceed] Proceed with the upgrade?\n  [y/N]");
    terminal.type_keys("y");
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    assert!(
        !finished.screen.contains("Outcome:"),
        "the run's output went to the file:\n{}",
        finished.screen
    );
    let written = std::fs::read_to_string(dir.path().join("out.txt")).unwrap();
    assert!(
        written.contains("? Proceed with the upgrade? → yes [proceed, terminal]"),
        "{written}"
    );
    assert!(
        written.contains("Outcome: succeeded: tty-prompts completed"),
        "{written}"
    );
}

/// A `runbook sim serve` and, in `dir`, an inventory of its three servers
/// whose backup is `manual`, with the fixture `backup.runbook`.
fn manual_backup_target(dir: &Path) -> process::SimServe {
    let sim = process::SimServe::start(dir, 600);
    std::fs::write(dir.join("smc.key"), format!("{}\n", process::KEY)).unwrap();
    let mut inventory = String::from(
        "[api]\napi_key_file = \"smc.key\"\nrequest_timeout = \"5s\"\npoll_interval = \"1ms\"\n\n",
    );
    for name in ["mgt-1", "mgt-2", "mgt-3"] {
        inventory.push_str(&format!(
            "[[servers]]\nname = \"{name}\"\nhost = \"{name}.lab\"\napi = \"{}/servers/{name}\"\n\n",
            sim.url
        ));
    }
    inventory.push_str("[console]\nbackup = \"manual\"\n");
    std::fs::write(dir.join("inventory.toml"), inventory).unwrap();
    std::fs::copy(fixture("backup.runbook"), dir.join("backup.runbook")).unwrap();
    sim
}

const MANUAL_PROMPT: &str = "[manual.backup.mgt-1] Take a Management Server backup on mgt-1";

#[test]
fn a_manual_operation_is_answered_with_its_spinner_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let _sim = manual_backup_target(dir.path());
    let mut terminal = Terminal::start(
        dir.path(),
        &[
            "run",
            "backup.runbook",
            "--target",
            "inventory.toml",
            "--journal",
            "run.jsonl",
        ],
    );
    terminal.wait_for(MANUAL_PROMPT);
    terminal.wait_for("  > done — Done, and it looks as expected");
    // Move around the menu: each redraw gives a spinner drawn at the same
    // time every chance to land in it.
    terminal.type_keys(DOWN);
    terminal.wait_for("  > failed — Performed, but it failed");
    terminal.type_keys(DOWN);
    terminal.wait_for("  > not-done — Not performed");
    terminal.type_keys(UP);
    terminal.type_keys(UP);
    let menu = terminal.wait_for("  > done — Done, and it looks as expected");
    assert!(
        lines_with(&menu, "backup mgt-1 (").is_empty(),
        "no spinner while the operator answers:\n{menu}"
    );
    terminal.type_keys(ENTER);
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    let screen = &finished.screen;
    assert!(
        lines_with(screen, "backup mgt-1 (").is_empty(),
        "no spinner left on screen:\n{screen}"
    );
    assert_eq!(
        lines_with(screen, "[manual.backup.mgt-1] ").len(),
        1,
        "the question is on one line, once:\n{screen}"
    );
    assert!(
        screen.contains(
            "note its name.\n  ? backup mgt-1 → done [manual.backup.mgt-1, terminal]\n  \
             ✓ backup mgt-1\n  ✓ backup done"
        ),
        "{screen}"
    );
    assert!(!finished.cursor_hidden);
    let records = journal(&dir.path().join("run.jsonl"));
    assert_eq!(operations(&records), ["backup mgt-1"]);
}

#[test]
fn ctrl_c_at_a_manual_operation_stops_the_run_and_resume_asks_again() {
    let dir = tempfile::tempdir().unwrap();
    let _sim = manual_backup_target(dir.path());
    let mut terminal = Terminal::start(
        dir.path(),
        &[
            "run",
            "backup.runbook",
            "--target",
            "inventory.toml",
            "--journal",
            "run.jsonl",
        ],
    );
    terminal.wait_for("  > done — Done, and it looks as expected");
    terminal.type_keys(CTRL_C);
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(1), "{}", finished.screen);
    let screen = &finished.screen;
    assert!(
        screen.contains(
            "Outcome: stopped: interrupted at the prompt for `backup mgt-1`; the step under \
             way was journaled as interrupted and runs again on resume"
        ),
        "{screen}"
    );
    assert!(!screen.contains("What-if"), "no What-if fires: {screen}");
    assert!(
        screen
            .trim_end()
            .ends_with("To continue: runbook resume run.jsonl"),
        "{screen}"
    );
    let journal_path = dir.path().join("run.jsonl");
    let records = journal(&journal_path);
    assert_eq!(step_outcomes(&records), ["backup interrupted"]);
    assert!(operations(&records).is_empty());

    let mut terminal = Terminal::start(dir.path(), &["resume", "run.jsonl"]);
    terminal.wait_for(MANUAL_PROMPT);
    terminal.wait_for("  > done — Done, and it looks as expected");
    terminal.type_keys(ENTER);
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    assert!(
        finished.screen.contains("Outcome: succeeded"),
        "{}",
        finished.screen
    );
    let records = journal(&journal_path);
    assert_eq!(operations(&records), ["backup mgt-1"]);
}

/// On a terminal too narrow for an option's label, the options are written
/// out in full (wrapped between words, never cut) above a menu of their
/// names, and cleared once one is chosen.
#[test]
fn options_too_wide_for_the_menu_are_written_out_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = prompts_runbook();
    let mut terminal = Terminal::start_with(
        dir.path(),
        &["run", &runbook, "--journal", "run.jsonl"],
        28,
        |command| command,
    );
    terminal.wait_for("  >");
    terminal.type_keys("ok");
    terminal.type_keys(ENTER);
    let screen = terminal.wait_for("  > keep\n");
    assert!(
        screen.contains("• stop — Stop every\n      Standby Server"),
        "{screen}"
    );
    assert!(!screen.contains('…'), "{screen}");
    terminal.type_keys(DOWN);
    terminal.wait_for("  > stop");
    terminal.type_keys(ENTER);
    terminal.wait_for("  [y/N]");
    terminal.type_keys("y");
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    assert!(!finished.screen.contains("• stop"), "{}", finished.screen);
    let records = journal(&dir.path().join("run.jsonl"));
    assert_eq!(answers(&records)[1].1, Value::from("stop"));
}

/// `--notify`: a prompt left to the terminal is posted while it waits (the
/// observation `seen`); prompts the answers file answers are not.
#[test]
fn a_prompt_waiting_at_the_terminal_is_posted() {
    let dir = tempfile::tempdir().unwrap();
    let (url, received) = crate::notify::webhook();
    std::fs::write(
        dir.path().join("answers.toml"),
        "handling = \"stop\"\nproceed = true\n",
    )
    .unwrap();
    let runbook = prompts_runbook();
    let mut terminal = Terminal::start(
        dir.path(),
        &[
            "run",
            &runbook,
            "--answers",
            "answers.toml",
            "--operator",
            "alice",
            "--notify",
            &url,
        ],
    );
    terminal.wait_for("[seen] What does the Management Client show?\n  >");
    let waiting = "runbook tty-prompts: waiting for alice to answer `seen` at the terminal: What does the Management Client show?";
    let deadline = Instant::now() + PATIENCE;
    let posted = |text: &str| {
        received
            .lock()
            .unwrap()
            .iter()
            .any(|body| body["text"].as_str() == Some(text))
    };
    while !posted(waiting) {
        assert!(
            Instant::now() < deadline,
            "not posted: {:?}",
            received.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    terminal.type_keys("all green");
    terminal.wait_for("  > all green");
    terminal.type_keys(ENTER);
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    let bodies = received.lock().unwrap();
    let waits: Vec<&serde_json::Value> = bodies
        .iter()
        .filter(|body| body["event"]["event"] == "prompt_waiting")
        .collect();
    assert_eq!(waits.len(), 1, "only `seen` waited: {waits:?}");
    assert_eq!(waits[0]["event"]["id"], "seen");
}

/// A fleet's clusters ask at the terminal one at a time: the question
/// names its cluster, the other cluster waits (the counts above the
/// question say so), and each answer goes to its own cluster's journal.
#[test]
fn the_clusters_of_a_fleet_ask_one_at_a_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sims: Vec<process::SimServe> = ["a", "b"]
        .iter()
        .map(|name| {
            process::SimServe::with_args([
                std::ffi::OsString::from("--state"),
                dir.path().join(format!("{name}.json")).into(),
            ])
        })
        .collect();
    std::fs::write(
        dir.path().join("fleet.toml"),
        format!(
            "[[clusters]]\nname = \"c-1\"\ntarget = \"{}\"\n\n[[clusters]]\nname = \"c-2\"\ntarget = \"{}\"\n",
            sims[0].url, sims[1].url
        ),
    )
    .expect("fleet");
    let runbook = fixture("fleet-prompt.runbook").display().to_string();
    let mut terminal = Terminal::start(
        dir.path(),
        &["fleet", "run", &runbook, "fleet.toml", "--parallel", "2"],
    );
    let first = terminal.wait_for("] Cluster c-");
    assert!(
        first.contains("1 waiting on a prompt") || first.contains("2 waiting on a prompt"),
        "{first}"
    );
    let asked_first = if first.contains("Cluster c-1:") {
        "c-1"
    } else {
        "c-2"
    };
    let asked_second = if asked_first == "c-1" { "c-2" } else { "c-1" };
    // Only one question on screen.
    assert_eq!(
        lines_with(&first, "Proceed on this cluster?").len(),
        1,
        "{first}"
    );
    terminal.type_keys("y");
    terminal.wait_for(&format!("Cluster {asked_second}: Proceed"));
    terminal.type_keys("y");
    let finished = terminal.finish();
    assert!(finished.status.success(), "{}", finished.screen);
    assert!(
        finished.screen.contains("2 succeeded"),
        "{}",
        finished.screen
    );
    for cluster in [asked_first, asked_second] {
        let records = journal(&dir.path().join(format!("runs/fleet/{cluster}.jsonl")));
        assert_eq!(
            answers(&records),
            [(String::from("proceed"), Value::Bool(true))],
            "{cluster}"
        );
    }
    drop(sims);
}

/// Waits until `received` holds a body whose text is `text`.
fn wait_posted(received: &Mutex<Vec<Value>>, text: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(body) = received
            .lock()
            .unwrap()
            .iter()
            .find(|body| body["text"].as_str() == Some(text))
        {
            return body.clone();
        }
        assert!(
            Instant::now() < deadline,
            "not posted: {text:?}\n{:?}",
            received.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

const MANUAL_QUESTION: &str = "Take a Management Server backup on mgt-1 (host mgt-1.lab) \
     (sgBackupMgtSrv.sh). When it is done you should see: The backup finished; note its name.";

/// `--notify`: an operation the inventory marks `manual` is posted as a
/// prompt waiting at the terminal while the operator is asked to do it.
#[test]
fn a_manual_operation_waiting_for_the_operator_is_posted() {
    let dir = tempfile::tempdir().unwrap();
    let _sim = manual_backup_target(dir.path());
    let (url, received) = crate::notify::webhook();
    let mut terminal = Terminal::start(
        dir.path(),
        &[
            "run",
            "backup.runbook",
            "--target",
            "inventory.toml",
            "--operator",
            "alice",
            "--notify",
            &url,
        ],
    );
    terminal.wait_for("  > done — Done, and it looks as expected");
    let body = wait_posted(
        &received,
        &format!(
            "runbook manual-backup: waiting for alice to answer `manual.backup.mgt-1` at the terminal: {MANUAL_QUESTION}"
        ),
    );
    assert_eq!(body["event"]["event"], "prompt_waiting");
    assert_eq!(body["event"]["id"], "manual.backup.mgt-1");
    terminal.type_keys(ENTER);
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    assert!(
        finished
            .screen
            .contains("? backup mgt-1 → done [manual.backup.mgt-1, terminal]\n  ✓ backup mgt-1"),
        "{}",
        finished.screen
    );
}

/// In a fleet, the question of a `manual` operation names its cluster, and
/// so does the notification that it waits.
#[test]
fn a_fleets_manual_operation_names_its_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let _sim = manual_backup_target(dir.path());
    let (url, received) = crate::notify::webhook();
    std::fs::write(
        dir.path().join("fleet.toml"),
        "[[clusters]]\nname = \"lab-1\"\ninventory = \"inventory.toml\"\n",
    )
    .unwrap();
    let mut terminal = Terminal::start_with(
        dir.path(),
        &[
            "fleet",
            "run",
            "backup.runbook",
            "fleet.toml",
            "--operator",
            "alice",
            "--notify",
            &url,
        ],
        COLUMNS,
        |command| command.env("RUNBOOK_LOCK_DIR", dir.path().join("locks")),
    );
    terminal.wait_for("[manual.backup.mgt-1] Cluster lab-1: Take a Management Server backup");
    let screen = terminal.wait_for("  > done — Done, and it looks as expected");
    let body = wait_posted(
        &received,
        &format!(
            "runbook manual-backup (cluster lab-1): waiting for alice to answer `manual.backup.mgt-1` at the terminal: {MANUAL_QUESTION}"
        ),
    );
    assert_eq!(body["cluster"], "lab-1");
    terminal.type_keys(ENTER);
    let finished = terminal.finish();
    assert_eq!(
        finished.status.code(),
        Some(0),
        "{screen}\n{}",
        finished.screen
    );
    assert!(
        finished.screen.contains("1 succeeded"),
        "{}",
        finished.screen
    );
}

/// The line of the screen that shows `text`, if any.
fn line_with(screen: &str, text: &str) -> Option<String> {
    screen
        .lines()
        .find(|line| line.contains(text))
        .map(str::to_owned)
}

/// While long operations run between a window's anchor and its step, the
/// spinner's line counts the time left down, live (here on `sim serve`'s
/// clock, 120 times real time); without a terminal nothing of it is printed.
#[test]
fn a_window_running_out_counts_down_on_the_spinners_line() {
    let dir = tempfile::tempdir().unwrap();
    let sim = process::SimServe::with_args(["--speed", "120"].map(std::ffi::OsString::from));
    let runbook = fixture("countdown.runbook").display().to_string();
    let mut terminal = Terminal::start(
        dir.path(),
        &[
            "run",
            &runbook,
            "--target",
            &sim.url,
            "--journal",
            "run.jsonl",
        ],
    );
    let counting = "left to start `hurry`";
    let first = line_with(&terminal.wait_for(counting), counting).expect("the line");
    assert!(
        first.contains("upgrade mgt-") && first.contains("expected about 12m30s"),
        "on the operation's spinner: {first}"
    );
    // A moment later (seconds count double minutes on the cluster's
    // clock), it says less.
    let deadline = Instant::now() + PATIENCE;
    loop {
        std::thread::sleep(Duration::from_millis(200));
        match line_with(&terminal.screen(), counting) {
            Some(line) if line != first => break,
            Some(_) => assert!(Instant::now() < deadline, "it never changed: {first}"),
            // The wait ended meanwhile: too fast to see a second reading.
            None => break,
        }
    }
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    assert!(
        !finished.screen.contains(counting),
        "no countdown left once the step started:\n{}",
        finished.screen
    );
    drop(sim);

    // Not on a terminal: the output has no countdown.
    let sim = process::SimServe::with_args(["--speed", "6000"].map(std::ffi::OsString::from));
    let output = std::process::Command::new(process::binary())
        .current_dir(dir.path())
        .args([
            "run",
            &runbook,
            "--target",
            &sim.url,
            "--journal",
            "again.jsonl",
        ])
        .env("RUNBOOK_API_KEY", process::KEY)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", process::show(&output));
    assert!(!process::show(&output).contains(counting));
}

/// A window that comes to close while a question waits at the terminal
/// (here `sim serve`'s clock runs 60 times real time): the warning is
/// posted and journaled at once, and shown once the question is answered,
/// not drawn over it.
#[test]
fn a_window_closing_while_a_question_waits_is_posted_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let sim = process::SimServe::with_args(["--speed", "60"].map(std::ffi::OsString::from));
    let (url, received) = crate::notify::webhook();
    let runbook = fixture("window-prompt.runbook").display().to_string();
    let mut terminal = Terminal::start(
        dir.path(),
        &[
            "run",
            &runbook,
            "--target",
            &sim.url,
            "--journal",
            "run.jsonl",
            "--notify",
            &url,
        ],
    );
    terminal.wait_for("[ready] Ready to go on?");
    let closing = "runbook window-prompt: the 10m window after `anchor` closes in ";
    let deadline = Instant::now() + PATIENCE;
    let posted = loop {
        let found = received
            .lock()
            .unwrap()
            .iter()
            .filter_map(|body| body["text"].as_str().map(str::to_owned))
            .find(|text| text.starts_with(closing));
        if let Some(text) = found {
            break text;
        }
        assert!(Instant::now() < deadline, "{:?}", received.lock().unwrap());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        posted.ends_with("step `hurry` must start before then"),
        "{posted}"
    );
    let screen = terminal.screen();
    assert!(
        !screen.contains("closes in"),
        "nothing drawn over the question:\n{screen}"
    );
    let journaled = journal(&dir.path().join("run.jsonl")).iter().any(|record| {
        record["record"] == "warning" && record["code"] == "runbook::run::window_closing"
    });
    assert!(journaled, "journaled while the question waits");
    terminal.type_keys("y");
    let finished = terminal.finish();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.screen);
    // Shown below the question once it was answered, in the order things
    // happened.
    let asked = finished
        .screen
        .find("[ready] Ready to go on?")
        .expect("the question");
    let shown = finished
        .screen
        .find("warning: the 10m window after `anchor` closes in")
        .expect("the warning, shown");
    assert!(asked < shown, "{}", finished.screen);
    drop(sim);
}
