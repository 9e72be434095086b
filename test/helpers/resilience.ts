// The resilience harness: our server as a child process on loopback, its memory from /proc, its
// JSON log lines, and a control client that keeps checking real echoes while an attack runs.
import net from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';

/** Resident memory of a process in KiB (VmRSS from /proc/PID/status). */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** Pids of a process's children (its main thread's, from /proc). */
export function childPids(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(' ').map(Number);
}

/** Number of open file descriptors of a process. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export interface LogLine {
  readonly time: string;
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** The JSON log lines in a server's output (other lines, e.g. a crash trace, are skipped). */
export function logLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of output.split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      // A line cut short by a crash: not a log line.
    }
  }
  return lines;
}

/** An endpoint as the server writes it in its log: `1.2.3.4:5`, `[2001:db8::1]:5`. */
export function logEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** A v1 header naming a made-up client; what a Classic ELB would send. */
export function v1Header(clientPort = 40000, client = '198.51.100.7'): string {
  return `PROXY TCP4 ${client} 10.0.0.1 ${clientPort} 5000\r\n`;
}

export interface SessionOptions {
  /** Gets the ms from writing the line to reading its echo. */
  readonly onEcho?: (ms: number) => void;
  /** The server sends a greeting line (`--greeting`) before the echo. */
  readonly greeted?: boolean;
}

/**
 * One complete, well-behaved session: header, a line, its echo, `q`, the server's close.
 * Resolves with null when all went as it should, or with what went wrong.
 */
export function session(
  port: number,
  line = 'control\r\n',
  timeoutMs = 5000,
  { onEcho = () => {}, greeted = false }: SessionOptions = {},
): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let got = '';
    let settled = false;
    const finish = (problem: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(
      () => finish(`timed out after ${timeoutMs} ms with ${JSON.stringify(got)}`),
      timeoutMs,
    );
    let sent = 0;
    let greeting = greeted;
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      sent = performance.now();
      socket.write(v1Header(41000 + (socket.localPort! % 1000)) + line);
    });
    socket.on('data', (s: string) => {
      got += s;
      if (greeting) {
        const end = got.indexOf('\r\n');
        if (end < 0) return;
        if (!got.startsWith('elb-proxy-echo on ')) return finish(`no greeting: ${got}`);
        got = got.slice(end + 2);
        greeting = false;
      }
      if (got === line) {
        onEcho(performance.now() - sent);
        socket.write('q\r\n');
      } else if (!line.startsWith(got)) finish(`wrong echo ${JSON.stringify(got)}`);
    });
    socket.on('close', () => finish(got === line ? null : `closed after ${JSON.stringify(got)}`));
    socket.on('error', (error) => finish(`error ${error.message}`));
  });
}

export interface ControlStats {
  readonly ok: number;
  readonly failed: number;
  /** The first few problems, for the assertion message. */
  readonly problems: readonly string[];
  /** Each served session's echo round trip (line written → echo read), ms. */
  readonly roundTripsMs: readonly number[];
}

/**
 * A well-behaved client that runs sessions back to back (one at a time) until stopped, so a
 * test can assert the server kept serving others while an attack ran.
 */
export class ControlClient {
  #ok = 0;
  #failed = 0;
  #problems: string[] = [];
  #roundTrips: number[] = [];
  #running = true;
  readonly #loop: Promise<void>;

  constructor(port: number, pauseMs = 20, greeted = false) {
    this.#loop = (async () => {
      while (this.#running) {
        const problem = await session(port, undefined, undefined, {
          greeted,
          onEcho: (ms) => this.#roundTrips.push(ms),
        });
        if (problem === null) this.#ok++;
        else {
          this.#failed++;
          if (this.#problems.length < 5) this.#problems.push(problem);
        }
        await sleep(pauseMs);
      }
    })();
  }

  get stats(): ControlStats {
    return {
      ok: this.#ok,
      failed: this.#failed,
      problems: [...this.#problems],
      roundTripsMs: [...this.#roundTrips],
    };
  }

  /** Stops after the session in flight and returns the counts. */
  async stop(): Promise<ControlStats> {
    this.#running = false;
    await this.#loop;
    return this.stats;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 50 ms until it returns true; rejects with `what` (as it is then) after `timeoutMs`. */
export async function until(
  check: () => boolean,
  timeoutMs: number,
  what: string | (() => string),
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    await sleep(50);
  }
}

/**
 * Opens `count` raw connections to loopback `port` (in batches, so the backlog is not flooded).
 * They read (and drop) whatever arrives, so a close from the server completes; attach a 'data'
 * listener to see it, or `pause()` to play a client that never reads.
 */
export async function openMany(port: number, count: number, batch = 200): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i += batch) {
    const opened = await Promise.all(
      Array.from(
        { length: Math.min(batch, count - i) },
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const socket = net.connect({ port, host: '127.0.0.1' });
            socket.on('error', () => {}); // resets are expected in attacks; the test looks at outcomes
            socket.once('connect', () => resolve(socket.resume()));
            socket.once('close', () => reject(new Error('closed before connecting')));
          }),
      ),
    );
    sockets.push(...opened);
  }
  return sockets;
}
