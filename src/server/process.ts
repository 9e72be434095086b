// The server as a process: listen, report, drain on SIGTERM/SIGINT, and (with --workers N)
// a primary that forks N workers with node:cluster and sums their metrics.
import cluster, { type Worker } from 'node:cluster';
import { isSea } from 'node:sea';
import type http from 'node:http';
import type net from 'node:net';
import { UsageError } from '../options.ts';
import type { FdSink, LogFormat, Level, Logger } from '../log.ts';
import { type ProcessReport, startLoopDelayMonitor, startMetricsServer } from './metrics-http.ts';
import { createEchoServer, type EchoServer, type EchoServerOptions } from './server.ts';

export interface ServeConfig {
  readonly port: number;
  readonly host: string;
  readonly echo: EchoServerOptions;
  readonly logLevel: Level;
  readonly logFormat: LogFormat;
  /** null: no metrics endpoint. */
  readonly metricsPort: number | null;
  readonly workers: number;
  readonly drainTimeoutMs: number;
}

const METRICS_REQUEST = 'elb-proxy-echo:metrics?';
const METRICS_REPLY = 'elb-proxy-echo:metrics';
interface MetricsReply {
  readonly type: typeof METRICS_REPLY;
  readonly id: number;
  readonly report: ProcessReport;
}

/** One serving process: the only one (--workers 1) or a cluster worker. */
export async function runWorker(config: ServeConfig, logger: Logger, sink: FdSink, fd: number | null): Promise<void> {
  const inCluster = cluster.isWorker;
  if (!inCluster) warnIfUntrusted(config, logger);
  const echo = createEchoServer({ ...config.echo, logger });
  const address = await listen(echo, config, fd);
  const monitor = startLoopDelayMonitor();
  const report = (): ProcessReport => ({ snapshot: echo.metrics.snapshot(), loopDelay: monitor.read() });
  let metrics: http.Server | null = null;
  if (inCluster) {
    process.on('message', (message: { type?: string; id?: number }) => {
      if (message?.type === METRICS_REQUEST) process.send?.({ type: METRICS_REPLY, id: message.id ?? 0, report: report() } satisfies MetricsReply);
    });
    logger.debug('worker listening', { pid: process.pid, port: address.port });
  } else {
    logger.notice(`listening on port ${address.port}`, listenFields(config, address, fd));
    if (config.metricsPort !== null) metrics = await serveMetrics(config, logger, async () => [report()]);
  }
  onStopSignal(async (signal) => {
    if (!inCluster) logger.notice(`${signal}: draining`, { connections: echo.connectionCount, timeout: config.drainTimeoutMs / 1000 + 's' });
    await echo.close(config.drainTimeoutMs);
    metrics?.close();
    monitor.stop();
    if (!inCluster) logger.notice('stopped', { connections: echo.metrics.connectionsTotal, lines: echo.metrics.lines });
    await sink.flush();
    process.exit(0);
  });
}

/**
 * The primary of --workers N: forks, restarts crashed workers, sums metrics, drains all.
 * `serveArgv` are the serve options as given; each worker runs `serve` with them again.
 */
export async function runPrimary(config: ServeConfig, logger: Logger, sink: FdSink, fd: number | null, serveArgv: readonly string[]): Promise<void> {
  warnIfUntrusted(config, logger);
  // cluster starts `<node> <exec> <args>`. A single executable hands every argument to the app
  // (its argv[1] is the executable again), so there the `exec` slot carries the subcommand.
  if (isSea()) cluster.setupPrimary({ exec: 'serve', args: [...serveArgv] });
  else cluster.setupPrimary({ exec: process.argv[1], args: ['serve', ...serveArgv] });
  let stopping = false;
  const env = { ELB_PROXY_ECHO_WORKER_FD: fd === null ? '' : String(fd) };
  const fork = () => cluster.fork(env);
  let listening = 0;
  const ready = new Promise<{ address: string | null; port: number }>((resolve) => {
    cluster.on('listening', (_worker, address) => {
      if (++listening === config.workers) resolve(address);
    });
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error('worker died; starting another', { pid: worker.process.pid, code: code ?? undefined, signal: signal ?? undefined });
    // A worker that dies at start-up (bad port…) would loop: give up if none ever listened.
    if (listening === 0) {
      logger.error('no worker could listen; exiting');
      void sink.flush().then(() => process.exit(1));
      return;
    }
    setTimeout(fork, 1000).unref();
  });
  for (let i = 0; i < config.workers; i++) fork();
  const address = await ready;
  logger.notice(`listening on port ${address.port}`, listenFields(config, address, fd));
  let metrics: http.Server | null = null;
  if (config.metricsPort !== null) metrics = await serveMetrics(config, logger, () => collectFromWorkers());
  onStopSignal(async (signal) => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    logger.notice(`${signal}: draining`, { workers: workers.length, timeout: config.drainTimeoutMs / 1000 + 's' });
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
  const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
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

async function listen(echo: EchoServer, config: ServeConfig, fd: number | null): Promise<net.AddressInfo> {
  if (fd !== null) return echo.listen({ fd });
  try {
    return await echo.listen({ port: config.port, host: config.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    // A machine with IPv6 switched off cannot bind the default `::`: fall back to IPv4.
    if (code === 'EAFNOSUPPORT' && config.host === '::') return echo.listen({ port: config.port, host: '0.0.0.0' });
    throw new UsageError(`cannot listen on ${showHost(config.host)}:${config.port}: ${code}`);
  }
}

async function serveMetrics(config: ServeConfig, logger: Logger, collect: () => Promise<readonly ProcessReport[]>): Promise<http.Server> {
  const port = config.metricsPort ?? 0;
  let server: http.Server;
  try {
    server = await startMetricsServer(port, config.host, collect);
  } catch (error) {
    throw new UsageError(`cannot serve metrics on ${showHost(config.host)}:${port}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const address = server.address() as net.AddressInfo;
  logger.notice(`metrics at http://${showHost(config.host)}:${address.port}/metrics`);
  return server;
}

function listenFields(config: ServeConfig, address: { address: string | null; port: number }, fd: number | null): Record<string, string | number> {
  return {
    address: fd === null ? `${showHost(address.address ?? config.host)}:${address.port}` : `inherited fd ${fd} (socket activation)`,
    proxy_protocol: config.echo.proxyProtocol ?? 'require',
    workers: config.workers,
  };
}

function warnIfUntrusted(config: ServeConfig, logger: Logger): void {
  if (config.echo.trust === null && config.echo.proxyProtocol !== 'off') {
    logger.warn('no --trust set: any address may send a PROXY header and claim to be any client; set --trust to the load balancer subnets');
  }
}

function showHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function onStopSignal(stop: (signal: string) => Promise<void>): void {
  let stopping: Promise<void> | null = null;
  const handler = (signal: NodeJS.Signals) => {
    stopping ??= stop(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
