// The first bytes after the header decide what the connection becomes: an HTTP/1.x request line
// makes it HTTP (http-head.ts), anything else is echoed. `--greeting` sends its line before the
// first echo; while HTTP is possible it waits for that first line (or a short silence, see the
// sweep), so an HTTP client never sees it. Once greeted, the connection is an echo session: a
// request line after it is echoed. With --tls-cert the very first byte decides before that:
// TLS or clear (tls-start.ts); after a handshake the first line is the decrypted stream's.
import type { ProxyHeader } from '../protocol/types.ts';
import { backendView } from './answer/backend-view.ts';
import { greetingLine } from './answer/greeting.ts';
import { isHttpRequestLine } from './answer/http-detect.ts';
import type { Connection } from './connection.ts';
import type { ServerContext } from './server-context.ts';
import { echo } from './echo.ts';
import { beginHead } from './http-head.ts';
import { headerAt } from './kept-header.ts';
import { firstLineLength, STOP_NONE, type Stop } from './lines.ts';
import { ECHO, FIRST_LINE } from './phase.ts';
import { tookFirstByte } from './tls-start.ts';

/**
 * A greeting owed while HTTP is possible goes out after this much silence after the header
 * (the sweep checks it, so up to one sweep period later).
 */
export const GREETING_WAIT_MS = 250;

const LF = 0x0a;

// What the first bytes make of a connection.
const UNDECIDED = 0; // the first line is still coming
const AS_ECHO = 1;
const AS_HTTP = 2;

/**
 * The phase after the header: FIRST_LINE when the first bytes decide (HTTP or echo, TLS or
 * clear), else straight to ECHO.
 */
export function phaseAfterHeader(ctx: ServerContext): number {
  return ctx.http !== null || ctx.tls !== null ? FIRST_LINE : ECHO;
}

/**
 * Data in the FIRST_LINE phase. `header`: the one parsed in this same read (null: none), or
 * undefined when it came in an earlier read. Returns what stopped the echo, as echo does.
 */
export function firstLine(
  conn: Connection,
  chunk: Buffer,
  header: ProxyHeader | null | undefined,
): Stop {
  if (tookFirstByte(conn, chunk)) return STOP_NONE;
  const becomes = decide(conn, chunk);
  if (becomes === AS_HTTP) {
    beginHead(conn, chunk, header);
    return STOP_NONE;
  }
  if (becomes === AS_ECHO) {
    conn.state = ECHO;
    if (conn.ctx.greeting) greet(conn, headerAt(conn, header));
    conn.extra = null;
  }
  // Undecided: the echo keeps the line's start (or refuses it, over --max-line).
  return echo(conn, chunk);
}

/**
 * What the first bytes after the header (`pending`, then `chunk`) make of the connection: once
 * its first line has ended, HTTP for an HTTP/1.x request line within --max-line, else echo
 * (a `q` or an over-long first line is the echo's to act on).
 */
function decide(conn: Connection, chunk: Buffer): number {
  const lf = chunk.indexOf(LF);
  if (lf === -1) return UNDECIDED;
  const { http, maxLine } = conn.ctx;
  const carried = conn.pending;
  if (
    http !== null &&
    firstLineLength(carried, chunk, lf) <= maxLine &&
    isHttpRequestLine(carried, chunk, lf)
  )
    return AS_HTTP;
  return AS_ECHO;
}

/**
 * Sends the greeting: who the client is, as the server saw it. From here on the connection is
 * an echo session: an HTTP answer after the greeting would mix two protocols on one stream.
 */
export function greet(conn: Connection, header: ProxyHeader | null): void {
  const view = backendView({
    server: conn.ctx.identity,
    header,
    peer: conn.peerText(),
    local: null,
    tls: conn.extra?.tls,
  });
  conn.state = ECHO;
  conn.extra = null;
  conn.transport.writeText(greetingLine(view, conn.ctx.upper));
}
