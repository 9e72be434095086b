// What a serving process runs with: the `serve` options turned into one frozen object
// (serve.ts makes it; the primary and every worker read it).
import type { LogFormat, Level } from '../../log.ts';
import type { EngineName } from '../engine/transport.ts';
import type { EchoServerOptions } from '../server-options.ts';
import type { ConnectionBudget } from './descriptors.ts';

export interface ServeConfig {
  readonly port: number;
  readonly host: string;
  /** Length of the kernel's queue of connections not yet accepted (capped by somaxconn). */
  readonly backlog: number;
  /** The engine is settled before the config is made: every serving process runs the same. */
  readonly echo: EchoServerOptions & { readonly engine: EngineName };
  readonly logLevel: Level;
  readonly logFormat: LogFormat;
  /** null: no metrics endpoint. */
  readonly metricsPort: number | null;
  /** Where the metrics port listens (loopback unless told otherwise: it has no authentication). */
  readonly metricsHost: string;
  readonly workers: number;
  /** On SIGTERM, how long health checks fail while connections are still accepted, ms. */
  readonly drainDelayMs: number;
  readonly drainTimeoutMs: number;
  /** Why `--engine auto` could not use uv (null: it did, or another engine was asked for). */
  readonly engineFallback: string | null;
  /** How `--max-connections auto` was worked out; null when a number was given. */
  readonly connectionBudget: ConnectionBudget | null;
}
