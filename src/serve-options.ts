// The options of `serve`: each flag with its environment variable, help line, default and value
// parser. serve-config.ts turns their values into the server's frozen config.
import { LEVELS, LOG_FORMATS } from './log.ts';
import {
  duration,
  durationText,
  flag,
  integer,
  oneOf,
  option,
  type OptionTable,
  size,
  text,
  timeText,
  UsageError,
  withEnv,
} from './options.ts';
import { ENGINE_CHOICES, type EngineChoice } from './server/engine/pick.ts';
import { type IdentityChoice, IMDS_ENDPOINT, parseIdentity } from './server/process/identify.ts';
import { POLICIES } from './server/policy.ts';
import { ECHO_DEFAULTS } from './server/server-options.ts';
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
