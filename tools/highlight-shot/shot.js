#!/usr/bin/env node
// Renders a runbook as VS Code highlights it and screenshots it: the
// README's editor image (docs/images/runbook-highlighted.png).
//
// - The file is tokenized with the extension's TextMate grammar
//   (editors/vscode/syntaxes/runbook.tmLanguage.json) by vscode-textmate,
//   with the Oniguruma WebAssembly of vscode-oniguruma: the engine and the
//   regular expressions VS Code itself uses.
// - The colours come from a theme resembling VS Code's Dark+ (below),
//   resolved by vscode-textmate the way VS Code resolves a theme.
// - The page is self-contained HTML (inline CSS, no script, no font or
//   image to fetch); every token is HTML-escaped.
// - The system's headless Chromium (playwright-core drives it; no browser
//   is downloaded) screenshots the editor; every request the page would
//   make is refused, and one made fails the run.
//
// Usage: node shot.js [--title NAME] INPUT.runbook OUT.png
// (`--title`: the file name on the editor's tab; default INPUT's name)
// Environment: RUNBOOK_CHROMIUM (default /usr/bin/chromium).

import vsctm from "vscode-textmate";
import oniguruma from "vscode-oniguruma";
import { chromium } from "playwright-core";
import { readFileSync, mkdtempSync, rmSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const grammarPath = join(here, "../../editors/vscode/syntaxes/runbook.tmLanguage.json");

const args = process.argv.slice(2);
let tabTitle = null;
const files = [];
for (let index = 0; index < args.length; index++) {
  if (args[index] === "--title") tabTitle = args[++index];
  else files.push(args[index]);
}
const [input, output] = files;
if (!input || !output || files.length !== 2 || tabTitle === undefined) {
  console.error("usage: node shot.js [--title NAME] INPUT.runbook OUT.png");
  process.exit(2);
}
const executablePath = process.env.RUNBOOK_CHROMIUM || "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.error(`no Chromium at ${executablePath} (apt-get install chromium)`);
  process.exit(2);
}

// Colours of VS Code's Dark+ (dark_vs.json and dark_plus.json), for the
// scopes the runbook grammar gives.
const FOREGROUND = "#d4d4d4";
const BACKGROUND = "#1e1e1e";
const theme = {
  name: "Dark+ (runbook excerpt)",
  settings: [
    { settings: { foreground: FOREGROUND, background: BACKGROUND } },
    { scope: ["comment", "punctuation.definition.comment"], settings: { foreground: "#6a9955" } },
    { scope: "comment.line.documentation", settings: { foreground: "#6a9955" } },
    { scope: "string", settings: { foreground: "#ce9178" } },
    { scope: "constant.character.escape", settings: { foreground: "#d7ba7d" } },
    { scope: ["meta.interpolation"], settings: { foreground: "#9cdcfe" } },
    { scope: ["punctuation.section.interpolation"], settings: { foreground: "#569cd6" } },
    { scope: "constant.numeric", settings: { foreground: "#b5cea8" } },
    { scope: "constant.language", settings: { foreground: "#569cd6" } },
    { scope: ["keyword", "storage.type", "keyword.other"], settings: { foreground: "#569cd6" } },
    { scope: "keyword.control", settings: { foreground: "#c586c0" } },
    { scope: "keyword.operator", settings: { foreground: FOREGROUND } },
    { scope: ["keyword.operator.word", "keyword.operator.logical"], settings: { foreground: "#569cd6" } },
    { scope: ["entity.name.function", "support.function"], settings: { foreground: "#dcdcaa" } },
    { scope: ["entity.name.type", "support.type"], settings: { foreground: "#4ec9b0" } },
    { scope: "entity.name.label", settings: { foreground: "#4ec9b0" } },
    { scope: "support.constant", settings: { foreground: "#4fc1ff" } },
    { scope: ["variable", "variable.parameter", "variable.other.property"], settings: { foreground: "#9cdcfe" } },
  ],
};

// Tokenize.
const require = createRequire(import.meta.url);
const wasm = readFileSync(join(dirname(require.resolve("vscode-oniguruma")), "onig.wasm"));
const onigLib = oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength)).then(() => ({
  createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
  createOnigString: (text) => new oniguruma.OnigString(text),
}));
const registry = new vsctm.Registry({
  onigLib,
  theme,
  loadGrammar: async (scopeName) =>
    scopeName === "source.runbook"
      ? vsctm.parseRawGrammar(readFileSync(grammarPath, "utf8"), grammarPath)
      : null,
});
const grammar = await registry.loadGrammar("source.runbook");
if (!grammar) {
  console.error(`cannot load the grammar ${grammarPath}`);
  process.exit(1);
}
const colorMap = registry.getColorMap();

