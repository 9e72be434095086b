// The load generator of one process: many telnet-like clients on one event loop.
//
// Each client connects, sends the balancer's PROXY header and then lines of `lineBytes` (CRLF
// included), waits for each echo and checks it byte for byte against what it sent, and ends with
// `q`. What a client does after a verified echo depends on the scenario:
//   pingpong  the next line at once (or after `thinkMs`), until stopped;
//   hold      the next line after a jittered `thinkMs` (people idling at a prompt), until stopped;
//   connect   `q` at once, then a fresh connection in the same slot (churn), until stopped.
// Everything is bounded: connection attempts in flight (`maxConnecting`, each until its first
// echo), the wait for any echo, connect or close (`timeoutMs`, checked by one sweep timer rather
// than a timer per line), and the run itself (the caller stops it).
//
// A server started with --greeting sends one line `elb-proxy-echo …` before the first echo: a
// client reads it (an echo of ours starts with a digit, never with that text) for the backend
// that served it and the client that backend saw (backends.ts), then checks echoes as usual.
import net from 'node:net';
import tls from 'node:tls';
import { clientEndpoint, headerFor, type HeaderKind, sourceAddress } from './addresses.ts';
import {
  type BackendCounts,
  type BackendTally,
  BackendTallies,
  type ExpectedClient,
  readGreeting,
  UNNAMED,
} from './backends.ts';
import { copyCounters, countersSince, emptyCounters, type Counters } from './counters.ts';
import { Histogram, type HistogramData } from './histogram.ts';

export type Scenario = 'pingpong' | 'connect' | 'hold';

export interface GeneratorConfig {
  readonly scenario: Scenario;
  readonly host: string;
  readonly port: number;
  /** Clients (concurrent connections) this generator runs. */
  readonly clients: number;
  /** Global number of this generator's first client, so headers and sources differ across processes. */
  readonly firstClient: number;
  /** Clients over all generators (decides the spread over loopback source addresses). */
  readonly totalClients: number;
  readonly header: HeaderKind;
  readonly lineBytes: number;
  readonly thinkMs: number;
  readonly timeoutMs: number;
  readonly maxConnecting: number;
  /** TLS after the header (`--tls`); `ca`: PEM to verify the server with, null: not verified. */
  readonly tls: { readonly ca: string | null } | null;
  /** The client address every backend should name (--expect-client), or null: see expectedClient. */
  readonly expectClient: string | null;
  /** TCP keepalive idle time on each connection, ms; 0: off. */
  readonly keepaliveMs: number;
}

export interface GeneratorReport {
  readonly totals: Counters;
  /** Counts since `measure()`: the figures rates are computed from. */
  readonly window: Counters;
  readonly windowMs: number;
  /** CPU time this process spent during the window, in microseconds (user + system). */
  readonly cpuMicros: number;
  /** Echo latency (pingpong, hold) or connect-to-echo time (connect), in microseconds, over the window. */
  readonly latency: HistogramData;
  /** Connections by the backend that served them, as their greetings said. */
  readonly backends: readonly BackendCounts[];
}

const CR = 0x0d;
const LF = 0x0a;
const QUIT = Buffer.from('q\r\n');
/** How a greeting line starts; the whole line (to its LF) is at most GREETING_MAX bytes. */
const GREETING = Buffer.from('elb-proxy-echo ');
const GREETING_MAX = 4096;
/** Client.greeting once no greeting can come any more. */
const NO_GREETING = -1;
const SWEEP_MS = 250;
/**
 * One read buffer for every client socket of this process (`onread`): each read is checked
 * against the line sent before the next read can land, so no bytes need to outlive the callback,
 * and no Buffer is allocated per read.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/** Pause before a churning slot retries after an error, so a dead server is not hammered in a tight loop. */
const RETRY_PAUSE_MS = 20;

/** Error kind for a socket error: stable short names the report groups by. */
function errorKind(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EADDRNOTAVAIL':
    case 'EADDRINUSE':
      return 'no-source-port';
    case 'EMFILE':
    case 'ENFILE':
      return 'fd-limit';
    default:
      return (error.code ?? 'error').toLowerCase();
  }
}

export class Generator {
  readonly config: GeneratorConfig;
  readonly counters = emptyCounters();
  readonly latency = new Histogram();
  readonly backends = new BackendTallies();
  #stopping = false;
  #open = new Set<Client>();
  /** Clients waiting for their turn to connect: a queue read from `#head` (no shift() per client). */
  #waiting: Client[] = [];
  #head = 0;
  /** Slots started so far (`start(n)` may hold some back for `more()`). */
  #started = 0;
  #connecting = 0;
  #sweep: NodeJS.Timeout | undefined;
  #windowStart = copyCounters(this.counters);
  #windowAt = performance.now();
  #cpuAt = process.cpuUsage();
  #onIdle: (() => void) | undefined;

