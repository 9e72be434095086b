// What the primary and its workers tell each other: a worker's binding (in its environment at
// fork), then IPC messages: listening or failed at start, metrics asked for and sent back, the
// health switched on the primary's metrics port.
import type { HealthState } from '../health.ts';
import type { ProcessReport } from '../metrics/port.ts';

/**
 * Where a serving process gets its connections: an inherited listening socket (systemd socket
 * activation; with workers, the primary holds it and node:cluster hands out connections), or a
 * port it binds itself. Workers bind the same port with SO_REUSEPORT, so the kernel spreads
 * connections over them without a hop through the primary (measured here: about half the CPU
 * per accepted connection of cluster's round robin, 59 vs 109 ms per 1000 connections).
 * `join`: the port is already this server's (a worker after the first); otherwise binding it
 * first checks that nothing else listens there (server.ts).
 */
export type Binding = { readonly fd: number } | { readonly port: number; readonly join: boolean };

/** How the primary tells a worker its binding (cluster.fork's environment). */
export const WORKER_FD = 'ELB_PROXY_ECHO_WORKER_FD';
export const WORKER_PORT = 'ELB_PROXY_ECHO_WORKER_PORT';
export const WORKER_JOIN = 'ELB_PROXY_ECHO_WORKER_JOIN';

export function workerBinding(env: Readonly<Record<string, string | undefined>>): Binding {
  const fd = Number(env[WORKER_FD]);
  return Number.isInteger(fd) && fd > 0
    ? { fd }
    : { port: Number(env[WORKER_PORT] ?? 0), join: env[WORKER_JOIN] === '1' };
}

/** A worker tells its primary it listens (cluster's own event misses exclusive listens). */
export const LISTENING = 'elb-proxy-echo:listening';
export interface ListeningMessage {
  readonly type: typeof LISTENING;
  readonly address: string;
  readonly port: number;
}

/** …or why it could not, with the exit status the single process would have had. */
export const FAILED = 'elb-proxy-echo:failed';
export interface FailedMessage {
  readonly type: typeof FAILED;
  readonly reason: string;
  readonly status: number;
}
export type Failure = Omit<FailedMessage, 'type'>;

export const METRICS_REQUEST = 'elb-proxy-echo:metrics?';
export const METRICS_REPLY = 'elb-proxy-echo:metrics';
export interface MetricsReply {
  readonly type: typeof METRICS_REPLY;
  readonly id: number;
  readonly report: ProcessReport;
}

/** The primary's health changed (the switch on its metrics port): workers answer the same. */
export const HEALTH = 'elb-proxy-echo:health';
export interface HealthMessage {
  readonly type: typeof HEALTH;
  readonly state: HealthState;
}
