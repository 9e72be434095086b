// HTTP on the echo port: a connection whose first line is an HTTP/1.x request line is handed to
// node:http once that request's head is complete (http-head.ts gathers it), fed the bytes
// already read, and every request on it gets what the backend saw. node:http does all the
// parsing, keep-alive, HEAD, HTTP/1.0 and its error answers; this file answers requests, logs
// them, and bounds what one connection may cost:
// - node:http sees one request at a time (request-gate.ts): the next request's bytes reach it
//   only once the answer before has gone to the kernel, so a client that pipelines and never
//   reads holds an answer (two at most) and a read or two, not one answer per request it sent;
// - the first LOGGED_REQUESTS requests of a connection get an `http` line each; the rest are
//   counted (metrics stay exact) and their number goes in the connection's close line;
// - a request's head gets --header-timeout, its body one --idle-timeout more, and a connection
//   with nothing going on --idle-timeout;
// - every end of a connection the server decides (a bad request, CONNECT, a timeout, a body
//   over the limit) is its `reason` in the close line, counted among the rejects.
import type http from 'node:http';
import type net from 'node:net';
import { errorText } from '../../error-text.ts';
import type { Logger } from '../../log.ts';
import { checkPeriod } from '../check-period.ts';
import type { HealthState, HealthView } from '../health.ts';
import { type BackendView, shown } from './backend-view.ts';
import {
  renderJson,
  renderText,
  type RequestSeen,
  type TextTop,
  textTop,
  wantsJson,
} from './http-answer.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { RequestGate } from './request-gate.ts';

export interface HttpAnswererOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Time a request's line and headers may take (node:http's headersTimeout), ms. */
  readonly headersTimeoutMs: number;
  /** Time a connection may stay without traffic (node:http's socket timeout), ms. */
  readonly idleTimeoutMs: number;
  /** Largest request body read (and dropped); a larger one gets 413 and a close. Default 64 KiB. */
  readonly maxBodyBytes?: number;
  /** While not ok, every request gets 503 and the state (health checks fail). Default: always ok. */
  readonly health?: HealthView;
}

/** What the connection's close line says of its HTTP part; written by the answerer. */
export interface HttpSession {
  /** Requests answered or refused on the connection. */
  requests: number;
  /** Why the server ended the connection; null: it did not (the client closed). */
  reason: string | null;
}

export interface HttpAnswerer {
  /**
   * Gives node:http a connection, its bytes already read put back in front (Transport.detach):
   * `view` is what the backend saw, `healthCheck` a v2 LOCAL connection (logged at debug).
   */
  take(socket: net.Socket, view: BackendView, healthCheck: boolean, session: HttpSession): void;
  /** Closes idle keep-alive connections and stops node:http's timeout checks (the server is closing). */
  close(): void;
}

/** What one handed-over connection carries for its requests. */
interface Seen {
  readonly view: BackendView;
  readonly healthCheck: boolean;
  readonly session: HttpSession;
  /** Requests whose answers have not all gone to the kernel yet. */
  inFlight: number;
  /** The latest request: while its body comes, the gate lets it through. */
  last: http.IncomingMessage | null;
  /** The status of a parse error to answer once the answers owed before it are out; 0: none. */
  failure: number;
  /** The text answers' part about the connection, made at its first text answer. */
  top: TextTop | null;
}

const kSeen = Symbol('seen');
type SeenGate = RequestGate & { [kSeen]?: Seen };

/** Requests of one connection that get an `http` log line each; the rest are only counted. */
export const LOGGED_REQUESTS = 8;

export function createHttpAnswerer(options: HttpAnswererOptions): HttpAnswerer {
  // Made at the first HTTP connection: a server that never sees one does not load node:http.
  let server: http.Server | null = null;
  return {
    take(socket, view, healthCheck, session) {
      server ??= startServer(options);
      const seen: Seen = {
        view,
        healthCheck,
        session,
        inFlight: 0,
        last: null,
        failure: 0,
        top: null,
      };
      const gate: SeenGate = new RequestGate(socket, () => mayFeed(seen));
      gate[kSeen] = seen;
      server.emit('connection', gate);
      // The transport left it paused with the bytes read so far in front: they go first.
      socket.resume();
    },
    close() {
      server?.close();
    },
  };
}

