// The comparison's verdict: one row per server (medians over rounds with their spread), the
// generators side by side, and the goals as met / NOT met. Pure: measurements in, text out.
import { errorsText, kib, num, percent, table } from '../src/loadgen/for-benchmarks.ts';
import type { IdleResult } from './idle.ts';
import type { LoadResult } from './load.ts';

export type Kind = 'c-echo' | 'ours' | 'node';

export interface Contender {
  readonly name: string;
  readonly argv: readonly string[];
  readonly kind: Kind;
  readonly engine: 'uv' | 'net' | null;
  readonly logLevel: 'info' | 'warn' | null;
  /** False for a row the server cannot run (an engine it does not have): shown as n/a. */
  readonly available: boolean;
}

export interface Measured {
  readonly contender: Contender;
  readonly pingpong: readonly LoadResult[];
  readonly connect: readonly LoadResult[];
  readonly idle: IdleResult | null;
}

/** Lines/s per round of the C generator and of the product's generator, both on the C echo. */
export interface GeneratorRounds {
  readonly c: readonly number[];
  readonly product: readonly number[];
  readonly productBusy: readonly number[];
}

export interface Row {
  readonly server: string;
  readonly available: boolean;
  readonly linesPerSecond: number | null;
  readonly cpuPerLine: number | null;
  readonly connectionsPerSecond: number | null;
  readonly cpuPerConnection: number | null;
  readonly bytesPerConnection: number | null;
  readonly trickleP50Ms: number | null;
  readonly trickleP99Ms: number | null;
  readonly generatorBusy: number | null;
  readonly errors: string;
  readonly wrongEchoes: number;
}

