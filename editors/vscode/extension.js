// The Runbook extension: starts `runbook lsp` (the setting `runbook.path`
// names the binary) for every `.runbook` file and restarts it when the
// setting changes. Highlighting comes from syntaxes/runbook.tmLanguage.json
// and works without the binary.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

/** @type {LanguageClient | undefined} */
let client;

function start() {
  const command = vscode.workspace.getConfiguration("runbook").get("path") || "runbook";
  const executable = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "runbook",
    "Runbook",
    { run: executable, debug: executable },
    {
      documentSelector: [{ language: "runbook" }],
      synchronize: {
        fileEvents: vscode.workspace.createFileSystemWatcher("**/{*.runbook,runbook.toml}"),
      },
    },
  );
  return client.start().catch((error) => {
    vscode.window.showErrorMessage(
      `Runbook: cannot start \`${command} lsp\` (${error.message}). ` +
        "Install runbook (cargo install --path .) or set `runbook.path`.",
    );
  });
}

/** @param {vscode.ExtensionContext} context */
function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("runbook.path")) {
        await deactivate();
        await start();
      }
    }),
  );
  return start();
}

function deactivate() {
  const running = client;
  client = undefined;
  return running ? running.stop() : undefined;
}

module.exports = { activate, deactivate };
