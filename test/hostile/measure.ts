// What an attack cost the server, measured from outside: RSS (peak during, and after) from
// /proc, a control client's echo round trips while it ran, descriptors back to their start, and
// the log lines it caused (by level and message, per attacking connection, the longest).
import { ControlClient, logLines, openFds, rssKiB, sleep } from '../helpers/resilience.ts';
import type { Target } from './target.ts';

/** What the attack itself reports. */
export interface Facts {
  /** Attacking connections opened. */
  readonly connections: number;
  /** One line for the figures: what was sent and what came back. */
  readonly detail: string;
  /** Bytes the kernel took from one attacking client before it was held back, at most. */
  readonly queuedBytes?: number;
  /** The longest an attacking connection lived until the server closed it, ms. */
  readonly closedAfterMs?: number;
  /** What the server did that it must not (an attack's own expectations). */
  readonly problems: readonly string[];
}

export interface Measured {
  readonly facts: Facts;
  readonly rss: { readonly startKiB: number; readonly peakKiB: number; readonly afterKiB: number };
  readonly control: {
    readonly ok: number;
    readonly failed: number;
    readonly problems: readonly string[];
    readonly medianMs: number;
    readonly worstMs: number;
  };
  readonly fds: { readonly start: number; readonly after: number };
  readonly logs: {
    readonly total: number;
    /** Lines by `level msg`. */
    readonly byKind: Readonly<Record<string, number>>;
    /** The most info lines any one attacking connection caused. */
    readonly infoPerConnection: number;
    /** The longest line the server wrote during the case, bytes. */
    readonly longestBytes: number;
  };
  /** The server is still running. */
  readonly alive: boolean;
  /** The suite killed it: its RSS grew past the safety limit. */
  readonly killed: boolean;
}

/** RSS growth at which the suite kills the server (far past every bound). */
export const SAFETY_KiB = 768 * 1024;

/** The well-behaved clients (control, classicElbSession): their lines are not the attack's. */
const WELL_BEHAVED = /^(198\.51\.100\.7|54\.222\.152\.163):/;

/** Runs `attack` against `target` while measuring; settles for up to `settleMs` after. */
export async function measure(
  target: Target,
  attack: () => Promise<Facts>,
  settleMs = 3000,
): Promise<Measured> {
  const logStart = target.proc.output().length;
  const rssStart = rssKiB(target.pid);
  const fdsStart = openFds(target.pid);
  let peak = rssStart;
  let killed = false;
  const sampler = setInterval(() => {
    if (killed || target.proc.child.exitCode !== null) return;
    peak = Math.max(peak, rssKiB(target.pid));
    // The machine is shared: a server past any bound is stopped before it takes it all.
    if (peak > rssStart + SAFETY_KiB) {
      killed = true;
      target.proc.child.kill('SIGKILL');
    }
  }, 50);
  const control = new ControlClient(target.port, 20, target.greets);
  let facts: Facts;
  try {
    facts = await attack();
    await sleep(300); // the control client keeps checking a little after the attack
  } finally {
    clearInterval(sampler);
  }
  const stats = await control.stop();
  const alive = target.proc.child.exitCode === null && target.proc.child.signalCode === null;
  const deadline = Date.now() + settleMs;
  while (alive && openFds(target.pid) > fdsStart && Date.now() < deadline) await sleep(50);
  const after = alive ? rssKiB(target.pid) : peak;
  const times = [...stats.roundTripsMs].sort((a, b) => a - b);
  return {
    facts,
    rss: { startKiB: rssStart, peakKiB: Math.max(peak, after), afterKiB: after },
    control: {
      ok: stats.ok,
      failed: stats.failed,
      problems: stats.problems,
      medianMs: times.length === 0 ? Number.NaN : times[times.length >> 1],
      worstMs: times.length === 0 ? Number.NaN : times[times.length - 1],
    },
    fds: { start: fdsStart, after: alive ? openFds(target.pid) : -1 },
    logs: logsOf(target.proc.output().slice(logStart)),
    alive,
    killed,
  };
}

function logsOf(output: string): Measured['logs'] {
  const byKind: Record<string, number> = {};
  const infoByConnection = new Map<string, number>();
  let total = 0;
  for (const line of logLines(output)) {
    total++;
    const kind = `${line.level} ${line.msg}`;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    // A connection is its real client (after a header) or its peer (before one).
    const who = line.client ?? line.peer;
    if (line.level !== 'info' || typeof who !== 'string' || WELL_BEHAVED.test(who)) continue;
    infoByConnection.set(who, (infoByConnection.get(who) ?? 0) + 1);
  }
  let longestBytes = 0;
  for (const text of output.split('\n'))
    longestBytes = Math.max(longestBytes, Buffer.byteLength(text));
  return {
    total,
    byKind,
    infoPerConnection: Math.max(0, ...infoByConnection.values()),
    longestBytes,
  };
}

const mb = (kib: number) => (kib / 1024).toFixed(1);

/** One line of figures, as the suite prints them after each case. */
export function figures(m: Measured): string {
  const kinds = Object.entries(m.logs.byKind)
    .sort(([, a], [, b]) => b - a)
    .slice(0, 4)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
  const queued =
    m.facts.queuedBytes === undefined ? '' : `; queued ≤ ${mb(m.facts.queuedBytes / 1024)} MB/conn`;
  const closed =
    m.facts.closedAfterMs === undefined ? '' : `; closed ≤ ${m.facts.closedAfterMs} ms`;
  return (
    `${m.facts.detail}${queued}${closed}; RSS ${mb(m.rss.startKiB)} → peak ${mb(m.rss.peakKiB)} → ${mb(m.rss.afterKiB)} MB; ` +
    `control ${m.control.ok} ok/${m.control.failed} failed, echo median ${m.control.medianMs.toFixed(1)} ms, worst ${m.control.worstMs.toFixed(0)} ms; ` +
    `fds ${m.fds.start} → ${m.fds.after}; log ${m.logs.total} lines (${kinds}), ≤ ${m.logs.infoPerConnection} info/conn, longest ${m.logs.longestBytes} B`
  );
}
