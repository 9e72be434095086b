// Merging generators' records (src/loadgen/merge.ts, record.ts) and the pure parts of --start-at:
// percentiles of a merge against the raw samples, window overlap, what is refused and why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromChronyTracking } from '../../src/loadgen/clock.ts';
import { emptyCounters } from '../../src/loadgen/counters.ts';
import { Histogram } from '../../src/loadgen/histogram.ts';
import { startAtSetup } from '../../src/loadgen/index.ts';
import { merge } from '../../src/loadgen/merge.ts';
import { startTime } from '../../src/loadgen/options.ts';
import { asRecord, type BenchRecord, jsonValues, toRecord } from '../../src/loadgen/record.ts';
import { latencyOf } from '../../src/loadgen/latency.ts';
import type { RunResult } from '../../src/loadgen/result.ts';
import { UsageError } from '../../src/options.ts';

/** A generator's record with these latency samples (µs) and this window (epoch ms). */
function record(
  label: string,
  samples: readonly number[],
  start: number,
  end: number,
): BenchRecord {
  const latency = new Histogram();
  for (const s of samples) latency.record(s);
  const counts = { ...emptyCounters(), linesSent: samples.length, echoesVerified: samples.length };
  const seconds = (end - start) / 1000;
  const result: RunResult = {
    scenario: 'pingpong',
    server: 'lb:5000',
    clients: 10,
    procs: 1,
    header: 'none',
    lineBytes: 16,
    seconds,
    up: 10,
    linesPerSecond: samples.length / seconds,
    megabytesPerSecond: 0,
    connectionsPerSecond: 0,
    latencyMs: latencyOf(latency),
    memory: null,
    serverBusy: null,
    serverCpuMicrosPerUnit: null,
    generatorBusy: [0.3],
    totals: counts,
    errors: {},
    wrongEchoes: 0,
    notes: [],
    window: { start, end },
    windowCounts: counts,
    latencyHistogram: latency.toData(),
    backends: [],
  };
  return toRecord(result, label, []);
}

/** Deterministic pseudo-random numbers (xorshift), so a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** The exact q-quantile of the samples: the smallest value with at least q of them at or below it. */
function exact(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
}

test('merged percentiles equal those of all samples together, within one bucket (random loads)', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const next = random(seed);
    // Three generators with different latency (a near one, a far one, one with a long tail).
    const shapes = [
      () => 50 + next() * 400,
      () => 2_000 + next() * 3_000,
      () => (next() < 0.05 ? 50_000 + next() * 500_000 : 300 + next() * 700),
    ];
    const sets = shapes.map((shape) =>
      Array.from({ length: 200 + Math.floor(next() * 3000) }, () => Math.round(shape())),
    );
    const merged = merge(sets.map((s, i) => record(`g${i}`, s, 1000, 3000))).result;
    const all = sets.flat();
    assert.is(merged.latencyMs.samples, all.length);
    assert.is(merged.windowCounts.echoesVerified, all.length, 'line count is the sum');
    for (const [q, key] of [
      [0.5, 'p50'],
      [0.9, 'p90'],
      [0.99, 'p99'],
    ] as const) {
      const want = exact(all, q);
      const got = merged.latencyMs[key] * 1000;
      // One bucket: exact below 128 µs, 1/64 of the power of two above.
      const bucket = want < 128 ? 0 : 2 ** Math.floor(Math.log2(want)) / 64;
      assert.ok(
        got >= want && got - want <= bucket,
        `seed ${seed} ${key}: merged ${got} µs, samples ${want} µs (bucket ${bucket})`,
      );
    }
    assert.is(Math.round(merged.latencyMs.max * 1000), Math.max(...all));
  }
});

