// Finds the lines in a chunk of echo data. Pure: no sockets, no allocation.
//
// The echo writes whole chunks, so all this has to find is where the last complete line ends,
// whether a line is exactly `q`/`Q` (the quit command, which is not echoed), and whether a line
// is longer than the limit. A line ends with LF; a CR before it is part of the line's ending.
// The part of a line that arrived in earlier chunks (`carried`) counts towards its length and
// takes part in the quit test.

const LF = 0x0a;
const CR = 0x0d;

export const STOP_NONE = 0;
export const STOP_QUIT = 1;
export const STOP_TOO_LONG = 2;
export type Stop = typeof STOP_NONE | typeof STOP_QUIT | typeof STOP_TOO_LONG;

/** What `scanLines` found; one object reused by every call (the event loop runs one at a time). */
export interface Scan {
  /** Index just past the last complete line to echo (before any quit or too-long line). */
  end: number;
  /** Complete lines up to `end` (the carried line counts as one of them). */
  lines: number;
  stop: Stop;
}

/**
 * Scans `chunk` for lines. `carried` holds the start of the first line from earlier chunks
 * (null when the chunk starts a new line). `maxLine` is the longest line allowed, counted
 * without its CR LF. After the last complete line, bytes up to `chunk.length` are a partial line
 * the caller keeps; the caller also checks that partial line against the limit.
 */
export function scanLines(
  chunk: Uint8Array,
  carried: Uint8Array | null,
  maxLine: number,
  out: Scan,
): Scan {
  out.end = 0;
  out.lines = 0;
  out.stop = STOP_NONE;
  let start = 0;
  let lf = chunk.indexOf(LF);
  if (lf !== -1 && carried !== null) {
    // The first line began earlier: judge it on the joined bytes without joining them.
    const length = firstLineLength(carried, chunk, lf);
    if (length > maxLine) return stop(out, 0, STOP_TOO_LONG);
    // `carried` is never empty, so the one byte of a one-byte line is its first.
    if (length === 1 && isQ(carried[0])) return stop(out, 0, STOP_QUIT);
    start = lf + 1;
    out.end = start;
    out.lines = 1;
    lf = chunk.indexOf(LF, start);
  }
  // The hot loop: one memchr per line, then a length test; the quit test looks at a byte
  // only for lines of one or two bytes.
  while (lf !== -1) {
    let length = lf - start;
    if (length > 0 && chunk[lf - 1] === CR) length--;
    if (length > maxLine) return stop(out, start, STOP_TOO_LONG);
    if (length === 1 && isQ(chunk[start])) return stop(out, start, STOP_QUIT);
    start = lf + 1;
    out.lines++;
    lf = chunk.indexOf(LF, start);
  }
  out.end = start;
  return out;
}

/**
 * The length (without its CR LF) of the line made of `carried` (null: none) and chunk[0, lf), lf
 * being the index of its LF in `chunk`.
 */
export function firstLineLength(carried: Uint8Array | null, chunk: Uint8Array, lf: number): number {
  if (carried === null) return lf > 0 && chunk[lf - 1] === CR ? lf - 1 : lf;
  const cr = lf > 0 ? chunk[lf - 1] === CR : carried[carried.length - 1] === CR;
  return carried.length + lf - (cr ? 1 : 0);
}

function stop(out: Scan, end: number, why: Stop): Scan {
  out.end = end;
  out.stop = why;
  return out;
}

function isQ(byte: number): boolean {
  return byte === 0x71 || byte === 0x51;
}

/** Upper-cases ASCII letters in place (for `--transform upper`); other bytes are kept. */
export function upperCaseInPlace(bytes: Uint8Array, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const b = bytes[i];
    if (b >= 0x61 && b <= 0x7a) bytes[i] = b - 0x20;
  }
}
