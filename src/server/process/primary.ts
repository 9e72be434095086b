// The primary of --workers N: fork the workers and wait until they all listen, restart one that
// dies, gather their metrics for a scrape, pass the health switch on, drain them all on
// SIGTERM/SIGINT.
import cluster, { type Worker } from 'node:cluster';
import type net from 'node:net';
import { isSea } from 'node:sea';
import type { FdSink, Logger } from '../../log.ts';
import { Health, type HealthState } from '../health.ts';
import type { ProcessReport } from '../metrics/port.ts';
import type { ServeConfig } from './config.ts';
import { drainDelay } from './drain-delay.ts';
import { checkEchoPort } from './echo-port.ts';
import { healthSwitch } from './health-switch.ts';
import {
  type Binding,
  type Failure,
  FAILED,
  type FailedMessage,
  HEALTH,
  type HealthMessage,
  LISTENING,
  type ListeningMessage,
  METRICS_REPLY,
  METRICS_REQUEST,
  type MetricsReply,
  WORKER_FD,
  WORKER_JOIN,
  WORKER_PORT,
} from './messages.ts';
import { serveMetrics } from './metrics-port.ts';
import { onStopSignal } from './signals.ts';
import { listenFields, noteConnectionBudget, warnAtStart } from './startup.ts';

/** What the primary knows about its workers while it runs. */
interface Fleet {
  readonly config: ServeConfig;
  readonly binding: Binding;
  readonly logger: Logger;
  /** The port workers bind: the one the first worker got when --port is 0. */
  port: number;
  /** Workers that said they listen: the first took the port (checked free), the rest join it. */
  listening: number;
  /** Set once the primary stops (or gives up): exits are then expected. */
  stopping: boolean;
  /** Ends the start with a failure; a no-op once started. */
  failStart: (failure: Failure) => void;
}

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

/**
 * cluster starts `<node> <exec> <args>`. A single executable hands every argument to the app
 * (its argv[1] is the executable again), so there the `exec` slot carries the subcommand.
 * Workers take the connection limit and the engine the primary worked out (and logged), not
 * their own.
 */
function setWorkerCommand(config: ServeConfig, serveArgv: readonly string[]): void {
  const workerArgv = [
    ...serveArgv,
    '--max-connections',
    String(config.echo.maxConnections),
    '--engine',
    config.echo.engine,
  ];
  if (isSea()) cluster.setupPrimary({ exec: 'serve', args: workerArgv });
  else cluster.setupPrimary({ exec: process.argv[1], args: ['serve', ...workerArgv] });
}

function forkWorker(fleet: Fleet): void {
  const { binding, config, logger } = fleet;
  const worker = cluster.fork(
    'fd' in binding
      ? { [WORKER_FD]: String(binding.fd) }
      : { [WORKER_PORT]: String(fleet.port), [WORKER_JOIN]: fleet.listening > 0 ? '1' : '0' },
  );
  // A fork that cannot even start (spawn EMFILE…) must not crash the primary (no 'exit' follows).
  worker.on('error', (error: Error) => {
    if (fleet.listening < config.workers)
      fleet.failStart({ reason: `cannot start a worker: ${error.message}`, status: 1 });
    else {
      logger.error('cannot start a worker; trying again', { error: error.message });
      setTimeout(() => forkWorker(fleet), 1000);
    }
  });
}

/**
 * The first worker starts alone: it checks that nothing else listens on the port (again: the
 * primary's check came a process start earlier) and binds it, or with port 0 picks one; the
 * others join it, and a port that cannot be bound fails once, with one message. Resolves when
 * all listen, or with the first failure (a worker that cannot start would fail again: no retry
 * here).
 */
function startWorkers(fleet: Fleet): Promise<ListeningMessage | Failure> {
  const { config } = fleet;
  const failures = new Map<number, Failure>();
  return new Promise((resolve) => {
    const onMessage = (worker: Worker, message: ListeningMessage | FailedMessage) => {
      if (message?.type === FAILED)
        failures.set(worker.id, { reason: message.reason, status: message.status });
      if (message?.type !== LISTENING) return;
      if (++fleet.listening === 1) {
        fleet.port = message.port;
        for (let i = 1; i < config.workers; i++) forkWorker(fleet);
      }
      if (fleet.listening === config.workers) done(message);
    };
    const onExit = (worker: Worker, code: number | null, signal: string | null) => {
      const how = signal !== null ? `was killed by ${signal}` : `exited with status ${code}`;
      done(failures.get(worker.id) ?? { reason: `a worker ${how} before it listened`, status: 1 });
    };
    const done = (result: ListeningMessage | Failure) => {
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      fleet.failStart = () => {};
      resolve(result);
    };
    fleet.failStart = done;
    cluster.on('message', onMessage);
    cluster.on('exit', onExit);
    forkWorker(fleet);
  });
}

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

