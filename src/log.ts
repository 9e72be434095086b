// Log lines: readable text for journalctl, or one JSON object per line for CloudWatch and jq.
//
// A logger writes whole lines to a `LineSink` (src/log-sink.ts). Levels below the threshold are
// one shared no-op, so a disabled debug line costs a call and nothing is formatted for it. A
// line is built by concatenating cached pieces (the time text changes once per millisecond, the
// level part never) with the fields, escaped by src/log-escape.ts; no object is made for it.
//
// A line's size is bounded whatever a client sends: each value and the message at 1 KiB escaped
// (log-escape.ts cuts a longer one and says how much it left out), the whole line at 4 KiB
// (fields that would pass it are left out and counted). So journald (48 KiB lines) never splits
// a line, and one line is one write(2) of at most PIPE_BUF bytes (log-sink.ts): lines of workers
// sharing the output never interleave.
import { jsonValue, quote, textFieldValue, textMessage, textValue } from './log-escape.ts';
import type { LineSink } from './log-sink.ts';
import fs from 'node:fs';

export { FdSink, MemorySink } from './log-sink.ts';
export type { LineSink } from './log-sink.ts';

export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Values a log line may carry besides its message. Undefined fields are left out. */
export type Fields = Readonly<Record<string, FieldValue | undefined>>;
export type FieldValue = string | number | boolean | null;

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

export interface LoggerOptions {
  readonly level?: Level;
  readonly format?: LogFormat;
  readonly sink: LineSink;
  /**
   * The sink is the systemd journal: each line starts with its syslog priority (`<6>`…), which
   * journald reads and strips, and text lines leave out the time the journal records itself.
   */
  readonly journal?: boolean;
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
  journal = false,
  now = Date.now,
}: LoggerOptions): Logger {
  const threshold = LEVELS.indexOf(level);
  const time = clock(now);
  const write = (lvl: Level): LogMethod => {
    const line = lineWriter(format, lvl, journal, time);
    return (msg, fields) => sink.write(line(msg, fields));
  };
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

/** syslog priorities, as journald reads them from a `<N>` line prefix. */
const PRIORITY: Readonly<Record<Level, number>> = { debug: 7, info: 6, warn: 4, error: 3 };

type LineOf = (msg: string, fields: Fields | undefined) => string;

/** Most UTF-8 bytes in one line, newline and journal prefix included. */
export const LINE_BYTES = 4096;

/** The line format of one level, with everything that does not change per line built once. */
function lineWriter(format: LogFormat, level: Level, journal: boolean, time: () => string): LineOf {
  const priority = journal ? `<${PRIORITY[level]}>` : '';
  if (format === 'json') {
    const head = `${priority}{"time":"`;
    const middle = `","level":"${level}","msg":`;
    return (msg, fields) => {
      const start = `${head}${time()}${middle}${jsonValue(msg)}`;
      return bounded(`${start}${jsonFields(fields)}}\n`, start, fields, jsonField, '}\n');
    };
  }
  const label = `${level.padEnd(5)} `;
  // `2026-11-26T09:40:00.123Z info  open client=54.222.152.163:45418 via=10.0.0.5:3321`
  // or, to the journal, `<6>info  open client=…`
  if (journal) {
    const head = priority + label;
    return (msg, fields) => {
      const start = head + textMessage(msg);
      return bounded(`${start}${textFields(fields)}\n`, start, fields, textField, '\n');
    };
  }
  return (msg, fields) => {
    const start = `${time()} ${label}${textMessage(msg)}`;
    return bounded(`${start}${textFields(fields)}\n`, start, fields, textField, '\n');
  };
}

function textFields(fields: Fields | undefined): string {
  let out = '';
  for (const key in fields) {
    const value = fields[key];
    if (value !== undefined) out += textField(key, value);
  }
  return out;
}

function jsonFields(fields: Fields | undefined): string {
  let out = '';
  for (const key in fields) {
    const value = fields[key];
    if (value !== undefined) out += jsonField(key, value);
  }
  return out;
}

/** Room kept for the count of fields left out (`,"fields_left_out":N`). */
const LEFT_OUT_BYTES = 32;

/**
 * `line` (`start`, the fields, `end`) when it fits in `LINE_BYTES`; else made again with only
 * the fields that fit, in order, and `fields_left_out` counting the others. Values and the
 * message are capped, so only many fields can get there, but whatever does, a line is bounded.
 */
function bounded(
  line: string,
  start: string,
  fields: Fields | undefined,
  field: (key: string, value: FieldValue) => string,
  end: string,
): string {
  // A UTF-16 unit is at most 3 bytes of UTF-8: a short line needs no counting.
  if (line.length * 3 <= LINE_BYTES || Buffer.byteLength(line) <= LINE_BYTES) return line;
  let room = LINE_BYTES - Buffer.byteLength(start) - end.length - LEFT_OUT_BYTES;
  let out = start;
  let leftOut = 0;
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    const text = field(key, value);
    const bytes = Buffer.byteLength(text);
    if (bytes > room) leftOut++;
    else {
      out += text;
      room -= bytes;
    }
  }
  return `${out}${leftOut > 0 ? field('fields_left_out', leftOut) : ''}${end}`;
}

