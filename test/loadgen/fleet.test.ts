// A fleet on one machine: three generator processes against one server with one --start-at,
// their JSON merged by `bench merge` as a user runs it; and merge's answers to bad input.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Histogram } from '../../src/loadgen/histogram.ts';
import type { BenchRecord } from '../../src/loadgen/record.ts';
import { assertTranscript, cliReplay } from '../docs/examples.ts';
import { CLI, runCli, startCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'fleet-'));
/** The generators' labels, as docs/load-test-fleet.md names them. */
const LABELS = ['gen-a', 'gen-b', 'gen-c'];
const files = LABELS.map((label) => join(dir, `${label}.json`));
let runs: BenchRecord[] = [];

test.before(async () => {
  const { child, match } = await startCli(
    ['serve', '--port', '0', '--host', '127.0.0.1'],
    /port (\d+)/,
  );
  try {
    // Far enough ahead for three processes to start and connect on a busy machine.
    const startAt = new Date(Date.now() + 6000).toISOString();
    const ran = await Promise.all(
      LABELS.map((label) =>
        runCli(
          [
            'bench',
            '--target',
            `127.0.0.1:${match[1]}`,
            '--clients',
            '4',
            '--procs',
            '0',
            '--duration',
            '1500ms',
            '--start-at',
            startAt,
            '--label',
            label,
            '--json',
            '--quiet',
          ],
          {},
          40_000,
        ),
      ),
    );
    for (const [i, r] of ran.entries()) {
      assert.is(r.code, 0, `generator ${i + 1}: ${r.stderr}`);
      writeFileSync(files[i], r.stdout);
    }
    runs = ran.map((r) => JSON.parse(r.stdout) as BenchRecord);
  } finally {
    child.kill('SIGKILL');
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('each generator measured from the shared start time and says so', () => {
  const starts = runs.map((r) => r.window.start);
  for (const r of runs) {
    assert.is(r.format, 'elb-proxy-echo-bench');
    assert.ok(
      r.setup.some((line) => /^window from \d{4}-.*Z \(in \d/.test(line)),
      r.setup.join('\n'),
    );
    assert.ok(r.window.end - r.window.start >= 1400, `window ${r.window.end - r.window.start} ms`);
  }
  assert.ok(Math.max(...starts) - Math.min(...starts) < 300, `window starts ${starts}`);
});

test('merged: line counts are the sums, percentiles from the summed histograms, windows overlap', async () => {
  const ran = await runCli(['bench', 'merge', '--json', ...files]);
  assert.is(ran.code, 0, ran.stderr);
  assert.is(ran.stderr, '', 'no warnings');
  const merged = JSON.parse(ran.stdout) as BenchRecord & { overlapSeconds: number };
  const sum = (pick: (r: BenchRecord) => number) => runs.reduce((n, r) => n + pick(r), 0);
  assert.ok(sum((r) => r.windowCounts.echoesVerified) > 0);
  assert.is(
    merged.windowCounts.echoesVerified,
    sum((r) => r.windowCounts.echoesVerified),
  );
  assert.is(
    merged.totals.linesSent,
    sum((r) => r.totals.linesSent),
  );
  assert.is(merged.clients, 12);
  assert.is(
    merged.latencyMs.samples,
    sum((r) => r.latencyMs.samples),
  );
  const all = new Histogram();
  for (const r of runs) all.add(r.latencyHistogram);
  assert.is(merged.latencyMs.p99, all.percentile(0.99) / 1000);
  assert.is(merged.latencyMs.p50, all.percentile(0.5) / 1000);
  assert.ok(merged.overlapSeconds > 1, `overlap ${merged.overlapSeconds} s`);
  assert.equal(
    (merged as unknown as { generators: { label: string }[] }).generators.map((g) => g.label),
    LABELS,
  );
});

test('merged table: totals, the overlap, one row per generator; the same from a stream on stdin', async () => {
  const ran = await runCli(['bench', 'merge', files[0], files[1], files[2]]);
  assert.is(ran.code, 0);
  assert.match(ran.stdout, /^scenario +pingpong: 12 clients/m);
  assert.match(ran.stdout, /^note +windows overlap: all 3 measured together for \d+\.\d s/m);
  for (const label of LABELS) assert.match(ran.stdout, new RegExp(`^${label} +4 `, 'm'));
  const stream = join(dir, 'all.jsonl');
  writeFileSync(stream, files.map((f) => readFileSync(f, 'utf8')).join(''));
  const piped = spawnSync(process.execPath, [CLI, 'bench', 'merge', '--json', '-'], {
    input: readFileSync(stream),
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.is(piped.status, 0, piped.stderr);
  assert.is((JSON.parse(piped.stdout) as BenchRecord).clients, 12);
});

test("docs/load-test-fleet.md's fleet-merge: the merged report's words and layout", async () => {
  await assertTranscript(
    'docs/load-test-fleet.md',
    'fleet-merge',
    cliReplay((arg) => files[LABELS.indexOf(arg.replace('.json', ''))] ?? arg),
    { figures: false },
  );
});

test('a merge that includes a run with a wrong echo exits 1', async () => {
  const bad = { ...runs[1], wrongEchoes: 1, errors: { 'wrong-echo': 1 } };
  bad.totals = { ...bad.totals, errors: { 'wrong-echo': 1 } };
  const file = join(dir, 'wrong.json');
  writeFileSync(file, JSON.stringify(bad));
  const ran = await runCli(['bench', 'merge', files[0], file, files[2]]);
  assert.is(ran.code, 1);
  assert.match(ran.stdout, /^errors +wrong-echo 1$/m);
});

test("bad inputs: not JSON, another tool's JSON, an older format, no file: exit 2 with the reason", async () => {
  const cases: [string, string, RegExp][] = [
    ['notes.txt', 'p99 was fine\n', /notes\.txt: not JSON \(/],
    [
      'package.json',
      '{"name":"x","version":"1.0.0"}',
      /package\.json: not an elb-proxy-echo bench result/,
    ],
    [
      'old.json',
      JSON.stringify({ scenario: 'pingpong', latencyMs: { p99: 1 }, linesPerSecond: 5 }),
      /old\.json: an older bench format/,
    ],
  ];
  for (const [name, text, reason] of cases) {
    const file = join(dir, name);
    writeFileSync(file, text);
    const ran = await runCli(['bench', 'merge', files[0], file]);
    assert.is(ran.code, 2, name);
    assert.match(ran.stderr, reason);
  }
  const missing = await runCli(['bench', 'merge', join(dir, 'nope.json')]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /nope\.json: cannot read it \(ENOENT\)/);
  const none = await runCli(['bench', 'merge']);
  assert.is(none.code, 2);
  assert.match(none.stderr, /needs one or more FILEs/);
});

test('docs/load-test-fleet.md: the ssh loop and the merge as written, ssh standing in for three hosts', async () => {
  const doc = readFileSync(new URL('../../docs/load-test-fleet.md', import.meta.url), 'utf8');
  const block = /<!-- test:ssh-fleet -->\s*```sh\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'the doc has the ssh-fleet block');
  const work = mkdtempSync(join(dir, 'ssh-'));
  // The executables the block names: this program, run from src/.
  for (const name of ['elb-proxy-echo-linux-arm64', 'elb-proxy-echo-linux-x64'])
    writeFileSync(join(work, name), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, {
      mode: 0o755,
    });
  const { child, match } = await startCli(
    ['serve', '--port', '0', '--host', '127.0.0.1'],
    /port (\d+)/,
  );
  try {
    const script = [
      'ssh() { shift; sh -c "$1"; }', // `ssh USER@HOST COMMAND` runs COMMAND here
      `cd '${work}'`,
      'HOSTS="h1 h2 h3"',
      `TARGET=127.0.0.1:${match[1]}`,
      'CLIENTS=3',
      'DURATION=1s',
      block.replace('+ 30))', '+ 6))'), // less lead time than over real ssh
    ].join('\n');
    const { stdout } = await promisify(execFile)('sh', ['-ec', script], { timeout: 40_000 });
    assert.match(stdout, /^note +windows overlap: all 3 measured together/m);
    for (const host of ['h1', 'h2', 'h3']) assert.match(stdout, new RegExp(`^${host} +3 `, 'm'));
  } finally {
    child.kill('SIGKILL');
  }
});

test('bench --help shows --start-at, --label and bench merge', async () => {
  const ran = await runCli(['bench', '--help']);
  assert.match(ran.stdout, /--start-at WHEN/);
  assert.match(ran.stdout, /--label NAME/);
  assert.match(ran.stdout, /bench merge FILE/);
  const merge = await runCli(['bench', 'merge', '--help']);
  assert.is(merge.code, 0);
  assert.match(merge.stdout, /^Usage: elb-proxy-echo bench merge FILE/);
});

test.run();
