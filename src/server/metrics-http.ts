// `--metrics-port`: /healthz and Prometheus /metrics over Node's own http (no dependency).
// Loaded only when --metrics-port is set: a server without it does not carry node:http.
import http from 'node:http';
import type net from 'node:net';
import { type LoopDelay, type MetricsSnapshot, renderMetrics, sumSnapshots } from './metrics.ts';

/** What one serving process reports: its counters and its event-loop delay. */
export interface ProcessReport {
  readonly snapshot: MetricsSnapshot;
  readonly loopDelay: LoopDelay;
}

/** Listens on `port` (0: ephemeral) and answers scrapes with what `collect` gathers. */
export function startMetricsServer(
  port: number,
  host: string,
  collect: () => Promise<readonly ProcessReport[]>,
): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return answer(response, 405, 'method not allowed\n');
    if (path === '/healthz') return answer(response, 200, 'ok\n');
    if (path !== '/metrics') return answer(response, 404, 'not found: try /metrics or /healthz\n');
    collect().then(
      (reports) => {
        const worst = reports.reduce<LoopDelay | null>(
          (acc, r) =>
            acc === null
              ? r.loopDelay
              : {
                  p50: Math.max(acc.p50, r.loopDelay.p50),
                  p99: Math.max(acc.p99, r.loopDelay.p99),
                  max: Math.max(acc.max, r.loopDelay.max),
                },
          null,
        );
        answer(
          response,
          200,
          renderMetrics(sumSnapshots(reports.map((r) => r.snapshot)), worst, reports.length),
          'text/plain; version=0.0.4; charset=utf-8',
        );
      },
      (error: Error) => answer(response, 500, `metrics unavailable: ${error.message}\n`),
    );
  });
  // A scraper that stalls must not hold a socket forever.
  server.requestTimeout = 5000;
  server.headersTimeout = 5000;
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host } satisfies net.ListenOptions, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function answer(
  response: http.ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
