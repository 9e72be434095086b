// One benchmark run: a server (already started), generators spread over processes, the phases
// ramp → measure → stop, and one result with rates, latency, memory and errors.
import {
  childGenerator,
  inProcessGenerator,
  type GeneratorHandle,
  type SelfCommand,
  socketsPerProcess,
} from './spread.ts';
import { Histogram } from './histogram.ts';
import { errorCount, sumCounters, type Counters } from './counters.ts';
import type { GeneratorConfig, GeneratorReport, Scenario } from './generator.ts';
import type { HeaderKind } from './addresses.ts';
import type { ServerHandle } from './servers.ts';
import { latencyOf, type RunResult } from './result.ts';
import { sumBackends } from './backends.ts';

export interface RunPlan {
  readonly scenario: Scenario;
  readonly clients: number;
  readonly durationMs: number;
  readonly lineBytes: number;
  readonly thinkMs: number;
  readonly header: HeaderKind;
  readonly timeoutMs: number;
  /** TLS after the header (`--tls`); null or absent: clear. */
  readonly tls?: GeneratorConfig['tls'];
  /** The client address every backend should name (--expect-client); null or absent: see Generator.expectedClient. */
  readonly expectClient?: string | null;
  /** TCP keepalive idle time on the clients' connections, ms (--keepalive); 0 or absent: off. */
  readonly keepaliveMs?: number;
  /** Generator processes; 0 runs the clients on this process's event loop. */
  readonly procs: number;
  /** CPU list (taskset syntax) for the generator processes, or undefined for no pinning. */
  readonly generatorCpus: string | undefined;
  readonly self: SelfCommand;
  /** Epoch milliseconds the window opens at (--start-at), or null: at once after the ramp. */
  readonly startAt?: number | null;
  /** Writes the live progress line; undefined for none. */
  readonly progress: ((line: string, final: boolean) => void) | undefined;
}

const TICK_MS = 100;
/** How long connecting all clients may take, at most (50,000 clients ramp in well under this). */
const RAMP_LIMIT_MS = 60_000;
/** Connection attempts in flight per generator: keeps the server's accept backlog from overflowing. */
const MAX_CONNECTING = 200;

/** What the run reads of the server's resource use. */
type Gauge = Pick<ServerHandle, 'rss' | 'cpuMicros'>;
const UNMEASURED: Gauge = { rss: () => null, cpuMicros: () => null };

/** Server RSS with the first half of a staged (hold) run's clients, and how many were up. */
interface HalfWay {
  readonly rss: number | null;
  readonly up: number;
}

/** What the measured window saw, besides the generators' own reports. */
interface Measured {
  readonly start: number;
  readonly end: number;
  readonly seconds: number;
  readonly up: number;
  readonly serverBusy: number | null;
  readonly rssAfter: number | null;
}

/** Ramp → (wait for --start-at) → measure → stop: one run, summed over its generators. */
export async function runBench(plan: RunPlan, server: ServerHandle): Promise<RunResult> {
  const notes: string[] = [];
  const procs = generatorProcesses(plan, notes);
  const staged = plan.scenario === 'hold' && plan.clients >= 2;
  const gauge = gaugeFor(procs, server, notes);
  const rssBefore = staged ? await settledRss(gauge) : null;
  const generators = await startGenerators(plan, server, procs, staged);
  const progress = showProgress(plan, generators);
  try {
    const half = await ramp(plan, generators, procs, staged, gauge, notes);
    await untilStartAt(plan, notes);
    const measured = await measureWindow(plan, generators, gauge);
    const reports = await Promise.all(generators.map((g) => g.stop()));
    progress.show(true);
    return summarise(plan, server, procs, reports, {
      ...measured,
      notes,
      memory: memoryGrowth(rssBefore, half, measured),
    });
  } catch (error) {
    for (const g of generators) g.kill();
    throw error;
  } finally {
    progress.stop();
  }
}