function restartWorkersThatDie(fleet: Fleet): void {
  cluster.on('exit', (worker, code, signal) => {
    if (fleet.stopping) return;
    fleet.logger.error('worker died; starting another', {
      pid: worker.process.pid,
      code: code ?? undefined,
      signal: signal ?? undefined,
    });
    // Not unref'd: with every worker gone this timer is what keeps the primary alive.
    setTimeout(() => forkWorker(fleet), 1000);
  });
}

/** Every worker answers health checks as the primary's switch says. */
function tellWorkers(state: HealthState): void {
  const message: HealthMessage = { type: HEALTH, state };
  for (const worker of liveWorkers()) if (worker.isConnected()) worker.send(message);
}

/** A worker started after a switch (one that replaces a dead one) learns it once it listens. */
function keepNewWorkersInStep(health: Health): void {
  cluster.on('message', (worker: Worker, message: { type?: string }) => {
    if (message?.type === LISTENING && health.state !== 'ok')
      worker.send({ type: HEALTH, state: health.state } satisfies HealthMessage);
  });
}

/**
 * SIGTERM to every worker at once: each runs the drain delay itself (systemd and a terminal's
 * Ctrl-C signal every process of the service, not only the primary), then drains for the drain
 * time, and is killed 5 s past both. The primary logs the steps for all of them.
 */
async function drainWorkers(
  config: ServeConfig,
  logger: Logger,
  signal: string,
  health: Health,
): Promise<void> {
  const workers = liveWorkers();
  const killAfter = config.drainDelayMs + config.drainTimeoutMs + 5000;
  const exited = Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once('exit', () => resolve());
          worker.process.kill('SIGTERM');
          setTimeout(() => worker.process.kill('SIGKILL'), killAfter).unref();
        }),
    ),
  );
  await drainDelay(health, config.drainDelayMs, () =>
    logger.notice(`${signal}: failing health checks before draining`, {
      workers: workers.length,
      delay: `${config.drainDelayMs / 1000}s`,
    }),
  );
  logger.notice(`${signal}: draining`, {
    workers: workers.length,
    timeout: `${config.drainTimeoutMs / 1000}s`,
  });
  await exited;
}

function liveWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
}

/** The part of a worker a scrape uses. */
export interface ReportingWorker {
  readonly id: number;
  isConnected(): boolean;
  send(message: unknown): unknown;
}

/** Where workers' replies arrive (cluster: 'message' with the worker and the message). */
export interface ReplySource {
  on(event: 'message', listener: (worker: ReportingWorker, message: MetricsReply) => void): unknown;
}

/**
 * A scrape asks every worker for its report; a worker that does not answer within `waitMs` is
 * left out. One listener on `source` serves every scrape in flight (a listener per scrape and
 * worker would pile up under concurrent scrapes).
 */
export function reportCollector(
  source: ReplySource,
  workers: () => readonly ReportingWorker[],
  waitMs = 1000,
): () => Promise<ProcessReport[]> {
  const waiting = new Map<string, (report: ProcessReport | null) => void>();
  let nextId = 0;
  source.on('message', (worker, message) => {
    if (message?.type === METRICS_REPLY)
      waiting.get(`${message.id}/${worker.id}`)?.(message.report);
  });
  const ask = (worker: ReportingWorker, id: number) =>
    new Promise<ProcessReport | null>((resolve) => {
      const key = `${id}/${worker.id}`;
      const timer = setTimeout(() => settle(null), waitMs);
      const settle = (report: ProcessReport | null) => {
        clearTimeout(timer);
        waiting.delete(key);
        resolve(report);
      };
      waiting.set(key, settle);
      worker.send({ type: METRICS_REQUEST, id });
    });
  return async () => {
    const id = ++nextId;
    const asked = workers().filter((worker) => worker.isConnected());
    const reports = await Promise.all(asked.map((worker) => ask(worker, id)));
    return reports.filter((r): r is ProcessReport => r !== null);
  };
}
