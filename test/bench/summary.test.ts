// The comparison's verdict (bench/summary.ts): ratios against the best Node baseline of each
// column, and issue 4's goals called met or NOT met from the figures.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Contender, summary } from '../../bench/summary.ts';
import type { Scenario } from '../../src/bench/generator.ts';
import type { RunResult } from '../../src/bench/run.ts';

interface Figures {
  lines: number;
  cpuPerLine: number;
  churn: number;
  cpuPerConnection: number;
  bytesPerConnection: number;
}

function contender(name: string, kind: 'ours' | 'node' | 'ceiling', workers = 1): Contender {
  return { name, argv: [], workers, nodeBaseline: kind === 'node', ours: kind === 'ours' };
}

function result(server: string, scenario: Scenario, f: Figures): RunResult {
  const counters = {
    up: 10,
    connected: 10,
    answered: 10,
    linesSent: 100,
    echoesVerified: 100,
    bytesVerified: 1600,
    completed: 10,
    errors: {},
  };
  return {
    scenario,
    server,
    clients: 10,
    procs: 1,
    header: 'v2',
    lineBytes: 16,
    seconds: 1,
    up: 10,
    linesPerSecond: scenario === 'pingpong' ? f.lines : 0,
    megabytesPerSecond: 0,
    connectionsPerSecond: scenario === 'connect' ? f.churn : 0,
    latencyMs: { p50: 1, p90: 2, p99: 3, max: 4, samples: 100 },
    memory:
      scenario === 'hold'
        ? {
            beforeBytes: 0,
            halfBytes: 0,
            halfClients: 5,
            afterBytes: 0,
            perConnectionBytes: f.bytesPerConnection,
          }
        : null,
    serverBusy: 0.5,
    serverCpuMicrosPerUnit: scenario === 'connect' ? f.cpuPerConnection : f.cpuPerLine,
    generatorBusy: [0.5],
    totals: counters,
    errors: {},
    wrongEchoes: 0,
    notes: [],
    window: { start: 0, end: 1000 },
    windowCounts: counters,
    latencyHistogram: { buckets: [], max: 0 },
  };
}

function runs(list: [Contender, Figures][]) {
  return list.flatMap(([c, f]) =>
    (['hold', 'pingpong', 'connect'] as const).map((scenario) => ({
      contender: c,
      result: result(c.name, scenario, f),
    })),
  );
}

const raw: [Contender, Figures] = [
  contender('raw', 'node'),
  { lines: 100_000, cpuPerLine: 7, churn: 9000, cpuPerConnection: 50, bytesPerConnection: 8000 },
];
const naive: [Contender, Figures] = [
  contender('naive', 'node'),
  { lines: 80_000, cpuPerLine: 8, churn: 10_000, cpuPerConnection: 40, bytesPerConnection: 4000 },
];
const ceiling: [Contender, Figures] = [
  contender('C', 'ceiling'),
  { lines: 200_000, cpuPerLine: 5, churn: 20_000, cpuPerConnection: 30, bytesPerConnection: 500 },
];

test('goals met: each compared with the best Node baseline of its own column', () => {
  const ours: [Contender, Figures] = [
    contender('ours', 'ours'),
    {
      lines: 130_000,
      cpuPerLine: 5.5,
      churn: 10_000,
      cpuPerConnection: 40,
      bytesPerConnection: 3000,
    },
  ];
  const { goals, rows, text } = summary(runs([ours, raw, naive, ceiling]));
  assert.is(rows.length, 4);
  assert.is(
    goals[0],
    'goal: lines/s >= 1.2x the fastest Node baseline: 1.30x measured, met; per CPU-second 1.27x, met',
  );
  assert.is(
    goals[1],
    'goal: connections/s >= the fastest Node baseline: 1.00x measured, met; per CPU-second 1.00x, met',
  );
  assert.is(
    goals[2],
    'goal: memory per idle connection <= 0.8x the leanest Node baseline: 0.75x, met',
  );
  assert.match(
    text,
    /against C: lines\/s 0\.65x, connections\/s 0\.50x; our CPU per line is 1\.10x its/,
  );
});

test('goals missed are called NOT met, and the second worker is compared with the first', () => {
  const ours: [Contender, Figures] = [
    contender('ours', 'ours'),
    { lines: 110_000, cpuPerLine: 7, churn: 8000, cpuPerConnection: 45, bytesPerConnection: 3500 },
  ];
  const multi: [Contender, Figures] = [
    contender('ours x2', 'ours', 2),
    {
      lines: 165_000,
      cpuPerLine: 7,
      churn: 12_000,
      cpuPerConnection: 45,
      bytesPerConnection: 3500,
    },
  ];
  const { goals } = summary(runs([ours, multi, raw, naive]));
  assert.is(
    goals[0],
    'goal: lines/s >= 1.2x the fastest Node baseline: 1.10x measured, NOT met; per CPU-second 1.00x, NOT met',
  );
  assert.is(
    goals[1],
    'goal: connections/s >= the fastest Node baseline: 0.80x measured, NOT met; per CPU-second 0.89x, NOT met',
  );
  assert.is(
    goals[2],
    'goal: memory per idle connection <= 0.8x the leanest Node baseline: 0.88x, NOT met',
  );
  assert.match(
    goals[3],
    /^the second core \(--workers auto vs 1 worker\): lines\/s 1\.50x, connections\/s 1\.50x/,
  );
  assert.is(goals.length, 4, 'no ceiling line without a ceiling');
});

test.run();