/** Generator processes: as asked, or more when one process may not open every client socket. */
function generatorProcesses(plan: RunPlan, notes: string[]): number {
  if (plan.procs === 0) return 0;
  const perProcess = socketsPerProcess();
  const procs = Math.max(plan.procs, Math.ceil(plan.clients / perProcess));
  if (procs > plan.procs)
    notes.push(
      `${procs} generator processes: one process may open only ${perProcess} client sockets here`,
    );
  return procs;
}

/**
 * An in-process server with the clients on the same event loop: its CPU and memory are theirs
 * too, and cannot be told apart, so they are not reported rather than reported wrong.
 */
function gaugeFor(procs: number, server: ServerHandle, notes: string[]): Gauge {
  if (procs !== 0 || server.pid !== process.pid) return server;
  notes.push(
    'server and clients share this process (--procs 0): server CPU and memory are not measured',
  );
  return UNMEASURED;
}

/** The live progress line every second; `show(true)` writes the final one. */
function showProgress(
  plan: RunPlan,
  generators: readonly GeneratorHandle[],
): { show: (final: boolean) => void; stop: () => void } {
  const started = performance.now();
  let last = { at: 0, echoes: 0 };
  const show = (final: boolean) => {
    const c = sumCounters(generators.map((g) => g.counters()));
    const at = (performance.now() - started) / 1000;
    const rate = at > last.at ? (c.echoesVerified - last.echoes) / (at - last.at) : 0;
    last = { at, echoes: c.echoesVerified };
    plan.progress?.(progressLine(plan, at, c, rate), final);
  };
  const ticker = setInterval(() => show(false), 1000);
  return { show, stop: () => clearInterval(ticker) };
}

/**
 * Waits until every client is connected and has had its first echo (or gave up). A staged run
 * brings up half the clients first and samples the server's memory with them (see RunResult).
 */
