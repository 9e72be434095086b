// One connection's life, one handler per phase (phase.ts): awaiting its PROXY header → the first
// line (first-line.ts: HTTP or echo; with --tls-cert, first TLS or clear: tls-start.ts) → echoing
// lines (echo.ts) or an HTTP head (http-head.ts) → closing.
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
import { parseProxyHeader } from '../protocol/index.ts';
import type { ParseOptions, ProxyHeader } from '../protocol/types.ts';
import { errorText } from '../error-text.ts';
import type { Logger } from '../log.ts';
import { formatEndpoint, plainAddress } from './address-text.ts';
import { type TlsView, tlvLogFields } from './answer/backend-view.ts';
import { requestStart } from './answer/http-detect.ts';
import type { HttpAnswerer, HttpSession } from './answer/http-handoff.ts';
import type { ServerIdentity } from './answer/identity.ts';
import type { TlsHandoff, TlsOwner } from './answer/tls-handoff.ts';
import { echo } from './echo.ts';
import type { Transport, TransportEvents } from './engine/transport.ts';
import { refuse, stopped } from './ending.ts';
import { firstLine, greet, phaseAfterHeader } from './first-line.ts';
import { moreHead } from './http-head.ts';
import { keepHeader } from './kept-header.ts';
import { STOP_NONE } from './lines.ts';
import type { Metrics } from './metrics/metrics.ts';
import {
  AWAIT_HEADER,
  CLOSING,
  ECHO,
  FIRST_LINE,
  HEALTH_CHECK,
  HTTP_HEAD,
  OPENED,
  RECEIVED,
  SPEAKS_HTTP,
  TLS_HANDSHAKE,
  UNTRUSTED,
} from './phase.ts';
import { type Policy, startsLikeHeader } from './policy.ts';
import { secured, tlsFailed, tookFirstByte } from './tls-start.ts';
import type { TrustList } from './trust.ts';
import { MAYBE, NO, YES } from './verdict.ts';

/** Settings and shared state of one server, as its connections see them. */
export interface ServerContext {
  readonly policy: Policy;
  /** null: every peer may send a header. */
  readonly trust: TrustList | null;
  readonly maxLine: number;
  readonly headerTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** How long a connection the server ended may linger (the peer not closing) before destroy. */
  readonly lingerMs: number;
  readonly upper: boolean;
  readonly parseOptions: ParseOptions;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Answers connections whose first line is an HTTP request; null: --http off. */
  readonly http: HttpAnswerer | null;
  /** Serves connections that begin TLS after the header; null: no --tls-cert. */
  readonly tls: TlsHandoff | null;
  /** --greeting: a line telling the client what the server saw, before any echo. */
  readonly greeting: boolean;
  /** Which backend this is, for the greeting and the HTTP answers. */
  readonly identity: ServerIdentity;
  readonly connections: Set<Connection>;
  /** Coarse clock (ms), advanced by the sweep; cheap to read on every chunk. */
  now: number;
  /** Called when a connection closes (the server resolves its drain with it). */
  onClosed: () => void;
}

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

function closed(conn: Connection): void {
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

/** Data while awaiting the header: the header, or under policy off/optional the first data. */
function awaitingHeader(conn: Connection, chunk: Buffer): void {
  const { ctx } = conn;
  if (ctx.policy === 'off') {
    opened(conn, null, chunk);
    return;
  }
  // Concatenate only when the header straddles reads; the usual case parses the chunk itself.
  const bytes = conn.pending === null ? chunk : Buffer.concat([conn.pending, chunk]);
  if (ctx.policy === 'optional' && !optionalHeader(conn, chunk, bytes)) return;
  const result = parseProxyHeader(bytes, ctx.parseOptions);
  if (result.status === 'incomplete') {
    hold(conn, chunk, bytes);
    return;
  }
  if (result.status === 'invalid') {
    // Not a PROXY signature: curl without a header gets its refusal as an HTTP 400, whatever
    // its first reads held. Telling needs at most a method and a space, under the header timeout.
    const http = result.code === 'not-proxy' ? requestStart(bytes) : NO;
    if (http === MAYBE) {
      hold(conn, chunk, bytes);
      return;
    }
    conn.pending = null;
    if (http === YES) conn.flags |= SPEAKS_HTTP;
    refuse(conn, 'bad-header', result);
    return;
  }
  conn.pending = null;
  // Bytes after the header in the same read are data: judged from a view.
  opened(conn, result.header, result.length < bytes.length ? bytes.subarray(result.length) : null);
  const { state } = conn;
  if (state === FIRST_LINE || state === HTTP_HEAD || state === TLS_HANDSHAKE)
    keepHeader(conn, bytes, result.length);
}

/** Keeps the bytes so far for the next read (`bytes`: `pending` then `chunk`). */
function hold(conn: Connection, chunk: Buffer, bytes: Buffer): void {
  // Copy a lone chunk: the read buffer behind it may be far larger than the few bytes kept.
  conn.pending = bytes === chunk ? Buffer.from(chunk) : bytes;
}

/**
 * Under `--proxy-protocol optional`: true when `bytes` should be parsed as a header; otherwise
 * the connection has been dealt with (kept waiting for more bytes, echoed as data, or refused).
 */
function optionalHeader(conn: Connection, chunk: Buffer, bytes: Buffer): boolean {
  const looks = startsLikeHeader(bytes);
  if (looks === MAYBE) {
    hold(conn, chunk, bytes);
    return false;
  }
  if (looks === NO) {
    conn.pending = null;
    opened(conn, null, bytes);
    return false;
  }
  if (conn.flags & UNTRUSTED) {
    refuse(conn, 'untrusted-header');
    return false;
  }
  return true;
}

/** The connection opens with `header` (null: none), then `data`, the rest of this read (if any). */
function opened(conn: Connection, header: ProxyHeader | null, data: Buffer | null): void {
  open(conn, header);
  if (data === null) return;
  if (conn.state === FIRST_LINE) stopped(conn, firstLine(conn, data, header));
  else stopped(conn, echo(conn, data));
}

/** The connection is ready for its first line: one log line with who it really is. */
function open(conn: Connection, header: ProxyHeader | null): void {
  const { ctx } = conn;
  conn.state = phaseAfterHeader(ctx);
  conn.active = ctx.now; // idle from here, not from the header's first byte
  const kind =
    header === null ? 'none' : header.command === 'local' ? 'v2-local' : `v${header.version}`;
  ctx.metrics.headers[kind]++;
  if (kind === 'v2-local') conn.flags |= HEALTH_CHECK;
  conn.flags |= OPENED;
  if (ctx.greeting && conn.state === ECHO) greet(conn, header);
  if (!ctx.logger.infoEnabled) return; // who it is matters only to the log lines
  const source = header?.source ?? null;
  const unix = header?.protocol.startsWith('UNIX') === true;
  conn.client =
    source === null ? conn.peerText() : formatEndpoint(source.address, source.port, unix);
  const destination = header?.destination ?? null;
  ctx.logger.info(conn.flags & HEALTH_CHECK ? 'health check (v2 LOCAL)' : 'open', {
    client: conn.client,
    // The balancer's own address, when the client is someone else.
    via: source === null ? undefined : conn.peerText(),
    to:
      destination === null
        ? undefined
        : formatEndpoint(destination.address, destination.port, unix),
    header: kind,
    ...tlvLogFields(header),
  });
}
