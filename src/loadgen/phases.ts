// A run's phases once its generators are started: the ramp until every client is up and has
// had an echo, the wait for --start-at, and the measured window.
import { errorCount, sumCounters } from './counters.ts';
import type { RunPlan } from './run-plan.ts';
import { type Gauge, watchRss } from './server-gauge.ts';
import { firstWave } from './shares.ts';
import type { GeneratorHandle } from './spread.ts';
import { sleep, waitFor } from './wait.ts';

/** How long connecting all clients may take, at most (50,000 clients ramp in well under this). */
const RAMP_LIMIT_MS = 60_000;

/** Server RSS with the first half of a staged (hold) run's clients, and how many were up. */
export interface HalfWay {
  readonly rss: number | null;
  readonly up: number;
}

/** What the measured window saw, besides the generators' own reports. */
export interface Measured {
  readonly start: number;
  readonly end: number;
  readonly seconds: number;
  readonly up: number;
  readonly serverBusy: number | null;
  readonly rssAfter: number | null;
}

/**
 * Waits until every client is connected and has had its first echo (or gave up). A staged run
 * brings up half the clients first and samples the server's memory with them (see RunResult).
 */
export async function ramp(
  plan: RunPlan,
  generators: readonly GeneratorHandle[],
  procs: number,
  staged: boolean,
  gauge: Gauge,
  notes: string[],
): Promise<HalfWay | null> {
  const sum = () => sumCounters(generators.map((g) => g.counters()));
  const rampLimit = Math.min(RAMP_LIMIT_MS, plan.timeoutMs + plan.clients);
  const everyoneOnce = (count: number) => () => {
    const c = sum();
    return c.answered + errorCount(c) >= count;
  };
  let half: HalfWay | null = null;
  if (staged) {
    await waitFor(everyoneOnce(firstWave(plan.clients, procs)), rampLimit);
    // Idle a while with lines flowing, so the heap's transient share has grown to its usual size
    // at both samples and only what the added connections keep shows in the difference.
    const peak = watchRss(gauge);
    await sleep(Math.max(plan.thinkMs * 1.5, 1000));
    half = { rss: peak(), up: sum().up };
    for (const g of generators) g.more();
  }
  if (!(await waitFor(everyoneOnce(plan.clients), rampLimit)))
    notes.push(
      `not every client was up and answered within the ramp limit: ${sum().up} of ${plan.clients} up`,
    );
  return half;
}

/** With --start-at, the clients keep running unmeasured until that moment (wall clock). */
export async function untilStartAt(plan: RunPlan, notes: string[]): Promise<void> {
  const startAt = plan.startAt ?? null;
  if (startAt === null) return;
  const wait = startAt - Date.now();
  if (wait > 0) await sleep(wait);
  else if (-wait >= plan.durationMs)
    notes.push(
      `nothing measured: the clients were up ${(-wait / 1000).toFixed(1)} s after --start-at, when the window had already closed`,
    );
  else
    notes.push(
      `the window opened ${(-wait / 1000).toFixed(1)} s after --start-at: the clients were still connecting`,
    );
}

/** The measured window: --duration long, or up to --start-at + --duration when one is given. */
export async function measureWindow(
  plan: RunPlan,
  generators: readonly GeneratorHandle[],
  gauge: Gauge,
): Promise<Measured> {
  const cpuBefore = gauge.cpuMicros();
  for (const g of generators) g.measure();
  const start = Date.now();
  const opened = performance.now();
  const peak = watchRss(gauge);
  const end = (plan.startAt ?? start) + plan.durationMs;
  await sleep(Math.max(0, end - start));
  const seconds = (performance.now() - opened) / 1000;
  const cpuAfter = gauge.cpuMicros();
  return {
    start,
    end: Date.now(),
    seconds,
    up: sumCounters(generators.map((g) => g.counters())).up,
    serverBusy:
      cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / 1e6 / seconds,
    rssAfter: peak(),
  };
}
