#!/usr/bin/env node
// Opens each `runbook report` HTML page given on the command line in the
// system's headless Chromium (playwright-core drives it; no browser is
// downloaded) and checks what a reader of the change record relies on:
//
// - the sections are there: summary, timeline, prompts, What-ifs, windows,
//   warnings, the cluster before and after with at least one difference
//   marked, the proof, the sources;
// - the page makes no network request at all: every request the browser
//   makes is recorded, and only the page's own file may be among them;
// - a `<script>` injected into a journal string (an answer) did not run and
//   is not an element of the page: it shows as text;
// - no script runs at all and the page logs no error.
//
// Usage: node check.js [--screenshot OUT.png] PAGE.html... [--injected TEXT PAGE.html...]
// (`--injected TEXT`: the pages after it hold TEXT in a journal string,
// which must show as text; the screenshot is of the first page)
// Environment: RUNBOOK_CHROMIUM (default /usr/bin/chromium).
// Prints "N passed, M failed" and exits 1 when a check failed.

import { chromium } from "playwright-core";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
let screenshot = null;
let injected = null;
const pages = [];
for (let index = 0; index < args.length; index++) {
  if (args[index] === "--screenshot") screenshot = args[++index];
  else if (args[index] === "--injected") injected = args[++index];
  else pages.push({ file: args[index], injected });
}
if (pages.length === 0) {
  console.error("usage: node check.js [--screenshot OUT.png] [--injected TEXT] PAGE.html...");
  process.exit(2);
}

const executablePath = process.env.RUNBOOK_CHROMIUM || "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.error(`no Chromium at ${executablePath} (apt-get install chromium)`);
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(page, what, ok, detail = "") {
  if (ok) {
    passed++;
    console.log(`ok   ${page}: ${what}`);
  } else {
    failed++;
    console.log(`FAIL ${page}: ${what}${detail ? `: ${detail}` : ""}`);
  }
}

const profile = mkdtempSync(join(tmpdir(), "report-check-"));
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
  viewport: { width: 1200, height: 900 },
  deviceScaleFactor: 1,
  offline: true,
});

try {
  for (const { file, injected } of pages) {
    const url = pathToFileURL(resolve(file)).href;
    const requests = [];
    const errors = [];
    const page = await context.newPage();
    page.on("request", (request) => requests.push(request.url()));
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    // Nothing but the page itself may be fetched: record, then refuse.
    await page.route("**/*", (route) =>
      route.request().url() === url ? route.continue() : route.abort()
    );
    await page.goto(url, { waitUntil: "load" });
    await page.waitForTimeout(300);

    for (const id of ["summary", "timeline", "prompts", "what-ifs", "windows", "warnings", "cluster", "cluster-before", "cluster-after", "proof", "sources"]) {
      const present = await page.locator(`section#${id}, div#${id}`).count();
      check(file, `section #${id} is there`, present === 1);
    }
    const steps = await page.locator("#timeline tr.step").count();
    check(file, "the timeline lists steps", steps > 0, `${steps} rows`);
    const sessions = await page.locator("#timeline tr.session").count();
    check(file, "the timeline shows the start and each resume", sessions >= 1, `${sessions}`);
    const prompts = await page.locator("#prompts tbody tr").count();
    check(file, "the prompts are listed with their answers", prompts > 0, `${prompts} rows`);
    const whatIfs = await page.locator("#what-ifs tbody tr").count();
    check(file, "the What-ifs entered are listed", whatIfs > 0, `${whatIfs} rows`);
    const before = await page.locator("#cluster-before tbody tr").count();
    const after = await page.locator("#cluster-after tbody tr").count();
    check(file, "the cluster before and after are tables", before > 0 && after > 0, `${before}/${after}`);
    const changed = await page.locator("#cluster-after td.changed").count();
    check(file, "a difference of the cluster is marked", changed > 0, `${changed} cells`);
    const marked = await page
      .locator("#cluster-after td.changed")
      .first()
      .evaluate((cell) => getComputedStyle(cell).backgroundColor);
    check(file, "a marked difference is coloured", marked !== "rgba(0, 0, 0, 0)", marked);

    const scripts = await page.evaluate(() => document.scripts.length);
    check(file, "the page holds no script element", scripts === 0, `${scripts}`);
    const ran = await page.evaluate(() => window.__runbookInjected === true || document.title.startsWith("pwned"));
    check(file, "an injected script did not run", !ran);
    if (injected) {
      const text = await page.locator("body").innerText();
      check(file, "the injected text shows as text", text.includes(injected));
    }
    const foreign = requests.filter((request) => request !== url);
    check(file, "no network request was made", foreign.length === 0, foreign.join(", "));
    check(file, "the page logged no error", errors.length === 0, errors.join(" | "));

    if (screenshot) {
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`screenshot: ${screenshot}`);
      screenshot = null;
    }
    await page.close();
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
