// The docs' example blocks and how real output is held against them. A code block marked
// `<!-- example: NAME -->` is compared with what the program really printed, after masking only
// what differs from run to run: times, durations, pids, ports the kernel picks, the host name
// and the address of whatever connected (a balancer node in the docs, loopback here). Port 5000
// in the docs stands for the port the server really got. examples.test.ts checks most blocks;
// a block whose output needs a set-up of its own is checked by that set-up's test, with
// assertExample or assertTranscript.
import { readdirSync, readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { runCli } from '../helpers/cli.ts';
import { type CodeBlock, splitFences } from './markdown.ts';

export const DOC_PORT = '5000';
const ROOT = new URL('../../', import.meta.url);

/** What may differ between the docs and this run, masked the same way on both sides. */
const MASKS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /, ''], // journal excerpts show no time
  [/\b(via=|via: +|from )[\w.:[\]]+/g, '$1<peer>'], // who connected: a balancer node, or loopback
  [/\b(127\.\d+\.\d+\.\d+):\d+/g, '$1:<port>'], // a loopback client's port, picked by the kernel
  [/\bduration_s=[\d.]+/g, 'duration_s=<s>'],
  [/\bpid \d+/g, 'pid <pid>'],
  [/\bauto: \d+ per process open_file_limit=\d+/g, 'auto: <n> per process open_file_limit=<n>'],
  // Counts the descriptors open at start, which include any the test runner leaves to its
  // children (a Node parent keeps only some of its own from them): the docs show a clean start.
  [/\breserved=\d+/g, 'reserved=<n>'],
  [/^(elb-proxy-echo on )[\w.-]+( \([^)]*\))?(:| saw:)/, '$1<host>$2$3'], // the backend's name
  [/ host=[\w.-]+/, ' host=<host>'],
  [/\bcurl\/\d+(\.\d+)+/g, 'curl/<version>'], // the curl that ran, in a User-Agent it sent
];

export function mask(line: string): string {
  return MASKS.reduce((text, [pattern, by]) => text.replace(pattern, by), line.trimEnd());
}

/** A run's output as the docs would show it: its `port` written as 5000, CR LF as LF. */
export function asDocs(text: string, port: number | string = DOC_PORT): string[] {
  const lines = text.replace(new RegExp(`\\b${port}\\b`, 'g'), DOC_PORT).split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

export function markdownFiles(): string[] {
  const docs = readdirSync(new URL('docs/', ROOT)).filter((name) => name.endsWith('.md'));
  return ['README.md', ...docs.map((name) => `docs/${name}`)];
}

export function exampleBlocks(file: string): Map<string, CodeBlock> {
  const markdown = readFileSync(new URL(file, ROOT), 'utf8');
  const marked = splitFences(markdown).blocks.filter((block) => block.example !== undefined);
  return new Map(marked.map((block) => [block.example ?? '', block]));
}

/** The block marked `<!-- example: NAME -->` in `file` (a failed assertion when there is none). */
export function exampleBlock(file: string, name: string): CodeBlock {
  const block = exampleBlocks(file).get(name);
  assert.ok(block, `${file} has no block marked <!-- example: ${name} -->`);
  return block;
}

/** A log line as an excerpt in the docs may show it: without its time (masked) and level. */
const withoutLevel = (line: string): string => line.replace(/^(debug|info|warn|error) +/, '');

/** The first line of `want` missing from `got` (masked; in order, other lines may come between), or null. */
export function missingLine(got: readonly string[], want: readonly string[]): string | null {
  const masked = got.map(mask);
  let from = 0;
  for (const line of want.map(mask)) {
    const at = masked.findIndex(
      (had, i) => i >= from && (had === line || withoutLevel(had) === line),
    );
    if (at < 0) return line;
    from = at + 1;
  }
  return null;
}

export function assertInOrder(got: readonly string[], want: readonly string[], what: string): void {
  const missing = missingLine(got, want);
  assert.is(
    missing,
    null,
    `${what}: no line\n  ${missing}\nin what the program printed:\n  ${got.map(mask).join('\n  ')}`,
  );
}

/** A line a block shows: not blank, not `…` (lines left out). */
const shownLine = (line: string): boolean => line.trim() !== '' && line.trim() !== '…';

/**
 * A line of a report that shows one run's figures (a bench report): the masked line with every
 * figure (counts, rates, latencies, times, addresses) as `N` and its columns one space apart,
 * since their widths follow the figures. What is left is the report's words and layout; digits
 * right after a letter belong to a word (`v1`, `p99`) and stay.
 */
export function withoutFigures(line: string): string {
  return mask(line)
    .replace(/(?<![A-Za-z])\d[\d,.:–]*/g, 'N')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The example `name` of `file` (a block of output, not a transcript) shows lines of `got`, in order. */
export function assertExample(file: string, name: string, got: readonly string[]): void {
  const shown = exampleBlock(file, name).lines.filter(
    (line) => shownLine(line) && !line.startsWith('$ '),
  );
  assertInOrder(got, shown, `${file} example ${name}`);
}

/**
 * Replays the transcript example `name` of `file`: each `$ ` command through `replay`, whose
 * lines must show the block's lines after that command. `figures: false` compares a report
 * of one run's figures by its words and layout alone (withoutFigures).
 */
export async function assertTranscript(
  file: string,
  name: string,
  replay: (command: string) => Promise<string[]>,
  { figures = true }: { figures?: boolean } = {},
): Promise<void> {
  const what = `${file} example ${name}`;
  const seen = figures ? (line: string) => line : withoutFigures;
  let command = '';
  let wanted: string[] = [];
  const flush = async () => {
    if (command === '') return;
    const got = (await replay(command)).map(seen);
    assertInOrder(got, wanted.map(seen), `${what} \`${command}\``);
  };
  for (const line of exampleBlock(file, name).lines) {
    if (line.startsWith('$ ')) {
      await flush();
      command = line.slice(2);
      wanted = [];
    } else if (shownLine(line)) wanted.push(line);
  }
  await flush();
}

/** Replays `elb-proxy-echo ARGS` commands, each argument through `arg` first (a port, a file). */
export function cliReplay(
  arg: (text: string) => string = (text) => text,
): (command: string) => Promise<string[]> {
  return async (command) => {
    const args = command
      .replace(/^elb-proxy-echo /, '')
      .split(' ')
      .map(arg);
    const ran = await runCli(args, {}, 40_000);
    return `${ran.stdout}${ran.stderr}`.split('\n');
  };
}