  constructor(config: GeneratorConfig) {
    this.config = config;
  }

  /** Starts the first `count` clients (all by default). */
  start(count = this.config.clients): void {
    this.#sweep ??= setInterval(() => this.#sweepTimeouts(), SWEEP_MS);
    const end = Math.min(this.config.clients, this.#started + count);
    for (let slot = this.#started; slot < end; slot++)
      this.#waiting.push(new Client(this, slot, this.config.firstClient + slot));
    this.#started = end;
    this.#pump();
  }

  /** Starts the clients `start(count)` held back. */
  more(): void {
    this.start(this.config.clients - this.#started);
  }

  /** Starts the measured window: rates, latency and CPU count from here. */
  measure(): void {
    this.latency.reset();
    this.backends.resetLatency();
    this.#windowStart = copyCounters(this.counters);
    this.#windowAt = performance.now();
    this.#cpuAt = process.cpuUsage();
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Asks every client to finish its line and quit; resolves once all are closed (bounded by timeoutMs). */
  stop(): Promise<GeneratorReport> {
    const windowMs = performance.now() - this.#windowAt;
    const cpu = process.cpuUsage(this.#cpuAt);
    const window = countersSince(this.counters, this.#windowStart);
    const latency = this.latency.toData();
    const backends = this.backends.toCounts();
    this.#stopping = true;
    this.#waiting = [];
    this.#head = 0;
    for (const client of this.#open) client.stopRequested();
    return new Promise((resolve) => {
      const finish = () => {
        clearInterval(this.#sweep);
        clearTimeout(deadline);
        resolve({
          totals: copyCounters(this.counters),
          window,
          windowMs,
          cpuMicros: cpu.user + cpu.system,
          latency,
          backends,
        });
      };
      const deadline = setTimeout(() => {
        for (const client of this.#open) client.fail('quit-timeout');
        finish();
      }, this.config.timeoutMs + SWEEP_MS);
      if (this.#open.size === 0) finish();
      else this.#onIdle = finish;
    });
  }

  /**
   * The client a backend should name for `client`'s connection: the address given with
   * --expect-client (any port: a NAT on the way may change it), else the made-up client of the
   * PROXY header this generator sent, else the connection's own source address and port.
   */
  expectedClient(client: Client): ExpectedClient {
    const { expectClient, header } = this.config;
    if (expectClient !== null) return { address: expectClient, port: null };
    if (header !== 'none') {
      const made = clientEndpoint(client.index);
      return { address: made.address, port: made.port };
    }
    return { address: client.socket?.localAddress ?? '', port: client.socket?.localPort ?? 0 };
  }

  error(kind: string): void {
    this.counters.errors[kind] = (this.counters.errors[kind] ?? 0) + 1;
  }

  opened(client: Client): void {
    this.#open.add(client);
  }

  /**
   * A connection attempt finished: its first line came back, or it failed. Counting up to the
   * first echo rather than to the TCP handshake keeps connections the server has not accepted
   * yet below `maxConnecting`: otherwise a burst overflows the listen backlog (511 in Node) and
   * the dropped SYNs come back a second later, which measures the backlog, not the server.
   */
  connectSettled(): void {
    this.#connecting--;
    this.#pump();
  }

  closed(client: Client, again: boolean): void {
    this.#open.delete(client);
    if (this.#stopping) {
      if (this.#open.size === 0 && this.#onIdle !== undefined) this.#onIdle();
      return;
    }
    if (again) {
      // Churn: the slot opens its next connection with the next global number (a new client address).
      const next = new Client(this, client.slot, client.index + this.config.totalClients);
      if (client.failed) setTimeout(() => this.#queue(next), RETRY_PAUSE_MS);
      else this.#queue(next);
    }
  }

  #queue(client: Client): void {
    if (this.#stopping) return;
    this.#waiting.push(client);
    this.#pump();
  }

  #pump(): void {
    while (
      this.#connecting < this.config.maxConnecting &&
      this.#head < this.#waiting.length &&
      !this.#stopping
    ) {
      this.#connecting++;
      this.#waiting[this.#head++].connect();
    }
    if (this.#head === this.#waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    }
  }

  #sweepTimeouts(): void {
    const limit = performance.now() - this.config.timeoutMs;
    for (const client of this.#open)
      if (client.since < limit && client.waitingForPeer) client.fail('timeout');
  }
}

class Client {
  readonly gen: Generator;
  readonly slot: number;
  readonly index: number;
  socket: net.Socket | undefined;
  /** The line being typed: counter digits at the front, letters, CRLF. Rewritten only after its echo is verified. */
  readonly line: Buffer;
  /** How many leading bytes of `line` carry its number. */
  readonly digits: number;
  /** Bytes of the current line's echo verified so far; -1 while no echo is expected. */
  matched = -1;
  /** Bytes of a greeting seen so far; NO_GREETING once the first echo byte or the greeting's LF came. */
  greeting = 0;
  /** The greeting's bytes while it arrives (copied: reads land in the shared buffer). */
  greetingBytes: Buffer[] = [];
  /** The backend that served this connection, once its greeting (or first echo) came. */
  backend: BackendTally | null = null;
  /** When the current wait began (connect, line sent, or q sent), for latency and timeouts. */
  since = 0;
  connectedAt = 0;
  lineNo = 0;
  connected = false;
  quitting = false;
  failed = false;
  /** An attempt stays "in flight" until its first echo (or its end): see Generator.connectSettled. */
  settled = false;
  think: NodeJS.Timeout | undefined;

  constructor(gen: Generator, slot: number, index: number) {
    this.gen = gen;
    this.slot = slot;
    this.index = index;
    this.line = Buffer.alloc(gen.config.lineBytes);
    const letters = this.line.length - 2;
    this.digits = Math.min(8, letters);
    for (let i = 0; i < letters; i++) this.line[i] = 0x61 + ((index + i) % 26);
    this.line[letters] = CR;
    this.line[letters + 1] = LF;
  }

  /** Frees this connection's place among the attempts in flight (once). */
  #settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.gen.connectSettled();
  }

  /** Waiting for something from the server (connect, echo, close), as opposed to thinking. */
  get waitingForPeer(): boolean {
    return !this.connected || this.matched >= 0 || this.quitting;
  }

  connect(): void {
    const { config } = this.gen;
    this.since = performance.now();
    const onread = {
      buffer: READ_BUFFER,
      callback: (bytes: number) => {
        this.#onData(bytes);
        return true; // keep reading: a client never pauses, one line is outstanding at a time
      },
    };
    const tcp = net.connect({
      host: config.host,
      port: config.port,
      localAddress: sourceAddress(config.host, this.slot + config.firstClient, config.totalClients),
      noDelay: true,
      onread: config.tls === null ? onread : undefined,
      keepAlive: config.keepaliveMs > 0,
      keepAliveInitialDelay: config.keepaliveMs,
    });
    this.socket = tcp;
    this.gen.opened(this);
    if (config.tls === null) tcp.once('connect', () => this.#onConnect(true));
    else tcp.once('connect', () => this.#startTls(tcp, config.tls!));
    tcp.on('error', (error: NodeJS.ErrnoException) => this.fail(errorKind(error)));
    tcp.once('close', () => this.#onClose());
  }

  /** The header in clear, then the TLS handshake; the lines go over TLS once it is done. */
  #startTls(tcp: net.Socket, options: { readonly ca: string | null }): void {
    const header = headerFor(this.gen.config.header, this.index);
    if (header !== null) tcp.write(header);
    const host = this.gen.config.host;
    const secure = tls.connect({
      socket: tcp,
      ca: options.ca ?? undefined,
      rejectUnauthorized: options.ca !== null,
      servername: net.isIP(host) === 0 ? host : undefined,
    });
    this.socket = secure;
    // (tls.connect over a given socket has no `onread`: its chunks are checked from the shared
    // buffer like a clear read.)
    secure.on('data', (chunk: Buffer) => {
      for (let at = 0; at < chunk.length && !this.failed; at += READ_BUFFER.length) {
        const n = chunk.copy(READ_BUFFER, 0, at);
        this.#onData(n);
      }
    });
    secure.on('error', (error: NodeJS.ErrnoException) => this.fail(errorKind(error)));
    secure.once('secureConnect', () => {
      const counters = this.gen.counters;
      counters.handshakes++;
      counters.handshakeMicros += (performance.now() - this.since) * 1000;
      this.#onConnect(false);
    });
  }

  /** Connected (over TLS: handshake done); `sendHeader`: the header is still to go. */
  #onConnect(sendHeader: boolean): void {
    const counters = this.gen.counters;
    this.connected = true;
    this.connectedAt = this.since;
    counters.connected++;
    counters.up++;
    const socket = this.socket!;
    const header = sendHeader ? headerFor(this.gen.config.header, this.index) : null;
    // Header and first line in one segment, as a balancer forwarding a client's first packet would.
    // Stopping already: the header and `q` (a `q` alone would be a bad header to the server).
    socket.cork();
    if (header !== null) socket.write(header);
    if (this.gen.stopping) this.quit();
    else this.#sendLine(performance.now());
    socket.uncork();
  }

  /** Sends the next line; `now` is the time it goes out (the caller has just read the clock). */
  #sendLine(now: number): void {
    // Number the line in its first bytes (digits: a line can never read `q`), no allocation.
    let n = this.lineNo++;
    for (let i = this.digits - 1; i >= 0; i--) {
      this.line[i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.matched = 0;
    this.since = now;
    this.gen.counters.linesSent++;
    this.socket!.write(this.line);
  }

  // Hot path: compare each received byte (the first `n` of the shared buffer) with the line sent;
  // exactly one line is outstanding.
  #onData(n: number): void {
    let from = 0;
    if (this.greeting !== NO_GREETING) {
      from = this.#skipGreeting(READ_BUFFER, n);
      if (from === n) return;
    }
    if (this.matched < 0) {
      // The raw-echo baseline echoes our `q` before it sees the end of input: not a wrong echo.
      if (!this.quitting && !this.failed) this.fail('wrong-echo');
      return;
    }
    const line = this.line;
    const chunk = READ_BUFFER;
    let m = this.matched;
    for (let i = from; i < n; i++) {
      if (chunk[i] !== line[m]) {
        this.fail('wrong-echo');
        return;
      }
      if (++m === line.length) {
        if (i + 1 < n) {
          this.fail('wrong-echo'); // more bytes than were sent
          return;
        }
        this.matched = -1;
        this.#echoed();
        return;
      }
    }
    this.matched = m;
  }

  /** Reads past a greeting in chunk[0, n) at the start of the connection; returns where the echo begins. */
  #skipGreeting(chunk: Buffer, n: number): number {
    let seen = this.greeting;
    for (let i = 0; i < n; i++, seen++) {
      const byte = chunk[i];
      if (seen < GREETING.length ? byte === GREETING[seen] : byte !== LF && seen < GREETING_MAX)
        continue;
      if (seen === 0) {
        this.greeting = NO_GREETING; // no greeting: the echo starts here
        this.#served(null);
        return i;
      }
      if (seen >= GREETING.length && byte === LF) {
        this.greeting = NO_GREETING; // the greeting's end: the echo starts after it
        this.greetingBytes.push(Buffer.from(chunk.subarray(0, i)));
        this.#served(Buffer.concat(this.greetingBytes).toString('latin1').trimEnd());
        this.greetingBytes = [];
        return i + 1;
      }
      this.fail('wrong-echo'); // began like a greeting and is none, or never ends
      return n;
    }
    this.greeting = seen;
    this.greetingBytes.push(Buffer.from(chunk.subarray(0, n)));
    return n;
  }

  /** Counts this connection for the backend its greeting line names (null: no greeting). */
  #served(line: string | null): void {
    const greeting = line === null ? null : readGreeting(line);
    const tally = this.gen.backends.of(greeting?.backend ?? UNNAMED);
    const reported = greeting?.client ?? null;
    tally.served(reported, reported === null ? null : this.gen.expectedClient(this));
    this.backend = tally;
  }

  #echoed(): void {
    const gen = this.gen;
    const now = performance.now();
    gen.counters.echoesVerified++;
    if (this.lineNo === 1) {
      gen.counters.answered++;
      gen.counters.firstEchoMicros += (now - this.connectedAt) * 1000;
      this.#settle();
    }
    gen.counters.bytesVerified += this.line.length;
    const { scenario, thinkMs } = gen.config;
    const micros = (now - (scenario === 'connect' ? this.connectedAt : this.since)) * 1000;
    gen.latency.record(micros);
    this.backend?.latency.record(micros);
    if (scenario === 'connect') {
      this.quit();
      return;
    }
    if (gen.stopping) {
      this.quit();
      return;
    }
    if (scenario === 'hold') {
      // Spread the idle clients' lines over time instead of letting them march in step.
      this.since = now;
      this.think = setTimeout(
        () => this.#sendLine(performance.now()),
        thinkMs * (0.5 + Math.random()),
      );
    } else if (thinkMs > 0) {
      this.since = now;
      this.think = setTimeout(() => this.#sendLine(performance.now()), thinkMs);
    } else {
      this.#sendLine(now);
    }
  }

  /** The generator is stopping: a thinking client quits now; one waiting for an echo quits after it. */
  stopRequested(): void {
    if (this.connected && this.matched < 0 && !this.quitting) {
      clearTimeout(this.think);
      this.quit();
    }
  }

  quit(): void {
    this.quitting = true;
    this.since = performance.now();
    this.socket!.end(QUIT);
  }

  fail(kind: string): void {
    if (this.failed) return;
    this.failed = true;
    this.gen.error(kind);
    clearTimeout(this.think);
    this.socket?.destroy();
  }

  #onClose(): void {
    clearTimeout(this.think);
    const gen = this.gen;
    if (this.connected) gen.counters.up--;
    this.#settle();
    if (!this.failed) {
      if (this.quitting) gen.counters.completed++;
      else this.fail('closed-early');
    }
    gen.closed(this, gen.config.scenario === 'connect');
  }
}
