// `--metrics-port`: /healthz and Prometheus /metrics, one request per connection.
//
// A small HTTP/1.1 answerer on node:net rather than node:http, so that every bound holds by
// construction: at most `connections` sockets (more are closed at accept), each lives at most
// `lifetimeMs` from accept to close whatever the peer does (silent, dribbling its request, not
// reading the answer), reads at most `headBytes` of request head, and answers exactly one
// request, then closes (`connection: close`): pipelined requests are dropped unparsed, so a
// client cannot make the handler run again without a new connection.
import net from 'node:net';
import { renderMetrics, sumSnapshots, worstLoopDelay } from './metrics.ts';
import type { LoopDelay, MetricsSnapshot } from './metrics.ts';

/** What one serving process reports: its counters and its event-loop delay. */
export interface ProcessReport {
  readonly snapshot: MetricsSnapshot;
  readonly loopDelay: LoopDelay;
}

export interface MetricsLimits {
  /** Open metrics connections at most; they count in the descriptor reserve. */
  readonly connections: number;
  /** From accept to close, ms: time to send the request and to take the answer. */
  readonly lifetimeMs: number;
  /** Longest request head (request line and headers), bytes. */
  readonly headBytes: number;
}

export const METRICS_LIMITS: MetricsLimits = Object.freeze({
  connections: 8,
  lifetimeMs: 5000,
  headBytes: 8192,
});

/** Listens on `port` (0: ephemeral) and answers scrapes with what `collect` gathers. */
export function startMetricsServer(
  port: number,
  host: string,
  collect: () => Promise<readonly ProcessReport[]>,
  limits: MetricsLimits = METRICS_LIMITS,
): Promise<net.Server> {
  const server = net.createServer({ noDelay: true }, (socket) => serveOne(socket, collect, limits));
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

function serveOne(
  socket: net.Socket,
  collect: () => Promise<readonly ProcessReport[]>,
  limits: MetricsLimits,
): void {
  const deadline = setTimeout(() => socket.destroy(), limits.lifetimeMs);
  socket.on('close', () => clearTimeout(deadline));
  socket.on('error', () => socket.destroy());
  let head = '';
  const onData = (chunk: Buffer) => {
    head += chunk.toString('latin1');
    const end = head.search(/\r?\n\r?\n/);
    if (end === -1 && head.length <= limits.headBytes) return;
    // One request only: whatever follows (pipelined requests) is read and dropped, never
    // parsed, so the peer's close is seen at once and no reset cuts the answer short.
    socket.off('data', onData);
    socket.on('data', () => {});
    if (end === -1 || end > limits.headBytes)
      return reply(socket, 431, 'request head too large\n', false);
    route(head.slice(0, end), collect).then(
      ({ status, body, type }) => reply(socket, status, body, head.startsWith('HEAD '), type),
      (error: Error) => reply(socket, 500, `metrics unavailable: ${error.message}\n`, false),
    );
  };
  socket.on('data', onData);
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly type?: string;
}

async function route(
  head: string,
  collect: () => Promise<readonly ProcessReport[]>,
): Promise<Answer> {
  const request = /^([A-Z]+) (\S+) HTTP\/1\.[01]\r?$/m.exec(head.split('\n', 1)[0]);
  if (request === null) return { status: 400, body: 'bad request\n' };
  const [, method, target] = request;
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, body: 'method not allowed\n' };
  const path = target.split('?')[0];
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

const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
};

function reply(
  socket: net.Socket,
  status: number,
  body: string,
  headOnly: boolean,
  type = 'text/plain; charset=utf-8',
): void {
  if (socket.destroyed) return;
  const head =
    `HTTP/1.1 ${status} ${REASONS[status]}\r\ncontent-type: ${type}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`;
  socket.end(headOnly ? head : head + body);
}
