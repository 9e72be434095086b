// Where log lines go: a file descriptor (stdout), written cheaply and never blocking the loop.
//
// Lines are joined and written together a millisecond after the first of them, or as soon as
// 64 KiB wait, with a synchronous write(2): no thread-pool round trip, no system call per line.
// When the descriptor is a pipe or a socket (a supervisor, the journal) it is put in
// non-blocking mode, so a reader that stalls costs an EAGAIN, not a frozen server: the bytes
// not taken wait in memory (bounded; past the bound lines are dropped and counted, and a line
// says how many) and are tried again on a timer. `flushSync` writes what is left before exit.
import fs from 'node:fs';
import net from 'node:net';

export interface LineSink {
  /** Takes one complete line, newline included. Must not throw and must not block. */
  write(line: string): void;
}

/**
 * Lines wait this long to be written together. Not just to the end of the loop's turn: a server
 * that is not saturated handles about one event per turn, so that would still mean a write(2)
 * (and a wake-up of the reader) per line; a millisecond makes it one per millisecond at most.
 */
const BATCH_MS = 1;
/** Largest batch built before it is written. */
const FLUSH_BYTES = 64 * 1024;
/**
 * One write(2) takes at most this many bytes, cut after a newline: a pipe writes up to PIPE_BUF
 * (4096) bytes atomically, so lines of workers sharing the pipe never interleave mid-line.
 */
const WRITE_BYTES = 4096;
const MAX_RETRY_MS = 64;
/** How long `flushSync` keeps trying a stalled reader before it gives the rest up. */
const EXIT_WAIT_MS = 500;

export class FdSink implements LineSink {
  readonly #fd: number;
  readonly #maxQueued: number;
  /** Lines of this turn, not yet written. */
  #pending = '';
  /** Bytes a stalled reader has not taken yet; written before `#pending`. */
  #stalled: Buffer | null = null;
  #scheduled = false;
  #retryMs = 1;
  #retrying = false;
  #dropped = 0;
  /** Dropped lines already told of in the output. */
  #reported = 0;
  #broken = false;
  #idle: Array<() => void> = [];
  /** Keeps the handle that made a pipe or socket non-blocking (never read from or written to). */
  readonly #handle: net.Socket | null;

  constructor(fd = 1, maxQueuedBytes = 4 * 1024 * 1024) {
    this.#fd = fd;
    this.#maxQueued = maxQueuedBytes;
    this.#handle = nonBlocking(fd);
  }

  /** Lines dropped so far because the reader was not keeping up. */
  get dropped(): number {
    return this.#dropped;
  }

  /** True when writes to the descriptor return at once instead of waiting (a pipe or socket). */
  get nonBlocking(): boolean {
    return this.#handle !== null;
  }

  write(line: string): void {
    if (this.#broken) return;
    if (this.#queued() + line.length > this.#maxQueued) {
      if (this.#stalled === null) this.#flush();
      if (this.#queued() + line.length > this.#maxQueued) {
        this.#dropped++;
        this.#schedule(); // its notice must not wait for a next line
        return;
      }
    }
    this.#pending += line;
    if (this.#pending.length >= FLUSH_BYTES && this.#stalled === null) this.#flush();
    else this.#schedule();
  }

  /** Resolves once everything written so far is out (or logging has broken). */
  flush(): Promise<void> {
    this.#flush();
    if (this.#stalled === null || this.#broken) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Writes everything now, waiting up to half a second for a stalled reader: for exit paths. */
  flushSync(): void {
    const deadline = Date.now() + EXIT_WAIT_MS;
    this.#flush();
    while (this.#stalled !== null && !this.#broken && Date.now() < deadline) {
      Atomics.wait(SLEEP, 0, 0, 1);
      this.#flush();
    }
  }

  /** UTF-16 units waiting, a close enough measure of bytes for a bound. */
  #queued(): number {
    return this.#pending.length + (this.#stalled?.length ?? 0);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      if (this.#stalled === null) this.#flush(); // else the retry timer writes when it can
    }, BATCH_MS);
  }

  #flush(): void {
    if (this.#broken) return;
    if (this.#stalled !== null) {
      const rest = this.#stalled;
      this.#stalled = null;
      if (!this.#send(rest)) return;
    }
    if (this.#dropped > this.#reported) {
      this.#pending += `log: ${this.#dropped - this.#reported} lines dropped because the log output was not keeping up\n`;
      this.#reported = this.#dropped;
    }
    if (this.#pending !== '') {
      const bytes = encode(this.#pending);
      this.#pending = '';
      if (!this.#send(bytes)) return;
    }
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Writes `bytes`; false when the reader stalled (the rest is kept) or the output broke. */
  #send(bytes: Buffer): boolean {
    let offset = 0;
    while (offset < bytes.length) {
      let end = offset + WRITE_BYTES;
      if (end < bytes.length) {
        const newline = bytes.lastIndexOf(10, end - 1);
        if (newline >= offset) end = newline + 1;
      } else end = bytes.length;
      try {
        offset += fs.writeSync(this.#fd, bytes, offset, end - offset);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') this.#stall(bytes, offset);
        else this.#break();
        return false;
      }
    }
    this.#retryMs = 1;
    return true;
  }

  /**
   * Keeps what the reader did not take and tries again on a timer: after 1 ms, doubling while
   * the reader takes nothing, up to 64 ms (a hung reader costs a few calls a second).
   */
  #stall(bytes: Buffer, offset: number): void {
    if (offset > 0) this.#retryMs = 1;
    // The scratch memory is written over by the next flush: what waits gets memory of its own.
    const rest = bytes.subarray(offset);
    this.#stalled = rest.buffer === scratch?.buffer ? Buffer.from(rest) : rest;
    if (this.#retrying) return;
    this.#retrying = true;
    setTimeout(() => {
      this.#retrying = false;
      this.#flush();
    }, this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
  }

  /** EPIPE, EBADF…: nobody is reading; the server carries on without logs. */
  #break(): void {
    this.#broken = true;
    this.#pending = '';
    this.#stalled = null;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}

const SLEEP = new Int32Array(new SharedArrayBuffer(4));

/**
 * A batch is encoded into memory kept for it (every sink's batch is written synchronously, so one
 * serves all), not into a new buffer per batch: a batch of more than 4 KiB would otherwise be a
 * fresh allocation outside the buffer pool, about once per millisecond under load.
 */
let scratch: Buffer | null = null;
const SCRATCH_BYTES = 3 * FLUSH_BYTES; // UTF-8 takes at most 3 bytes per UTF-16 unit

function encode(text: string): Buffer {
  if (text.length * 3 > SCRATCH_BYTES) return Buffer.from(text, 'utf8');
  scratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  return scratch.subarray(0, scratch.write(text, 0, 'utf8'));
}

/**
 * Puts a pipe or socket in non-blocking mode (libuv does so when it opens a handle on it; Node
 * offers no fcntl), so a synchronous write to it returns EAGAIN instead of waiting. Files and
 * terminals are left alone: writing to them does not wait on a reader.
 */
function nonBlocking(fd: number): net.Socket | null {
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFIFO() && !stat.isSocket()) return null;
    const handle = new net.Socket({ fd, readable: false, writable: false });
    handle.unref();
    return handle;
  } catch {
    return null; // not a stream libuv can open (a datagram socket…): writes may then block
  }
}

/** A sink that keeps lines in memory: for tests that read what the server logged. */
export class MemorySink implements LineSink {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  get text(): string {
    return this.lines.join('');
  }
}
