// One connection's life: awaiting its PROXY header → echoing lines → closing.
//
// Per-connection state is one small `Connection` object; the socket's event handlers are
// shared functions (no closures per connection) that find it through a symbol on the socket.
// Timeouts are not per-connection timers: the server's one sweep (`sweep`) checks deadlines.
import type net from 'node:net';
import { parseProxyHeader } from '../protocol/index.ts';
import type { ParseOptions, ProxyHeader } from '../protocol/types.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from './metrics.ts';
import { HEADER_MAYBE, HEADER_NO, type Policy, startsLikeHeader } from './policy.ts';
import type { TrustList } from './trust.ts';
import { type Scan, scanLines, STOP_NONE, STOP_QUIT, upperCaseInPlace } from './lines.ts';

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
  readonly connections: Set<Connection>;
  /** Coarse clock (ms), advanced by the sweep; cheap to read on every chunk. */
  now: number;
  /** Called when a connection closes (the server resolves its drain with it). */
  onClosed: () => void;
}

const AWAIT_HEADER = 0;
const ECHO = 1;
const CLOSING = 2;

const kConnection = Symbol('connection');
type TaggedSocket = net.Socket & { [kConnection]: Connection };

// One scan result reused by every chunk of every connection.
const scan: Scan = { end: 0, lines: 0, stop: STOP_NONE };

export class Connection {
  readonly socket: net.Socket;
  readonly ctx: ServerContext;
  /** The socket's peer (`addr:port`): the load balancer when a header is used. */
  readonly peer: string;
  readonly trusted: boolean;
  readonly openedAt: number;
  state = AWAIT_HEADER;
  /** Header bytes so far (awaiting header) or the partial line carried to the next chunk. */
  pending: Buffer | null = null;
  /** Last progress (data in, or the echo drained), on the coarse clock. */
  active: number;
  received = false;
  healthCheck = false;
  lines = 0;
  bytes = 0;
  /** The real client for the logs, set when the connection is opened for echo. */
  client: string | null = null;
  reason: string | null = null;
  error: string | null = null;

  constructor(ctx: ServerContext, socket: net.Socket, peerAddress: string, peerPort: number) {
    this.ctx = ctx;
    this.socket = socket;
    this.peer = formatEndpoint(plainAddress(peerAddress), peerPort);
    this.trusted = ctx.trust === null || ctx.trust.allows(peerAddress);
    this.openedAt = Date.now(); // precise: the close line reports the duration from it
    this.active = ctx.now;
  }
}

/** `connection` handler of the server: sets the connection up according to the policy. */
export function accept(ctx: ServerContext, socket: net.Socket): void {
  const address = socket.remoteAddress;
  if (address === undefined) {
    socket.destroy(); // already gone (reset before we got to it)
    return;
  }
  const conn = new Connection(ctx, socket, address, socket.remotePort ?? 0);
  (socket as TaggedSocket)[kConnection] = conn;
  ctx.connections.add(conn);
  ctx.metrics.connectionsOpen++;
  ctx.metrics.connectionsTotal++;
  socket.on('data', onData);
  socket.on('drain', onDrain);
  socket.on('error', onError);
  socket.on('close', onClose);
  // Policy off waits for the first byte too: a connection that sends nothing stays quiet.
  if (ctx.policy === 'require' && !conn.trusted) {
    reject(conn, 'untrusted', `${conn.peer} is not in --trust`, `${conn.peer} is not a trusted load balancer address`);
  }
}

