// `elb-proxy-echo serve`: the options table (serve-options.ts) → one frozen config
// (serve-config.ts) → the server (or its workers).
//
// Everything from argv and the environment is read here, once; bad values throw UsageError
// (exit 2, one line) before anything listens. Below this file nothing reads process.env.
import cluster from 'node:cluster';
import { createLogger, FdSink, isJournal, type Logger } from './log.ts';
import { isSettingError, parseOptions, unknownVariables, UsageError } from './options.ts';
import { toConfig } from './serve-config.ts';
import { serveOptions } from './serve-options.ts';
import { hostIdentity, type ServerIdentity } from './server/answer/identity.ts';
import type { ServeConfig } from './server/process/config.ts';
import { identify } from './server/process/identify.ts';
import { type Binding, WORKER_FD, WORKER_PORT, workerBinding } from './server/process/messages.ts';
import { runPrimary } from './server/process/primary.ts';
import { runWorker, startWorker } from './server/process/worker.ts';

/**
 * systemd socket activation: the listening socket is fd 3 when LISTEN_PID is this process.
 * One socket is served; more (several ListenStream= lines) is refused at start, as serving fd 3
 * alone would leave connections to the others waiting in their queues, never accepted.
 */
export function activatedFd(
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
): number | null {
  if (env.LISTEN_PID !== String(pid)) return null;
  const count = Number(env.LISTEN_FDS);
  if (!Number.isInteger(count) || count < 1) return null;
  if (count > 1)
    throw new UsageError(
      `systemd passed ${count} listening sockets (LISTEN_FDS=${count}); elb-proxy-echo serves one: give its socket unit a single ListenStream= (install --socket --host ADDR --port N writes one)`,
    );
  return 3;
}

export async function serve(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  // A worker that fails before it listens reports to its primary and exits, whatever failed.
  if (cluster.isWorker) return startWorker(() => start(argv, env), isSettingError);
  return start(argv, env);
}

async function start(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const { values, positionals } = parseOptions(serveOptions, argv, env);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const { availableParallelism } = await import('node:os');
  const config = toConfig(values, availableParallelism());
  const sink = new FdSink(1);
  // Lines still waiting in the sink go out on every way to exit, a fatal error's included.
  process.on('exit', () => sink.flushSync());
  const logger: Logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    sink,
    journal: isJournal(env.JOURNAL_STREAM, 1),
  });
  if (config.echo.tls === null) process.on('SIGHUP', () => logger.info('SIGHUP ignored'));
  // A worker learns its socket and identity from its primary.
  if (cluster.isWorker)
    return runWorker(withIdentity(config, workerIdentity(env)), logger, sink, workerBinding(env));
  for (const line of unknownVariables(serveOptions, env, [
    WORKER_FD,
    WORKER_PORT,
    WORKER_IDENTITY,
    SYS_DIR,
  ]))
    logger.warn(line);
  const { identity, problem } = await identify(values.identity, {
    endpoint: values.imdsEndpoint,
    sysDir: env[SYS_DIR] || '/sys',
  });
  if (problem !== null) logger.warn(problem);
  const fd = activatedFd(env, process.pid);
  if (fd !== null) {
    // Children (workers) must not take the activation variables as theirs.
    for (const name of ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES']) delete process.env[name];
  }
  const binding: Binding = fd !== null ? { fd } : { port: config.port, join: false };
  const identified = withIdentity(config, identity);
  if (config.workers > 1) {
    process.env[WORKER_IDENTITY] = JSON.stringify(identity);
    await runPrimary(identified, logger, sink, binding, argv);
  } else await runWorker(identified, logger, sink, binding);
}

/** Where sysfs is read from to tell an EC2 instance (internal: tests give a tree of their own). */
const SYS_DIR = 'ELB_PROXY_ECHO_SYS_DIR';
/** How the primary hands its identity to its workers, which ask no metadata service themselves. */
const WORKER_IDENTITY = 'ELB_PROXY_ECHO_WORKER_IDENTITY';

function workerIdentity(env: Readonly<Record<string, string | undefined>>): ServerIdentity {
  return JSON.parse(env[WORKER_IDENTITY] ?? 'null') ?? hostIdentity();
}

function withIdentity(config: ServeConfig, identity: ServerIdentity): ServeConfig {
  return Object.freeze({ ...config, echo: Object.freeze({ ...config.echo, identity }) });
}
