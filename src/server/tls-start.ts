// TLS after the header (answer/tls-handoff.ts). With --tls-cert, the first byte after the header
// decides (first-line.ts): a TLS handshake record hands the connection to node:tls, and once the
// handshake is done the connection is back in FIRST_LINE over the decrypted stream, its TLS view
// kept for the greeting and the HTTP answers. Any other byte is served in clear, unless
// --tls require.
import type { TlsView } from './answer/tls-view.ts';
import { TLS_HANDSHAKE_RECORD } from './answer/tls-handoff.ts';
import type { Connection } from './connection.ts';
import { refuse } from './ending.ts';
import { FIRST_LINE, TLS_DECIDED, TLS_HANDSHAKE } from './phase.ts';

/**
 * Data after the header: true when its first byte has taken the connection away from the clear
 * path (handed to node:tls, or refused). Only the very first byte after the header decides (also
 * after a greeting sent on silence); the bytes after it, and decrypted ones, never do.
 */
export function tookFirstByte(conn: Connection, chunk: Buffer): boolean {
  const tls = conn.ctx.tls;
  if (tls === null || conn.flags & TLS_DECIDED) return false;
  conn.flags |= TLS_DECIDED;
  if (chunk[0] === TLS_HANDSHAKE_RECORD) {
    handOver(conn, chunk);
    return true;
  }
  if (!tls.required) return false;
  refuse(conn, 'tls-required');
  return true;
}

function handOver(conn: Connection, chunk: Buffer): void {
  conn.state = TLS_HANDSHAKE;
  conn.active = conn.ctx.now;
  // A copy: the read's bytes are only lent, and node:tls reads them later.
  const socket = conn.transport.detach(Buffer.from(chunk));
  conn.transport = conn.ctx.tls!.take(socket, conn);
  conn.transport.start(conn);
}

/** The handshake is done: the first line is still to come, now over the decrypted stream. */
export function secured(conn: Connection, view: TlsView): void {
  if (conn.state !== TLS_HANDSHAKE) return;
  conn.state = FIRST_LINE;
  conn.active = conn.ctx.now;
  if (conn.extra === null) conn.extra = { headerBytes: null, socket: null, http: null, tls: view };
  else conn.extra.tls = view;
  const { logger } = conn.ctx;
  if (!logger.infoEnabled) return;
  logger.info('tls', {
    client: conn.client ?? undefined,
    version: view.version,
    cipher: view.cipher,
    sni: view.sni,
    alpn: view.alpn,
    client_cert: view.clientCertificate?.subject,
    client_cert_sha256: view.clientCertificate?.sha256,
    client_cert_verified: view.clientCertificate?.verified,
  });
}

/** The handshake failed: OpenSSL's reason, and `code`, its label for the metrics. */
export function tlsFailed(conn: Connection, reason: string, code: string): void {
  if (conn.state === TLS_HANDSHAKE) refuse(conn, 'tls-handshake', { code, reason });
}

/** A handshake not done within the header timeout: refused, and destroyed at once. */
export function handshakeTimedOut(conn: Connection): void {
  refuse(conn, 'tls-handshake-timeout');
  // Nothing can reach a client whose handshake is not done: no linger.
  conn.transport.destroy();
}
