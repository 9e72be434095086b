// How the server ends a connection: politely (`q`: our echo, then FIN), or on a rule, with the
// words of refusals.ts: counted by reason, one warning naming the peer, one line to the client.
import type { Connection } from './connection.ts';
import { STOP_NONE, STOP_QUIT, type Stop } from './lines.ts';
import { CLOSING, SPEAKS_HTTP } from './phase.ts';
import { REFUSALS, type RefusalKey, refusalAnswer } from './refusals.ts';

/** The echo stopped (or not): `q` closes politely, a line over --max-line is refused. */
export function stopped(conn: Connection, stop: Stop): void {
  if (stop === STOP_NONE) return;
  if (stop === STOP_QUIT) finish(conn, 'quit');
  else refuse(conn, 'line-too-long');
}

/** Closes politely: our echo goes out, then FIN; the sweep destroys it if the peer lingers. */
export function finish(conn: Connection, reason: string): void {
  conn.state = CLOSING;
  conn.reason = reason;
  conn.active = conn.ctx.now;
  conn.transport.end();
}

/** What went wrong, when a refusal has more to say: a stable code and a human reason. */
export interface Fault {
  /** The parser's ParseErrorCode, or a failed TLS handshake's label (tls-handoff.ts). */
  readonly code: string;
  readonly reason: string;
}

/**
 * The server ends a connection on a rule (refusals.ts): counted by reason (a bad header also by
 * the parser's code, a failed TLS handshake by OpenSSL's), one warning naming the peer, and one
 * line telling the client why.
 */
export function refuse(conn: Connection, key: RefusalKey, fault: Fault | null = null): void {
  const { ctx } = conn;
  const refusal = REFUSALS[key];
  const peer = conn.peerText();
  const why = fault?.reason ?? '';
  ctx.metrics.reject(refusal.reason, fault?.code);
  ctx.logger.warn('reject', {
    peer,
    client: conn.client ?? undefined,
    reason: refusal.reason,
    code: fault?.code,
    detail: refusal.detail(ctx, peer, why),
  });
  const told = refusal.tell(ctx, peer, why);
  conn.transport.writeText(refusalAnswer(refusal, told, (conn.flags & SPEAKS_HTTP) !== 0));
  finish(conn, refusal.reason);
}