function startServer(options: HttpAnswererOptions): http.Server {
  const maxBody = options.maxBodyBytes ?? 64 * 1024;
  const server = process.getBuiltinModule('node:http').createServer(
    {
      // Health checkers and people typing by hand often send no Host.
      requireHostHeader: false,
      // How often node:http looks for requests over their time, as the sweep's.
      connectionsCheckingInterval: checkPeriod(options.headersTimeoutMs),
    },
    (req, res) => onRequest(req, res, options, maxBody),
  );
  server.headersTimeout = options.headersTimeoutMs;
  // The head's time, then one idle period for the body: a dribbled body is not held longer.
  server.requestTimeout = options.headersTimeoutMs + options.idleTimeoutMs;
  server.timeout = options.idleTimeoutMs;
  // An idle keep-alive connection waits no longer than an idle echo session would.
  server.keepAliveTimeout = Math.min(server.keepAliveTimeout, options.idleTimeoutMs);
  server.on('clientError', (error: NodeJS.ErrnoException, gate: SeenGate) =>
    onClientError(error, gate, options),
  );
  server.on('connect', (req: http.IncomingMessage, gate: SeenGate) =>
    refuseConnect(req, gate, options),
  );
  server.on('timeout', (gate: SeenGate) => onIdle(gate, options));
  // node:http checks headersTimeout and requestTimeout only for a server that has emitted
  // 'listening' (that starts its check timer); this one never listens: it is handed sockets.
  server.emit('listening');
  return server;
}

/** No answer owed, or only the one to the request whose body is still coming. */
function mayFeed(seen: Seen): boolean {
  return seen.inFlight === 0 || (seen.inFlight === 1 && seen.last?.complete === false);
}

function wakeGate(gate: RequestGate): void {
  gate.wake();
}

/** Answers owed for whole requests (a request cut short by a parse error gets none). */
function answersOwed(seen: Seen): number {
  return seen.inFlight - (seen.last?.complete === false ? 1 : 0);
}

function onRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  options: HttpAnswererOptions,
  limit: number,
): void {
  const gate = req.socket as unknown as SeenGate;
  const seen = gate[kSeen]!;
  seen.inFlight++;
  seen.last = req;
  res.once('finish', () => {
    seen.inFlight--;
    if (seen.last === req) seen.last = null; // an idle keep-alive connection keeps no request
    counted(seen, req, res.statusCode, options);
    // The answer is with the kernel (the gate's writes finish with the socket's): the next
    // request, or the parse error that came after this one, unless this was the last answer.
    if (seen.failure !== 0) {
      if (answersOwed(seen) === 0) closeWith(gate, seen.failure);
    } else if (!res.shouldKeepAlive) seen.session.reason ??= 'answered';
    // After this turn's I/O: a write the kernel takes at once finishes in the same turn, and
    // a pipelining client would otherwise be answered request after request while no other
    // connection is served.
    else if (seen.session.reason === null) setImmediate(wakeGate, gate);
  });
  let received = 0;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    tooLarge(req, res, limit, seen, options.metrics);
    return;
  }
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit && !res.headersSent) tooLarge(req, res, limit, seen, options.metrics);
  });
  req.once('end', () => {
    if (res.headersSent) return;
    try {
      const health = options.health?.state ?? 'ok';
      if (health === 'ok') answer(req, res, seen);
      else unhealthy(res, health);
    } catch (error) {
      // Only a bug gets here: it costs this connection, never the process and its other clients.
      options.logger.error('internal error; connection closed', {
        client: seen.view.client,
        error: errorText(error, 'stack'),
      });
      seen.session.reason = 'internal-error';
      gate.destroy();
    }
  });
}

