// The deadlines of every connection, checked by the server's one timer (server.ts), and the
// end of those still open when the server's drain time is up.
import type { ServerContext } from './server-context.ts';
import { refuse } from './ending.ts';
import { GREETING_WAIT_MS, greet } from './first-line.ts';
import { headerAt } from './kept-header.ts';
import {
  AWAIT_HEADER,
  CLOSING,
  ECHO,
  FIRST_LINE,
  HTTP,
  HTTP_HEAD,
  RECEIVED,
  TLS_HANDSHAKE,
} from './phase.ts';
import { closingLine } from './refusals.ts';
import { handshakeTimedOut } from './tls-start.ts';

/** Checks every connection's deadline: run by the server's one timer. */
export function sweep(ctx: ServerContext): void {
  const now = ctx.now;
  for (const conn of ctx.connections) {
    const waited = now - conn.active;
    switch (conn.state) {
      case AWAIT_HEADER:
        // Nothing sent yet (whatever the policy): silence, held no longer than an idle session.
        if (!(conn.flags & RECEIVED)) {
          if (waited >= ctx.idleTimeoutMs) refuse(conn, 'silent');
        } else if (waited >= ctx.headerTimeoutMs) refuse(conn, 'header-timeout');
        break;
      case FIRST_LINE:
        // Nothing after the header yet: no HTTP client, so the greeting goes out.
        if (ctx.greeting && conn.pending === null && waited >= GREETING_WAIT_MS)
          greet(conn, headerAt(conn, undefined));
        if (waited >= ctx.idleTimeoutMs) refuse(conn, 'idle-timeout');
        break;
      case ECHO:
        if (waited >= ctx.idleTimeoutMs) refuse(conn, 'idle-timeout');
        break;
      case HTTP_HEAD:
        if (waited >= ctx.headerTimeoutMs) {
          conn.pending = null;
          ctx.metrics.httpRequest(408);
          refuse(conn, 'http-timeout');
        }
        break;
      case TLS_HANDSHAKE:
        if (waited >= ctx.headerTimeoutMs) handshakeTimedOut(conn);
        break;
      case CLOSING:
        if (waited >= ctx.lingerMs) conn.transport.destroy();
        break;
    }
  }
}

/** Ends every connection still open when the drain time is up. */
export function closeAll(ctx: ServerContext): void {
  for (const conn of ctx.connections) {
    if (conn.state === HTTP) {
      conn.reason = 'shutdown';
      conn.extra?.socket?.destroy();
      continue;
    }
    if (conn.state !== CLOSING) {
      conn.reason = 'shutdown';
      conn.transport.writeText(closingLine('the server is shutting down'));
    }
    conn.transport.destroy();
  }
}