function onData(this: net.Socket, chunk: Buffer): void {
  const conn = (this as TaggedSocket)[kConnection];
  // CLOSING: whatever else arrives is dropped, and does not extend the linger.
  if (conn.state === CLOSING) return;
  conn.active = conn.ctx.now;
  conn.received = true;
  try {
    if (conn.state === ECHO) echo(conn, chunk);
    else header(conn, chunk);
  } catch (error) {
    // Only a bug gets here: it costs this connection, never the process and its other clients.
    conn.ctx.metrics.reject('internal-error');
    conn.ctx.logger.error('internal error; connection closed', { peer: conn.peer, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    conn.reason = 'internal-error';
    conn.state = CLOSING;
    this.destroy();
  }
}

function onDrain(this: net.Socket): void {
  const conn = (this as TaggedSocket)[kConnection];
  if (conn.state !== ECHO) return;
  conn.active = conn.ctx.now;
  this.resume();
}

function onError(this: net.Socket, error: NodeJS.ErrnoException): void {
  (this as TaggedSocket)[kConnection].error = error.code ?? error.message;
}

function onClose(this: net.Socket): void {
  const conn = (this as TaggedSocket)[kConnection];
  const { ctx } = conn;
  ctx.connections.delete(conn);
  ctx.metrics.connectionsOpen--;
  if (!conn.received && conn.reason === null && conn.client === null) {
    // Opened and closed without a byte: a TCP health check. Counted, quiet at info.
    ctx.metrics.silentCloses++;
    ctx.logger.debug('health check (closed without data)', { peer: conn.peer });
  } else if (conn.client === null && conn.reason === null) {
    // Some bytes, but the peer went before its header was complete.
    ctx.logger.info('closed before a complete header', {
      peer: conn.peer,
      bytes: conn.pending?.length,
      error: conn.error ?? undefined,
    });
  } else if (conn.client !== null) {
    // A balancer's health check (v2 LOCAL) already had its info line at open.
    (conn.healthCheck ? ctx.logger.debug : ctx.logger.info)('close', {
      client: conn.client,
      duration_s: (Date.now() - conn.openedAt) / 1000,
      lines: conn.lines,
      bytes: conn.bytes,
      reason: conn.reason ?? (conn.error !== null ? `client-error:${conn.error}` : 'client-closed'),
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
  if (ctx.policy === 'optional') {
    const looks = startsLikeHeader(bytes);
    if (looks === HEADER_MAYBE) {
      conn.pending = bytes === chunk ? Buffer.from(chunk) : bytes;
      return;
    }
    if (looks === HEADER_NO) {
      conn.pending = null;
      open(conn, null);
      echo(conn, bytes);
      return;
    }
    if (!conn.trusted) {
      reject(conn, 'untrusted', `PROXY header from ${conn.peer}, which is not in --trust`, `${conn.peer} may not send a PROXY header`);
      return;
    }
  }
  const result = parseProxyHeader(bytes, ctx.parseOptions);
  if (result.status === 'incomplete') {
    // Copy a lone chunk: the read buffer behind it may be far larger than the few bytes kept.
    conn.pending = bytes === chunk ? Buffer.from(chunk) : bytes;
    return;
  }
  conn.pending = null;
  if (result.status === 'invalid') {
    reject(conn, 'bad-header', result.reason, `this port expects a PROXY protocol header from a load balancer first (${result.reason})`);
    return;
  }
  open(conn, result.header);
  // Bytes after the header in the same read are data: echo them from a view.
  if (result.length < bytes.length && conn.state === ECHO) echo(conn, bytes.subarray(result.length));
}

/** The connection is ready for echo: one log line with who it really is. */
function open(conn: Connection, header: ProxyHeader | null): void {
  const { ctx } = conn;
  conn.state = ECHO;
  const kind = header === null ? 'none' : header.command === 'local' ? 'v2-local' : `v${header.version}`;
  ctx.metrics.headers[kind]++;
  const source = header?.source ?? null;
  conn.client = source === null ? conn.peer : formatEndpoint(source.address, source.port);
  conn.healthCheck = kind === 'v2-local';
  const destination = header?.destination ?? null;
  ctx.logger.info(conn.healthCheck ? 'health check (v2 LOCAL)' : 'open', {
    client: conn.client,
    // The balancer's own address, when the client is someone else.
    via: source === null ? undefined : conn.peer,
    to: destination === null ? undefined : formatEndpoint(destination.address, destination.port),
    header: kind,
  });
}

function echo(conn: Connection, chunk: Buffer): void {
  const { ctx, socket } = conn;
  const carried = conn.pending;
  scanLines(chunk, carried, ctx.maxLine, scan);
  const { end, lines, stop } = scan;
  if (lines > 0) {
    if (ctx.logger.debugEnabled) logData(conn, carried, chunk.subarray(0, end));
    if (ctx.upper) {
      if (carried !== null) upperCaseInPlace(carried, 0, carried.length);
      upperCaseInPlace(chunk, 0, end);
    }
    let ok: boolean;
    if (carried !== null) {
      // The first line began in an earlier read: both parts go out in one writev.
      socket.cork();
      socket.write(carried);
      ok = end === 0 || socket.write(chunk.subarray(0, end));
      socket.uncork();
      ok = ok && socket.writableLength < socket.writableHighWaterMark;
      conn.pending = null;
    } else {
      ok = socket.write(end === chunk.length ? chunk : chunk.subarray(0, end));
    }
    const bytes = end + (carried === null ? 0 : carried.length);
    conn.lines += lines;
    conn.bytes += bytes;
    ctx.metrics.lines += lines;
    ctx.metrics.bytes += bytes;
    // Backpressure: stop reading from a client that does not read its echo; `drain` resumes.
    if (!ok) socket.pause();
  }
  if (stop === STOP_QUIT) {
    conn.pending = null;
    finish(conn, 'quit');
    return;
  }
  if (stop !== STOP_NONE) {
    lineTooLong(conn);
    return;
  }
  if (end < chunk.length) {
    // Keep the partial line (a copy, so the read buffer can go).
    const partial = lines === 0 && carried !== null ? Buffer.concat([carried, chunk]) : Buffer.from(chunk.subarray(end));
    // One byte of slack: a CR may still turn out to be the line's ending.
    if (partial.length > ctx.maxLine + 1) lineTooLong(conn);
    else conn.pending = partial;
  }
}

function lineTooLong(conn: Connection): void {
  conn.pending = null;
  reject(conn, 'line-too-long', `a line is longer than ${conn.ctx.maxLine} bytes`, `line longer than ${conn.ctx.maxLine} bytes`);
}

function logData(conn: Connection, carried: Buffer | null, bytes: Buffer): void {
  const text = (carried === null ? '' : carried.toString('latin1')) + bytes.toString('latin1');
  for (const line of text.split('\n')) {
    if (line !== '') conn.ctx.logger.debug('data', { client: conn.client, line: line.endsWith('\r') ? line.slice(0, -1) : line });
  }
}

/** Closes politely: our echo goes out, then FIN; the sweep destroys it if the peer lingers. */
function finish(conn: Connection, reason: string): void {
  conn.state = CLOSING;
  conn.reason = reason;
  conn.active = conn.ctx.now;
  conn.socket.end();
}

/**
 * The server ends a connection on a rule: counted by reason, one warning naming the peer, and
 * one line telling the client why (a person on telnet sees it; a balancer ignores it).
 */
export function reject(conn: Connection, reason: string, detail: string, tellClient: string): void {
  const { ctx } = conn;
  ctx.metrics.reject(reason);
  ctx.logger.warn('reject', { peer: conn.peer, client: conn.client ?? undefined, reason, detail });
  if (conn.socket.writable) conn.socket.write(`elb-proxy-echo: ${tellClient}; closing.\r\n`);
  finish(conn, reason);
}

/** Checks every connection's deadline: run by the server's one timer. */
export function sweep(ctx: ServerContext): void {
  const now = ctx.now;
  for (const conn of ctx.connections) {
    if (conn.state === AWAIT_HEADER && ctx.policy === 'off') {
      // No header to wait for: silence before the first byte is plain idleness.
      if (now - conn.openedAt >= ctx.idleTimeoutMs) idle(conn);
    } else if (conn.state === AWAIT_HEADER) {
      if (now - conn.openedAt >= ctx.headerTimeoutMs) {
        const secs = ctx.headerTimeoutMs / 1000;
        reject(conn, 'header-timeout', `no complete PROXY header within ${secs}s`, `no PROXY protocol header within ${secs} s`);
      }
    } else if (conn.state === ECHO) {
      if (now - conn.active >= ctx.idleTimeoutMs) idle(conn);
    } else if (now - conn.active >= ctx.lingerMs) {
      conn.socket.destroy();
    }
  }
}

function idle(conn: Connection): void {
  const secs = conn.ctx.idleTimeoutMs / 1000;
  reject(conn, 'idle-timeout', `no data for ${secs}s`, `idle for ${secs} s`);
}

/** Ends every connection still open when the drain time is up. */
export function closeAll(ctx: ServerContext): void {
  for (const conn of ctx.connections) {
    if (conn.state !== CLOSING) {
      conn.reason = 'shutdown';
      if (conn.socket.writable) conn.socket.write('elb-proxy-echo: the server is shutting down; closing.\r\n');
    }
    conn.socket.destroy();
  }
}

/** `::ffff:10.0.0.5` (an IPv4 client on a dual-stack socket) → `10.0.0.5`. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.indexOf('.') !== -1 ? address.slice(7) : address;
}

function formatEndpoint(address: string, port: number): string {
  return address.indexOf(':') === -1 ? `${address}:${port}` : `[${address}]:${port}`;
}
