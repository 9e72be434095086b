// One run's result from its generators' reports and what the window measured: rates, latency,
// the server's CPU per line or connection, memory per connection, and notes on what to doubt.
import { sumBackends } from './backends.ts';
import { sumCounters, type Counters } from './counters.ts';
import type { GeneratorReport } from './generator-config.ts';
import { Histogram } from './histogram.ts';
import type { HalfWay, Measured } from './phases.ts';
import { latencyOf } from './latency.ts';
import type { RunResult } from './result.ts';
import type { RunPlan } from './run-plan.ts';
import type { ServerHandle } from './servers.ts';

/** Hold: memory per connection from the growth between half and all of the clients. */
export function memoryGrowth(
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

export function summarise(
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
function rates(
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
