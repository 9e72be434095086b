// One benchmark run: a server (already started), generators spread over processes, the phases
// ramp → measure → stop, and one result with rates, latency, memory and errors.
import {
  childGenerator,
  inProcessGenerator,
  type GeneratorHandle,
  socketsPerProcess,
} from './spread.ts';
import type { GeneratorConfig } from './generator-config.ts';
import { measureWindow, ramp, untilStartAt } from './phases.ts';
import { showProgress } from './progress.ts';
import type { RunResult } from './result.ts';
import type { RunPlan } from './run-plan.ts';
import { gaugeFor, settledRss } from './server-gauge.ts';
import type { ServerHandle } from './servers.ts';
import { share } from './shares.ts';
import { memoryGrowth, summarise } from './summarise.ts';

/** Connection attempts in flight per generator: keeps the server's accept backlog from overflowing. */
const MAX_CONNECTING = 200;

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
