#!/usr/bin/env node
// Parses Mermaid diagrams with Mermaid's own parser, as a code-hosting site
// would before drawing them: `node check.js FILE...` exits non-zero with the
// file's name and the parser's message on the first diagram that does not
// parse.
//
// FILE is a `.mmd` file (one diagram), an insta snapshot `.snap` (the
// diagram after insta's header), or a Markdown file (every ```mermaid
// block). A directory stands for the `.mmd` files in it.
//
// `mermaid.parse()` needs a DOM (DOMPurify sanitizes labels with it): jsdom
// provides one, so no browser is downloaded or started.

import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!DOCTYPE html><html><body></body></html>', {
  pretendToBeVisual: true,
});
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const name of ['Element', 'HTMLElement', 'Node', 'DocumentFragment', 'DOMParser']) {
  if (!(name in globalThis)) globalThis[name] = dom.window[name];
}

const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

/** The diagrams in `file`'s text, each with a name for messages. */
function diagrams(file, text) {
  if (file.endsWith('.snap')) {
    // insta: `---` header `---`, then the snapshot.
    const match = /^---\n[\s\S]*?\n---\n([\s\S]*)$/.exec(text);
    return [[file, match ? match[1] : text]];
  }
  if (file.endsWith('.md')) {
    const found = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() !== '```mermaid') continue;
      const start = i + 1;
      let end = start;
      while (end < lines.length && lines[end].trim() !== '```') end++;
      found.push([`${file}:${start}`, lines.slice(start, end).join('\n') + '\n']);
      i = end;
    }
    return found;
  }
  return [[file, text]];
}

async function expand(argument) {
  const info = await stat(argument);
  if (!info.isDirectory()) return [argument];
  const names = (await readdir(argument)).filter((name) => name.endsWith('.mmd')).sort();
  return names.map((name) => path.join(argument, name));
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: node check.js FILE.mmd|FILE.snap|FILE.md|DIR...');
  process.exit(2);
}
let count = 0;
for (const argument of args) {
  for (const file of await expand(argument)) {
    const text = await readFile(file, 'utf8');
    for (const [name, diagram] of diagrams(file, text)) {
      try {
        await mermaid.parse(diagram);
      } catch (error) {
        console.error(`${name}: Mermaid cannot parse this diagram:`);
        console.error(String(error?.message ?? error));
        process.exit(1);
      }
      count++;
    }
  }
}
const { version } = JSON.parse(
  await readFile(new URL('./node_modules/mermaid/package.json', import.meta.url), 'utf8'),
);
console.log(`mermaid-check: ${count} diagram(s) parse with mermaid ${version}`);
