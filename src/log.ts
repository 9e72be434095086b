// Log lines: readable text for journalctl, or one JSON object per line for CloudWatch and jq.
//
// A logger writes whole lines to a `LineSink`. Levels below the threshold are one shared no-op,
// so a disabled debug line costs a call and nothing is formatted for it. `FdSink` writes to a
// file descriptor (stdout) without ever blocking the event loop: lines queue in memory (bounded;
// past the bound they are dropped and counted) while one asynchronous write is in flight.
import fs from 'node:fs';

export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Values a log line may carry besides its message. Undefined fields are left out. */
export type Fields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export type LogMethod = (msg: string, fields?: Fields) => void;

export interface Logger {
  readonly debug: LogMethod;
  readonly info: LogMethod;
  readonly warn: LogMethod;
  readonly error: LogMethod;
  /** Start-up and shutdown lines: written at every level (labelled info), so the port is always said. */
  readonly notice: LogMethod;
  /** True when debug lines are written, so callers can skip preparing their fields. */
  readonly debugEnabled: boolean;
  /** True when info lines are written. */
  readonly infoEnabled: boolean;
}

export interface LineSink {
  /** Takes one complete line, newline included. Must not throw and must not block. */
  write(line: string): void;
}

export interface LoggerOptions {
  readonly level?: Level;
  readonly format?: LogFormat;
  readonly sink: LineSink;
  /** Milliseconds since the epoch; replaceable so tests can pin the time. */
  readonly now?: () => number;
}

const noop: LogMethod = () => {};

/** A logger that writes nothing (for tests and in-process benchmarks). */
export const silentLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  notice: noop,
  debugEnabled: false,
  infoEnabled: false,
});

export function createLogger({
  level = 'info',
  format = 'text',
  sink,
  now = Date.now,
}: LoggerOptions): Logger {
  const threshold = LEVELS.indexOf(level);
  const line = format === 'json' ? jsonLine : textLine;
  const write =
    (lvl: Level): LogMethod =>
    (msg, fields) =>
      sink.write(line(now(), lvl, msg, fields));
  const method = (lvl: Level): LogMethod => (LEVELS.indexOf(lvl) < threshold ? noop : write(lvl));
  return Object.freeze({
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    notice: write('info'),
    debugEnabled: threshold === 0,
    infoEnabled: threshold <= 1,
  });
}

// `2026-11-26T09:40:00.123Z info  open client=54.222.152.163:45418 via=10.0.0.5:3321`
function textLine(time: number, level: Level, msg: string, fields: Fields | undefined): string {
  let line = `${new Date(time).toISOString()} ${level.padEnd(5)} ${msg}`;
  if (fields !== undefined) {
    for (const key in fields) {
      const value = fields[key];
      if (value === undefined) continue;
      line += ` ${key}=${textValue(value)}`;
    }
  }
  return `${line}\n`;
}

// A bare word stays bare; anything with spaces, quotes, `=` or control bytes is JSON-quoted,
// so a hostile line of data can never forge a second log line or a field.
function textValue(value: string | number | boolean | null): string {
  if (typeof value !== 'string') return String(value);
  return value !== '' && /^[\x21-\x7e]+$/.test(value) && !/["=\\]/.test(value)
    ? value
    : quote(value);
}

const HAS_C1 = /[\u007f-\u009f]/;
const C1 = /[\u007f-\u009f]/g;

/**
 * JSON text of a string, with DEL and the C1 controls (U+0080-U+009F, what bytes 0x80-0x9F of
 * data become) escaped as well: JSON.stringify leaves them raw, and a terminal showing the log
 * would act on them (U+009B starts a control sequence).
 */
function quote(value: string): string {
  const json = JSON.stringify(value);
  return HAS_C1.test(json)
    ? json.replace(C1, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : json;
}

function jsonLine(time: number, level: Level, msg: string, fields: Fields | undefined): string {
  let line = `{"time":"${new Date(time).toISOString()}","level":"${level}","msg":${quote(msg)}`;
  if (fields !== undefined) {
    for (const key in fields) {
      const value = fields[key];
      if (value === undefined) continue;
      line +=
        ',' +
        JSON.stringify(key) +
        ':' +
        (typeof value === 'string' ? quote(value) : JSON.stringify(value));
    }
  }
  return `${line}}\n`;
}

/**
 * Writes lines to a file descriptor with asynchronous `fs.write`, never blocking the event loop
 * (a pipe to a slow reader would block `process.stdout.write`, which is synchronous for pipes
 * on Linux). Lines wait in memory up to `maxQueuedBytes`; beyond that they are dropped, and a
 * line saying how many were lost ends the next write. A broken pipe ends logging.
 */
export class FdSink implements LineSink {
  readonly #fd: number;
  readonly #maxQueued: number;
  #queue: string[] = [];
  #queued = 0;
  #writing = false;
  #dropped = 0;
  /** Dropped lines already told of in the output. */
  #reported = 0;
  #broken = false;
  #idle: Array<() => void> = [];

  constructor(fd = 1, maxQueuedBytes = 4 * 1024 * 1024) {
    this.#fd = fd;
    this.#maxQueued = maxQueuedBytes;
  }

  /** Lines dropped so far because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  write(line: string): void {
    if (this.#broken) return;
    if (this.#queued + line.length > this.#maxQueued) this.#dropped++;
    else {
      this.#queue.push(line);
      this.#queued += line.length;
    }
    // Also for a dropped line: when nothing is in flight, its notice must not wait for a next line.
    if (!this.#writing) this.#next();
  }

  /** Resolves once everything queued so far is written (or logging has broken). */
  flush(): Promise<void> {
    if (!this.#writing || this.#broken) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #next(): void {
    if (this.#dropped > this.#reported) {
      this.#queue.push(
        `log: ${this.#dropped - this.#reported} lines dropped because the log output was not keeping up\n`,
      );
      this.#reported = this.#dropped;
    }
    // Everything queued goes out in one write: a burst of lines costs one system call.
    const text = this.#queue.join('');
    this.#queue = [];
    this.#queued = 0;
    this.#writing = true;
    this.#send(Buffer.from(text), 0);
  }

  #send(bytes: Buffer, offset: number): void {
    fs.write(this.#fd, bytes, offset, bytes.length - offset, null, (error, written) => {
      if (error !== null) {
        if (error.code === 'EAGAIN') {
          setTimeout(() => this.#send(bytes, offset), 20).unref();
          return;
        }
        this.#broken = true; // EPIPE, EBADF…: nobody is reading; carry on without logs.
        this.#done();
        return;
      }
      if (offset + written < bytes.length) return this.#send(bytes, offset + written);
      if (this.#queue.length > 0 || this.#dropped > this.#reported) this.#next();
      else this.#done();
    });
  }

  #done(): void {
    this.#writing = false;
    for (const resolve of this.#idle.splice(0)) resolve();
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
