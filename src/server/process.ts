// The server as a process: listen, report, drain on SIGTERM/SIGINT, and (with --workers N)
// a primary that forks N workers with node:cluster and sums their metrics.
import cluster, { type Worker } from 'node:cluster';
import { isSea } from 'node:sea';
import type http from 'node:http';
import type net from 'node:net';
import type { FdSink, LogFormat, Level, Logger } from '../log.ts';
import type { ConnectionBudget } from './descriptors.ts';
import { ServerConfigError } from './errors.ts';
import { startLoopDelayMonitor } from './loop-delay.ts';
import type { ProcessReport } from './metrics-http.ts';
import { createEchoServer, type EchoServer, type EchoServerOptions } from './server.ts';

export interface ServeConfig {
  readonly port: number;
  readonly host: string;
  /** Length of the kernel's queue of connections not yet accepted (capped by somaxconn). */
  readonly backlog: number;
  readonly echo: EchoServerOptions;
  readonly logLevel: Level;
  readonly logFormat: LogFormat;
  /** null: no metrics endpoint. */
  readonly metricsPort: number | null;
  readonly workers: number;
  readonly drainTimeoutMs: number;
  /** How `--max-connections auto` was worked out; null when a number was given. */
  readonly connectionBudget: ConnectionBudget | null;
}

/**
 * Where a serving process gets its connections: an inherited listening socket (systemd socket
 * activation; with workers, the primary holds it and node:cluster hands out connections), or a
 * port it binds itself. Workers bind the same port with SO_REUSEPORT, so the kernel spreads
 * connections over them without a hop through the primary (measured here: about half the CPU
 * per accepted connection of cluster's round robin, 59 vs 109 ms per 1000 connections).
 */
export type Binding =
  | { readonly fd: number }
  | { readonly port: number; readonly reusePort: boolean };

/** How the primary tells a worker its binding (cluster.fork's environment). */
const WORKER_FD = 'ELB_PROXY_ECHO_WORKER_FD';
const WORKER_PORT = 'ELB_PROXY_ECHO_WORKER_PORT';

export function workerBinding(env: Readonly<Record<string, string | undefined>>): Binding {
  const fd = Number(env[WORKER_FD]);
  return Number.isInteger(fd) && fd > 0
    ? { fd }
    : { port: Number(env[WORKER_PORT] ?? 0), reusePort: true };
}

/** A worker tells its primary it listens (cluster's own event misses exclusive listens). */
const LISTENING = 'elb-proxy-echo:listening';
interface ListeningMessage {
  readonly type: typeof LISTENING;
  readonly address: string;
  readonly port: number;
}

/** …or why it could not, with the exit status the single process would have had. */
const FAILED = 'elb-proxy-echo:failed';
interface FailedMessage {
  readonly type: typeof FAILED;
  readonly reason: string;
  readonly status: number;
}

