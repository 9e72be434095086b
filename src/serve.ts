// `elb-proxy-echo serve`: the options table → one frozen config → the server (or its workers).
//
// Everything from argv and the environment is read here, once; bad values throw UsageError
// (exit 2, one line) before anything listens. Below this file nothing reads process.env.
import cluster from 'node:cluster';
import { createLogger, FdSink, isJournal, type Logger, LEVELS, LOG_FORMATS } from './log.ts';
import {
  duration,
  durationText,
  flag,
  formatOptions,
  integer,
  isSettingError,
  oneOf,
  option,
  type OptionTable,
  type OptionValues,
  parseOptions,
  size,
  text,
  TIME_SYNTAX,
  timeText,
  unknownVariables,
  UsageError,
  withEnv,
} from './options.ts';
import { runPrimary } from './server/process/primary.ts';
import type { ServeConfig } from './server/process/config.ts';
import { type Binding, WORKER_FD, WORKER_PORT, workerBinding } from './server/process/messages.ts';
import { runWorker, startWorker } from './server/process/worker.ts';
import { type ConnectionBudget, readConnectionBudget } from './server/process/descriptors.ts';
import { METRICS_LIMITS } from './server/metrics/limits.ts';
import {
  ENGINE_CHOICES,
  type EngineChoice,
  type PickedEngine,
  pickEngine,
} from './server/engine/pick.ts';
import { hostIdentity, type ServerIdentity } from './server/answer/identity.ts';
import {
  type IdentityChoice,
  IMDS_ENDPOINT,
  identify,
  parseIdentity,
} from './server/process/identify.ts';
import { POLICIES } from './server/policy.ts';
import type { TlsOptions } from './server/answer/tls-handoff.ts';
import { ECHO_DEFAULTS } from './server/server.ts';
import { parseTrustList, type TrustList } from './server/trust.ts';

