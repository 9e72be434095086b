// What one benchmark run is asked to do: the scenario, its clients and their generators, the
// window and how progress is shown. `bench` and our own benchmarks each build one.
import type { HeaderKind } from './addresses.ts';
import type { GeneratorConfig } from './generator-config.ts';
import type { Scenario } from './scenario.ts';
import type { SelfCommand } from './spread.ts';

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
