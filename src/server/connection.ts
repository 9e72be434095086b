// One connection's life: awaiting its PROXY header → echoing lines → closing.
//
// Per-connection state is one small `Connection` object, written against the transport seam
// (engine/transport.ts): it is the transport's event target itself, so a connection costs no closures.
// Timeouts are not per-connection timers: the server's one sweep (`sweep`) checks deadlines.
//
// Deadlines: a connection that has sent nothing yet is held to the idle timeout (an NLB opens
// the connection when its client connects but sends the v2 header only with the client's first
// bytes, so a person on telnet may think before typing); once a header has begun, it has the
// header timeout from its first byte to finish (slowloris); after the header, the idle timeout.
//
// The first line after the header decides what the connection is: an HTTP/1.x request line
// makes it HTTP, anything else is echoed. An HTTP request's head is gathered here, under the
// header timeout, and only once complete is the connection handed to node:http (answer/http-handoff.ts;
// it leaves the transport): a client that stalls in its head costs what a stalled echo costs,
// not a node:http connection. `--greeting` sends its line before the first echo; while HTTP is
// possible it waits for that first line (or a short silence), so an HTTP client never sees it.
// Once greeted, the connection is an echo session: a request line after it is echoed.
import type net from 'node:net';
import { parseProxyHeader } from '../protocol/index.ts';
import type { ParseErrorCode, ParseOptions, ProxyHeader } from '../protocol/types.ts';
import type { Logger } from '../log.ts';
import { formatEndpoint, plainAddress } from './address-text.ts';
import { backendView, tlvLogFields } from './answer/backend-view.ts';
import { greetingLine } from './answer/greeting.ts';
import { httpRefusal } from './answer/http-answer.ts';
import type { ServerIdentity } from './answer/identity.ts';
import type { HttpAnswerer, HttpSession } from './answer/http-handoff.ts';
import { isHttpRequestLine } from './answer/http-detect.ts';
import type { Metrics } from './metrics/metrics.ts';
import { HEADER_MAYBE, HEADER_NO, type Policy, startsLikeHeader } from './policy.ts';
import type { TrustList } from './trust.ts';
import { type Scan, scanLines, STOP_NONE, STOP_QUIT, upperCaseInPlace } from './lines.ts';
import type { Transport, TransportEvents } from './engine/transport.ts';

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

const AWAIT_HEADER = 0;
const ECHO = 1;
const CLOSING = 2;
const HTTP = 3; // handed to node:http: its timeouts apply, not the sweep's
const HTTP_HEAD = 4; // an HTTP request's head is still coming: gathered in `pending`

/**
 * A greeting owed while HTTP is possible goes out after this much silence after the header
 * (the sweep checks it, so up to one sweep period later).
 */
const GREETING_WAIT_MS = 250;
const LF = 0x0a;
const CR = 0x0d;
/** node:http's limit on a request head: a longer one is handed over as it is, for its 431. */
const MAX_HTTP_HEAD = 16 * 1024;

// One scan result reused by every chunk of every connection.
const scan: Scan = { end: 0, lines: 0, stop: STOP_NONE };

// Bits of Connection.flags (one number instead of several booleans: this object is per connection).
const RECEIVED = 1; // a byte has arrived
const OPENED = 2; // open() ran: its close gets a log line
const HEALTH_CHECK = 4; // a v2 LOCAL header
const UNTRUSTED = 8; // the peer is outside --trust
const FIRST_LINE = 16; // the first line after the header is still to come: HTTP or echo?
const GREET = 32; // the greeting is owed

/**
 * What few connections need: the header kept over bytes of its own while the first line is
 * still to come, and the socket and HTTP session of a connection handed to node:http.
 */
interface Extra {
  /** A copy of the header's bytes, parsed only if the greeting or an HTTP answer needs it. */
  headerBytes: Buffer | null;
  socket: net.Socket | null;
  http: HttpSession | null;
}

// The header being opened, during the read that completed it (its bytes are only lent for that
// read): the first line in the same read, the usual case, is judged without keeping anything.
let liveHeader: ProxyHeader | null = null;