export const serveOptions = withEnv({
  port: { ...option('port', 'N', 'TCP port to listen on', 5000, integer(0, 65535)), short: 'p' },
  host: option('host', 'ADDR', 'address to listen on (:: is IPv6 and IPv4)', '::', text),
  backlog: option(
    'backlog',
    'N',
    'connections the kernel queues before the server accepts them (a burst from the balancer; capped by net.core.somaxconn)',
    4096,
    integer(1, 65535),
  ),
  proxyProtocol: option(
    'proxy-protocol',
    'POLICY',
    'require, optional or off: whether connections start with a PROXY header',
    ECHO_DEFAULTS.proxyProtocol,
    oneOf(POLICIES),
  ),
  trust: option(
    'trust',
    'CIDR,…',
    'only these sources may send a PROXY header (the balancer subnets; none: anyone)',
    null as TrustList | null,
    parseTrustList,
  ),
  headerTimeout: option(
    'header-timeout',
    'TIME',
    'time a PROXY header may take from its first byte',
    timeText(ECHO_DEFAULTS.headerTimeoutMs),
    durationText(60_000, false),
  ),
  idleTimeout: option(
    'idle-timeout',
    'TIME',
    'close a connection without data for this long (also one that has sent nothing yet)',
    timeText(ECHO_DEFAULTS.idleTimeoutMs),
    durationText(24 * 3600_000, false),
  ),
  keepalive: option(
    'keepalive',
    'TIME',
    'TCP keepalive on accepted connections: idle time before the first probe, whole seconds (an NLB forgets a flow idle for 350s; 0 or off: none)',
    timeText(ECHO_DEFAULTS.keepAliveMs),
    keepAliveText,
  ),
  maxLine: option(
    'max-line',
    'BYTES',
    'longest line echoed; a longer one closes the connection',
    ECHO_DEFAULTS.maxLine,
    size(1, 16 * 1024 * 1024),
  ),
  maxConnections: option(
    'max-connections',
    'N|auto',
    `refuse connections beyond this many, per process (auto: the open-file limit less what the server keeps for itself, at most ${ECHO_DEFAULTS.maxConnections})`,
    'auto',
    (raw) => (raw === 'auto' ? 'auto' : String(integer(1, 1_000_000)(raw))),
  ),
  transform: option(
    'transform',
    'MODE',
    'none, or upper: echo in upper case',
    'none' as 'none' | 'upper',
    oneOf(['none', 'upper']),
  ),
  // A switch: no value.
  greeting: {
    flag: 'greeting',
    help: 'before any echo, tell each client in one line who the server saw (client, balancer, PROXY header)',
    default: false,
    parse: flag,
  },
  identity: option(
    'identity',
    'auto|ec2|host|TEXT',
    'how answers name this backend: auto (instance id, zone and region from the instance metadata on EC2, else the host name), ec2 (ask the metadata service anyway), host, or a label of your own',
    'auto' as IdentityChoice,
    parseIdentity,
  ),
  imdsEndpoint: option(
    'imds-endpoint',
    'URL',
    'the instance metadata service --identity asks (IPv6-only instances: http://[fd00:ec2::254])',
    IMDS_ENDPOINT,
    httpUrl,
  ),
  http: option(
    'http',
    'MODE',
    'auto: a connection whose first line is an HTTP/1.x request gets HTTP answers with what the server saw; off: echo it',
    'auto' as 'auto' | 'off',
    oneOf(['auto', 'off']),
  ),
  tlsCert: option(
    'tls-cert',
    'FILE',
    'PEM certificate: a connection that begins TLS after its header is served over TLS (read again on SIGHUP)',
    null as string | null,
    text,
  ),
  tlsKey: option('tls-key', 'FILE', 'PEM private key of --tls-cert', null as string | null, text),
  tlsClientCa: option(
    'tls-client-ca',
    'FILE',
    'PEM CA certificates: ask TLS clients for a certificate and show whether it verifies against them',
    null as string | null,
    text,
  ),
  tls: option(
    'tls',
    'MODE',
    'with --tls-cert: auto (TLS and clear on one port) or require (refuse clear connections)',
    'auto' as 'auto' | 'require',
    oneOf(['auto', 'require']),
  ),
  logLevel: option(
    'log-level',
    'LEVEL',
    'debug (also lines of data), info, warn or error',
    'info' as (typeof LEVELS)[number],
    oneOf(LEVELS),
  ),
  logFormat: option(
    'log-format',
    'FORMAT',
    'text (for journalctl) or json (one object per line)',
    'text' as (typeof LOG_FORMATS)[number],
    oneOf(LOG_FORMATS),
  ),
  metricsPort: option(
    'metrics-port',
    'N',
    'serve /healthz, the health switch (/health) and Prometheus /metrics on this port (off: none)',
    'off',
    (raw) => (raw === 'off' ? 'off' : String(integer(0, 65535)(raw))),
  ),
  metricsHost: option(
    'metrics-host',
    'ADDR',
    'address of the metrics port (it has no authentication: open it to your Prometheus only)',
    '127.0.0.1',
    text,
  ),
  workers: option('workers', 'N|auto', 'server processes (auto: one per CPU)', '1', (raw) =>
    raw === 'auto' ? 'auto' : String(integer(1, 64)(raw)),
  ),
  engine: option(
    'engine',
    'NAME',
    "uv (the runtime's libuv TCP handles), net (node:net sockets) or auto: uv when this runtime's bindings pass a check at start, else net",
    'auto' as EngineChoice,
    oneOf(ENGINE_CHOICES),
  ),
  drainDelay: option(
    'drain-delay',
    'TIME',
    'on SIGTERM/SIGINT, first keep accepting and serving this long while HTTP health checks fail (503), so the balancer stops sending clients; then the drain',
    '0',
    durationText(3600_000, true),
  ),
  drainTimeout: option(
    'drain-timeout',
    'TIME',
    'on SIGTERM/SIGINT, time open connections get to finish',
    timeText(ECHO_DEFAULTS.drainMs),
    durationText(3600_000, true),
  ),
} satisfies OptionTable);

/** `--keepalive`: `off`, 0, or whole seconds up to two hours (TCP_KEEPIDLE counts seconds). */
function keepAliveText(raw: string): string {
  if (raw === 'off') return raw;
  const ms = duration(7200_000)(raw);
  if (ms % 1000 !== 0) throw new UsageError(`${raw} is not a whole number of seconds`);
  return raw;
}

function httpUrl(raw: string): string {
  const url = URL.parse(raw);
  if (url?.protocol !== 'http:' || url.pathname !== '/' || url.search !== '')
    throw new UsageError(`"${raw}" is not an http:// address without a path`);
  return raw;
}

