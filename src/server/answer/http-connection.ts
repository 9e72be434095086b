// One connection handed to node:http: what it carries for its requests (`Seen`, reached from
// the gate node:http sees as its socket), what its close line gets (`HttpSession`), and what
// both the request handlers and the fault handlers do to it: count a request, end it on a
// rule, close it with a short answer.
import type http from 'node:http';
import type { Logger } from '../../log.ts';
import type { HealthView } from '../health.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { BackendView } from './backend-view.ts';
import { shown } from './shown.ts';
import type { TextTop } from './http-answer.ts';
import type { RequestGate } from './request-gate.ts';

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

/** What one handed-over connection carries for its requests. */
export interface Seen {
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

export const kSeen = Symbol('seen');
export type SeenGate = RequestGate & { [kSeen]?: Seen };

/** Requests of one connection that get an `http` log line each; the rest are only counted. */
export const LOGGED_REQUESTS = 8;

/** No answer owed, or only the one to the request whose body is still coming. */
export function mayFeed(seen: Seen): boolean {
  return seen.inFlight === 0 || (seen.inFlight === 1 && seen.last?.complete === false);
}

/** Answers owed for whole requests (a request cut short by a parse error gets none). */
export function answersOwed(seen: Seen): number {
  return seen.inFlight - (seen.last?.complete === false ? 1 : 0);
}

/** One more request answered: counted always, logged only among a connection's first few. */
export function counted(
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
export function ending(seen: Seen, reason: string, metrics: Metrics): void {
  seen.session.reason = reason;
  metrics.reject(reason);
}

/** A short answer that ends the connection. */
export function closeWith(gate: RequestGate, status: number, extra = ''): void {
  const reason = process.getBuiltinModule('node:http').STATUS_CODES[status];
  gate.end(
    `HTTP/1.1 ${status} ${reason}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`,
  );
}