test('averaging the p99s would be wrong: the merge takes the tail of the heavy generator', () => {
  const fast = Array.from({ length: 9900 }, () => 100);
  const slow = Array.from({ length: 100 }, () => 90_000);
  const merged = merge([record('fast', fast, 0, 1000), record('slow', slow, 0, 1000)]).result;
  assert.is(merged.latencyMs.p99, 0.1, '99% of all lines took 100 µs');
  assert.ok(merged.latencyMs.max >= 90, 'the slow tail is kept in max');
});

test('windows: overlap is reported with its length; windows apart are a warning', () => {
  const together = merge([
    record('a', [100], 10_000, 20_000),
    record('b', [100], 10_500, 20_400),
    record('c', [100], 9_800, 19_900),
  ]);
  assert.is(together.overlapSeconds, 9.4);
  assert.equal(together.warnings, []);
  assert.match(together.result.notes[0], /^windows overlap: all 3 measured together for 9\.4 s/);
  const apart = merge([record('early', [100], 0, 10_000), record('late', [100], 15_000, 25_000)]);
  assert.ok(apart.overlapSeconds <= 0);
  assert.match(
    apart.warnings[0],
    /windows do not overlap: late started measuring at .* after early/,
  );
});

test('versions, line sizes and labels that differ are warned about; scenarios that differ are refused', () => {
  const a = record('a', [100], 0, 1000);
  const b = { ...record('b', [100], 0, 1000), version: '9.9.9', lineBytes: 64 };
  const warnings = merge([a, b, record('a', [100], 0, 1000)]).warnings;
  assert.ok(
    warnings.some((w) => /^versions differ: .*9\.9\.9 \(b\)/.test(w)),
    warnings.join('\n'),
  );
  assert.ok(warnings.some((w) => /^line sizes differ/.test(w)));
  assert.ok(warnings.some((w) => /same label on more than one input: a/.test(w)));
  assert.throws(
    () => merge([a, { ...record('c', [100], 0, 1000), scenario: 'connect' }]),
    (e: Error) =>
      e instanceof UsageError &&
      /cannot merge a pingpong run \(a\) with a connect run \(c\)/.test(e.message),
  );
});

