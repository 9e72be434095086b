// Several generators' records as one run: counts and rates add up, percentiles come from the
// sum of the latency histograms (averaging percentiles would be wrong), and what makes the sum
// doubtful (windows that do not overlap, other versions, mixed settings) becomes a warning.
import { UsageError } from '../options.ts';
import { sumBackends } from './backends.ts';
import { sumCounters } from './counters.ts';
import { Histogram } from './histogram.ts';
import type { BenchRecord } from './record.ts';
import { utc as clock } from './report.ts';
import { latencyOf } from './latency.ts';
import type { RunResult } from './result.ts';

export interface Merged {
  readonly result: RunResult;
  readonly generators: readonly BenchRecord[];
  /** Seconds all windows have in common; zero or less when they do not all overlap. */
  readonly overlapSeconds: number;
  readonly warnings: readonly string[];
}

export function merge(records: readonly BenchRecord[]): Merged {
  const first = records[0];
  const mixed = records.find((r) => r.scenario !== first.scenario);
  if (mixed !== undefined)
    throw new UsageError(
      `cannot merge a ${first.scenario} run (${first.label}) with a ${mixed.scenario} run (${mixed.label})`,
    );
  const overlap = windowOverlap(records);
  const warnings = [...overlap.warnings, ...differences(records)];
  return {
    result: sum(records, overlap.note, warnings),
    generators: records,
    overlapSeconds: overlap.seconds,
    warnings,
  };
}

function sum(
  records: readonly BenchRecord[],
  overlapNote: string,
  warnings: readonly string[],
): RunResult {
  const first = records[0];
  const latency = new Histogram();
  for (const r of records) latency.add(r.latencyHistogram);
  const totals = sumCounters(records.map((r) => r.totals));
  const start = Math.min(...records.map((r) => r.window.start));
  const end = Math.max(...records.map((r) => r.window.end));
  const servers = [...new Set(records.map((r) => r.server))];
  const add = (pick: (r: BenchRecord) => number) => records.reduce((n, r) => n + pick(r), 0);
  return {
    scenario: first.scenario,
    server: servers.length === 1 ? servers[0] : servers.join(', '),
    clients: add((r) => r.clients),
    // A run with its clients inside the bench process (--procs 0) is one generator process too.
    procs: add((r) => Math.max(1, r.procs)),
    header: first.header,
    lineBytes: first.lineBytes,
    seconds: (end - start) / 1000,
    up: add((r) => r.up),
    // Each generator's rate over its own window; over overlapping windows they add up.
    linesPerSecond: add((r) => r.linesPerSecond),
    megabytesPerSecond: add((r) => r.megabytesPerSecond),
    connectionsPerSecond: add((r) => r.connectionsPerSecond),
    latencyMs: latencyOf(latency),
    memory: null,
    serverBusy: null,
    serverCpuMicrosPerUnit: null,
    generatorBusy: records.flatMap((r) => r.generatorBusy),
    totals,
    errors: totals.errors,
    wrongEchoes: add((r) => r.wrongEchoes),
    notes: [
      overlapNote,
      ...warnings,
      ...records.flatMap((r) => r.notes.map((note) => `${r.label}: ${note}`)),
    ],
    window: { start, end },
    windowCounts: sumCounters(records.map((r) => r.windowCounts)),
    latencyHistogram: latency.toData(),
    backends: sumBackends(records.map((r) => r.backends)),
  };
}

/** How long every window has in common, said in a note, or warnings naming the ones apart. */
function windowOverlap(records: readonly BenchRecord[]): {
  seconds: number;
  note: string;
  warnings: string[];
} {
  const latest = records.reduce((a, b) => (b.window.start > a.window.start ? b : a));
  const earliest = records.reduce((a, b) => (b.window.end < a.window.end ? b : a));
  const seconds = (earliest.window.end - latest.window.start) / 1000;
  const span = `${clock(Math.min(...records.map((r) => r.window.start)))} to ${clock(Math.max(...records.map((r) => r.window.end)))} UTC`;
  if (records.length === 1) return { seconds, note: `one window, ${span}`, warnings: [] };
  if (seconds > 0)
    return {
      seconds,
      note: `windows overlap: all ${records.length} measured together for ${seconds.toFixed(1)} s (${span})`,
      warnings: [],
    };
  return {
    seconds,
    note: `windows do not all overlap (${span})`,
    warnings: [
      `windows do not overlap: ${latest.label} started measuring at ${clock(latest.window.start)}, after ${earliest.label} had stopped at ${clock(earliest.window.end)}; the sums are not one load at one time`,
    ],
  };
}

/** Warnings for what should be the same across generators and is not. */
function differences(records: readonly BenchRecord[]): string[] {
  const warnings: string[] = [];
  const differ = (what: string, pick: (r: BenchRecord) => string) => {
    const seen = new Map<string, string[]>();
    for (const r of records) seen.set(pick(r), [...(seen.get(pick(r)) ?? []), r.label]);
    if (seen.size > 1)
      warnings.push(
        `${what} differ: ${[...seen].map(([value, labels]) => `${value} (${labels.join(', ')})`).join('; ')}`,
      );
  };
  differ('versions', (r) => r.version);
  differ('line sizes', (r) => `${r.lineBytes} bytes`);
  differ('headers', (r) => r.header);
  const labels = records.map((r) => r.label);
  const twice = labels.filter((label, i) => labels.indexOf(label) !== i);
  if (twice.length > 0)
    warnings.push(
      `the same label on more than one input: ${[...new Set(twice)].join(', ')} (--label)`,
    );
  return warnings;
}