export class Connection implements TransportEvents {
  readonly transport: Transport;
  readonly ctx: ServerContext;
  readonly openedAt: number;
  state = AWAIT_HEADER;
  flags = 0;
  /** Header bytes so far (awaiting header) or the partial line carried to the next chunk. */
  pending: Buffer | null = null;
  /**
   * On the coarse clock: while awaiting the header, when the connection opened and then when
   * its first byte came; after it, the last progress (data in, or the echo drained).
   */
  active: number;
  lines = 0;
  bytes = 0;
  /** The socket's peer as `addr:port` (the load balancer when a header is used); see peerOf. */
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
    if (this.state !== ECHO) return;
    this.active = this.ctx.now;
    this.transport.resume();
  }

  onClose(error: string | null): void {
    if (error !== null) this.error = error;
    closed(this);
  }
}

/**
 * The peer as text. Asked of the socket only when needed (a peer address costs memory for as
 * long as the connection lives), and at accept when info lines will want it after the close.
 */
function peerOf(conn: Connection): string {
  if (conn.peer === null) {
    const address = conn.transport.remoteAddress();
    conn.peer =
      address === undefined
        ? 'unknown'
        : formatEndpoint(plainAddress(address), conn.transport.remotePort());
  }
  return conn.peer;
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
  if (ctx.logger.infoEnabled) peerOf(conn);
  // Policy off waits for the first byte too: a connection that sends nothing stays quiet.
  if (ctx.policy === 'require' && conn.flags & UNTRUSTED) {
    const peer = peerOf(conn);
    reject(
      conn,
      'untrusted',
      `${peer} is not in --trust`,
      `${peer} is not a trusted load balancer address`,
    );
  }
}

