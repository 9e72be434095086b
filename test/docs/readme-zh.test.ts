// The Chinese README follows the English one: every command it shows is a command the English
// README (or a doc that README links to) also shows, and every flag or command it names in its
// prose occurs there too, so a renamed flag or script cannot leave the Chinese page behind; the
// two pages link to each other near the top; and the Chinese
// page's links lead to files and headings that exist.
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandLines, headingAnchors, inlineCode, relativeLinks } from './markdown.ts';

const ROOT = new URL('../../', import.meta.url);
const ZH = 'README.zh-CN.md';
const TOP_LINES = 10;

const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');

/** docs/*.md files README.md links to. */
function linkedDocs(): string[] {
  const paths = relativeLinks(read('README.md')).map((link) => link.split('#')[0] ?? '');
  return [...new Set(paths.filter((path) => /^docs\/[^/]+\.md$/.test(path)))];
}

const englishTexts = (): string[] => ['README.md', ...linkedDocs()].map(read);

/** Every command line and inline code span of README.md and the docs it links to. */
function englishCommands(): Set<string> {
  return new Set(englishTexts().flatMap((text) => [...commandLines(text), ...inlineCode(text)]));
}

test('which lines count as commands: $ lines of a transcript, every line of a shell block', () => {
  const doc = [
    '```text',
    '$ printf  x | nc localhost 5000   # a comment',
    'output line',
    '```',
    '1. item',
    '   ```sh',
    '   # whole-line comment',
    '   npm start -- --greeting        # serve',
    "   grep -o '#not a comment' \\",
    '     file',
    '   ```',
    '```json',
    '{"not": "a command"}',
    '```',
    '```sh',
    '$ curl http://LB:5000/',
    'answer',
    '```',
  ].join('\n');
  assert.equal(commandLines(doc), [
    'printf x | nc localhost 5000',
    'npm start -- --greeting',
    "grep -o '#not a comment' file",
    'curl http://LB:5000/',
  ]);
});

test(`every command in ${ZH} is also in README.md or a doc it links to`, () => {
  const commands = commandLines(read(ZH));
  assert.ok(
    commands.length >= 10,
    `${ZH} shows its commands in code blocks (found ${commands.length})`,
  );
  const known = englishCommands();
  const missing = commands.filter((command) => !known.has(command));
  assert.equal(
    missing,
    [],
    `${ZH} shows commands that README.md and its docs (${linkedDocs().join(', ')}) no longer give:\n  ${missing.join('\n  ')}`,
  );
});

test(`every inline code span in ${ZH} (a flag, a command in the prose) occurs in README.md or its docs`, () => {
  const english = englishTexts().join('\n');
  const spans = inlineCode(read(ZH));
  assert.ok(spans.includes('--greeting'), `${ZH} names flags in its prose`);
  const missing = [...new Set(spans)].filter((span) => !english.includes(span));
  assert.equal(
    missing,
    [],
    `${ZH} names what README.md and its docs no longer mention:\n  ${missing.join('\n  ')}`,
  );
});

test('README.md links to the Chinese README in its first lines, and the Chinese README links back', () => {
  const top = (path: string): string => read(path).split('\n').slice(0, TOP_LINES).join('\n');
  assert.ok(
    top('README.md').includes(`](${ZH})`),
    `README.md links to ${ZH} in its first ${TOP_LINES} lines`,
  );
  assert.ok(
    top(ZH).includes('](README.md)'),
    `${ZH} links to README.md in its first ${TOP_LINES} lines`,
  );
});

test(`${ZH} links only to files and headings that exist`, () => {
  const links = relativeLinks(read(ZH));
  assert.ok(links.length > 0, `${ZH} links to the English docs`);
  for (const link of links) {
    const [path = '', anchor] = link.split('#');
    assert.ok(existsSync(new URL(path, ROOT)), `${link}: ${path} exists`);
    if (anchor !== undefined)
      assert.ok(
        headingAnchors(read(path)).has(anchor),
        `${link}: ${path} has a heading #${anchor}`,
      );
  }
});

test.run();