const SERVE_ABOUT = `A TCP echo server for the backends of AWS load balancers: it reads the PROXY protocol
header (v1 from Classic ELB, v2 from NLB), logs the real client, then echoes every line
until a line "q" or "Q". A first line that is an HTTP request (curl, a browser, an HTTP
health check) is answered over HTTP with what the server saw; --greeting tells a telnet
client the same in one line before the echo.`;

const SERVE_EXIT = `Exit status:
  0  stopped by SIGTERM or SIGINT, after the drain
  1  a failure other than a bad setting (with --workers: no worker could listen)
  2  a bad setting: a bad value (one line names the flag or variable), the port or the metrics
     port in use, more than one socket from systemd`;

/** The help of serve, with `commands` (the overview's list) between its description and options. */
export function serveHelp(usage: string, commands = ''): string {
  return `${usage}

${SERVE_ABOUT}
${commands}
Options of serve:
${formatOptions(serveOptions)}

${TIME_SYNTAX}

${SERVE_EXIT}`;
}

/** `budget` is asked only for `--max-connections auto` (it reads this process's descriptor limit). */
export function toConfig(
  values: OptionValues<typeof serveOptions>,
  cpus: number,
  budget: (extra: number) => ConnectionBudget = (extra) =>
    readConnectionBudget(ECHO_DEFAULTS.maxConnections, extra),
): ServeConfig {
  if (values.metricsPort === String(values.port) && values.port !== 0) {
    throw new UsageError(`--metrics-port ${values.metricsPort} is the echo port too; pick another`);
  }
  const ms = duration(Number.MAX_SAFE_INTEGER);
  // The metrics listener and its connections take descriptors too.
  const metricsDescriptors = values.metricsPort === 'off' ? 0 : 1 + METRICS_LIMITS.connections;
  const connectionBudget = values.maxConnections === 'auto' ? budget(metricsDescriptors) : null;
  const engine = engineFor(values.engine);
  return Object.freeze({
    port: values.port,
    host: values.host,
    backlog: values.backlog,
    echo: Object.freeze({
      proxyProtocol: values.proxyProtocol,
      trust: values.trust,
      headerTimeoutMs: ms(values.headerTimeout),
      idleTimeoutMs: ms(values.idleTimeout),
      keepAliveMs: values.keepalive === 'off' ? 0 : ms(values.keepalive),
      maxLine: values.maxLine,
      maxConnections: connectionBudget?.maxConnections ?? Number(values.maxConnections),
      transform: values.transform,
      engine: engine.engine.name,
      greeting: values.greeting,
      http: values.http,
      tls: tlsOf(values),
    }),
    engineFallback: engine.fallback,
    logLevel: values.logLevel,
    logFormat: values.logFormat,
    metricsPort: values.metricsPort === 'off' ? null : Number(values.metricsPort),
    metricsHost: values.metricsHost,
    workers: values.workers === 'auto' ? Math.max(1, cpus) : Number(values.workers),
    drainDelayMs: ms(values.drainDelay),
    drainTimeoutMs: ms(values.drainTimeout),
    connectionBudget,
  });
}

/** The TLS settings: both files or neither; the files themselves are read when the server starts. */
function tlsOf(values: OptionValues<typeof serveOptions>): TlsOptions | null {
  const { tlsCert: cert, tlsKey: key, tlsClientCa: clientCa } = values;
  if (cert === null && key === null) {
    if (clientCa !== null) throw new UsageError('--tls-client-ca needs --tls-cert and --tls-key');
    if (values.tls === 'require')
      throw new UsageError('--tls require needs --tls-cert and --tls-key');
    return null;
  }
  if (cert === null || key === null)
    throw new UsageError(
      `${cert === null ? '--tls-key' : '--tls-cert'} needs ${cert === null ? '--tls-cert' : '--tls-key'} too`,
    );
  return Object.freeze({
    files: Object.freeze({ cert, key, clientCa }),
    require: values.tls === 'require',
  });
}

function engineFor(choice: EngineChoice): PickedEngine {
  try {
    return pickEngine(choice);
  } catch (error) {
    throw new UsageError(`--engine ${choice}: ${(error as Error).message}`);
  }
}

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
