// The server as a process: listen, report, drain on SIGTERM/SIGINT; as the only process or as
// one of the workers that primary.ts forks for --workers N. Also what the two share: the
// messages between them and the lines they log at start.
import cluster from 'node:cluster';
import type net from 'node:net';
import type { FdSink, LogFormat, Level, Logger } from '../../log.ts';
import { bracketed, hostPortText } from '../address-text.ts';
import type { ConnectionBudget } from './descriptors.ts';
import { ServerConfigError } from '../errors.ts';
import { warnFallback } from '../engine/pick.ts';
import { checkNoOtherListener } from '../listen.ts';
import { listenErrorText } from './listen-error.ts';
import { startLoopDelayMonitor } from '../metrics/loop-delay.ts';
import type { EngineName } from '../engine/transport.ts';
import type { ProcessReport } from '../metrics/port.ts';
import {
  createEchoServer,
  ECHO_DEFAULTS,
  type EchoServer,
  type EchoServerOptions,
} from '../server.ts';
import { errorText } from '../../error-text.ts';
import { hostIdentity, identityFields } from '../answer/identity.ts';

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
  readonly drainTimeoutMs: number;
  /** Why `--engine auto` could not use uv (null: it did, or another engine was asked for). */
  readonly engineFallback: string | null;
  /** How `--max-connections auto` was worked out; null when a number was given. */
  readonly connectionBudget: ConnectionBudget | null;
}

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

/** One serving process: the only one (--workers 1) or a cluster worker. */
export async function runWorker(
  config: ServeConfig,
  logger: Logger,
  sink: FdSink,
  binding: Binding,
): Promise<void> {
  const inCluster = cluster.isWorker;
  if (!inCluster) warnAtStart(config, logger);
  const echo = createEchoServer({ ...config.echo, logger });
  const address = await listen(echo, config, binding);
  const monitor = startLoopDelayMonitor();
  const report = (): ProcessReport => ({
    snapshot: echo.metrics.snapshot(),
    loopDelay: monitor.read(),
  });
  let metrics: net.Server | null = null;
  if (inCluster) {
    joinPrimary(echo, address, report);
    logger.debug('worker listening', { pid: process.pid, port: address.port });
  } else {
    noteConnectionBudget(config, logger);
    logger.notice(`listening on port ${address.port}`, listenFields(config, address, binding));
    if (config.metricsPort !== null)
      metrics = await serveMetrics(config, logger, async () => [report()]);
  }
  onStopSignal(async (signal) => {
    if (!inCluster)
      logger.notice(`${signal}: draining`, {
        connections: echo.connectionCount,
        timeout: `${config.drainTimeoutMs / 1000}s`,
      });
    await echo.close(config.drainTimeoutMs);
    metrics?.close();
    monitor.stop();
    if (!inCluster)
      logger.notice('stopped', {
        connections: echo.metrics.connectionsTotal,
        lines: echo.metrics.lines,
      });
    await sink.flush();
    process.exit(0);
  });
}

/** A worker's side of the channel: answer metrics requests, leave with the primary, say ready. */
function joinPrimary(
  echo: EchoServer,
  address: net.AddressInfo,
  report: () => ProcessReport,
): void {
  process.on('message', (message: { type?: string; id?: number }) => {
    if (message?.type === METRICS_REQUEST)
      process.send?.({
        type: METRICS_REPLY,
        id: message.id ?? 0,
        report: report(),
      } satisfies MetricsReply);
  });
  // The channel closes when the primary is gone (SIGKILL, a crash): nothing would restart,
  // scrape or stop this worker any more, so it ends its connections and goes too, at once.
  process.once('disconnect', () => {
    void echo.close(0).finally(() => process.exit(1));
    setTimeout(() => process.exit(1), 200).unref();
  });
  process.send?.({
    type: LISTENING,
    address: address.address,
    port: address.port,
  } satisfies ListeningMessage);
}

/**
 * Runs a cluster worker's start-up (`start` resolves once it listens). A worker that fails
 * before that must leave by itself, as its IPC channel would keep it alive and its primary
 * would wait for ever: it tells the primary why (a bad setting: status 2, as a single process
 * would exit; anything else, a bug or a resource running out: status 1, its trace on stderr)
 * and exits. The primary says the one line.
 */
