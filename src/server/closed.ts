// A connection gone: taken off the server's books, and its close logged by how far it came.
import type { Connection } from './connection.ts';
import { HEALTH_CHECK, OPENED, RECEIVED } from './phase.ts';

export function closed(conn: Connection): void {
  const { ctx } = conn;
  ctx.connections.delete(conn);
  ctx.metrics.connectionsOpen--;
  if (conn.flags & OPENED) {
    // (client is null when info lines are off.) A v2 LOCAL health check had its line at open.
    if (conn.client !== null) {
      const http = conn.extra?.http ?? null;
      (conn.flags & HEALTH_CHECK ? ctx.logger.debug : ctx.logger.info)('close', {
        client: conn.client,
        duration_s: (Date.now() - conn.openedAt) / 1000,
        lines: http === null ? conn.lines : undefined,
        bytes: http === null ? conn.bytes : undefined,
        requests: http?.requests,
        reason:
          conn.reason ??
          http?.reason ??
          (conn.error !== null ? `client-error:${conn.error}` : 'client-closed'),
      });
    }
  } else if (conn.reason === null && !(conn.flags & RECEIVED)) {
    // Opened and closed without a byte: a TCP health check. Counted, quiet at info.
    ctx.metrics.silentCloses++;
    if (ctx.logger.debugEnabled)
      ctx.logger.debug('health check (closed without data)', { peer: conn.peerText() });
  } else if (conn.reason === null && ctx.logger.infoEnabled) {
    // Some bytes, but the peer went before its header was complete.
    ctx.logger.info('closed before a complete header', {
      peer: conn.peerText(),
      bytes: conn.pending?.length,
      error: conn.error ?? undefined,
    });
  }
  ctx.onClosed();
}
