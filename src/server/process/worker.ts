// One serving process: listen, report, drain on SIGTERM/SIGINT; as the only process or as one
// of the workers that primary.ts forks for --workers N.
import cluster from 'node:cluster';
import type net from 'node:net';
import type { FdSink, Logger } from '../../log.ts';
import { errorText } from '../../error-text.ts';
import { Health, type HealthState } from '../health.ts';
import { startLoopDelayMonitor } from '../metrics/loop-delay.ts';
import type { ProcessReport } from '../metrics/port.ts';
import { createEchoServer, type EchoServer } from '../server.ts';
import type { ServeConfig } from './config.ts';
import { drainDelay } from './drain-delay.ts';
import { listenEcho } from './echo-port.ts';
import { healthSwitch } from './health-switch.ts';
import {
  type Binding,
  FAILED,
  HEALTH,
  type FailedMessage,
  LISTENING,
  type ListeningMessage,
  METRICS_REPLY,
  METRICS_REQUEST,
  type MetricsReply,
} from './messages.ts';
import { serveMetrics } from './metrics-port.ts';
import { onStopSignal } from './signals.ts';
import { listenFields, noteConnectionBudget, warnAtStart } from './startup.ts';

/** One serving process: the only one (--workers 1) or a cluster worker. */
export async function runWorker(
  config: ServeConfig,
  logger: Logger,
  sink: FdSink,
  binding: Binding,
): Promise<void> {
  const inCluster = cluster.isWorker;
  if (!inCluster) warnAtStart(config, logger);
  const health = new Health();
  const echo = createEchoServer({ ...config.echo, logger, health });
  const address = await listenEcho(echo, config, binding);
  const monitor = startLoopDelayMonitor();
  const report = (): ProcessReport => ({
    snapshot: echo.metrics.snapshot(),
    loopDelay: monitor.read(),
  });
  let metrics: net.Server | null = null;
  if (inCluster) {
    joinPrimary(echo, address, report, health);
    logger.debug('worker listening', { pid: process.pid, port: address.port });
  } else {
    noteConnectionBudget(config, logger);
    logger.notice(`listening on port ${address.port}`, listenFields(config, address, binding));
    if (config.metricsPort !== null)
      metrics = await serveMetrics(
        config,
        logger,
        async () => [report()],
        healthSwitch(health, logger),
      );
  }
  // The primary passes SIGHUP on to its workers; each reads the files itself.
  if (config.echo.tls != null) process.on('SIGHUP', () => echo.reloadTls());
  onStopSignal(async (signal) => {
    // A worker says nothing at notice: its primary logs each step once for all of them.
    const sayDelay = () =>
      logger.notice(`${signal}: failing health checks before draining`, {
        delay: `${config.drainDelayMs / 1000}s`,
        connections: echo.connectionCount,
      });
    await drainDelay(health, config.drainDelayMs, inCluster ? null : sayDelay);
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
 * A worker's side of the channel: answer metrics requests, take the primary's health, leave
 * with the primary, say ready.
 */
function joinPrimary(
  echo: EchoServer,
  address: net.AddressInfo,
  report: () => ProcessReport,
  health: Health,
): void {
  // The channel closes when the primary is gone (SIGKILL, a crash, a stop while this worker
  // started): nothing would restart, scrape or stop this worker any more, so it ends its
  // connections and goes too, at once.
  const leave = () => {
    void echo.close(0).finally(() => process.exit(1));
    setTimeout(() => process.exit(1), 200).unref();
  };
  if (!process.connected) {
    leave();
    return;
  }
  process.once('disconnect', leave);
  process.on('message', (message: { type?: string; id?: number; state?: HealthState }) => {
    if (message?.type === HEALTH && message.state !== undefined) health.set(message.state);
    else if (message?.type === METRICS_REQUEST)
      tellPrimary({
        type: METRICS_REPLY,
        id: message.id ?? 0,
        report: report(),
      } satisfies MetricsReply);
  });
  tellPrimary({
    type: LISTENING,
    address: address.address,
    port: address.port,
  } satisfies ListeningMessage);
}

/**
 * Sends to the primary. A send can race the channel closing (EPIPE): with a callback the error
 * is handed to it instead of crashing the worker, and 'disconnect' is what ends the worker.
 */
function tellPrimary(message: ListeningMessage | MetricsReply): void {
  if (process.connected) process.send?.(message, () => {});
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
