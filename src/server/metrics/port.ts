// `--metrics-port`: /healthz and Prometheus /metrics on node:http, one request per connection;
// the health switch: `POST /health/fail` and `POST /health/ok`, `GET /health` (and /healthz) the
// state, 200 while ok, else 503.
//
// node:http's own settings do not bound a connection on their own, so each bound is set here:
// - at most `connections` sockets (`maxConnections`: more are closed at accept);
// - each lives at most `lifetimeMs` from accept, whatever the peer does (silent, dribbling its
//   head, not reading the answer): an own timer per socket;
// - a head longer than `headBytes` gets 431 (`maxHeaderSize`), any other parse error 400, and a
//   lingering close: the peer's rest is read and dropped for up to `lingerMs` or `lingerBytes`,
//   so the kernel's reset to unread bytes cannot eat the answer;
// - one request per connection: the answer says `connection: close` and node:http ends the
//   socket after it. node:http is given the connection through a `RequestGate`, stopped once the
//   first request is in, so requests pipelined behind it are never parsed: a pipelining client
//   costs one request, however many it sends.
import http from 'node:http';
import net from 'node:net';
import { RequestGate } from '../answer/request-gate.ts';
import { hostPortText } from '../address-text.ts';
import type { HealthState } from '../health.ts';
import { renderMetrics, sumSnapshots, worstLoopDelay } from './metrics.ts';
import type { LoopDelay, MetricsSnapshot } from './metrics.ts';
import { METRICS_LIMITS, type MetricsLimits } from './limits.ts';

/** What one serving process reports: its counters and its event-loop delay. */
export interface ProcessReport {
  readonly snapshot: MetricsSnapshot;
  readonly loopDelay: LoopDelay;
}

type Collect = () => Promise<readonly ProcessReport[]>;

/** The server's health as the metrics port reads and switches it. */
export interface HealthSwitch {
  readonly state: HealthState;
  /** Asked for by `by` (the peer's address and port); false: refused (the server is draining). */
  switchTo(state: 'ok' | 'failing', by: string): boolean;
}

/** The paths that switch the health, and the state each asks for. */
const SWITCHES: Readonly<Record<string, 'ok' | 'failing'>> = {
  '/health/ok': 'ok',
  '/health/fail': 'failing',
};

const kPeer = Symbol('peer');
type PeerGate = RequestGate & { [kPeer]?: string };

/**
 * Listens on `port` (0: ephemeral), answers scrapes with what `collect` gathers and health
 * requests with `health`.
 */
export function startMetricsServer(
  port: number,
  host: string,
  collect: Collect,
  health: HealthSwitch,
  limits: MetricsLimits = METRICS_LIMITS,
): Promise<net.Server> {
  const parser = httpOn(limits, collect, health);
  // node:http never listens: it is handed each connection, behind a `RequestGate`.
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    const deadline = setTimeout(() => socket.destroy(), limits.lifetimeMs);
    socket.on('close', () => clearTimeout(deadline));
    const gate: PeerGate = new RequestGate(socket);
    gate[kPeer] = hostPortText(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    parser.emit('connection', gate);
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
function httpOn(limits: MetricsLimits, collect: Collect, health: HealthSwitch): http.Server {
  const server = http.createServer({
    maxHeaderSize: limits.headBytes,
    // Scrapers and probes need not name a host; nothing here depends on it.
    requireHostHeader: false,
  });
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    const gate = request.socket as unknown as PeerGate;
    gate.stop();
    answer(request, collect, health, gate[kPeer] ?? '?').then(
      (reply) => send(response, reply),
      (error: Error) =>
        send(response, { status: 500, body: `metrics unavailable: ${error.message}\n` }),
    );
  });
  server.on('clientError', (error: NodeJS.ErrnoException, gate: RequestGate) =>
    refuse(error, gate, limits),
  );
  return server;
}

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly type?: string;
  /** The methods the path takes, when the request's was not one (405). */
  readonly allow?: string;
}

async function answer(
  request: http.IncomingMessage,
  collect: Collect,
  health: HealthSwitch,
  peer: string,
): Promise<Reply> {
  const path = (request.url ?? '').split('?')[0];
  const wanted = SWITCHES[path];
  if (wanted !== undefined) {
    if (request.method !== 'POST')
      return { status: 405, body: 'method not allowed: POST\n', allow: 'POST' };
    // Done: 200; refused (a stopping server stays draining): 409. Either way, the state now.
    const done = health.switchTo(wanted, peer);
    return { status: done ? 200 : 409, body: `${health.state}\n` };
  }
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return { status: 405, body: 'method not allowed\n', allow: 'GET, HEAD' };
  if (path === '/healthz' || path === '/health') return stateReply(health.state);
  if (path !== '/metrics')
    return { status: 404, body: 'not found: try /metrics, /healthz or /health\n' };
  const reports = await collect();
  const body = renderMetrics(
    sumSnapshots(reports.map((r) => r.snapshot)),
    worstLoopDelay(reports.map((r) => r.loopDelay)),
    reports.length,
    health.state === 'ok',
  );
  return { status: 200, body, type: 'text/plain; version=0.0.4; charset=utf-8' };
}

/** The health as an answer: 200 while ok, else 503 (a probe takes it as failing); the state. */
function stateReply(state: HealthState): Reply {
  return { status: state === 'ok' ? 200 : 503, body: `${state}\n` };
}

/** Writes the one answer of this connection; node:http ends the socket after it. */
function send(response: http.ServerResponse, reply: Reply): void {
  if (response.destroyed) return; // the lifetime ran out first
  response.writeHead(reply.status, {
    'content-type': reply.type ?? 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(reply.body),
    connection: 'close',
    ...(reply.allow === undefined ? {} : { allow: reply.allow }),
  });
  response.end(reply.body); // node:http leaves the body out for HEAD
}

const REFUSALS: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
};

/**
 * A request node:http cannot parse (or a socket error): say why if nothing was sent, and close
 * lingering, since the peer may still be sending (an endless head).
 */
function refuse(error: NodeJS.ErrnoException, gate: RequestGate, limits: MetricsLimits): void {
  if (!gate.writable || gate.bytesWritten > 0) return void gate.destroy();
  const status = REFUSALS[error.code ?? ''] ?? '400 Bad Request';
  const body = `${status.slice(4).toLowerCase()}\n`;
  gate.refuseLingering(
    `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    limits.lingerMs,
    limits.lingerBytes,
  );
}
