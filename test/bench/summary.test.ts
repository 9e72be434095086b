// The comparison's verdict (bench/summary.ts): medians and spread over rounds, n/a rows for an
// engine the server lacks, and each goal called met or NOT met from the figures.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LoadResult } from '../../bench/load.ts';
import {
  type Contender,
  type Kind,
  type Measured,
  median,
  spread,
  summary,
} from '../../bench/summary.ts';

interface Figures {
  lines: number[];
  cpuPerLine: number;
  cpuPerConnection: number;
  bytesPerConnection: number;
  trickleP99Ms?: number;
}

function contender(
  name: string,
  kind: Kind,
  logLevel: 'info' | 'warn' | null = null,
  available = true,
): Contender {
  return { name, argv: [], kind, engine: kind === 'ours' ? 'uv' : null, logLevel, available };
}

function load(scenario: 'pingpong' | 'connect', lines: number, f: Figures): LoadResult {
  return {
    scenario,
    clients: 10,
    up: 10,
    seconds: 1,
    lines: scenario === 'pingpong' ? lines : 0,
    linesPerSecond: scenario === 'pingpong' ? lines : 0,
    connections: 100,
    connectionsPerSecond: 100,
    latencyUs: { p50: 1, p90: 2, p99: 3, max: 4, samples: 10 },
    trickle: {
      p50Us: 500,
      p99Us: (f.trickleP99Ms ?? 5) * 1000,
      maxUs: 9000,
      answered: 5,
      timeouts: 0,
      pending: 0,
    },
    generatorBusy: 0.5,
    errors: {},
    wrongEchoes: 0,
    serverBusy: 1,
    serverMicrosPerUnit: scenario === 'pingpong' ? f.cpuPerLine : f.cpuPerConnection,
  };
}

function measured(c: Contender, f: Figures): Measured {
  if (!c.available) return { contender: c, pingpong: [], connect: [], idle: null };
  return {
    contender: c,
    pingpong: f.lines.map((n) => load('pingpong', n, f)),
    connect: f.lines.map(() => load('connect', 0, f)),
    idle: {
      held: 10,
      halfBytes: 0,
      allBytes: 0,
      perConnectionBytes: f.bytesPerConnection,
      reports: [],
    },
  };
}

const cEcho = measured(contender('C', 'c-echo'), {
  lines: [90_000, 100_000, 110_000],
  cpuPerLine: 5,
  cpuPerConnection: 30,
  bytesPerConnection: 600,
});
const raw = measured(contender('raw', 'node'), {
  lines: [60_000, 70_000, 80_000],
  cpuPerLine: 7,
  cpuPerConnection: 60,
  bytesPerConnection: 8000,
});
const naive = measured(contender('naive', 'node'), {
  lines: [50_000, 50_000, 50_000],
  cpuPerLine: 8,
  cpuPerConnection: 50,
  bytesPerConnection: 5000,
});
const generators = {
  c: [100_000, 90_000, 110_000],
  product: [85_000, 80_000, 90_000],
  productBusy: [1, 1, 1],
};

test('median and spread: the middle of the rounds, with the lowest and highest', () => {
  assert.is(median([3, 1, 2]), 2);
  assert.is(median([4, 1, 3, 2]), 2.5);
  assert.is(median([]), null);
  assert.is(spread([70_000, 60_000, 80_000]), '70,000 (60,000–80,000)');
  assert.is(spread([7]), '7.00');
  assert.is(spread([null]), '-');
});

test('goals met: against the C echo, the best plain Node echo of each column, and ours at warn', () => {
  const ours = measured(contender('ours uv', 'ours', 'info'), {
    lines: [95_000, 100_000, 105_000],
    cpuPerLine: 5.2,
    cpuPerConnection: 36,
    bytesPerConnection: 2500,
  });
  const quiet = measured(contender('ours uv warn', 'ours', 'warn'), {
    lines: [100_000],
    cpuPerLine: 5.2,
    cpuPerConnection: 34,
    bytesPerConnection: 2500,
  });
  const { goals, rows } = summary([cEcho, ours, quiet, raw, naive], generators);
  assert.is(rows.length, 5);
  assert.equal(
    goals.map((g) => g.text),
    [
      'ours uv: pingpong lines/s >= 0.9x the C echo: 1.00x, met',
      'ours uv: pingpong lines/s >= 1.3x the fastest plain Node echo: 1.43x, met',
      'ours uv: server CPU per connection <= 0.8x the leanest plain Node echo: 0.72x, met',
      'ours uv: info logging adds <= 10% CPU per connection (info / warn): 1.06x, met',
      'ours uv: idle memory per connection <= 0.6x the leanest plain Node echo: 0.50x, met',
      'product bench generator: lines/s >= 0.8x the C generator, on the C echo: 0.85x, met',
      "ours uv: new client's first echo p99 < 100 ms under pingpong: 5.00 ms, met",
    ],
  );
  assert.ok(goals.every((g) => g.met === true));
});

test('goals missed are NOT met; an engine the server lacks is an n/a row, not a zero', () => {
  const ours = measured(contender('ours', 'ours', 'info'), {
    lines: [60_000, 70_000, 90_000],
    cpuPerLine: 7,
    cpuPerConnection: 120,
    bytesPerConnection: 4000,
    trickleP99Ms: 2500,
  });
  const quiet = measured(contender('ours warn', 'ours', 'warn'), {
    lines: [70_000],
    cpuPerLine: 7,
    cpuPerConnection: 60,
    bytesPerConnection: 4000,
  });
  const missing = measured(contender('ours, net', 'ours', 'info', false), {} as Figures);
  const slow = { ...generators, product: [40_000, 45_000, 50_000] };
  const { goals, text } = summary([cEcho, ours, quiet, missing, raw, naive], slow);
  assert.equal(
    goals.map((g) => g.met),
    [false, false, false, false, false, false, false],
  );
  assert.is(goals[0].text, 'ours: pingpong lines/s >= 0.9x the C echo: 0.70x, NOT met');
  assert.is(
    goals[3].text,
    'ours: info logging adds <= 10% CPU per connection (info / warn): 2.00x, NOT met',
  );
  assert.match(text, /^ours, net +n\/a +n\/a/m);
  assert.match(text, /product bench 45,000 \(40,000–50,000\)/);
});

test('a goal whose figures are missing says so instead of guessing', () => {
  const ours = measured(contender('ours', 'ours', 'info'), {
    lines: [60_000],
    cpuPerLine: 7,
    cpuPerConnection: 50,
    bytesPerConnection: 4000,
  });
  const { goals } = summary([ours, raw], null);
  assert.is(goals[0].text, 'ours: pingpong lines/s >= 0.9x the C echo: not measured');
  assert.is(goals[0].met, null);
  assert.is(goals[3].met, null, 'no warn row: the cost of info logging is not measured');
  assert.is(goals[5].met, null);
});

test('a generator over 90% busy is flagged by server', () => {
  const busy = { ...raw, pingpong: raw.pingpong.map((r) => ({ ...r, generatorBusy: 0.95 })) };
  const { text } = summary([cEcho, busy], generators);
  assert.match(text, /generator over 90% busy against raw:/);
});

test.run();