function textField(key: string, value: FieldValue): string {
  return textKey(key) + (typeof value === 'string' ? textFieldValue(value) : String(value));
}

function jsonField(key: string, value: FieldValue): string {
  return jsonKey(key) + (typeof value === 'string' ? jsonValue(value) : jsonScalar(value));
}

// A field name's text (` key=`, `,"key":`), escaped once: names come from a small set in our
// code, so escaping them again on every line is wasted work. (Bounded all the same.)
const KEYS_KEPT = 256;
const textKeys = new Map<string, string>();
const jsonKeys = new Map<string, string>();

function textKey(key: string): string {
  let text = textKeys.get(key);
  if (text === undefined) {
    text = ` ${textValue(key)}=`;
    if (textKeys.size < KEYS_KEPT) textKeys.set(key, text);
  }
  return text;
}

function jsonKey(key: string): string {
  let text = jsonKeys.get(key);
  if (text === undefined) {
    text = `,${quote(key)}:`;
    if (jsonKeys.size < KEYS_KEPT) jsonKeys.set(key, text);
  }
  return text;
}

function jsonScalar(value: number | boolean | null): string {
  return typeof value === 'number' && !Number.isFinite(value) ? 'null' : String(value);
}

/**
 * ISO 8601 time text of `now()`, made at most once per millisecond; the part up to the seconds
 * at most once per second.
 */
function clock(now: () => number): () => string {
  let lastMs = Number.NaN;
  let lastText = '';
  let second = Number.NaN;
  let secondText = '';
  return () => {
    const ms = now();
    if (ms === lastMs) return lastText;
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      second = s;
      secondText = new Date(s * 1000).toISOString().slice(0, 20); // `2026-11-26T09:40:00.`
    }
    const frac = ms - s * 1000;
    lastMs = ms;
    lastText = `${secondText}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
    return lastText;
  };
}

/**
 * True when `fd` is the stream systemd connected to the journal: systemd puts the device and
 * inode numbers of that stream in JOURNAL_STREAM (`DEV:INODE`, decimal). Checking them against
 * the descriptor itself tells the journal from a variable inherited by a process whose output
 * now goes elsewhere (a shell started from a service, `| tee`).
 */
export function isJournal(journalStream: string | undefined, fd = 1): boolean {
  const match = /^(\d+):(\d+)$/.exec(journalStream ?? '');
  if (match === null) return false;
  try {
    const stat = fs.fstatSync(fd, { bigint: true });
    return stat.dev === BigInt(match[1]) && stat.ino === BigInt(match[2]);
  } catch {
    return false;
  }
}