export async function startWorker(
  start: () => Promise<void>,
  isSetting: (error: unknown) => error is Error,
): Promise<void> {
  try {
    await start();
  } catch (error) {
    const usage = isSetting(error);
    if (!usage)
      process.stderr.write(`elb-proxy-echo: worker ${process.pid}: ${errorText(error, 'stack')}\n`);
    const failed: FailedMessage = {
      type: FAILED,
      reason: usage ? error.message : String(error),
      status: usage ? 2 : 1,
    };
    const exit = () => process.exit(failed.status);
    if (process.connected && process.send !== undefined) {
      process.send(failed, exit);
      setTimeout(exit, 1000); // should the message never go out
    } else exit();
  }
}

async function listen(
  echo: EchoServer,
  config: ServeConfig,
  binding: Binding,
): Promise<net.AddressInfo> {
  if ('fd' in binding) return echo.listen({ fd: binding.fd });
  // `exclusive`: a cluster worker binds the port itself instead of asking the primary.
  // `reusePort`: a worker joining its siblings, unchecked (server.ts).
  const options = {
    port: binding.port,
    reusePort: binding.join,
    exclusive: true,
    backlog: config.backlog,
  };
  return onEchoPort(config, binding.port, (host) => echo.listen({ ...options, host }));
}

/**
 * The primary of --workers checks the port before it forks, so that a port in use fails at
 * once rather than a worker start later (the first worker checks again as it binds).
 */
export function checkEchoPort(config: ServeConfig, port: number): Promise<void> {
  return onEchoPort(config, port, (host) => checkNoOtherListener({ port, host }));
}

/**
 * Runs `bind` on --host, or on 0.0.0.0 for the default `::` on a machine with IPv6 switched
 * off; a failure becomes the one start-up line saying why and what to do.
 */
async function onEchoPort<T>(
  config: ServeConfig,
  port: number,
  bind: (host: string) => Promise<T>,
): Promise<T> {
  let host = config.host;
  try {
    return await bind(host).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EAFNOSUPPORT' || host !== '::') throw error;
      host = '0.0.0.0';
      return bind(host);
    });
  } catch (error) {
    throw new ServerConfigError(
      `cannot listen on ${hostPortText(host, port)}: ${listenErrorText(error, host, port, '--port')}`,
    );
  }
}

export async function serveMetrics(
  config: ServeConfig,
  logger: Logger,
  collect: () => Promise<readonly ProcessReport[]>,
): Promise<net.Server> {
  const port = config.metricsPort ?? 0;
  let server: net.Server;
  try {
    const { startMetricsServer } = await import('../metrics/port.ts');
    server = await startMetricsServer(port, config.metricsHost, collect);
  } catch (error) {
    throw new ServerConfigError(
      `cannot serve metrics on ${hostPortText(config.metricsHost, port)}: ${listenErrorText(error, config.metricsHost, port, '--metrics-port')}`,
    );
  }
  const address = server.address() as net.AddressInfo;
  logger.notice(`metrics at http://${bracketed(config.metricsHost)}:${address.port}/metrics`);
  return server;
}

export function listenFields(
  config: ServeConfig,
  address: { address: string | null; port: number },
  binding: Binding,
): Record<string, string | number | undefined> {
  return {
    address:
      'fd' in binding
        ? `inherited fd ${binding.fd} (socket activation)`
        : `${bracketed(address.address ?? config.host)}:${address.port}`,
    proxy_protocol: config.echo.proxyProtocol ?? ECHO_DEFAULTS.proxyProtocol,
    workers: config.workers,
    engine: config.echo.engine,
    ...identityFields(config.echo.identity ?? hostIdentity()),
  };
}

/** The warnings a server gives once at start (not once per worker). */
export function warnAtStart(config: ServeConfig, logger: Logger): void {
  if (config.engineFallback !== null) warnFallback(logger, config.engineFallback);
  if (config.echo.trust === null && config.echo.proxyProtocol !== 'off') {
    logger.warn(
      'no --trust set: any address may send a PROXY header and claim to be any client; set --trust to the load balancer subnets',
    );
  }
}

/** With `--max-connections auto`, one line at start-up (once, not per worker) with the figure. */
export function noteConnectionBudget(config: ServeConfig, logger: Logger): void {
  const budget = config.connectionBudget;
  if (budget !== null) {
    logger.info(`--max-connections auto: ${budget.maxConnections} per process`, {
      open_file_limit: budget.limit ?? 'unlimited',
      reserved: budget.reserved,
      cap: budget.cap,
    });
  }
}

export function onStopSignal(stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    void stop(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
