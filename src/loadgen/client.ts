// One telnet-like client of a generator: it connects, sends the balancer's PROXY header (and,
// with --tls, a handshake) and then its lines, checks each echo byte for byte, and ends with `q`.
// A greeting line before the first echo (greeting-reader.ts) names the backend that served the
// connection and the client that backend saw (backends.ts).
import net from 'node:net';
import tls from 'node:tls';
import { headerFor, sourceAddress } from './addresses.ts';
import {
  type BackendTallies,
  type BackendTally,
  type ExpectedClient,
  readGreeting,
  UNNAMED,
} from './backends.ts';
import type { Counters } from './counters.ts';
import { errorKind } from './error-kind.ts';
import { GreetingReader, NOT_A_GREETING } from './greeting-reader.ts';
import type { GeneratorConfig } from './generator-config.ts';
import type { Histogram } from './histogram.ts';

/** What a client needs from the generator that runs it (Generator, in generator.ts). */
export interface ClientOwner {
  readonly config: GeneratorConfig;
  readonly counters: Counters;
  readonly latency: Histogram;
  readonly backends: BackendTallies;
  readonly stopping: boolean;
  expectedClient(client: Client): ExpectedClient;
  error(kind: string): void;
  opened(client: Client): void;
  connectSettled(): void;
  closed(client: Client, again: boolean): void;
}

const CR = 0x0d;
const LF = 0x0a;
const QUIT = Buffer.from('q\r\n');
/**
 * One read buffer for every client socket of this process (`onread`): each read is checked
 * against the line sent before the next read can land, so no bytes need to outlive the callback,
 * and no Buffer is allocated per read.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export class Client {
  readonly gen: ClientOwner;
  readonly slot: number;
  readonly index: number;
  socket: net.Socket | undefined;
  /** The line being typed: counter digits at the front, letters, CRLF. Rewritten only after its echo is verified. */
  readonly line: Buffer;
  /** How many leading bytes of `line` carry its number. */
  readonly digits: number;
  /** Bytes of the current line's echo verified so far; -1 while no echo is expected. */
  matched = -1;
  /** Reads past a greeting at the start of the connection; null once it is past. */
  greeting: GreetingReader | null = new GreetingReader();
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

  constructor(gen: ClientOwner, slot: number, index: number) {
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
    if (this.greeting !== null) {
      from = this.greeting.read(READ_BUFFER, n);
      if (from === NOT_A_GREETING) {
        this.fail('wrong-echo');
        return;
      }
      if (!this.greeting.done) return;
      this.#served(this.greeting.line);
      this.greeting = null;
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
