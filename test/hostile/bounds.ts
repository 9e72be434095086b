// The bounds a surface must keep under an attack, and the check of a measurement against them.
import { type Measured, SAFETY_KiB } from './measure.ts';

export interface Bound {
  /** RSS above its start, at the peak during the attack and after it, MiB. */
  readonly rssGrowthMiB: number;
  /** The control client's echo round trip while the attack ran: median and worst, ms. */
  readonly controlMedianMs: number;
  readonly controlWorstMs: number;
  /** Info log lines one attacking connection may cause. */
  readonly infoLinesPerConnection: number;
  /** No log line longer than this, bytes. */
  readonly logLineBytes: number;
  /** Bytes one client may make the server take before it is held back (kernel buffers included). */
  readonly queuedBytes?: number;
  /** Every attacking connection closed by the server within this, ms. */
  readonly closedWithinMs?: number;
  /** What every attacking client must have been told (checked by the attacks that read). */
  readonly reply?: RegExp;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** What every surface keeps whatever the attack; a case tightens or loosens what it must. */
export const DEFAULT_BOUND: Bound = {
  rssGrowthMiB: 64,
  controlMedianMs: 20,
  controlWorstMs: 1000,
  infoLinesPerConnection: 20,
  logLineBytes: 8 * KiB,
};

/** The bound's breaches in `m`, one sentence each (none: kept). */
export function breaches(m: Measured, bound: Bound): string[] {
  const out: string[] = [];
  const over = (what: string, value: number, limit: number | undefined, unit: string) => {
    if (limit !== undefined && !(value <= limit))
      out.push(`${what} ${round(value)} ${unit} > ${limit} ${unit}`);
  };
  if (m.killed) out.push(`the server was killed: its RSS grew by ${SAFETY_KiB / KiB} MiB`);
  else if (!m.alive) out.push('the server exited');
  over('RSS growth at the peak', (m.rss.peakKiB - m.rss.startKiB) / KiB, bound.rssGrowthMiB, 'MiB');
  over('RSS growth after', (m.rss.afterKiB - m.rss.startKiB) / KiB, bound.rssGrowthMiB, 'MiB');
  if (m.control.failed > 0)
    out.push(`the control client failed ${m.control.failed}×: ${m.control.problems.join('; ')}`);
  if (m.control.ok < 3) out.push(`the control client was served only ${m.control.ok}×`);
  over('control echo median', m.control.medianMs, bound.controlMedianMs, 'ms');
  over('control echo worst', m.control.worstMs, bound.controlWorstMs, 'ms');
  if (m.alive && m.fds.after > m.fds.start)
    out.push(`descriptors ${m.fds.after}, not back to ${m.fds.start}`);
  over('info lines per connection', m.logs.infoPerConnection, bound.infoLinesPerConnection, '');
  over('longest log line', m.logs.longestBytes, bound.logLineBytes, 'B');
  over(
    'bytes queued per connection',
    (m.facts.queuedBytes ?? 0) / MiB,
    mib(bound.queuedBytes),
    'MiB',
  );
  over('closed after', m.facts.closedAfterMs ?? 0, bound.closedWithinMs, 'ms');
  return [...out, ...m.facts.problems];
}

function mib(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : bytes / MiB;
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
