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
import { clientEndpoint } from './addresses.ts';
import { BackendTallies, type ExpectedClient } from './backends.ts';
import { Client } from './client.ts';
import { copyCounters, countersSince, emptyCounters } from './counters.ts';
import type { GeneratorConfig, GeneratorReport } from './generator-config.ts';
import { Histogram } from './histogram.ts';

const SWEEP_MS = 250;
/** Pause before a churning slot retries after an error, so a dead server is not hammered in a tight loop. */
const RETRY_PAUSE_MS = 20;

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