export function median(values: readonly number[]): number | null {
  const sorted = values.filter(Number.isFinite).toSorted((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** "median (min–max)" over rounds, or the one value. */
export function spread(values: readonly (number | null)[], show: (v: number) => string = num) {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const mid = median(known);
  if (mid === null) return '-';
  if (known.length === 1) return show(mid);
  return `${show(mid)} (${show(Math.min(...known))}–${show(Math.max(...known))})`;
}

function errorsOf(m: Measured): Record<string, number> {
  const errors: Record<string, number> = {};
  const reports = [...m.pingpong, ...m.connect, ...(m.idle?.reports ?? [])];
  for (const r of reports)
    for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n;
  return errors;
}

export function rowOf(m: Measured): Row {
  const pick = (list: readonly LoadResult[], f: (r: LoadResult) => number | null) =>
    median(list.map(f).filter((v): v is number => v !== null));
  const errors = errorsOf(m);
  return {
    server: m.contender.name,
    available: m.contender.available,
    linesPerSecond: pick(m.pingpong, (r) => r.linesPerSecond),
    cpuPerLine: pick(m.pingpong, (r) => r.serverMicrosPerUnit),
    connectionsPerSecond: pick(m.connect, (r) => r.connectionsPerSecond),
    cpuPerConnection: pick(m.connect, (r) => r.serverMicrosPerUnit),
    bytesPerConnection: m.idle?.perConnectionBytes ?? null,
    trickleP50Ms: pick(m.pingpong, (r) => r.trickle.p50Us / 1000),
    trickleP99Ms: pick(m.pingpong, (r) => r.trickle.p99Us / 1000),
    generatorBusy:
      m.pingpong.length + m.connect.length === 0
        ? null
        : Math.max(...[...m.pingpong, ...m.connect].map((r) => r.generatorBusy)),
    errors: errorsText(errors),
    wrongEchoes: errors['wrong-echo'] ?? 0,
  };
}

const HEAD = [
  'server',
  'pingpong lines/s',
  'µs/line',
  'conn/s',
  'µs/conn',
  'idle mem/conn',
  'trickle p50/p99 ms',
  'gen busy',
  'errors',
];

function figures(m: Measured): string[] {
  if (!m.contender.available) return [m.contender.name, ...HEAD.slice(1).map(() => 'n/a')];
  const r = rowOf(m);
  const trickle = (list: readonly LoadResult[]) =>
    `${spread(list.map((x) => x.trickle.p50Us / 1000))} / ${spread(list.map((x) => x.trickle.p99Us / 1000))}`;
  return [
    r.server,
    spread(m.pingpong.map((x) => x.linesPerSecond)),
    spread(m.pingpong.map((x) => x.serverMicrosPerUnit)),
    spread(m.connect.map((x) => x.connectionsPerSecond)),
    spread(m.connect.map((x) => x.serverMicrosPerUnit)),
    r.bytesPerConnection === null ? '-' : kib(r.bytesPerConnection),
    trickle(m.pingpong),
    r.generatorBusy === null ? '-' : percent(r.generatorBusy),
    r.errors,
  ];
}

export interface Goal {
  readonly text: string;
  /** null: not measurable in this run (a missing row or figure). */
  readonly met: boolean | null;
}

const ratio = (x: number | null, of: number | null) =>
  x === null || of === null || !(of > 0) ? null : x / of;

function goal(what: string, value: number | null, met: (v: number) => boolean): Goal {
  if (value === null) return { text: `${what}: not measured`, met: null };
  const ok = met(value);
  return { text: `${what}: ${value.toFixed(2)}x, ${ok ? 'met' : 'NOT met'}`, met: ok };
}

/** The best of a column over the plain Node echoes (highest or lowest). */
function bestNode(rows: readonly Row[], pick: (r: Row) => number | null, highest: boolean) {
  const values = rows.map(pick).filter((v): v is number => v !== null);
  if (values.length === 0) return null;
  return highest ? Math.max(...values) : Math.min(...values);
}

/** The rows the goals compare: ours (uv at info, else the only engine at info), ours at warn, the C echo, the plain Node echoes. */
function references(measured: readonly Measured[]) {
  const of = (f: (c: Contender) => boolean) => {
    const m = measured.find((x) => x.contender.available && f(x.contender));
    return m === undefined ? null : rowOf(m);
  };
  const ours =
    of((c) => c.kind === 'ours' && c.engine === 'uv' && c.logLevel === 'info') ??
    of((c) => c.kind === 'ours' && c.logLevel === 'info');
  const engine = measured.find((m) => m.contender.name === ours?.server)?.contender.engine;
  return {
    ours,
    quiet: of((c) => c.kind === 'ours' && c.engine === engine && c.logLevel === 'warn'),
    cEcho: of((c) => c.kind === 'c-echo'),
    node: measured.filter((m) => m.contender.available && m.contender.kind === 'node').map(rowOf),
  };
}

function trickleGoal(who: string, p99: number | null): Goal {
  const what = `${who}: new client's first echo p99 < 100 ms under pingpong`;
  if (p99 === null) return { text: `${what}: not measured`, met: null };
  return { text: `${what}: ${num(p99)} ms, ${p99 < 100 ? 'met' : 'NOT met'}`, met: p99 < 100 };
}

const lineRate = (r: Row) => r.linesPerSecond;
const cpuPerConnection = (r: Row) => r.cpuPerConnection;
const memoryPerConnection = (r: Row) => r.bytesPerConnection;

export function goals(measured: readonly Measured[], generators: GeneratorRounds | null): Goal[] {
  const { ours, quiet, cEcho, node } = references(measured);
  const who = ours === null ? 'ours' : ours.server;
  /** A goal on one of our figures as a multiple of a reference figure. */
  const ourRatio = (
    what: string,
    pick: (r: Row) => number | null,
    reference: number | null,
    met: (v: number) => boolean,
  ) => goal(`${who}: ${what}`, ratio(ours === null ? null : pick(ours), reference), met);
  return [
    ourRatio(
      'pingpong lines/s >= 0.9x the C echo',
      lineRate,
      cEcho?.linesPerSecond ?? null,
      (v) => v >= 0.9,
    ),
    ourRatio(
      'pingpong lines/s >= 1.3x the fastest plain Node echo',
      lineRate,
      bestNode(node, lineRate, true),
      (v) => v >= 1.3,
    ),
    ourRatio(
      'server CPU per connection <= 0.8x the leanest plain Node echo',
      cpuPerConnection,
      bestNode(node, cpuPerConnection, false),
      (v) => v <= 0.8,
    ),
    ourRatio(
      'info logging adds <= 10% CPU per connection (info / warn)',
      cpuPerConnection,
      quiet?.cpuPerConnection ?? null,
      (v) => v <= 1.1,
    ),
    ourRatio(
      'idle memory per connection <= 0.6x the leanest plain Node echo',
      memoryPerConnection,
      bestNode(node, memoryPerConnection, false),
      (v) => v <= 0.6,
    ),
    generatorGoal(generators),
    trickleGoal(who, ours?.trickleP99Ms ?? null),
  ];
}

function generatorGoal(generators: GeneratorRounds | null): Goal {
  return goal(
    'product bench generator: lines/s >= 0.8x the C generator, on the C echo',
    generators === null ? null : ratio(median(generators.product), median(generators.c)),
    (v) => v >= 0.8,
  );
}

function generatorLines(generators: GeneratorRounds | null): string[] {
  if (generators === null) return ['generators: no C generator (no gcc), not compared'];
  return [
    `generators on the C echo, pingpong lines/s: C epoll-load ${spread(generators.c)}, ` +
      `product bench ${spread(generators.product)} (its CPU ${spread(generators.productBusy, percent)})`,
  ];
}

export function summary(
  measured: readonly Measured[],
  generators: GeneratorRounds | null,
): { text: string; rows: Row[]; goals: Goal[] } {
  const rows = measured.filter((m) => m.contender.available).map(rowOf);
  const list = goals(measured, generators);
  const busy = rows.filter((r) => (r.generatorBusy ?? 0) > 0.9).map((r) => r.server);
  const warnings =
    busy.length === 0
      ? []
      : [
          `generator over 90% busy against ${busy.join(', ')}: those figures may be the generator's limit`,
        ];
  const text = [
    table([HEAD, ...measured.map(figures)]),
    '',
    ...generatorLines(generators),
    ...warnings,
    '',
    ...list.map((g) => `goal: ${g.text}`),
  ].join('\n');
  return { text, rows, goals: list };
}
