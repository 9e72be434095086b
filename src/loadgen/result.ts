// What one bench run found, as plain data: the result type a report, a record, a merge and a
// chart read, and the exit status it gives (its percentiles come from latency.ts).
// Reading a result never needs the code that runs one (run.ts).
import { errorCount, type Counters } from './counters.ts';
import type { HistogramData } from './histogram.ts';
import type { Latency } from './latency.ts';
import type { Scenario } from './scenario.ts';
import type { HeaderKind } from './addresses.ts';
import type { BackendResult } from './backends.ts';

export interface RunResult {
  readonly scenario: Scenario;
  readonly server: string;
  readonly clients: number;
  readonly procs: number;
  readonly header: HeaderKind;
  readonly lineBytes: number;
  readonly seconds: number;
  /** Clients connected when the measured window ended. */
  readonly up: number;
  readonly linesPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly connectionsPerSecond: number;
  /** Milliseconds: per echo (pingpong, hold) or per connection from connect to its echo (connect). */
  readonly latencyMs: Latency;
  /**
   * Hold: server RSS before any client, with the first half of the clients, and with all of them
   * (the highest of samples every 100 ms over a second or more of each). Per connection is the
   * growth from half to all, divided by the connections added: what a fresh process pays once
   * (code compiled, buffers pooled, the young heap grown) falls in the first half and is left out.
   */
  readonly memory: {
    readonly beforeBytes: number;
    readonly halfBytes: number;
    readonly halfClients: number;
    readonly afterBytes: number;
    readonly perConnectionBytes: number;
  } | null;
  /** Server CPU over the window, as a share of one core (1 = one core fully busy), or null. */
  readonly serverBusy: number | null;
  /**
   * Server CPU time per unit of work over the window, in microseconds: per echoed line (pingpong,
   * hold) or per connection (connect). Unlike rates, this does not depend on how fast the two
   * processes wake each other up, so it compares servers fairly on a busy or virtual machine.
   */
  readonly serverCpuMicrosPerUnit: number | null;
  /** Each generator process's CPU over the window, as a share of one core. */
  readonly generatorBusy: readonly number[];
  readonly totals: Counters;
  readonly errors: Readonly<Record<string, number>>;
  readonly wrongEchoes: number;
  readonly notes: readonly string[];
  /** The measured window, wall clock (epoch milliseconds): what a merge checks for overlap. */
  readonly window: { readonly start: number; readonly end: number };
  /** Counts in the window: the rates above come from these. */
  readonly windowCounts: Counters;
  /** The latency histogram the percentiles come from, in buckets that merge by adding counts. */
  readonly latencyHistogram: HistogramData;
  /**
   * Connections by the backend that served them (from each connection's greeting), with the
   * check that each backend named the generator as the client; empty when no greeting came.
   */
  readonly backends: readonly BackendResult[];
}

/**
 * Exit status of a run: 1 for any wrong echo, any backend that named another client than the
 * generator, or more other errors than allowed.
 */
export function exitStatus(result: RunResult, maxErrors: number): number {
  const wrongClient = result.backends.some((b) => b.mismatched > 0);
  return wrongClient ||
    result.wrongEchoes > 0 ||
    errorCount(result.totals) - result.wrongEchoes > maxErrors
    ? 1
    : 0;
}
