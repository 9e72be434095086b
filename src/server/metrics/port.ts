// `--metrics-port`: /healthz and Prometheus /metrics on node:http, one request per connection.
//
// node:http's own settings do not bound a connection on their own, so each bound is set here:
// - at most `connections` sockets (`maxConnections`: more are closed at accept);
// - each lives at most `lifetimeMs` from accept, whatever the peer does (silent, dribbling its
//   head, not reading the answer): an own timer per socket;
// - a head longer than `headBytes` gets 431 (`maxHeaderSize`), any other parse error 400;
// - one request per connection: the answer says `connection: close` and node:http ends the
//   socket after it. node:http is given the connection through a `RequestGate`, stopped once the
//   first request is in, so requests pipelined behind it are never parsed: a pipelining client
//   costs one request, however many it sends.
import http from 'node:http';
import net from 'node:net';
import { RequestGate } from '../answer/request-gate.ts';
import { renderMetrics, sumSnapshots, worstLoopDelay } from './metrics.ts';
import type { LoopDelay, MetricsSnapshot } from './metrics.ts';
import { METRICS_LIMITS, type MetricsLimits } from './limits.ts';

/** What one serving process reports: its counters and its event-loop delay. */
export interface ProcessReport {
  readonly snapshot: MetricsSnapshot;
  readonly loopDelay: LoopDelay;
}

type Collect = () => Promise<readonly ProcessReport[]>;

/** Listens on `port` (0: ephemeral) and answers scrapes with what `collect` gathers. */
export function startMetricsServer(
  port: number,
  host: string,
  collect: Collect,
  limits: MetricsLimits = METRICS_LIMITS,
): Promise<net.Server> {
  const parser = httpOn(limits, collect);
  // node:http never listens: it is handed each connection, behind a `RequestGate`.
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    const deadline = setTimeout(() => socket.destroy(), limits.lifetimeMs);
    socket.on('close', () => clearTimeout(deadline));
    parser.emit('connection', new RequestGate(socket));
  });
  server.maxConnections = limits.connections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      // Accept errors (EMFILE…) must not take the process down; libuv goes on accepting.
      server.on('error', () => {});
      resolve(server);
    });
  });
}

/** The node:http side: parses what it is handed and answers the one request. */
function httpOn(limits: MetricsLimits, collect: Collect): http.Server {
  const server = http.createServer({
    maxHeaderSize: limits.headBytes,
    // Scrapers and probes need not name a host; nothing here depends on it.
    requireHostHeader: false,
  });
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    (request.socket as unknown as RequestGate).stop();
    answer(request, collect).then(
      (reply) => send(response, reply),
      (error: Error) =>
        send(response, { status: 500, body: `metrics unavailable: ${error.message}\n` }),
    );
  });
  server.on('clientError', refuse);
  return server;
}

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly type?: string;
}

async function answer(request: http.IncomingMessage, collect: Collect): Promise<Reply> {
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return { status: 405, body: 'method not allowed\n' };
  const path = (request.url ?? '').split('?')[0];
  if (path === '/healthz') return { status: 200, body: 'ok\n' };
  if (path !== '/metrics') return { status: 404, body: 'not found: try /metrics or /healthz\n' };
  const reports = await collect();
  const body = renderMetrics(
    sumSnapshots(reports.map((r) => r.snapshot)),
    worstLoopDelay(reports.map((r) => r.loopDelay)),
    reports.length,
  );
  return { status: 200, body, type: 'text/plain; version=0.0.4; charset=utf-8' };
}

/** Writes the one answer of this connection; node:http ends the socket after it. */
function send(response: http.ServerResponse, reply: Reply): void {
  if (response.destroyed) return; // the lifetime ran out first
  response.writeHead(reply.status, {
    'content-type': reply.type ?? 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(reply.body),
    connection: 'close',
  });
  response.end(reply.body); // node:http leaves the body out for HEAD
}

const REFUSALS: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
};

/** A request node:http cannot parse (or a socket error): say why if nothing was sent, close. */
function refuse(error: NodeJS.ErrnoException, socket: RequestGate): void {
  if (!socket.writable || socket.bytesWritten > 0) return void socket.destroy();
  const status = REFUSALS[error.code ?? ''] ?? '400 Bad Request';
  const body = `${status.slice(4).toLowerCase()}\n`;
  socket.end(
    `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
