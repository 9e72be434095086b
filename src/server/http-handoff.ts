// HTTP on the echo port: a connection whose first line is an HTTP/1.x request line is handed to
// node:http, fed the bytes already read, and every request on it gets what the backend saw.
// node:http does all the parsing, keep-alive, HEAD, HTTP/1.0 and its error answers; this file
// only answers requests, logs them, and sets node:http's timeouts so that they really apply.
import type http from 'node:http';
import type net from 'node:net';
import type { Logger } from '../log.ts';
import type { BackendView } from './backend-view.ts';
import { renderJson, renderText, type RequestSeen, wantsJson } from './http-answer.ts';
import type { Metrics } from './metrics.ts';

export interface HttpAnswererOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Time a request's line and headers may take (node:http's headersTimeout), ms. */
  readonly headersTimeoutMs: number;
  /** Time a connection may stay without traffic (node:http's socket timeout), ms. */
  readonly idleTimeoutMs: number;
  /** Largest request body read (and dropped); a larger one gets 413 and a close. Default 64 KiB. */
  readonly maxBodyBytes?: number;
}

export interface HttpAnswerer {
  /**
   * Gives node:http a connection, its bytes already read put back in front (Transport.detach):
   * `view` is what the backend saw, `healthCheck` a v2 LOCAL connection (logged at debug).
   */
  take(socket: net.Socket, view: BackendView, healthCheck: boolean): void;
  /** Closes idle keep-alive connections and stops node:http's timeout checks (the server is closing). */
  close(): void;
}

/** What one handed-over connection carries for its requests. */
interface Seen {
  readonly view: BackendView;
  readonly healthCheck: boolean;
  /** Responses begun and not finished: node:http's error answers may be written only when 0. */
  inFlight: number;
}

const kSeen = Symbol('seen');
type SeenSocket = net.Socket & { [kSeen]?: Seen };

/** A whole request (line, headers, body) gets at least this long. */
const REQUEST_TIMEOUT_MS = 30_000;

export function createHttpAnswerer(options: HttpAnswererOptions): HttpAnswerer {
  // Made at the first HTTP connection: a server that never sees one does not load node:http.
  let server: http.Server | null = null;
  return {
    take(socket, view, healthCheck) {
      server ??= startServer(options);
      (socket as SeenSocket)[kSeen] = { view, healthCheck, inFlight: 0 };
      server.emit('connection', socket);
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
      // How often node:http looks for requests over their time; a fifth of the shortest.
      connectionsCheckingInterval: Math.min(
        1000,
        Math.max(20, Math.floor(options.headersTimeoutMs / 5)),
      ),
    },
    (req, res) => onRequest(req, res, options, maxBody),
  );
  server.headersTimeout = options.headersTimeoutMs;
  server.requestTimeout = Math.max(options.headersTimeoutMs, REQUEST_TIMEOUT_MS);
  server.timeout = options.idleTimeoutMs;
  // An idle keep-alive connection waits no longer than an idle echo session would.
  server.keepAliveTimeout = Math.min(server.keepAliveTimeout, options.idleTimeoutMs);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: net.Socket) =>
    onClientError(error, socket, options),
  );
  // node:http checks headersTimeout and requestTimeout only for a server that has emitted
  // 'listening' (that starts its check timer); this one never listens: it is handed sockets.
  server.emit('listening');
  return server;
}

function onRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  options: HttpAnswererOptions,
  limit: number,
): void {
  const seen = (req.socket as SeenSocket)[kSeen]!;
  seen.inFlight++;
  res.once('finish', () => {
    seen.inFlight--;
    options.metrics.httpRequest(res.statusCode);
    (seen.healthCheck ? options.logger.debug : options.logger.info)('http', {
      client: seen.view.client,
      method: req.method,
      path: req.url,
      status: res.statusCode,
    });
  });
  let received = 0;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    tooLarge(req, res, limit);
    return;
  }
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit && !res.headersSent) tooLarge(req, res, limit);
  });
  req.once('end', () => {
    if (res.headersSent) return;
    try {
      answer(req, res, seen.view);
    } catch (error) {
      // Only a bug gets here: it costs this connection, never the process and its other clients.
      options.logger.error('internal error; connection closed', {
        client: seen.view.client,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      req.socket.destroy();
    }
  });
}

function onClientError(
  error: NodeJS.ErrnoException,
  socket: net.Socket,
  { logger, metrics }: HttpAnswererOptions,
): void {
  const seen = (socket as SeenSocket)[kSeen];
  const status = errorStatus(error.code);
  if (seen === undefined || status === 0 || !socket.writable || seen.inFlight > 0) {
    socket.destroy();
    return;
  }
  metrics.httpRequest(status);
  logger.warn('http: bad request', {
    client: seen.view.client,
    status,
    reason: error.code ?? error.message,
  });
  // node:http's own answer to a request it could not parse (what it writes without a handler).
  const reason = process.getBuiltinModule('node:http').STATUS_CODES[status];
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroySoon();
}

/** The status of node:http's error answer; 0: no answer (the client is gone). */
function errorStatus(code: string | undefined): number {
  if (code === 'ECONNRESET' || code === 'EPIPE') return 0;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

function answer(req: http.IncomingMessage, res: http.ServerResponse, view: BackendView): void {
  const request: RequestSeen = {
    method: req.method ?? '',
    target: req.url ?? '',
    version: req.httpVersion,
    rawHeaders: req.rawHeaders,
  };
  const json = wantsJson(request.target, req.headers.accept);
  const body = json ? renderJson(view, request) : renderText(view, request);
  res.writeHead(200, {
    'Content-Type': json ? 'application/json' : 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

function tooLarge(req: http.IncomingMessage, res: http.ServerResponse, limit: number): void {
  const body = `request body over ${limit} bytes\n`;
  res.writeHead(413, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  res.end(body);
  // The rest of the body is not read: the connection ends with this answer.
  res.once('finish', () => req.socket.destroySoon());
}