async function ramp(
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
async function untilStartAt(plan: RunPlan, notes: string[]): Promise<void> {
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
async function measureWindow(
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

/** Hold: memory per connection from the growth between half and all of the clients. */
function memoryGrowth(
  before: number | null,
  half: HalfWay | null,
  measured: Measured,
): RunResult['memory'] {
  if (half === null || half.rss === null || before === null || measured.rssAfter === null)
    return null;
  if (measured.up <= half.up) return null;
  return {
    beforeBytes: before,
    halfBytes: half.rss,
    halfClients: half.up,
    afterBytes: measured.rssAfter,
    perConnectionBytes: (measured.rssAfter - half.rss) / (measured.up - half.up),
  };
}

/** Each generator's share of the clients: even, the first ones taking the remainder. */
function share(clients: number, procs: number, i: number): { first: number; count: number } {
  const first = Math.floor((clients * i) / procs);
  return { first, count: Math.floor((clients * (i + 1)) / procs) - first };
}

/** Clients in the first wave of a staged start: half of each generator's share. */
function firstWave(clients: number, procs: number): number {
  let total = 0;
  for (let i = 0; i < Math.max(procs, 1); i++)
    total += Math.floor(share(clients, Math.max(procs, 1), i).count / 2);
  return total;
}

/** Starts the generators; `staged`: each starts half its clients and the rest on `more()`. */
async function startGenerators(
  plan: RunPlan,
  server: ServerHandle,
  procs: number,
  staged: boolean,
): Promise<GeneratorHandle[]> {
  const config = (clients: number, firstClient: number): GeneratorConfig => ({
    scenario: plan.scenario,
    host: server.host,
    port: server.port,
    clients,
    firstClient,
    totalClients: plan.clients,
    header: plan.header,
    lineBytes: plan.lineBytes,
    thinkMs: plan.thinkMs,
    timeoutMs: plan.timeoutMs,
    maxConnecting: MAX_CONNECTING,
    tls: plan.tls ?? null,
    expectClient: plan.expectClient ?? null,
    keepaliveMs: plan.keepaliveMs ?? 0,
  });
  const initial = (count: number) => (staged ? Math.floor(count / 2) : count);
  if (procs === 0) return [inProcessGenerator(config(plan.clients, 0), initial(plan.clients))];
  const handles: GeneratorHandle[] = [];
  try {
    for (let i = 0; i < procs; i++) {
      const { first, count } = share(plan.clients, procs, i);
      handles.push(
        await childGenerator(plan.self, config(count, first), plan.generatorCpus, initial(count)),
      );
    }
  } catch (error) {
    for (const h of handles) h.kill();
    throw error;
  }
  return handles;
}

function summarise(
  plan: RunPlan,
  server: ServerHandle,
  procs: number,
  reports: readonly GeneratorReport[],
  window: Measured & { notes: string[]; memory: RunResult['memory'] },
): RunResult {
  const inWindow = sumCounters(reports.map((r) => r.window));
  const totals = sumCounters(reports.map((r) => r.totals));
  const latency = new Histogram();
  for (const r of reports) latency.add(r.latency);
  const seconds = window.seconds;
  const generatorBusy = reports.map((r) => r.cpuMicros / 1e3 / r.windowMs);
  const notes = [...window.notes];
  if (generatorBusy.some((b) => b > 0.9))
    notes.push(
      "a generator process was over 90% busy: the figures may be the generator's limit, not the server's",
    );
  return {
    scenario: plan.scenario,
    server: server.name,
    clients: plan.clients,
    procs,
    header: plan.header,
    lineBytes: plan.lineBytes,
    seconds,
    up: window.up,
    ...rates(inWindow, seconds),
    latencyMs: latencyOf(latency),
    memory: window.memory,
    serverBusy: window.serverBusy,
    serverCpuMicrosPerUnit: perUnit(
      window.serverBusy,
      seconds,
      plan.scenario === 'connect' ? inWindow.completed : inWindow.echoesVerified,
    ),
    generatorBusy,
    totals,
    errors: totals.errors,
    wrongEchoes: totals.errors['wrong-echo'] ?? 0,
    notes,
    window: { start: window.start, end: window.end },
    windowCounts: inWindow,
    latencyHistogram: latency.toData(),
    backends: sumBackends(reports.map((r) => r.backends)),
  };
}

/** Rates over a window from the counts in it. */
export function rates(
  inWindow: Counters,
  seconds: number,
): Pick<RunResult, 'linesPerSecond' | 'megabytesPerSecond' | 'connectionsPerSecond'> {
  return {
    linesPerSecond: inWindow.echoesVerified / seconds,
    megabytesPerSecond: inWindow.bytesVerified / seconds / 1e6,
    connectionsPerSecond: inWindow.completed / seconds,
  };
}

function perUnit(busy: number | null, seconds: number, units: number): number | null {
  return busy === null || units === 0 ? null : (busy * seconds * 1e6) / units;
}

function progressLine(plan: RunPlan, seconds: number, c: Counters, linesPerSecond: number): string {
  const errors = errorCount(c);
  const churn = plan.scenario === 'connect' ? `, ${c.completed} connections done` : '';
  return `bench ${plan.scenario}: ${seconds.toFixed(0)} s, ${c.up}/${plan.clients} up, ${Math.round(linesPerSecond)} lines/s${churn}, ${errors} error${errors === 1 ? '' : 's'}`;
}

/** Samples the server's RSS every tick from now; the function returned stops and gives the highest seen. */
function watchRss(server: Gauge): () => number | null {
  let highest = server.rss();
  const timer = setInterval(() => {
    const now = server.rss();
    if (now !== null && (highest === null || now > highest)) highest = now;
  }, TICK_MS);
  return () => {
    clearInterval(timer);
    return highest;
  };
}

/** The server's RSS once it stops moving (a just-started server, its workers still warming up), bounded to a few seconds. */
async function settledRss(server: Gauge): Promise<number | null> {
  let previous = server.rss();
  for (let i = 0; i < 12 && previous !== null; i++) {
    await sleep(250);
    const now = server.rss();
    if (now === null || Math.abs(now - previous) < 256 * 1024) return now;
    previous = now;
  }
  return previous;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` every tick until it holds (true) or `limitMs` passed (false). */
async function waitFor(done: () => boolean, limitMs: number): Promise<boolean> {
  const end = performance.now() + limitMs;
  while (!done()) {
    if (performance.now() > end) return false;
    await sleep(TICK_MS);
  }
  return true;
}
