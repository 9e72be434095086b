// The workers of --workers N as the primary runs them: the command each runs, forking one,
// starting them all (the first binds the port, the others join it), restarting one that dies.
import cluster, { type Worker } from 'node:cluster';
import { isSea } from 'node:sea';
import type { Logger } from '../../log.ts';
import type { ServeConfig } from './config.ts';
import {
  type Binding,
  type Failure,
  FAILED,
  type FailedMessage,
  LISTENING,
  type ListeningMessage,
  WORKER_FD,
  WORKER_JOIN,
  WORKER_PORT,
} from './messages.ts';

/** What the primary knows about its workers while it runs. */
export interface Fleet {
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

/**
 * cluster starts `<node> <exec> <args>`. A single executable hands every argument to the app
 * (its argv[1] is the executable again), so there the `exec` slot carries the subcommand.
 * Workers take the connection limit and the engine the primary worked out (and logged), not
 * their own.
 */
export function setWorkerCommand(config: ServeConfig, serveArgv: readonly string[]): void {
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
export function startWorkers(fleet: Fleet): Promise<ListeningMessage | Failure> {
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

export function restartWorkersThatDie(fleet: Fleet): void {
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

export function liveWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
}
