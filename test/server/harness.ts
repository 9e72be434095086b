// An in-process echo server for tests: loopback, ephemeral port, JSON logs kept in memory.
// Through the package entry, as library users and the benchmark get it.
//
// The engine comes from ELB_PROXY_ECHO_ENGINE, as for the CLI the suites also start (uv when
// unset): `npm test` runs the server suites once per engine.
import {
  awsVpcEndpointTlv,
  buildProxyHeader,
  createEchoServer,
  createLogger,
  type EchoServer,
  type EchoServerOptions,
  type Level,
  type ProxyHeaderInit,
  TLV_TYPE,
  textTlv,
} from '../../src/index.ts';
import type net from 'node:net';
import { MemorySink } from '../../src/log.ts';
import { ENGINE_CHOICES, type EngineChoice, pickEngine } from '../../src/server/engine/pick.ts';
import type { Engine, Transport } from '../../src/server/engine/transport.ts';

const chosen = process.env.ELB_PROXY_ECHO_ENGINE ?? 'uv';
if (!(ENGINE_CHOICES as readonly string[]).includes(chosen))
  throw new Error(`ELB_PROXY_ECHO_ENGINE=${chosen}: expected one of ${ENGINE_CHOICES.join(', ')}`);
/** The engine the suites run on. */
export const ENGINE = chosen as EngineChoice;

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
    engine: ENGINE,
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

/** A v2 TCP4 header for the client 203.0.113.9:50000 carrying `tlvs`. */
export function v2With(tlvs: NonNullable<ProxyHeaderInit['tlvs']>): Buffer {
  return Buffer.from(
    buildProxyHeader({
      version: 2,
      command: 'proxy',
      protocol: 'TCP4',
      source: { address: '203.0.113.9', port: 50000 },
      destination: { address: '10.0.0.5', port: 5000 },
      tlvs,
    }),
  );
}

/** A v2 header as an NLB sends it for PrivateLink traffic: VPC endpoint, authority and ALPN TLVs. */
export function v2PrivateLink(): Buffer {
  return v2With([
    awsVpcEndpointTlv('vpce-08d2bf15fefb1a2fa'),
    textTlv(TLV_TYPE.AUTHORITY, 'echo.example.com'),
    textTlv(TLV_TYPE.ALPN, 'h2'),
  ]);
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

/** What a test sees of the server's side of its last connection, whatever the engine. */
export interface ServerSide {
  transport: Transport | null;
  /** Reads delivered to the connection, and their bytes. */
  reads: number;
  bytesRead: number;
  /** Calls of write(). */
  writes: number;
  /** Reading stopped for backpressure (pause without resume since). */
  paused: boolean;
  /** The socket the transport handed over when the connection left the fast path (HTTP). */
  detached: net.Socket | null;
}

/** The suites' engine with every accepted transport watched: pass `engine` to the server. */
export function watchedEngine(): { engine: Engine; side: ServerSide } {
  const base = pickEngine(ENGINE).engine;
  const side: ServerSide = {
    transport: null,
    reads: 0,
    bytesRead: 0,
    writes: 0,
    paused: false,
    detached: null,
  };
  const engine: Engine = {
    name: base.name,
    adopt: (server, settings, open, hooks) =>
      base.adopt(server, settings, open, {
        ...hooks,
        accept(transport) {
          side.transport = transport;
          hooks.accept(watched(transport, side));
        },
      }),
  };
  return { engine, side };
}

function watched(transport: Transport, side: ServerSide): Transport {
  const spies: Partial<Transport> = {
    start: (events) =>
      transport.start({
        onData(chunk) {
          side.reads++;
          side.bytesRead += chunk.length;
          events.onData(chunk);
        },
        onDrain: () => events.onDrain(),
        onClose: (error) => events.onClose(error),
      }),
    write(first, second) {
      side.writes++;
      return transport.write(first, second);
    },
    pause() {
      side.paused = true;
      transport.pause();
    },
    resume() {
      side.paused = false;
      transport.resume();
    },
    detach(unread) {
      side.detached = transport.detach(unread);
      return side.detached;
    },
  };
  return new Proxy(transport, {
    get(target, key) {
      const spy = spies[key as keyof Transport];
      if (spy !== undefined) return spy;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
