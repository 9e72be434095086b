// A server's settings and shared state, as its connections see them.
import type { ParseOptions } from '../protocol/types.ts';
import type { Logger } from '../log.ts';
import type { HttpAnswerer } from './answer/http-handoff.ts';
import type { ServerIdentity } from './answer/identity.ts';
import type { TlsHandoff } from './answer/tls-handoff.ts';
import type { Connection } from './connection.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { Policy } from './policy.ts';
import type { TrustList } from './trust.ts';

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
  /** Answers connections whose first line is an HTTP request; null: --http off. */
  readonly http: HttpAnswerer | null;
  /** Serves connections that begin TLS after the header; null: no --tls-cert. */
  readonly tls: TlsHandoff | null;
  /** --greeting: a line telling the client what the server saw, before any echo. */
  readonly greeting: boolean;
  /** Which backend this is, for the greeting and the HTTP answers. */
  readonly identity: ServerIdentity;
  readonly connections: Set<Connection>;
  /** Coarse clock (ms), advanced by the sweep; cheap to read on every chunk. */
  now: number;
  /** Called when a connection closes (the server resolves its drain with it). */
  onClosed: () => void;
}
