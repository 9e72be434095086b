// One connection's life, one handler per phase (phase.ts): awaiting its PROXY header
// (header-phase.ts) → the first line (first-line.ts: HTTP or echo; with --tls-cert, first TLS or
// clear: tls-start.ts) → echoing lines (echo.ts) or an HTTP head (http-head.ts) → closing
// (ending.ts) → closed (closed.ts).
//
// Per-connection state is one small `Connection` object, written against the transport seam
// (engine/transport.ts): it is the transport's event target itself, so a connection costs no closures.
// Timeouts are not per-connection timers: the server's one sweep (`sweep`) checks deadlines.
//
// Deadlines: a connection that has sent nothing yet is held to the idle timeout (an NLB opens
// the connection when its client connects but sends the v2 header only with the client's first
// bytes, so a person on telnet may think before typing); once a header has begun, it has the
// header timeout from its first byte to finish (slowloris); after the header, the idle timeout;
// an HTTP request's head, the header timeout from its request line.
import type net from 'node:net';
import { errorText } from '../error-text.ts';
import { formatEndpoint, plainAddress } from './address-text.ts';
import type { TlsView } from './answer/tls-view.ts';
import type { HttpSession } from './answer/http-handoff.ts';
import type { TlsOwner } from './answer/tls-handoff.ts';
import { closed } from './closed.ts';
import { echo } from './echo.ts';
import type { Transport, TransportEvents } from './engine/transport.ts';
import { refuse, stopped } from './ending.ts';
import { firstLine } from './first-line.ts';
import { awaitingHeader } from './header-phase.ts';
import { moreHead } from './http-head.ts';
import { STOP_NONE } from './lines.ts';
import {
  AWAIT_HEADER,
  CLOSING,
  ECHO,
  FIRST_LINE,
  HTTP_HEAD,
  RECEIVED,
  TLS_HANDSHAKE,
  UNTRUSTED,
} from './phase.ts';
import type { ServerContext } from './server-context.ts';
import { secured, tlsFailed, tookFirstByte } from './tls-start.ts';

/**
 * What few connections need: the header kept over bytes of its own while the first line is
 * still to come, and the socket and HTTP session of a connection handed to node:http.
 */
interface Extra {
  /** A copy of the header's bytes, parsed only if the greeting or an HTTP answer needs it. */
  headerBytes: Buffer | null;
  socket: net.Socket | null;
  http: HttpSession | null;
  /** What the TLS handshake settled, for the greeting and the HTTP answers. */
  tls?: TlsView;
}

export class Connection implements TransportEvents, TlsOwner {
  /** Replaced once when the connection switches to TLS: then the decrypted stream. */
  transport: Transport;
  readonly ctx: ServerContext;
  readonly openedAt: number;
  /** The phase (phase.ts). */
  state = AWAIT_HEADER;
  flags = 0;
  /** Header bytes so far (awaiting header), the partial line carried to the next chunk, or the HTTP head so far. */
  pending: Buffer | null = null;
  /**
   * On the coarse clock: while awaiting the header, when the connection opened and then when
   * its first byte came; after it, the last progress (data in, or the echo drained).
   */
  active: number;
  lines = 0;
  bytes = 0;
  /** The socket's peer as `addr:port` (the load balancer when a header is used); see peerText. */
  peer: string | null = null;
  /** The real client, kept for the close line when info lines are written. */
  client: string | null = null;
  reason: string | null = null;
  error: string | null = null;
  extra: Extra | null = null;

  constructor(ctx: ServerContext, transport: Transport) {
    this.ctx = ctx;
    this.transport = transport;
    this.openedAt = Date.now(); // precise: the close line reports the duration from it
    this.active = ctx.now;
  }

  onData(chunk: Buffer): void {
    received(this, chunk);
  }

  onDrain(): void {
    if (this.state !== ECHO && this.state !== FIRST_LINE) return;
    this.active = this.ctx.now;
    this.transport.resume();
  }

  onClose(error: string | null): void {
    if (error !== null) this.error = error;
    closed(this);
  }

  onSecure(view: TlsView): void {
    secured(this, view);
  }

  onTlsFailure(reason: string, code: string): void {
    tlsFailed(this, reason, code);
  }

  /**
   * The peer as text. Asked of the socket only when needed (a peer address costs memory for as
   * long as the connection lives), and at accept when info lines will want it after the close.
   */
  peerText(): string {
    if (this.peer === null) {
      const address = this.transport.remoteAddress();
      this.peer =
        address === undefined
          ? 'unknown'
          : formatEndpoint(plainAddress(address), this.transport.remotePort());
    }
    return this.peer;
  }
}

/** A new connection from the engine: sets it up according to the policy and starts reading. */
export function accept(ctx: ServerContext, transport: Transport): void {
  const conn = new Connection(ctx, transport);
  ctx.connections.add(conn);
  ctx.metrics.connectionsOpen++;
  ctx.metrics.connectionsTotal++;
  transport.start(conn);
  if (ctx.trust !== null) {
    const address = transport.remoteAddress();
    if (address === undefined || !ctx.trust.allows(address)) conn.flags |= UNTRUSTED;
  }
  if (ctx.logger.infoEnabled) conn.peerText();
  // Policy off waits for the first byte too: a connection that sends nothing stays quiet.
  if (ctx.policy === 'require' && conn.flags & UNTRUSTED) refuse(conn, 'untrusted-peer');
}

function received(conn: Connection, chunk: Buffer): void {
  const { state } = conn;
  // CLOSING: whatever else arrives is dropped, and does not extend the linger.
  if (state === CLOSING) return;
  // Awaiting the header, `active` keeps the first byte's time: the header timeout counts from it.
  if (state === ECHO || state === FIRST_LINE || !(conn.flags & RECEIVED))
    conn.active = conn.ctx.now;
  conn.flags |= RECEIVED;
  try {
    if (state === ECHO) {
      if (tookFirstByte(conn, chunk)) return;
      const stop = echo(conn, chunk);
      if (stop !== STOP_NONE) stopped(conn, stop);
    } else if (state === FIRST_LINE || state === TLS_HANDSHAKE)
      // (node:tls says `secure` before the first decrypted bytes; should one come first, it is
      // the first line all the same.)
      stopped(conn, firstLine(conn, chunk, undefined));
    else if (state === HTTP_HEAD) moreHead(conn, chunk);
    else awaitingHeader(conn, chunk);
  } catch (error) {
    // Only a bug gets here: it costs this connection, never the process and its other clients.
    conn.ctx.metrics.reject('internal-error');
    conn.ctx.logger.error('internal error; connection closed', {
      peer: conn.peerText(),
      error: errorText(error, 'stack'),
    });
    conn.reason = 'internal-error';
    conn.state = CLOSING;
    conn.transport.destroy();
  }
}
