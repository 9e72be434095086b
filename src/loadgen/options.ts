// `elb-proxy-echo bench` options, described with the shared option table (src/options.ts).
// No environment variables here: a benchmark is run by hand, with its flags in view.
import { isIP } from 'node:net';
import {
  duration,
  durationText,
  integer,
  oneOf,
  option,
  type OptionTable,
  type OptionValues,
  text,
  UsageError,
} from '../options.ts';

export const ms = duration(Number.MAX_SAFE_INTEGER);

/** `HOST:PORT` or `[IPv6]:PORT`. */
export function hostPort(raw: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(raw);
  if (m === null)
    throw new UsageError(
      `"${raw}" is not HOST:PORT (e.g. my-lb-123.elb.amazonaws.com:5000 or [::1]:5000)`,
    );
  return { host: m[1] ?? m[2], port: integer(1, 65535)(m[3]) };
}

/**
 * `--start-at`: RFC 3339 with its offset (`2026-11-30T08:00:00Z`, `…+01:00`, fractions allowed)
 * or seconds since the epoch (`1795939200`, `1795939200.5`); returns epoch milliseconds.
 */
export function startTime(raw: string): number {
  const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
  if (/^\d{9,11}(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  const at = rfc3339.test(raw) ? Date.parse(raw.replace(' ', 'T')) : NaN;
  if (Number.isNaN(at))
    throw new UsageError(
      `"${raw}" is not a time: RFC 3339 with an offset (2026-11-30T08:00:00Z) or epoch seconds`,
    );
  return at;
}

/** `--expect-client`: an IPv4 or IPv6 address (brackets allowed), as text. */
export function clientAddress(raw: string): string {
  const address = raw.replace(/^\[(.*)\]$/, '$1');
  if (isIP(address) === 0)
    throw new UsageError(`"${raw}" is not an IP address (e.g. 203.0.113.7 or 2001:db8::7)`);
  return address;
}

/** Shortest and longest keepalive idle time Linux takes (TCP_KEEPIDLE, whole seconds). */
const KEEPALIVE_MIN_MS = 1000;
const KEEPALIVE_MAX_MS = 32_767_000;

/** `--keepalive`: `off`, or an idle time from 1s to 32767s. */
function keepaliveTime(raw: string): string {
  if (raw === 'off') return raw;
  const idle = duration(KEEPALIVE_MAX_MS)(raw);
  if (idle < KEEPALIVE_MIN_MS) throw new UsageError(`${raw} is shorter than 1s`);
  return raw;
}

/** `auto`, or a whole number in range. */
function countOrAuto(min: number, max: number): (raw: string) => number | 'auto' {
  return (raw) => (raw === 'auto' ? raw : integer(min, max)(raw));
}

export const benchOptions = {
  scenario: option(
    'scenario',
    'NAME',
    'pingpong (lines/s, latency), connect (connection churn) or hold (idle clients, server memory)',
    'pingpong' as 'pingpong' | 'connect' | 'hold',
    oneOf(['pingpong', 'connect', 'hold']),
  ),
  clients: {
    ...option('clients', 'N', 'concurrent telnet-like clients', 1000, integer(1, 200_000)),
    short: 'c',
  },
  duration: {
    ...option(
      'duration',
      'TIME',
      'measured time, after every client is connected',
      '10s',
      durationText(600_000, true),
    ),
    short: 'd',
  },
  lineBytes: option(
    'line-bytes',
    'N',
    'bytes per line a client types, CR LF included',
    16,
    integer(3, 65_536),
  ),
  think: option(
    'think',
    'TIME|auto',
    'pause between an echo and the next line (auto: 0, or about 2s in hold)',
    'auto',
    (raw) => (raw === 'auto' ? raw : durationText(600_000, true)(raw)),
  ),
  proxyHeader: option(
    'proxy-header',
    'KIND',
    'v1, v2, none or auto: the header sent first on each connection, as a balancer would (auto: v2, but none for a --target off this machine, whose balancer adds it)',
    'auto' as 'v1' | 'v2' | 'none' | 'auto',
    oneOf(['v1', 'v2', 'none', 'auto']),
  ),
  target: option(
    'target',
    'HOST:PORT',
    'drive this endpoint (a load balancer) instead of starting a server',
    null as { host: string; port: number } | null,
    hostPort,
  ),
  tls: {
    flag: 'tls',
    help: 'TLS after the header, to a --target serving it (its certificate is not verified unless --tls-ca)',
    default: false,
    parse: () => true,
  },
  tlsCa: option(
    'tls-ca',
    'FILE',
    'PEM CA certificates: verify the --tls target against them',
    '',
    text,
  ),
  expectClient: option(
    'expect-client',
    'ADDR',
    "the client address every backend should name (this machine's public address behind a NAT); default: each connection's own source address and port, or the client its PROXY header named",
    null as string | null,
    clientAddress,
  ),
  keepalive: option(
    'keepalive',
    'TIME|off',
    'TCP keepalive probes on each connection after TIME idle (under 350s for long sessions through an NLB, which drops flows idle that long)',
    'off',
    keepaliveTime,
  ),
  server: option(
    'server',
    'KIND',
    'in-process, src (this program as a child: node src/cli.ts or this executable) or dist (the built executable)',
    'in-process' as 'in-process' | 'src' | 'dist',
    oneOf(['in-process', 'src', 'dist']),
  ),
  workers: option(
    'workers',
    'N|auto',
    'server workers for --server src|dist (raised when one process may not hold every connection)',
    1 as number | 'auto',
    countOrAuto(1, 64),
  ),
  procs: option(
    'procs',
    'N|auto',
    'generator processes (auto: one per CPU the server leaves free, or as the descriptor limit needs; 0: inside this process, where the CPU and memory of an in-process server cannot be measured)',
    'auto' as number | 'auto',
    countOrAuto(0, 64),
  ),
  pin: option(
    'pin',
    'on|off',
    'pin the server to CPU 0 and the generators to the others with taskset (one-worker servers)',
    'on' as 'on' | 'off',
    oneOf(['on', 'off']),
  ),
  timeout: option(
    'timeout',
    'TIME',
    'longest wait for a connect, an echo or a close before it counts as an error',
    '10s',
    durationText(120_000, false),
  ),
  maxErrors: option(
    'max-errors',
    'N',
    'errors other than wrong echoes tolerated before the exit status is 1 (a wrong echo always is)',
    0,
    integer(0, 1_000_000_000),
  ),
  startAt: option(
    'start-at',
    'WHEN',
    'measure from WHEN (RFC 3339 or epoch seconds) for --duration, connected and warmed up before: one window for many generators (bench merge)',
    null as number | null,
    startTime,
  ),
  warmUp: option(
    'warm-up',
    'TIME',
    'how long a --start-at may already have passed (the window then opens once the clients are up)',
    '10s',
    durationText(600_000, true),
  ),
  label: option(
    'label',
    'NAME',
    "this generator's name in its JSON and in a merged report (none: the host name)",
    '',
    text,
  ),
  json: {
    flag: 'json',
    help: 'print one JSON object instead of the table',
    default: false,
    parse: () => true,
  },
  chart: option(
    'chart',
    'FILE',
    'also draw the result as a bar chart (SVG, or an HTML page for a .html name)',
    '',
    text,
  ),
  quiet: {
    flag: 'quiet',
    short: 'q',
    help: 'no progress line on stderr',
    default: false,
    parse: () => true,
  },
  asGenerator: {
    flag: 'as-generator',
    help: 'internal: run as a generator process of a parent bench',
    default: false,
    parse: () => true,
  },
} satisfies OptionTable;

/** The values of `bench`'s options, as parsed. */
export type BenchValues = OptionValues<typeof benchOptions>;
