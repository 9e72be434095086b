// What one generator process is told to do, and what it reports back when stopped.
import type { HeaderKind } from './addresses.ts';
import type { BackendCounts } from './backends.ts';
import type { Counters } from './counters.ts';
import type { HistogramData } from './histogram.ts';
import type { Scenario } from './scenario.ts';

export interface GeneratorConfig {
  readonly scenario: Scenario;
  readonly host: string;
  readonly port: number;
  /** Clients (concurrent connections) this generator runs. */
  readonly clients: number;
  /** Global number of this generator's first client, so headers and sources differ across processes. */
  readonly firstClient: number;
  /** Clients over all generators (decides the spread over loopback source addresses). */
  readonly totalClients: number;
  readonly header: HeaderKind;
  readonly lineBytes: number;
  readonly thinkMs: number;
  readonly timeoutMs: number;
  readonly maxConnecting: number;
  /** TLS after the header (`--tls`); `ca`: PEM to verify the server with, null: not verified. */
  readonly tls: { readonly ca: string | null } | null;
  /** The client address every backend should name (--expect-client), or null: see expectedClient. */
  readonly expectClient: string | null;
  /** TCP keepalive idle time on each connection, ms; 0: off. */
  readonly keepaliveMs: number;
}

export interface GeneratorReport {
  readonly totals: Counters;
  /** Counts since `measure()`: the figures rates are computed from. */
  readonly window: Counters;
  readonly windowMs: number;
  /** CPU time this process spent during the window, in microseconds (user + system). */
  readonly cpuMicros: number;
  /** Echo latency (pingpong, hold) or connect-to-echo time (connect), in microseconds, over the window. */
  readonly latency: HistogramData;
  /** Connections by the backend that served them, as their greetings said. */
  readonly backends: readonly BackendCounts[];
}