test('records: what is not one of ours is refused with a reason', () => {
  const good = JSON.parse(JSON.stringify(record('a', [100, 200], 0, 1000)));
  assert.is(typeof asRecord(good), 'object');
  const refused: [unknown, RegExp][] = [
    [[1, 2], /^not a JSON object$/],
    ['text', /^not a JSON object$/],
    [
      { name: 'elb-proxy-echo', version: '0.1.0' },
      /^not an elb-proxy-echo bench result \(no "format"/,
    ],
    [{ format: 'k6-summary' }, /^not an elb-proxy-echo bench result \(format "k6-summary"\)/],
    [
      { scenario: 'pingpong', latencyMs: {}, linesPerSecond: 1 },
      /^an older bench format \(no format version/,
    ],
    [{ ...good, formatVersion: 0 }, /^an older bench format \(0;/],
    [{ ...good, formatVersion: 2 }, /^a newer bench format \(2;/],
    [
      { ...good, latencyHistogram: { buckets: [99_999, 1], max: 1 } },
      /^a damaged result: "latencyHistogram"/,
    ],
    [{ ...good, window: { start: 1 } }, /^a damaged result: "window"/],
    [{ ...good, windowCounts: { up: 1 } }, /^a damaged result: "windowCounts"/],
    [{ ...good, label: 7 }, /^a damaged result: "label" is not text/],
    [{ ...good, backends: {} }, /^a damaged result: "backends" is not a list of backends/],
    [{ ...good, backends: [{ backend: 'web-1' }] }, /^a damaged result: "backends"/],
  ];
  for (const [value, reason] of refused) {
    const got = asRecord(value);
    assert.type(got, 'string', JSON.stringify(value).slice(0, 80));
    assert.match(got as string, reason);
  }
});

test('records written before backends were counted merge as runs without greetings', () => {
  const withBackends = JSON.parse(JSON.stringify(record('new', [100, 200], 0, 1000)));
  const latency = new Histogram();
  latency.record(300);
  withBackends.backends = [
    {
      backend: 'web-1',
      connections: 10,
      sawGenerator: 10,
      mismatched: 0,
      mismatches: [],
      clients: ['192.0.2.1:1024'],
      latencyHistogram: latency.toData(),
    },
  ];
  const old = JSON.parse(JSON.stringify(record('old', [100, 200], 0, 1000)));
  delete old.backends;
  const read = [withBackends, old].map((value) => asRecord(value) as BenchRecord);
  assert.equal(read[1].backends, []);
  const merged = merge(read).result;
  assert.equal(
    merged.backends.map((b) => [b.backend, b.connections, b.sawGenerator]),
    [['web-1', 10, 10]],
  );
});

test('JSON streams: one value, several back to back or on lines, braces inside strings; garbage named', () => {
  assert.equal(jsonValues('{"a":1}'), { values: [{ a: 1 }] });
  assert.equal(jsonValues('{"a":"}{"}{"b":[1,{"c":2}]}\n\n{"d":"\\"}"}\n'), {
    values: [{ a: '}{' }, { b: [1, { c: 2 }] }, { d: '"}' }],
  });
  assert.match((jsonValues('hello') as { error: string }).error, /^not JSON \(/);
  assert.match((jsonValues('{"a":1}\n{"b":') as { error: string }).error, /^value 2: not JSON/);
  assert.match((jsonValues('  \n') as { error: string }).error, /^empty/);
});

test('--start-at: RFC 3339 with an offset or epoch seconds; anything else refused', () => {
  assert.is(startTime('2026-11-30T08:00:00Z'), Date.UTC(2026, 10, 30, 8, 0, 0));
  assert.is(startTime('2026-11-30T09:00:00.250+01:00'), Date.UTC(2026, 10, 30, 8, 0, 0, 250));
  assert.is(startTime('1796025600'), 1_796_025_600_000);
  assert.is(startTime('1796025600.5'), 1_796_025_600_500);
  for (const bad of [
    '2026-11-30T08:00:00',
    '2026-11-30',
    'tomorrow',
    '08:00',
    '-5',
    '17960256000000',
  ])
    assert.throws(() => startTime(bad), /is not a time: RFC 3339/, bad);
});

test('--start-at: a time in the future or just past is taken; past by more than the warm-up is refused', () => {
  const now = Date.UTC(2026, 10, 30, 8, 0, 0);
  assert.match(
    startAtSetup(now + 30_000, 10_000, now)[0],
    /^window from 2026-11-30T08:00:30\.000Z \(in 30\.0 s\)$/,
  );
  assert.match(
    startAtSetup(now - 4_000, 10_000, now)[0],
    /\(4\.0 s ago: measuring as soon as the clients are up\)/,
  );
  assert.throws(
    () => startAtSetup(now - 12_000, 10_000, now),
    /--start-at 2026-11-30T07:59:48\.000Z passed 12\.0 s ago, more than --warm-up 10s/,
  );
});

test("clock: chronyc's offset is reported with its direction; no offset line, no claim", () => {
  const tracking = (system: string, leap = 'Normal') =>
    `Reference ID    : A9FEA97B (169.254.169.123)\nStratum         : 4\nSystem time     : ${system} of NTP time\nLast offset     : -0.000000500 seconds\nLeap status     : ${leap}\n`;
  assert.is(
    fromChronyTracking(tracking('0.000012345 seconds slow')),
    'local clock 0.012 ms slow of NTP time (chronyc tracking)',
  );
  assert.is(
    fromChronyTracking(tracking('1.500000000 seconds fast', 'Not synchronised')),
    'local clock 1500 ms fast of NTP time (chronyc tracking) (chrony: not synchronised)',
  );
  assert.is(fromChronyTracking('506 Cannot talk to daemon\n'), null);
});

test.run();
