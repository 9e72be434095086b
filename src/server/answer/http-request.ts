// A whole request on a handed-over connection: counted and logged once its answer has gone to
// the kernel, its body read (and dropped) up to the limit, then answered with what the backend
// saw, or 503 while the server is not asking for traffic, or 413 for a body over the limit.
import type http from 'node:http';
import { errorText } from '../../error-text.ts';
import type { HealthState } from '../health.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { renderJson, renderText, type RequestSeen, textTop, wantsJson } from './http-answer.ts';
import {
  answersOwed,
  closeWith,
  counted,
  ending,
  type HttpAnswererOptions,
  kSeen,
  type Seen,
  type SeenGate,
} from './http-connection.ts';
import type { RequestGate } from './request-gate.ts';

function wakeGate(gate: RequestGate): void {
  gate.wake();
}

export function onRequest(
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