const METRICS_REQUEST = 'elb-proxy-echo:metrics?';
const METRICS_REPLY = 'elb-proxy-echo:metrics';
interface MetricsReply {
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
  if (!inCluster) warnIfUntrusted(config, logger);
  const echo = createEchoServer({ ...config.echo, logger });
  const address = await listen(echo, config, binding);
  const monitor = startLoopDelayMonitor();
  const report = (): ProcessReport => ({
    snapshot: echo.metrics.snapshot(),
    loopDelay: monitor.read(),
  });
  let metrics: http.Server | null = null;
  if (inCluster) {
    process.on('message', (message: { type?: string; id?: number }) => {
      if (message?.type === METRICS_REQUEST)
        process.send?.({
          type: METRICS_REPLY,
          id: message.id ?? 0,
          report: report(),
        } satisfies MetricsReply);
    });
    logger.debug('worker listening', { pid: process.pid, port: address.port });
    process.send?.({
      type: LISTENING,
      address: address.address,
      port: address.port,
    } satisfies ListeningMessage);
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
      process.stderr.write(
        `elb-proxy-echo: worker ${process.pid}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
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

/**
 * The primary of --workers N: forks, restarts crashed workers, sums metrics, drains all.
 * `serveArgv` are the serve options as given; each worker runs `serve` with them again.
 */
export async function runPrimary(
  config: ServeConfig,
  logger: Logger,
  sink: FdSink,
  binding: Binding,
  serveArgv: readonly string[],
): Promise<void> {
  warnIfUntrusted(config, logger);
  // cluster starts `<node> <exec> <args>`. A single executable hands every argument to the app
  // (its argv[1] is the executable again), so there the `exec` slot carries the subcommand.
  // Workers take the connection limit the primary worked out (and logged), not their own.
  const workerArgv = [...serveArgv, '--max-connections', String(config.echo.maxConnections)];
  if (isSea()) cluster.setupPrimary({ exec: 'serve', args: workerArgv });
  else cluster.setupPrimary({ exec: process.argv[1], args: ['serve', ...workerArgv] });
  let stopping = false;
  // The first worker starts alone: with port 0 it picks the port the others join, and a port
  // that cannot be bound fails once, with one message.
  let port = 'fd' in binding ? 0 : binding.port;
  let listening = 0;
  /** What workers that failed before listening reported, by worker id. */
  const failures = new Map<number, Omit<FailedMessage, 'type'>>();
  let failStart: (failure: Omit<FailedMessage, 'type'>) => void = () => {};
  const fork = () => {
    const worker = cluster.fork(
      'fd' in binding ? { [WORKER_FD]: String(binding.fd) } : { [WORKER_PORT]: String(port) },
    );
    // A fork that cannot even start (spawn EMFILE…) must not crash the primary (no 'exit' follows).
    worker.on('error', (error: Error) => {
      if (listening < config.workers)
        failStart({ reason: `cannot start a worker: ${error.message}`, status: 1 });
      else {
        logger.error('cannot start a worker; trying again', { error: error.message });
        setTimeout(fork, 1000);
      }
    });
  };
  const ready = new Promise<ListeningMessage>((resolve) => {
    cluster.on('message', (worker, message: ListeningMessage | FailedMessage) => {
      if (message?.type === FAILED)
        failures.set(worker.id, { reason: message.reason, status: message.status });
      if (message?.type !== LISTENING) return;
      if (listening === 0) {
        port = message.port;
        for (let i = 1; i < config.workers; i++) fork();
      }
      if (++listening === config.workers) resolve(message);
    });
  });
  const failed = new Promise<Omit<FailedMessage, 'type'>>((resolve) => {
    failStart = resolve;
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) return;
      // A worker that cannot start (port taken…) would fail again: the start fails, with its reason.
      if (listening < config.workers) {
        const how = signal !== null ? `was killed by ${signal}` : `exited with status ${code}`;
        return resolve(
          failures.get(worker.id) ?? { reason: `a worker ${how} before it listened`, status: 1 },
        );
      }
      logger.error('worker died; starting another', {
        pid: worker.process.pid,
        code: code ?? undefined,
        signal: signal ?? undefined,
      });
      // Not unref'd: with every worker gone this timer is what keeps the primary alive.
      setTimeout(fork, 1000);
    });
  });
  fork();
  const address = await Promise.race([ready, failed]);
  if (!('type' in address)) {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
    // A bad setting reads as it would from a single process; anything else says what it cost.
    const prefix =
      address.status === 2
        ? ''
        : listening === 0
          ? 'no worker could listen: '
          : `only ${listening} of ${config.workers} workers could listen: `;
    process.stderr.write(`elb-proxy-echo: ${prefix}${address.reason}\n`);
    await sink.flush();
    process.exit(address.status === 2 ? 2 : 1);
  }
  noteConnectionBudget(config, logger);
  logger.notice(`listening on port ${address.port}`, listenFields(config, address, binding));
  let metrics: http.Server | null = null;
  if (config.metricsPort !== null)
    metrics = await serveMetrics(config, logger, () => collectFromWorkers());
  onStopSignal(async (signal) => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter(
      (w): w is Worker => w !== undefined,
    );
    logger.notice(`${signal}: draining`, {
      workers: workers.length,
      timeout: `${config.drainTimeoutMs / 1000}s`,
    });
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
            // A worker stuck past the drain time (plus a margin) is killed.
            setTimeout(() => worker.process.kill('SIGKILL'), config.drainTimeoutMs + 5000).unref();
          }),
      ),
    );
    metrics?.close();
    logger.notice('stopped');
    await sink.flush();
    process.exit(0);
  });
}

let nextRequest = 0;

/** Asks every worker for its report; a worker that does not answer within a second is left out. */
function collectFromWorkers(): Promise<ProcessReport[]> {
  const workers = Object.values(cluster.workers ?? {}).filter(
    (w): w is Worker => w?.isConnected() === true,
  );
  const id = ++nextRequest;
  return Promise.all(
    workers.map(
      (worker) =>
        new Promise<ProcessReport | null>((resolve) => {
          const timer = setTimeout(() => done(null), 1000);
          const onMessage = (message: MetricsReply) => {
            if (message?.type === METRICS_REPLY && message.id === id) done(message.report);
          };
          const done = (report: ProcessReport | null) => {
            clearTimeout(timer);
            worker.off('message', onMessage);
            resolve(report);
          };
          worker.on('message', onMessage);
          worker.send({ type: METRICS_REQUEST, id });
        }),
    ),
  ).then((reports) => reports.filter((r): r is ProcessReport => r !== null));
}

async function listen(
  echo: EchoServer,
  config: ServeConfig,
  binding: Binding,
): Promise<net.AddressInfo> {
  if ('fd' in binding) return echo.listen({ fd: binding.fd });
  // `exclusive`: a cluster worker binds the port itself instead of asking the primary.
  const options = {
    port: binding.port,
    reusePort: binding.reusePort,
    exclusive: binding.reusePort,
    backlog: config.backlog,
  };
  try {
    return await echo.listen({ ...options, host: config.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    // A machine with IPv6 switched off cannot bind the default `::`: fall back to IPv4.
    if (code === 'EAFNOSUPPORT' && config.host === '::')
      return echo.listen({ ...options, host: '0.0.0.0' });
    throw new ServerConfigError(
      `cannot listen on ${showHost(config.host)}:${binding.port}: ${code}`,
    );
  }
}

async function serveMetrics(
  config: ServeConfig,
  logger: Logger,
  collect: () => Promise<readonly ProcessReport[]>,
): Promise<http.Server> {
  const port = config.metricsPort ?? 0;
  let server: http.Server;
  try {
    const { startMetricsServer } = await import('./metrics-http.ts');
    server = await startMetricsServer(port, config.host, collect);
  } catch (error) {
    throw new ServerConfigError(
      `cannot serve metrics on ${showHost(config.host)}:${port}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  const address = server.address() as net.AddressInfo;
  logger.notice(`metrics at http://${showHost(config.host)}:${address.port}/metrics`);
  return server;
}

function listenFields(
  config: ServeConfig,
  address: { address: string | null; port: number },
  binding: Binding,
): Record<string, string | number> {
  return {
    address:
      'fd' in binding
        ? `inherited fd ${binding.fd} (socket activation)`
        : `${showHost(address.address ?? config.host)}:${address.port}`,
    proxy_protocol: config.echo.proxyProtocol ?? 'require',
    workers: config.workers,
  };
}

function warnIfUntrusted(config: ServeConfig, logger: Logger): void {
  if (config.echo.trust === null && config.echo.proxyProtocol !== 'off') {
    logger.warn(
      'no --trust set: any address may send a PROXY header and claim to be any client; set --trust to the load balancer subnets',
    );
  }
}

/** With `--max-connections auto`, one line at start-up (once, not per worker) with the figure. */
function noteConnectionBudget(config: ServeConfig, logger: Logger): void {
  const budget = config.connectionBudget;
  if (budget !== null) {
    logger.info(`--max-connections auto: ${budget.maxConnections} per process`, {
      open_file_limit: budget.limit ?? 'unlimited',
      reserved: budget.reserved,
      cap: budget.cap,
    });
  }
}

function showHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function onStopSignal(stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    void stop(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
