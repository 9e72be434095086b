// A connection whose first line is an HTTP request line: its head is gathered here (a copy: the
// read's bytes are only lent), under the header timeout, and only once complete is the
// connection handed to node:http (answer/http-handoff.ts), leaving the transport. A client that
// stalls in its head costs what a stalled echo costs, not a node:http connection.
import type { ProxyHeader } from '../protocol/types.ts';
import { formatEndpoint, plainAddress } from './address-text.ts';
import { backendView } from './answer/backend-view.ts';
import type { HttpSession } from './answer/http-handoff.ts';
import type { Connection } from './connection.ts';
import { headerAt } from './kept-header.ts';
import { appendToPartial } from './partial.ts';
import { HEALTH_CHECK, HTTP, HTTP_HEAD, SPEAKS_HTTP } from './phase.ts';

const LF = 0x0a;
const CR = 0x0d;
/** node:http's limit on a request head: a longer one is handed over as it is, for its 431. */
const MAX_HTTP_HEAD = 16 * 1024;

/**
 * The first line (`pending` + the start of `chunk`) is an HTTP request line: the head is
 * gathered from here. `header` as for headerAt.
 */
export function beginHead(
  conn: Connection,
  chunk: Buffer,
  header: ProxyHeader | null | undefined,
): void {
  const carried = conn.pending;
  conn.pending = carried === null ? Buffer.from(chunk) : Buffer.concat([carried, chunk]);
  conn.flags |= SPEAKS_HTTP;
  conn.state = HTTP_HEAD;
  conn.active = conn.ctx.now;
  if (headComplete(conn.pending, 0) || conn.pending.length > MAX_HTTP_HEAD)
    handOver(conn, headerAt(conn, header));
}

/** More of a request head: node:http gets the connection once the head is complete. */
export function moreHead(conn: Connection, chunk: Buffer): void {
  const head = conn.pending!;
  if (head.length + chunk.length > MAX_HTTP_HEAD) {
    conn.pending = Buffer.concat([head, chunk]);
    handOver(conn, headerAt(conn, undefined));
    return;
  }
  conn.pending = appendToPartial(head, chunk, MAX_HTTP_HEAD);
  // The blank line may begin in the bytes before this chunk (up to LF CR).
  if (headComplete(conn.pending, Math.max(0, head.length - 2)))
    handOver(conn, headerAt(conn, undefined));
}

/** True when `bytes` (a request head from its start) hold the blank line that ends the head. */
function headComplete(bytes: Buffer, from: number): boolean {
  for (let lf = bytes.indexOf(LF, from); lf !== -1; lf = bytes.indexOf(LF, lf + 1)) {
    const next = bytes[lf + 1] === CR ? lf + 2 : lf + 1;
    if (bytes[next] === LF) return true;
  }
  return false;
}

/**
 * Leaves the fast path: the transport hands back a net.Socket with the request's head in
 * front, and node:http answers every request on it. The connection stays counted (and
 * drained) until that socket closes.
 */
function handOver(conn: Connection, header: ProxyHeader | null): void {
  const http = conn.ctx.http!;
  const head = conn.pending!;
  conn.pending = null;
  const peer = conn.peerText();
  const tls = conn.extra?.tls;
  conn.state = HTTP;
  const socket = conn.transport.detach(head);
  const view = backendView({
    server: conn.ctx.identity,
    header,
    peer,
    local:
      socket.localAddress === undefined
        ? null
        : formatEndpoint(plainAddress(socket.localAddress), socket.localPort ?? 0),
    tls,
  });
  const session: HttpSession = { requests: 0, reason: null };
  conn.extra = { headerBytes: null, socket, http: session };
  socket.on('error', (error: NodeJS.ErrnoException) => {
    conn.error = error.code ?? error.message;
  });
  socket.once('close', () => conn.onClose(null));
  http.take(socket, view, (conn.flags & HEALTH_CHECK) !== 0, session);
}