/** One more request answered: counted always, logged only among a connection's first few. */
function counted(
  seen: Seen,
  req: http.IncomingMessage,
  status: number,
  { logger, metrics }: HttpAnswererOptions,
): void {
  metrics.httpRequest(status);
  if (++seen.session.requests > LOGGED_REQUESTS) return;
  (seen.healthCheck ? logger.debug : logger.info)('http', {
    client: seen.view.client,
    method: shown(req.method ?? ''),
    path: shown(req.url ?? ''),
    status,
  });
}

/** The server ends the connection on a rule: the close line's reason, counted among rejects. */
function ending(seen: Seen, reason: string, metrics: Metrics): void {
  seen.session.reason = reason;
  metrics.reject(reason);
}

function onClientError(
  error: NodeJS.ErrnoException,
  gate: SeenGate,
  { logger, metrics }: HttpAnswererOptions,
): void {
  const seen = gate[kSeen];
  const status = errorStatus(error.code);
  if (seen === undefined || status === 0) {
    gate.destroy();
    return;
  }
  if (seen.failure !== 0) return; // node:http reports each piece after the first error again
  gate.stop();
  metrics.httpRequest(status);
  seen.session.requests++;
  ending(seen, status === 408 ? 'http-timeout' : 'http-bad-request', metrics);
  logger.warn('http: bad request', {
    client: seen.view.client,
    status,
    reason: error.code ?? error.message,
  });
  if (!gate.writable) return void gate.destroy();
  // The answers to the whole requests before it go first; then node:http's own answer to a
  // request it could not parse (what it writes without a handler), and the close.
  seen.failure = status;
  if (answersOwed(seen) === 0) closeWith(gate, status);
}

/** A short answer that ends the connection. */
function closeWith(gate: RequestGate, status: number, extra = ''): void {
  const reason = process.getBuiltinModule('node:http').STATUS_CODES[status];
  gate.end(
    `HTTP/1.1 ${status} ${reason}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`,
  );
}

/** CONNECT asks for a tunnel (node:http would drop it without a word): 405, logged, closed. */
function refuseConnect(req: http.IncomingMessage, gate: SeenGate, options: HttpAnswererOptions) {
  const seen = gate[kSeen];
  if (seen === undefined) return void gate.destroy();
  counted(seen, req, 405, options);
  ending(seen, 'http-connect', options.metrics);
  closeWith(gate, 405, 'Allow: GET, HEAD, POST\r\n');
}

/** No traffic for --idle-timeout: between requests a routine end, else a stalled peer. */
function onIdle(gate: SeenGate, { metrics }: HttpAnswererOptions): void {
  const seen = gate[kSeen];
  if (seen !== undefined) {
    if (seen.inFlight === 0) seen.session.reason = 'keep-alive-timeout';
    else ending(seen, 'idle-timeout', metrics);
  }
  gate.destroy();
}

/** The status of node:http's error answer; 0: no answer (the client is gone). */
function errorStatus(code: string | undefined): number {
  if (code === 'ECONNRESET' || code === 'EPIPE') return 0;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

function answer(req: http.IncomingMessage, res: http.ServerResponse, seen: Seen): void {
  const request: RequestSeen = {
    method: req.method ?? '',
    target: req.url ?? '',
    version: req.httpVersion,
    rawHeaders: req.rawHeaders,
  };
  const json = wantsJson(request.target, req.headers.accept);
  if (!json) seen.top ??= textTop(seen.view);
  const body = json ? renderJson(seen.view, request) : renderText(seen.view, request, seen.top!);
  res.writeHead(200, {
    'Content-Type': json ? 'application/json' : 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

/** Not asking for traffic: 503 for every request, so that any HTTP health check fails. */
function unhealthy(res: http.ServerResponse, state: HealthState): void {
  const body = `${state}\n`;
  res.writeHead(503, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

function tooLarge(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  limit: number,
  seen: Seen,
  metrics: Metrics,
): void {
  ending(seen, 'body-too-large', metrics);
  const body = `request body over ${limit} bytes\n`;
  res.writeHead(413, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  res.end(body);
  // The rest of the body is not read: the connection ends with this answer.
  res.once('finish', () => (req.socket as unknown as RequestGate).end());
}
