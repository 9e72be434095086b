// Turning results into what people read: one run as a table of figures, several runs as a
// comparison table, and the number formats both use.
import { backendParts, clientCheckText, UNNAMED, type BackendResult } from './backends.ts';
import type { RunResult } from './result.ts';

/** 12345.6 → "12,346"; small values keep a decimal or two. */
export function num(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function kib(bytes: number): string {
  return `${num(bytes / 1024)} KiB`;
}

function mib(bytes: number): string {
  return `${num(bytes / 1024 / 1024)} MiB`;
}

export function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** Columns padded to their widest cell; the `left` ones (the first by default) left-aligned, the others right-aligned. */
export function table(rows: readonly (readonly string[])[], left: readonly number[] = [0]): string {
  const widths: number[] = [];
  for (const row of rows)
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  return rows
    .map((row) =>
      row
        .map((cell, i) => (left.includes(i) ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function errorsText(errors: Readonly<Record<string, number>>): string {
  const kinds = Object.entries(errors);
  return kinds.length === 0 ? 'none' : kinds.map(([kind, n]) => `${kind} ${n}`).join(', ');
}

/** The headline figure of a scenario: what a comparison ranks by. */
export function headline(r: RunResult): { label: string; value: number; higherIsBetter: boolean } {
  if (r.scenario === 'connect')
    return { label: 'connections/s', value: r.connectionsPerSecond, higherIsBetter: true };
  if (r.scenario === 'hold')
    return {
      label: 'KiB per connection',
      value: r.memory === null ? NaN : r.memory.perConnectionBytes / 1024,
      higherIsBetter: false,
    };
  return { label: 'lines/s', value: r.linesPerSecond, higherIsBetter: true };
}

type Row = [string, string];

/**
 * One run, as labelled lines: what ran, how fast, what it cost, what was checked; then, when
 * the target greeted, a table of the backends that served the connections.
 */
export function formatRun(r: RunResult, setup: readonly string[]): string {
  const lines = labelled([...whatRan(r, setup), ...rates(r), ...costs(r), ...checks(r)]);
  return r.backends.length === 0 ? lines : `${lines}\n\n${formatBackends(r.backends)}`;
}

/** A row per backend: its connections and share of them, its echo latency, the clients it named. */
export function formatBackends(backends: readonly BackendResult[]): string {
  const shares = sharesOf(backends.map((b) => b.connections));
  const parts = backends.map((b) => backendParts(b.backend));
  const detail = parts.some((p) => p.detail !== '');
  const rows = [
    [
      'backend',
      ...(detail ? ['detail'] : []),
      'connections',
      'share',
      'p50 ms',
      'p99 ms',
      'clients named',
    ],
  ];
  for (const [i, b] of backends.entries())
    rows.push([
      b.backend === UNNAMED ? '(no greeting)' : parts[i].host,
      ...(detail ? [parts[i].detail] : []),
      String(b.connections),
      shares[i],
      num(b.latencyMs.p50),
      num(b.latencyMs.p99),
      namedClients(b),
    ]);
  // Text columns (backend, detail, clients) read from the left; figures line up on the right.
  return table(rows, detail ? [0, 1, 6] : [0, 5]);
}

/**
 * Each count's share of the total in percent with one decimal, rounded so that the shares add up
 * to exactly 100.0 (largest remainders first), as a reader adding up the column expects.
 */
export function sharesOf(counts: readonly number[]): string[] {
  const total = counts.reduce((n, c) => n + c, 0);
  if (total === 0) return counts.map(() => '-');
  const exact = counts.map((c) => (c * 1000) / total); // tenths of a percent
  const tenths = exact.map(Math.floor);
  let left = 1000 - tenths.reduce((n, t) => n + t, 0);
  const byRemainder = counts
    .map((_, i) => i)
    .sort((a, b) => exact[b] - tenths[b] - (exact[a] - tenths[a]));
  for (const i of byRemainder) {
    if (left === 0) break;
    tenths[i]++;
    left--;
  }
  return tenths.map((t) => `${(t / 10).toFixed(1)}%`);
}

/** The first clients a backend named, after how many connections named someone else. */
function namedClients(b: BackendResult): string {
  if (b.backend === UNNAMED) return '-';
  const wrong = b.mismatched === 0 ? '' : `${b.mismatched} WRONG; `;
  return `${wrong}${b.clients.join(' ')}`;
}

/** Label and value per line, the values lined up after the widest label. */
function labelled(rows: readonly Row[]): string {
  const width = Math.max(...rows.map((row) => row[0].length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

function whatRan(r: RunResult, setup: readonly string[]): Row[] {
  const headers = r.header === 'none' ? 'no PROXY header' : `PROXY ${r.header} headers`;
  return [
    ['scenario', `${r.scenario}: ${r.clients} clients, ${headers}, ${r.lineBytes}-byte lines`],
    ['server', r.server],
    ...setup.map((line): Row => ['', line]),
    [
      'measured',
      r.scenario === 'connect'
        ? `${r.seconds.toFixed(1)} s, ${r.up} of the ${r.clients} churning clients connected at the end`
        : `${r.seconds.toFixed(1)} s, ${r.up} of ${r.clients} clients up at the end`,
    ],
  ];
}

function rates(r: RunResult): Row[] {
  const rows: Row[] = [];
  if (r.scenario === 'connect') rows.push(['connections/s', num(r.connectionsPerSecond)]);
  rows.push(['lines/s', `${num(r.linesPerSecond)} (${num(r.megabytesPerSecond)} MB/s echoed)`]);
  const l = r.latencyMs;
  rows.push([
    r.scenario === 'connect' ? 'connect→echo ms' : 'latency ms',
    `p50 ${num(l.p50)}  p90 ${num(l.p90)}  p99 ${num(l.p99)}  max ${num(l.max)}  (${l.samples} samples)`,
  ]);
  const c = r.windowCounts;
  if (c.handshakes > 0) {
    // The handshake's part of the time from the TCP connect to the first echo.
    const share = c.firstEchoMicros > 0 ? c.handshakeMicros / c.firstEchoMicros : 0;
    const mean = c.handshakeMicros / c.handshakes / 1000;
    rows.push([
      'TLS handshakes/s',
      `${num(c.handshakes / r.seconds)} (mean ${num(mean)} ms, ${Math.round(share * 100)}% of connect→first echo)`,
    ]);
  }
  return rows;
}

/** Server memory and CPU (when measurable) and the generator's own CPU. */
function costs(r: RunResult): Row[] {
  const rows: Row[] = [];
  if (r.memory !== null) {
    const m = r.memory;
    rows.push([
      'server memory',
      `${kib(m.perConnectionBytes)} per connection (RSS ${mib(m.beforeBytes)} with no client, ${mib(m.halfBytes)} with ${m.halfClients}, ${mib(m.afterBytes)} with ${r.up})`,
    ]);
  }
  if (r.serverBusy !== null) {
    const unit = r.scenario === 'connect' ? 'connection' : 'line';
    const cost =
      r.serverCpuMicrosPerUnit === null ? '' : `, ${num(r.serverCpuMicrosPerUnit)} µs per ${unit}`;
    rows.push(['server CPU', `${percent(r.serverBusy)} of one core${cost}`]);
  }
  rows.push([
    'generator CPU',
    `${r.generatorBusy.map(percent).join(', ')} of one core (${r.procs === 0 ? 'inside this process' : `${r.procs} process${r.procs === 1 ? '' : 'es'}`})`,
  ]);
  return rows;
}

/** What the clients verified, the errors, and the run's notes. */
function checks(r: RunResult): Row[] {
  const t = r.totals;
  const rows: Row[] = [];
  if (r.scenario === 'hold')
    rows.push([
      'held',
      `${r.up} of ${r.clients} clients up at the end; ${t.answered} connections had their first line answered`,
    ]);
  rows.push([
    'checked',
    `${t.linesSent} lines sent, ${t.echoesVerified} echoes verified byte for byte, ${t.completed} connections closed after q`,
  ]);
  rows.push(['errors', errorsText(r.errors)]);
  if (r.backends.length > 0) {
    rows.push(['client check', clientCheckText(r.backends)]);
    for (const b of r.backends)
      for (const m of b.mismatches)
        rows.push([
          'mismatch',
          `${backendParts(b.backend).host} named ${m.reported}, expected ${m.expected}`,
        ]);
  }
  for (const note of r.notes) rows.push(['note', note]);
  return rows;
}

/** One row per generator of a merged run: its share, its window, its own rate and latency. */
export function formatGenerators(records: readonly (RunResult & { label: string })[]): string {
  const connect = records[0]?.scenario === 'connect';
  const rows = [
    [
      'generator',
      'clients',
      'window (UTC)',
      connect ? 'conn/s' : 'lines/s',
      'p50 ms',
      'p99 ms',
      'gen CPU',
      'errors',
    ],
  ];
  for (const r of records)
    rows.push([
      r.label,
      String(r.clients),
      `${utc(r.window.start)}–${utc(r.window.end)}`,
      num(connect ? r.connectionsPerSecond : r.linesPerSecond),
      num(r.latencyMs.p50),
      num(r.latencyMs.p99),
      r.generatorBusy.map(percent).join(' '),
      errorsText(r.errors),
    ]);
  return table(rows);
}

/** `08:00:01.2` (UTC) for epoch milliseconds. */
export function utc(ms: number): string {
  return new Date(ms).toISOString().slice(11, 21);
}
