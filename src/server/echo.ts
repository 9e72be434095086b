// The echo itself: complete lines go back in one write per read, a partial line is kept for the
// next read, and what stops the echo (`q`, a line over --max-line) is handed back to the caller.
import type { Connection } from './connection.ts';
import {
  type Scan,
  scanLines,
  STOP_NONE,
  STOP_TOO_LONG,
  type Stop,
  upperCaseInPlace,
} from './lines.ts';
import { appendToPartial } from './partial.ts';

// One scan result reused by every chunk of every connection.
const scan: Scan = { end: 0, lines: 0, stop: STOP_NONE };

/**
 * Echoes the complete lines of `chunk` (after the connection's partial line) and keeps the
 * partial one. Returns what stopped the echo: STOP_QUIT, STOP_TOO_LONG or STOP_NONE (go on).
 */
export function echo(conn: Connection, chunk: Buffer): Stop {
  const carried = conn.pending;
  scanLines(chunk, carried, conn.ctx.maxLine, scan);
  const { end, lines, stop } = scan;
  if (lines > 0) sendLines(conn, carried, chunk, end, lines);
  if (stop !== STOP_NONE) {
    conn.pending = null;
    return stop;
  }
  if (end < chunk.length) return keepPartial(conn, lines === 0 ? carried : null, chunk, end);
  return STOP_NONE;
}

/** Echoes the `lines` complete lines: `carried` (a line's start from earlier reads) + chunk[0, end). */
function sendLines(
  conn: Connection,
  carried: Buffer | null,
  chunk: Buffer,
  end: number,
  lines: number,
): void {
  const { ctx, transport } = conn;
  if (ctx.logger.debugEnabled) logData(conn, carried, chunk.subarray(0, end));
  if (ctx.upper) {
    if (carried !== null) upperCaseInPlace(carried, 0, carried.length);
    upperCaseInPlace(chunk, 0, end);
  }
  let ok: boolean;
  if (carried !== null) {
    // The first line began in an earlier read: both parts go out in one write. (end > 0: the
    // line ends in this chunk.)
    ok = transport.write(carried, chunk.subarray(0, end));
    conn.pending = null;
  } else {
    ok = transport.write(end === chunk.length ? chunk : chunk.subarray(0, end));
  }
  const bytes = end + (carried === null ? 0 : carried.length);
  conn.lines += lines;
  conn.bytes += bytes;
  ctx.metrics.lines += lines;
  ctx.metrics.bytes += bytes;
  // Backpressure: stop reading from a client that does not read its echo; onDrain resumes.
  if (!ok) transport.pause();
}

/**
 * Keeps chunk[end..] as the start of the next line (a copy, so the read buffer can go), after
 * `growing` when this chunk only continued it. One byte of slack: a CR may still turn out to be
 * the line's ending.
 */
function keepPartial(conn: Connection, growing: Buffer | null, chunk: Buffer, end: number): Stop {
  const max = conn.ctx.maxLine + 1;
  const length = chunk.length - end + (growing === null ? 0 : growing.length);
  if (length > max) {
    conn.pending = null;
    return STOP_TOO_LONG;
  }
  conn.pending =
    growing === null ? Buffer.from(chunk.subarray(end)) : appendToPartial(growing, chunk, max);
  return STOP_NONE;
}

/** One debug line per complete line (`bytes` ends with LF), empty ones included, without CR LF. */
function logData(conn: Connection, carried: Buffer | null, bytes: Buffer): void {
  const lines = (
    (carried === null ? '' : carried.toString('latin1')) + bytes.toString('latin1')
  ).split('\n');
  lines.pop(); // the empty rest after the last LF
  for (const line of lines)
    conn.ctx.logger.debug('data', {
      client: conn.client,
      line: line.endsWith('\r') ? line.slice(0, -1) : line,
    });
}
