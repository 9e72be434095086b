// The one-run report a user reads after `elb-proxy-echo bench`: which lines appear for which
// scenario, in which order, and what they say.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyCounters } from '../../src/loadgen/counters.ts';
import { Histogram } from '../../src/loadgen/histogram.ts';
import { formatRun, sharesOf } from '../../src/loadgen/report.ts';
import type { RunResult } from '../../src/loadgen/result.ts';

function run(changes: Partial<RunResult>): RunResult {
  const totals = {
    ...emptyCounters(),
    answered: 4,
    linesSent: 120,
    echoesVerified: 120,
    completed: 4,
  };
  return {
    scenario: 'pingpong',
    server: 'ours (in-process)',
    clients: 4,
    procs: 1,
    header: 'v2',
    lineBytes: 16,
    seconds: 2,
    up: 4,
    linesPerSecond: 60,
    megabytesPerSecond: 0.001,
    connectionsPerSecond: 0,
    latencyMs: { p50: 0.5, p90: 0.9, p99: 1.5, max: 3, samples: 120 },
    memory: null,
    serverBusy: 0.25,
    serverCpuMicrosPerUnit: 41,
    generatorBusy: [0.5],
    totals,
    errors: {},
    wrongEchoes: 0,
    notes: [],
    window: { start: 0, end: 2000 },
    windowCounts: totals,
    latencyHistogram: new Histogram().toData(),
    backends: [],
    ...changes,
  };
}

const labels = (text: string) => text.split('\n').map((line) => line.slice(0, line.indexOf('  ')));

test('pingpong: what ran, the rates, the costs, then what was checked, values lined up', () => {
  const text = formatRun(run({ notes: ['a note'] }), ['server pinned to CPU 0']);
  assert.equal(labels(text), [
    'scenario',
    'server',
    '',
    'measured',
    'lines/s',
    'latency ms',
    'server CPU',
    'generator CPU',
    'checked',
    'errors',
    'note',
  ]);
  const lines = text.split('\n');
  assert.is(lines[0], 'scenario       pingpong: 4 clients, PROXY v2 headers, 16-byte lines');
  assert.is(lines[2], '               server pinned to CPU 0');
  assert.is(lines[6], 'server CPU     25% of one core, 41.0 µs per line');
  assert.is(lines[7], 'generator CPU  50% of one core (1 process)');
  assert.is(lines[9], 'errors         none');
});

test('connect counts connections; hold shows memory and how many clients were held', () => {
  const connect = formatRun(run({ scenario: 'connect', connectionsPerSecond: 500, procs: 0 }), []);
  assert.equal(labels(connect), [
    'scenario',
    'server',
    'measured',
    'connections/s',
    'lines/s',
    'connect→echo ms',
    'server CPU',
    'generator CPU',
    'checked',
    'errors',
  ]);
  assert.match(connect, /µs per connection/);
  assert.match(connect, /of one core \(inside this process\)/);
  const memory = {
    beforeBytes: 40 * 1024 * 1024,
    halfBytes: 41 * 1024 * 1024,
    halfClients: 2,
    afterBytes: 42 * 1024 * 1024,
    perConnectionBytes: 2048,
  };
  const hold = formatRun(run({ scenario: 'hold', memory, serverBusy: null, header: 'none' }), []);
  assert.equal(labels(hold), [
    'scenario',
    'server',
    'measured',
    'lines/s',
    'latency ms',
    'server memory',
    'generator CPU',
    'held',
    'checked',
    'errors',
  ]);
  assert.match(hold, /no PROXY header/);
  assert.match(hold, /2.00 KiB per connection \(RSS 40.0 MiB with no client, 41.0 MiB with 2/);
  assert.match(hold, /held +4 of 4 clients up at the end; 4 connections had their first line/);
});

test('with backends: the client check and its mismatches, then a row per backend', () => {
  const latency = new Histogram();
  latency.record(1500);
  const backend = (name: string, saw: number, wrong: number) => ({
    backend: name,
    connections: saw + wrong,
    sawGenerator: saw,
    mismatched: wrong,
    mismatches: wrong === 0 ? [] : [{ expected: '192.0.2.1:1024', reported: '198.51.100.9:4242' }],
    clients: wrong === 0 ? ['192.0.2.1:1024'] : ['198.51.100.9:4242'],
    latencyHistogram: latency.toData(),
    latencyMs: { p50: 1.5, p90: 1.5, p99: 1.5, max: 1.5, samples: 1 },
  });
  const text = formatRun(
    run({ backends: [backend('web-1 [i-0abc us-east-1a]', 2, 0), backend('web-2', 0, 1)] }),
    [],
  );
  const [lines, rows] = text.split('\n\n');
  assert.equal(labels(lines).slice(-3), ['errors', 'client check', 'mismatch']);
  assert.match(
    lines,
    /^client check +MISMATCH: 1 connection on 1 of 2 backends named another client$/m,
  );
  assert.match(lines, /^mismatch +web-2 named 198\.51\.100\.9:4242, expected 192\.0\.2\.1:1024$/m);
  assert.equal(rows.split('\n'), [
    'backend  detail               connections  share  p50 ms  p99 ms  clients named',
    'web-1    [i-0abc us-east-1a]            2  66.7%    1.50    1.50  192.0.2.1:1024',
    'web-2                                   1  33.3%    1.50    1.50  1 WRONG; 198.51.100.9:4242',
  ]);
});

test('backend shares add up to exactly 100.0% and stay within 0.1 of the exact share (random counts)', () => {
  let seed = 11;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  assert.equal(sharesOf([10, 10, 10]), ['33.4%', '33.3%', '33.3%']);
  assert.equal(sharesOf([1, 0]), ['100.0%', '0.0%']);
  assert.equal(sharesOf([0, 0]), ['-', '-']);
  for (let round = 0; round < 2000; round++) {
    const counts = Array.from({ length: 1 + next(12) }, () => (next(5) === 0 ? 0 : next(100_000)));
    const total = counts.reduce((n, c) => n + c, 0);
    if (total === 0) continue;
    const shares = sharesOf(counts).map((text) => Number.parseFloat(text));
    assert.is(Math.round(shares.reduce((n, x) => n + x, 0) * 10), 1000, counts.join(' '));
    for (const [i, share] of shares.entries())
      assert.ok(Math.abs(share - (counts[i] * 100) / total) < 0.1 + 1e-9, counts.join(' '));
  }
});

test.run();
