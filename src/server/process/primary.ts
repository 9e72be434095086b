// The primary of --workers N: fork the workers and wait until they all listen, restart one that
// dies, gather their metrics for a scrape, pass the health switch on, drain them all on
// SIGTERM/SIGINT. The workers' start and restarts are in fleet.ts, what the primary tells them
// all in fleet-orders.ts, a scrape's asking them in report-collector.ts.
import cluster from 'node:cluster';
import type net from 'node:net';
import type { FdSink, Logger } from '../../log.ts';
import { Health } from '../health.ts';
import type { ServeConfig } from './config.ts';
import { checkEchoPort } from './echo-port.ts';
import {
  type Fleet,
  liveWorkers,
  restartWorkersThatDie,
  setWorkerCommand,
  startWorkers,
} from './fleet.ts';
import { drainWorkers, keepNewWorkersInStep, tellWorkers } from './fleet-orders.ts';
import { healthSwitch } from './health-switch.ts';
import type { Binding, Failure } from './messages.ts';
import { serveMetrics } from './metrics-port.ts';
import { reportCollector } from './report-collector.ts';
import { onStopSignal } from './signals.ts';
import { listenFields, noteConnectionBudget, warnAtStart } from './startup.ts';

/** `serveArgv` are the serve options as given; each worker runs `serve` with them again. */
export async function runPrimary(
  config: ServeConfig,
  logger: Logger,
  sink: FdSink,
  binding: Binding,
  serveArgv: readonly string[],
): Promise<void> {
  warnAtStart(config, logger);
  if (!('fd' in binding)) await checkEchoPort(config, binding.port);
  setWorkerCommand(config, serveArgv);
  const fleet: Fleet = {
    config,
    binding,
    logger,
    port: 'fd' in binding ? 0 : binding.port,
    listening: 0,
    stopping: false,
    failStart: () => {},
  };
  const health = new Health();
  let metrics: net.Server | null = null;
  // Set before the workers start: a stop may come while they do (systemd stopping a slow start,
  // a SIGTERM as soon as the port opens). The workers started so far then drain like any others.
  onStopSignal(async (signal) => {
    fleet.stopping = true;
    fleet.failStart(STOPPED);
    await drainWorkers(config, logger, signal, health);
    metrics?.close();
    logger.notice('stopped');
    await sink.flush();
    process.exit(0);
  });
  const started = await startWorkers(fleet);
  if (fleet.stopping) return; // the stop above ends the process
  if (!('type' in started)) return giveUp(fleet, started, sink);
  restartWorkersThatDie(fleet);
  keepNewWorkersInStep(health);
  noteConnectionBudget(config, logger);
  logger.notice(`listening on port ${started.port}`, listenFields(config, started, binding));
  if (config.metricsPort !== null) {
    const collect = reportCollector(cluster, liveWorkers);
    const toWorkers = healthSwitch(health, logger, tellWorkers);
    metrics = await serveMetrics(config, logger, collect, toWorkers);
  }
  // A reload (new TLS files) is each worker's to do.
  if (config.echo.tls != null)
    process.on('SIGHUP', () => {
      for (const worker of liveWorkers()) worker.process.kill('SIGHUP');
    });
}

/** How a start cut short by a stop ends (the stop, not the start, decides the exit). */
const STOPPED: Failure = { reason: 'stopped while starting', status: 0 };

/** A start that failed: kill what started, say why in one line, exit as a single process would. */
async function giveUp(fleet: Fleet, failure: Failure, sink: FdSink): Promise<void> {
  fleet.stopping = true;
  for (const worker of liveWorkers()) worker.process.kill('SIGKILL');
  // A bad setting reads as it would from a single process; anything else says what it cost.
  const prefix =
    failure.status === 2
      ? ''
      : fleet.listening === 0
        ? 'no worker could listen: '
        : `only ${fleet.listening} of ${fleet.config.workers} workers could listen: `;
  process.stderr.write(`elb-proxy-echo: ${prefix}${failure.reason}\n`);
  await sink.flush();
  process.exit(failure.status === 2 ? 2 : 1);
}
