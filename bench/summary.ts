// The comparison's verdict: one row of figures per server, ratios against the best Node baseline
// of each column, and issue 4's goals as met / NOT met. Pure: results in, text and rows out.
import { errorsText, kib, num, percent, table } from '../src/bench/report.ts';
import type { Scenario } from '../src/bench/generator.ts';
import type { RunResult } from '../src/bench/run.ts';

export interface Contender {
  readonly name: string;
  readonly argv: readonly string[];
  readonly workers: number;
  /** A Node baseline: what issue 4's goals compare with. */
  readonly nodeBaseline: boolean;
  readonly ours: boolean;
}

export interface Row {
  readonly server: string;
  readonly linesPerSecond: number;
  readonly p99Ms: number;
  /** Server CPU per echoed line / per connection, µs (null when not measurable). */
  readonly cpuPerLine: number | null;
  /** Pingpong: server and generator CPU as shares of one core (is either the limit?). */
  readonly serverBusy: number | null;
  readonly generatorBusy: number;
  readonly connectionsPerSecond: number;
  readonly cpuPerConnection: number | null;
  readonly bytesPerConnection: number | null;
  readonly errors: string;
}

export function summary(results: readonly { contender: Contender; result: RunResult }[]): {
  text: string;
  rows: Row[];
  goals: string[];
} {
  const names = [...new Set(results.map((r) => r.contender.name))];
  const find = (name: string, scenario: Scenario) =>
    results.find((r) => r.contender.name === name && r.result.scenario === scenario)!.result;
  const rows: Row[] = names.map((name) => {
    const errors: Record<string, number> = {};
    for (const r of results.filter((x) => x.contender.name === name))
      for (const [k, n] of Object.entries(r.result.errors)) errors[k] = (errors[k] ?? 0) + n;
    return {
      server: name,
      linesPerSecond: find(name, 'pingpong').linesPerSecond,
      p99Ms: find(name, 'pingpong').latencyMs.p99,
      cpuPerLine: find(name, 'pingpong').serverCpuMicrosPerUnit,
      serverBusy: find(name, 'pingpong').serverBusy,
      generatorBusy: Math.max(...find(name, 'pingpong').generatorBusy),
      connectionsPerSecond: find(name, 'connect').connectionsPerSecond,
      cpuPerConnection: find(name, 'connect').serverCpuMicrosPerUnit,
      bytesPerConnection: find(name, 'hold').memory?.perConnectionBytes ?? null,
      errors: errorsText(errors),
    };
  });
  const baselineNames = new Set(
    results.filter((r) => r.contender.nodeBaseline).map((r) => r.contender.name),
  );
  const baselines = rows.filter((r) => baselineNames.has(r.server));
  const best = (pick: (r: Row) => number | null, higherIsBetter: boolean) => {
    const values = baselines.map(pick).filter((v): v is number => v !== null && Number.isFinite(v));
    return values.length === 0 ? NaN : higherIsBetter ? Math.max(...values) : Math.min(...values);
  };
  const bestLines = best((r) => r.linesPerSecond, true);
  const cheapestLine = best((r) => r.cpuPerLine, false);
  const bestChurn = best((r) => r.connectionsPerSecond, true);
  const cheapestConnection = best((r) => r.cpuPerConnection, false);
  const leanest = best((r) => r.bytesPerConnection, false);
  const ratio = (x: number | null, of: number) =>
    x !== null && Number.isFinite(x) && Number.isFinite(of) && of > 0
      ? `${(x / of).toFixed(2)}x`
      : '-';
  const cell = (x: number | null, show: (v: number) => string = num) =>
    x === null ? '-' : show(x);
  const figures = [
    [
      'server',
      'lines/s',
      'p99 ms',
      'µs/line',
      'busy srv/gen',
      'conn/s',
      'µs/conn',
      'mem/conn',
      'errors',
    ],
    ...rows.map((r) => [
      r.server,
      num(r.linesPerSecond),
      num(r.p99Ms),
      cell(r.cpuPerLine),
      `${cell(r.serverBusy, percent)}/${percent(r.generatorBusy)}`,
      num(r.connectionsPerSecond),
      cell(r.cpuPerConnection),
      cell(r.bytesPerConnection, kib),
      r.errors,
    ]),
  ];
  // Ratios against the best Node baseline of each column: above 1 is better than it for every
  // column (costs are inverted: baseline cost / our cost).
  const ratios = [
    [
      'vs best Node baseline',
      'lines/s',
      'lines per CPU-s',
      'conn/s',
      'conn per CPU-s',
      'memory/conn',
    ],
    ...rows
      .filter((r) => !baselineNames.has(r.server))
      .map((r) => [
        r.server,
        ratio(r.linesPerSecond, bestLines),
        r.cpuPerLine === null ? '-' : ratio(cheapestLine, r.cpuPerLine),
        ratio(r.connectionsPerSecond, bestChurn),
        r.cpuPerConnection === null ? '-' : ratio(cheapestConnection, r.cpuPerConnection),
        ratio(r.bytesPerConnection, leanest),
      ]),
  ];
  const rowOf = (pick: (c: Contender) => boolean) => {
    const contender = results.find((r) => pick(r.contender))?.contender;
    return contender === undefined ? undefined : rows.find((r) => r.server === contender.name);
  };
  const ours = rowOf((c) => c.ours && c.workers === 1)!;
  const multi = rowOf((c) => c.ours && c.workers > 1);
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  const goals = [
    `goal: lines/s >= 1.2x the fastest Node baseline: ${ratio(ours.linesPerSecond, bestLines)} measured, ${verdict(ours.linesPerSecond >= 1.2 * bestLines)}` +
      (ours.cpuPerLine === null
        ? ''
        : `; per CPU-second ${ratio(cheapestLine, ours.cpuPerLine)}, ${verdict(cheapestLine >= 1.2 * ours.cpuPerLine)}`),
    `goal: connections/s >= the fastest Node baseline: ${ratio(ours.connectionsPerSecond, bestChurn)} measured, ${verdict(ours.connectionsPerSecond >= bestChurn)}` +
      (ours.cpuPerConnection === null
        ? ''
        : `; per CPU-second ${ratio(cheapestConnection, ours.cpuPerConnection)}, ${verdict(cheapestConnection >= ours.cpuPerConnection)}`),
    `goal: memory per idle connection <= 0.8x the leanest Node baseline: ${ours.bytesPerConnection === null ? 'not measured' : `${ratio(ours.bytesPerConnection, leanest)}, ${verdict(ours.bytesPerConnection <= 0.8 * leanest)}`}`,
  ];
  if (multi !== undefined) {
    goals.push(
      `the second core (--workers auto vs 1 worker): lines/s ${ratio(multi.linesPerSecond, ours.linesPerSecond)}, connections/s ${ratio(multi.connectionsPerSecond, ours.connectionsPerSecond)} (its workers share both cores with the generator)`,
    );
  }
  const ceiling = rowOf((c) => !c.ours && !c.nodeBaseline);
  if (ceiling !== undefined) {
    goals.push(
      `against ${ceiling.server}: lines/s ${ratio(ours.linesPerSecond, ceiling.linesPerSecond)}, connections/s ${ratio(ours.connectionsPerSecond, ceiling.connectionsPerSecond)}; our CPU per line is ${ratio(ours.cpuPerLine, ceiling.cpuPerLine ?? NaN)} its`,
    );
  }
  return { text: [table(figures), '', table(ratios), '', ...goals].join('\n'), rows, goals };
}
