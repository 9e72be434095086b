// An in-process echo server for tests: loopback, ephemeral port, JSON logs kept in memory.
// Through the package entry, as library users and the benchmark get it.
import {
  buildProxyHeader,
  createEchoServer,
  createLogger,
  type EchoServer,
  type EchoServerOptions,
  type Level,
} from '../../src/index.ts';
import { MemorySink } from '../../src/log.ts';

export interface Started {
  readonly echo: EchoServer;
  readonly port: number;
  /** Every log line so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  /** Log lines with this message (and level, when given). */
  logged(msg: string, level?: Level): Array<Record<string, unknown>>;
}

export async function startEcho(
  options: EchoServerOptions = {},
  host = '127.0.0.1',
  level: Level = 'debug',
): Promise<Started> {
  const sink = new MemorySink();
  const echo = createEchoServer({
    ...options,
    logger: createLogger({ level, format: 'json', sink }),
  });
  const { port } = await echo.listen({ port: 0, host });
  const logs = () => sink.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    echo,
    port,
    logs,
    logged: (msg, lvl) =>
      logs().filter((l) => l.msg === msg && (lvl === undefined || l.level === lvl)),
  };
}

/** Runs `body` against a fresh server, which is closed afterwards (also when `body` throws). */
export async function withEcho(
  options: EchoServerOptions,
  body: (started: Started) => Promise<void>,
  host?: string,
  level?: Level,
): Promise<void> {
  const started = await startEcho(options, host, level);
  try {
    await body(started);
  } finally {
    await started.echo.close(0);
  }
}

/** A v1 line as a Classic ELB sends it. */
export function v1(client = '54.222.152.163', clientPort = 45418): Buffer {
  return Buffer.from(
    buildProxyHeader({
      version: 1,
      command: 'proxy',
      protocol: 'TCP4',
      source: { address: client, port: clientPort },
      destination: { address: '10.0.11.239', port: 5000 },
    }),
  );
}

/** A v2 PROXY header over IPv6 as an NLB sends it, with a CRC32C. */
export function v2(client = '2001:db8::1', clientPort = 443): Buffer {
  return Buffer.from(
    buildProxyHeader(
      {
        version: 2,
        command: 'proxy',
        protocol: 'TCP6',
        source: { address: client, port: clientPort },
        destination: { address: '2001:db8::ffff', port: 5000 },
      },
      { crc32c: true },
    ),
  );
}

/** A v2 LOCAL header: an NLB health check. */
export function v2Local(): Buffer {
  return Buffer.from(buildProxyHeader({ version: 2, command: 'local', protocol: 'UNKNOWN' }));
}

/** Resolves when `check()` is true (polled every 10 ms); rejects after `timeoutMs`. */
export async function eventually(
  check: () => boolean,
  what: string,
  timeoutMs = 3000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
