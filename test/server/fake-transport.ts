// A connection without a socket: a Transport that records what the connection does to it, a
// ServerContext around it with a clock the test moves, and an HTTP answerer that records the
// hand-offs. For test/server/connection.test.ts: bytes in, then what was written, logged,
// counted, and the phase the connection is in. A fake TlsHandoff records each connection handed
// to TLS (the bytes it came with, and who hears the handshake's end) and gives it a new fake
// transport: the test plays node:tls by calling onSecure / onTlsFailure itself.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { createLogger, MemorySink } from '../../src/log.ts';
import type { BackendView } from '../../src/server/answer/backend-view.ts';
import type { HttpAnswerer, HttpSession } from '../../src/server/answer/http-handoff.ts';
import type { TlsHandoff, TlsOwner } from '../../src/server/answer/tls-handoff.ts';
import { accept, type Connection } from '../../src/server/connection.ts';
import type { ServerContext } from '../../src/server/server-context.ts';
import type { Transport, TransportEvents } from '../../src/server/engine/transport.ts';
import { Metrics } from '../../src/server/metrics/metrics.ts';
import type { Policy } from '../../src/server/policy.ts';
import { sweep } from '../../src/server/sweep.ts';
import { trustListOf } from '../../src/server/trust.ts';

export class FakeTransport implements Transport {
  events: TransportEvents | null = null;
  /** Each write (write: both parts joined; writeText: its text), as latin1 text. */
  readonly writes: string[] = [];
  /** What write() answers: false plays a client that does not read its echo. */
  accepts = true;
  paused = false;
  ended = false;
  destroyed = false;
  /** The bytes handed back with the socket when the connection left for node:http. */
  unread: string | null = null;
  readonly address: string | undefined;
  readonly port: number;

  constructor(address: string | undefined, port: number) {
    this.address = address;
    this.port = port;
  }

  get writable(): boolean {
    return !this.ended && !this.destroyed;
  }

  start(events: TransportEvents): void {
    this.events = events;
  }

  write(first: Buffer, second?: Buffer): boolean {
    this.writes.push(first.toString('latin1') + (second?.toString('latin1') ?? ''));
    return this.accepts;
  }

  writeText(text: string): void {
    if (this.writable) this.writes.push(text);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  end(): void {
    this.ended = true;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.events?.onClose(null);
  }

  queuedBytes(): number {
    return 0;
  }

  remoteAddress(): string | undefined {
    return this.address;
  }

  remotePort(): number {
    return this.port;
  }

  detach(unread?: Buffer): net.Socket {
    this.unread = unread?.toString('latin1') ?? '';
    this.events = null;
    const socket = new EventEmitter() as EventEmitter & {
      localAddress: string;
      localPort: number;
      unread: string;
    };
    socket.localAddress = '10.0.0.9';
    socket.localPort = 5000;
    socket.unread = this.unread;
    return socket as unknown as net.Socket;
  }

  /**
   * One read of `bytes`. As an engine may, the read's memory is reused once the call returns
   * (overwritten here): whatever the connection keeps must be its own copy.
   */
  send(bytes: Buffer | string): void {
    const chunk = Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    this.events!.onData(chunk);
    chunk.fill(0xee);
  }

  /** All that was written, in order. */
  output(): string {
    return this.writes.join('');
  }
}

/** What the HTTP answerer was given for one connection. */
export interface HandOff {
  readonly socket: net.Socket;
  readonly view: BackendView;
  readonly healthCheck: boolean;
  readonly session: HttpSession;
}

/** One connection handed to the fake TLS: the bytes it came with, its owner, its new transport. */
export interface TlsTake {
  readonly unread: string;
  readonly owner: TlsOwner;
  readonly transport: FakeTransport;
}

export interface FakeOptions {
  readonly policy?: Policy;
  readonly trust?: readonly string[];
  readonly maxLine?: number;
  readonly http?: boolean;
  readonly greeting?: boolean;
  readonly upper?: boolean;
  readonly headerTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly lingerMs?: number;
  /** --tls-cert with --tls auto or require; absent: no TLS. */
  readonly tls?: 'auto' | 'require';
}

export interface FakeServer {
  readonly ctx: ServerContext;
  readonly metrics: Metrics;
  readonly handOffs: HandOff[];
  readonly tlsTakes: TlsTake[];
  /** A new connection from `address:port`, accepted and reading. */
  connect(address?: string, port?: number): { transport: FakeTransport; conn: Connection };
  /** Moves the clock on by `ms` and runs the sweep, as the server's timer does. */
  advance(ms: number): void;
  /** The log lines so far, each as `level msg key=value…` (no time, no duration). */
  logs(): string[];
}

export function fakeServer(options: FakeOptions = {}): FakeServer {
  const sink = new MemorySink();
  const metrics = new Metrics();
  const handOffs: HandOff[] = [];
  const http: HttpAnswerer = {
    take: (socket, view, healthCheck, session) =>
      void handOffs.push({ socket, view, healthCheck, session }),
    close() {},
  };
  const tlsTakes: TlsTake[] = [];
  const tls: TlsHandoff = {
    required: options.tls === 'require',
    take(socket, owner) {
      const transport = new FakeTransport('10.0.0.5', 40000);
      const { unread } = socket as unknown as { unread: string };
      tlsTakes.push({ unread, owner, transport });
      return transport;
    },
    reload: () => null,
  };
  const ctx: ServerContext = {
    policy: options.policy ?? 'require',
    trust: options.trust === undefined ? null : trustListOf(options.trust),
    maxLine: options.maxLine ?? 16384,
    headerTimeoutMs: options.headerTimeoutMs ?? 5000,
    idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
    lingerMs: options.lingerMs ?? 2000,
    upper: options.upper === true,
    parseOptions: {},
    logger: createLogger({ level: 'debug', format: 'json', sink }),
    metrics,
    http: options.http === false ? null : http,
    tls: options.tls === undefined ? null : tls,
    greeting: options.greeting === true,
    identity: { host: 'test-host' },
    connections: new Set<Connection>(),
    now: 1_000_000,
    onClosed: () => {},
  };
  return {
    ctx,
    metrics,
    handOffs,
    tlsTakes,
    connect(address = '10.0.0.5', port = 40000) {
      const transport = new FakeTransport(address, port);
      accept(ctx, transport);
      const conn = [...ctx.connections].at(-1)!;
      return { transport, conn };
    },
    advance(ms) {
      ctx.now += ms;
      sweep(ctx);
    },
    logs: () => sink.lines.map(logLine),
  };
}

function logLine(json: string): string {
  const { time: _time, duration_s: _duration, level, msg, ...fields } = JSON.parse(json);
  const rest = Object.entries(fields).map(([key, value]) => `${key}=${value}`);
  return [level, msg, ...rest].join(' ');
}
