// What node:http reports besides requests on a handed-over connection: a request it could not
// parse (its error answer, after the answers owed before it), CONNECT (refused), and a
// connection idle for --idle-timeout.
import type http from 'node:http';
import {
  answersOwed,
  closeWith,
  counted,
  ending,
  type HttpAnswererOptions,
  kSeen,
  type SeenGate,
} from './http-connection.ts';

export function onClientError(
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

/** CONNECT asks for a tunnel (node:http would drop it without a word): 405, logged, closed. */
export function refuseConnect(
  req: http.IncomingMessage,
  gate: SeenGate,
  options: HttpAnswererOptions,
) {
  const seen = gate[kSeen];
  if (seen === undefined) return void gate.destroy();
  counted(seen, req, 405, options);
  ending(seen, 'http-connect', options.metrics);
  closeWith(gate, 405, 'Allow: GET, HEAD, POST\r\n');
}

/** No traffic for --idle-timeout: between requests a routine end, else a stalled peer. */
export function onIdle(gate: SeenGate, { metrics }: HttpAnswererOptions): void {
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