const text = readFileSync(input, "utf8").replace(/\r\n/g, "\n").replace(/\n$/, "");
const lines = text.split("\n");
const FOREGROUND_MASK = 0xff8000;
const FOREGROUND_OFFSET = 15;
const FONT_STYLE_MASK = 0x7800;
const FONT_STYLE_OFFSET = 11;

function escapeHtml(value) {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

let ruleStack = vsctm.INITIAL;
const rendered = [];
const seen = new Map(); // colour -> a few scopes, for the log
for (const line of lines) {
  const result = grammar.tokenizeLine2(line, ruleStack);
  const scoped = grammar.tokenizeLine(line, ruleStack);
  const tokens = result.tokens;
  let html = "";
  for (let index = 0; index < tokens.length; index += 2) {
    const start = tokens[index];
    const end = index + 2 < tokens.length ? tokens[index + 2] : line.length;
    const metadata = tokens[index + 1];
    const colour = colorMap[(metadata & FOREGROUND_MASK) >>> FOREGROUND_OFFSET];
    const style = (metadata & FONT_STYLE_MASK) >>> FONT_STYLE_OFFSET;
    const piece = line.slice(start, end);
    if (piece === "") continue;
    let css = `color:${colour}`;
    if (style & 1) css += ";font-style:italic";
    if (style & 2) css += ";font-weight:bold";
    if (style & 4) css += ";text-decoration:underline";
    html += `<span style="${escapeHtml(css)}">${escapeHtml(piece)}</span>`;
    const scope = scoped.tokens.find((token) => token.startIndex <= start && start < token.endIndex);
    if (scope && piece.trim()) {
      const names = seen.get(colour) || new Set();
      names.add(scope.scopes[scope.scopes.length - 1]);
      seen.set(colour, names);
    }
  }
  rendered.push(html);
  ruleStack = result.ruleStack;
}

// The page: an editor window with a tab, line numbers and the text; long
// lines are cut at the window's edge, as in an editor without word wrap.
const columns = 118;
const gutter = String(lines.length).length;
const title = escapeHtml(tabTitle ?? basename(input));
const body = rendered
  .map(
    (html, index) =>
      `<div class="line"><span class="number">${index + 1}</span><span class="code">${html || " "}</span></div>`
  )
  .join("\n");
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${title}</title>
<style>
  html, body { margin: 0; padding: 0; background: #0f0f0f; }
  .window { display: inline-block; margin: 0; background: ${BACKGROUND}; color: ${FOREGROUND};
            font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 14px; }
  .tabs { background: #252526; height: 35px; display: flex; }
  .tab { background: ${BACKGROUND}; color: #ffffff; padding: 0 18px; line-height: 35px;
         font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 13px;
         border-top: 1px solid #007acc; }
  .tab .dot { color: #4ec9b0; margin-right: 6px; }
  .editor { padding: 8px 0 12px 0; }
  .line { white-space: pre; line-height: 20px; height: 20px; overflow: hidden;
          width: calc(${gutter + 4}ch + ${columns}ch); }
  .number { display: inline-block; width: ${gutter}ch; padding: 0 2ch 0 1ch; text-align: right; color: #858585;
            user-select: none; }
  .code { padding-left: 1ch; }
</style>
</head>
<body><div class="window"><div class="tabs"><div class="tab"><span class="dot">&#9679;</span>${title}</div></div><div class="editor">
${body}
</div></div></body>
</html>
`;

const profile = mkdtempSync(join(tmpdir(), "highlight-shot-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1400, height: 900 },
  deviceScaleFactor: 2,
  offline: true,
});
let status = 0;
try {
  const page = await context.newPage();
  const requests = [];
  const errors = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  await page.route("**/*", (route) => route.abort());
  await page.setContent(html, { waitUntil: "load" });
  const foreign = requests.filter((url) => url !== "about:blank");
  if (foreign.length > 0 || errors.length > 0) {
    console.error(`the page made a request or logged an error: ${[...foreign, ...errors].join(" | ")}`);
    status = 1;
  } else {
    mkdirSync(dirname(resolve(output)), { recursive: true });
    await page.locator(".window").screenshot({ path: output });
    console.log(`${lines.length} lines, ${seen.size} colours: ${output}`);
    for (const [colour, names] of seen) console.log(`  ${colour}  ${[...names].slice(0, 6).join(", ")}`);
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