function received(conn: Connection, chunk: Buffer): void {
  // CLOSING: whatever else arrives is dropped, and does not extend the linger.
  if (conn.state === CLOSING) return;
  // Awaiting the header, `active` keeps the first byte's time: the header timeout counts from it.
  if (conn.state === ECHO || !(conn.flags & RECEIVED)) conn.active = conn.ctx.now;
  conn.flags |= RECEIVED;
  try {
    if (conn.state === ECHO) echo(conn, chunk);
    else if (conn.state === HTTP_HEAD) moreHead(conn, chunk);
    else header(conn, chunk);
  } catch (error) {
    // Only a bug gets here: it costs this connection, never the process and its other clients.
    conn.ctx.metrics.reject('internal-error');
    conn.ctx.logger.error('internal error; connection closed', {
      peer: peerOf(conn),
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
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
      ctx.logger.debug('health check (closed without data)', { peer: peerOf(conn) });
  } else if (conn.reason === null && ctx.logger.infoEnabled) {
    // Some bytes, but the peer went before its header was complete.
    ctx.logger.info('closed before a complete header', {
      peer: peerOf(conn),
      bytes: conn.pending?.length,
      error: conn.error ?? undefined,
    });
  }
  ctx.onClosed();
}

function header(conn: Connection, chunk: Buffer): void {
  const { ctx } = conn;
  if (ctx.policy === 'off') {
    open(conn, null);
    echo(conn, chunk);
    return;
  }
  // Concatenate only when the header straddles reads; the usual case parses the chunk itself.
  const bytes = conn.pending === null ? chunk : Buffer.concat([conn.pending, chunk]);
  if (ctx.policy === 'optional' && !optionalHeader(conn, chunk, bytes)) return;
  const result = parseProxyHeader(bytes, ctx.parseOptions);
  if (result.status === 'incomplete') {
    // Copy a lone chunk: the read buffer behind it may be far larger than the few bytes kept.
    conn.pending = bytes === chunk ? Buffer.from(chunk) : bytes;
    return;
  }
  conn.pending = null;
  if (result.status === 'invalid') {
    reject(
      conn,
      'bad-header',
      result.reason,
      `this port expects a PROXY protocol header from a load balancer first (${result.reason})`,
      result.code,
      startsWithRequestLine(bytes) ? 400 : 0,
    );
    return;
  }
  liveHeader = result.header;
  try {
    open(conn, result.header);
    // Bytes after the header in the same read are data: echo them from a view.
    if (result.length < bytes.length) echo(conn, bytes.subarray(result.length));
  } finally {
    liveHeader = null;
  }
  if ((conn.state === ECHO && conn.flags & FIRST_LINE) || conn.state === HTTP_HEAD)
    keepHeader(conn, bytes, result.length);
}

/** True when `bytes` begin with a whole HTTP/1.x request line (curl without a PROXY header). */
function startsWithRequestLine(bytes: Buffer): boolean {
  const lf = bytes.indexOf(LF);
  return lf !== -1 && isHttpRequestLine(null, bytes, lf);
}

/**
 * Under `--proxy-protocol optional`: true when `bytes` should be parsed as a header; otherwise
 * the connection has been dealt with (kept waiting for more bytes, echoed as data, or refused).
 */
function optionalHeader(conn: Connection, chunk: Buffer, bytes: Buffer): boolean {
  const looks = startsLikeHeader(bytes);
  if (looks === HEADER_MAYBE) {
    conn.pending = bytes === chunk ? Buffer.from(chunk) : bytes;
    return false;
  }
  if (looks === HEADER_NO) {
    conn.pending = null;
    open(conn, null);
    echo(conn, bytes);
    return false;
  }
  if (conn.flags & UNTRUSTED) {
    const peer = peerOf(conn);
    reject(
      conn,
      'untrusted',
      `PROXY header from ${peer}, which is not in --trust`,
      `${peer} may not send a PROXY header`,
    );
    return false;
  }
  return true;
}

/**
 * The first line has yet to come: keep a copy of the header's bytes (the read's are only lent),
 * parsed again only if the greeting or an HTTP answer asks for it; an echo never does.
 */
function keepHeader(conn: Connection, bytes: Buffer, length: number): void {
  conn.extra = { headerBytes: Buffer.from(bytes.subarray(0, length)), socket: null, http: null };
}

/** The connection is ready for echo: one log line with who it really is. */
function open(conn: Connection, header: ProxyHeader | null): void {
  const { ctx } = conn;
  conn.state = ECHO;
  conn.active = ctx.now; // idle from here, not from the header's first byte
  const kind =
    header === null ? 'none' : header.command === 'local' ? 'v2-local' : `v${header.version}`;
  ctx.metrics.headers[kind]++;
  if (kind === 'v2-local') conn.flags |= HEALTH_CHECK;
  conn.flags |= OPENED;
  if (ctx.http !== null) conn.flags |= FIRST_LINE;
  if (ctx.greeting) {
    conn.flags |= GREET;
    if (ctx.http === null) greet(conn);
  }
  if (!ctx.logger.infoEnabled) return; // who it is matters only to the log lines
  const source = header?.source ?? null;
  const unix = header?.protocol.startsWith('UNIX') === true;
  conn.client = source === null ? peerOf(conn) : formatEndpoint(source.address, source.port, unix);
  const destination = header?.destination ?? null;
  ctx.logger.info(conn.flags & HEALTH_CHECK ? 'health check (v2 LOCAL)' : 'open', {
    client: conn.client,
    // The balancer's own address, when the client is someone else.
    via: source === null ? undefined : peerOf(conn),
    to:
      destination === null
        ? undefined
        : formatEndpoint(destination.address, destination.port, unix),
    header: kind,
    ...tlvLogFields(header),
  });
}

function echo(conn: Connection, chunk: Buffer): void {
  const { ctx } = conn;
  const carried = conn.pending;
  scanLines(chunk, carried, ctx.maxLine, scan);
  const { end, lines, stop } = scan;
  // The first line after the header is complete (or refused): HTTP, or the echo begins.
  if (conn.flags & FIRST_LINE && (lines > 0 || stop !== STOP_NONE)) {
    if (firstLine(conn, chunk, lines > 0)) return;
  }
  if (lines > 0) sendLines(conn, carried, chunk, end, lines);
  if (stop === STOP_QUIT) {
    conn.pending = null;
    finish(conn, 'quit');
    return;
  }
  if (stop !== STOP_NONE) {
    lineTooLong(conn);
    return;
  }
  if (end < chunk.length) keepPartial(conn, lines === 0 ? carried : null, chunk, end);
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
function keepPartial(conn: Connection, growing: Buffer | null, chunk: Buffer, end: number): void {
  const max = conn.ctx.maxLine + 1;
  const length = chunk.length - end + (growing === null ? 0 : growing.length);
  if (length > max) lineTooLong(conn);
  else
    conn.pending =
      growing === null ? Buffer.from(chunk.subarray(end)) : appendToPartial(growing, chunk, max);
}

/**
 * The first line after the header has ended in `chunk` (`complete`: within --max-line; else
 * it is `q` or too long, for the echo path to act on): an HTTP request line hands the
 * connection to node:http (true: nothing left to echo); otherwise the greeting, if owed, goes
 * out before the echo.
 */
function firstLine(conn: Connection, chunk: Buffer, complete: boolean): boolean {
  conn.flags &= ~FIRST_LINE;
  const { http } = conn.ctx;
  if (complete && http !== null && isHttpRequestLine(conn.pending, chunk, chunk.indexOf(LF))) {
    beginHead(conn, chunk);
    return true;
  }
  if (conn.flags & GREET) greet(conn);
  conn.extra = null;
  return false;
}

/** The header this connection opened with (null: none), while it can still be read. */
function headerOf(conn: Connection): ProxyHeader | null {
  const kept = conn.extra?.headerBytes;
  if (kept == null) return liveHeader;
  const again = parseProxyHeader(kept, conn.ctx.parseOptions);
  return again.status === 'ok' ? again.header : null;
}

/**
 * Sends the greeting: who the client is, as the server saw it. From here on the connection is
 * an echo session: an HTTP answer after the greeting would mix two protocols on one stream.
 */
function greet(conn: Connection): void {
  const view = backendView({
    server: conn.ctx.identity,
    header: headerOf(conn),
    peer: peerOf(conn),
    local: null,
  });
  conn.flags &= ~(GREET | FIRST_LINE);
  conn.extra = null;
  conn.transport.writeText(greetingLine(view, conn.ctx.upper));
}

/**
 * The first line is an HTTP request line: its head is gathered (a copy: the read's bytes are
 * only lent), under the header timeout from now, until it is complete.
 */
function beginHead(conn: Connection, chunk: Buffer): void {
  const carried = conn.pending;
  conn.pending = carried === null ? Buffer.from(chunk) : Buffer.concat([carried, chunk]);
  conn.flags &= ~GREET; // the HTTP answer says it all
  conn.state = HTTP_HEAD;
  conn.active = conn.ctx.now;
  if (headComplete(conn.pending, 0) || conn.pending.length > MAX_HTTP_HEAD) toHttp(conn);
}

/** More of a request head: node:http gets the connection once the head is complete. */
function moreHead(conn: Connection, chunk: Buffer): void {
  const head = conn.pending!;
  if (head.length + chunk.length > MAX_HTTP_HEAD) {
    conn.pending = Buffer.concat([head, chunk]);
    toHttp(conn);
    return;
  }
  conn.pending = appendToPartial(head, chunk, MAX_HTTP_HEAD);
  // The blank line may begin in the bytes before this chunk (up to LF CR).
  if (headComplete(conn.pending, Math.max(0, head.length - 2))) toHttp(conn);
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
function toHttp(conn: Connection): void {
  const http = conn.ctx.http!;
  const head = conn.pending!;
  conn.pending = null;
  const header = headerOf(conn);
  const peer = peerOf(conn);
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
  });
  const session: HttpSession = { requests: 0, reason: null };
  conn.extra = { headerBytes: null, socket, http: session };
  socket.on('error', (error: NodeJS.ErrnoException) => {
    conn.error = error.code ?? error.message;
  });
  socket.once('close', () => closed(conn));
  http.take(socket, view, (conn.flags & HEALTH_CHECK) !== 0, session);
}

/** Memory allocated by appendToPartial: the bytes past a partial line in it are free to fill. */
const rooms = new WeakSet<ArrayBuffer>();

/**
 * `carried` + `chunk`, for a line still unfinished after its second read. It is appended in room
 * that doubles (up to `max`), so a long line arriving in many small reads is copied a bounded
 * number of times in all, not once per read (quadratic in the line's length).
 */
function appendToPartial(carried: Buffer, chunk: Buffer, max: number): Buffer {
  const length = carried.length + chunk.length;
  let room = carried.buffer as ArrayBuffer;
  if (!rooms.has(room) || room.byteLength < length) {
    const bigger = Buffer.allocUnsafeSlow(Math.min(max, Math.max(length, 2 * carried.length)));
    carried.copy(bigger);
    room = bigger.buffer as ArrayBuffer;
    rooms.add(room);
  }
  // A room's partial line always starts at its first byte.
  const partial = Buffer.from(room, 0, length);
  chunk.copy(partial, carried.length);
  return partial;
}

function lineTooLong(conn: Connection): void {
  conn.pending = null;
  reject(
    conn,
    'line-too-long',
    `a line is longer than ${conn.ctx.maxLine} bytes`,
    `line longer than ${conn.ctx.maxLine} bytes`,
  );
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

/** Closes politely: our echo goes out, then FIN; the sweep destroys it if the peer lingers. */
function finish(conn: Connection, reason: string): void {
  conn.state = CLOSING;
  conn.reason = reason;
  conn.active = conn.ctx.now;
  conn.transport.end();
}

/**
 * The server ends a connection on a rule: counted by reason, one warning naming the peer, and
 * one line telling the client why (a person on telnet sees it; a balancer ignores it). An HTTP
 * client gets the line as the body of an answer with `httpStatus`, so that it shows it.
 */
function reject(
  conn: Connection,
  reason: string,
  detail: string,
  tellClient: string,
  code?: ParseErrorCode,
  httpStatus = 0,
): void {
  const { ctx } = conn;
  ctx.metrics.reject(reason, code);
  ctx.logger.warn('reject', {
    peer: peerOf(conn),
    client: conn.client ?? undefined,
    reason,
    code,
    detail,
  });
  const line = `elb-proxy-echo: ${tellClient}; closing.\r\n`;
  conn.transport.writeText(httpStatus === 0 ? line : httpRefusal(httpStatus, line));
  finish(conn, reason);
}

/** Checks every connection's deadline: run by the server's one timer. */
export function sweep(ctx: ServerContext): void {
  const now = ctx.now;
  for (const conn of ctx.connections) {
    if (conn.state === AWAIT_HEADER && !(conn.flags & RECEIVED)) {
      // Nothing sent yet (whatever the policy): silence, held no longer than an idle session.
      if (now - conn.active >= ctx.idleTimeoutMs) idle(conn);
    } else if (conn.state === AWAIT_HEADER) {
      // A header has begun: it gets the header timeout from its first byte.
      if (now - conn.active >= ctx.headerTimeoutMs) {
        const secs = ctx.headerTimeoutMs / 1000;
        reject(
          conn,
          'header-timeout',
          `no complete PROXY header within ${secs}s`,
          `no PROXY protocol header within ${secs} s`,
        );
      }
    } else if (conn.state === ECHO) {
      // Nothing after the header yet: no HTTP client, so the greeting goes out.
      if (conn.flags & GREET && conn.pending === null && now - conn.active >= GREETING_WAIT_MS)
        greet(conn);
      if (now - conn.active >= ctx.idleTimeoutMs) idle(conn);
    } else if (conn.state === HTTP_HEAD && now - conn.active >= ctx.headerTimeoutMs) {
      headTimeout(conn);
    } else if (conn.state === CLOSING && now - conn.active >= ctx.lingerMs) {
      conn.transport.destroy();
    }
  }
}

/** An HTTP request's head not complete within the header timeout (slowloris): 408. */
function headTimeout(conn: Connection): void {
  const secs = conn.ctx.headerTimeoutMs / 1000;
  conn.pending = null;
  conn.ctx.metrics.httpRequest(408);
  reject(
    conn,
    'http-timeout',
    `no complete HTTP request head within ${secs}s`,
    `no complete HTTP request within ${secs} s`,
    undefined,
    408,
  );
}

function idle(conn: Connection): void {
  const secs = conn.ctx.idleTimeoutMs / 1000;
  if (conn.flags & RECEIVED)
    reject(conn, 'idle-timeout', `no data for ${secs}s`, `idle for ${secs} s`);
  else {
    const expected = conn.ctx.policy === 'off' ? 'no data' : 'no PROXY header, no data';
    reject(
      conn,
      'idle-timeout',
      `nothing received for ${secs}s (${expected})`,
      `nothing received for ${secs} s`,
    );
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
      conn.transport.writeText('elb-proxy-echo: the server is shutting down; closing.\r\n');
    }
    conn.transport.destroy();
  }
}
