// A server's settings and shared state, as its connections see them, made from its options.
import type { ParseOptions } from '../protocol/types.ts';
import { type Logger, silentLogger } from '../log.ts';
import { createHttpAnswerer, type HttpAnswerer } from './answer/http-handoff.ts';
import { hostIdentity, type ServerIdentity } from './answer/identity.ts';
import { createTlsHandoff, type TlsHandoff } from './answer/tls-handoff.ts';
import type { Connection } from './connection.ts';
import { Metrics } from './metrics/metrics.ts';
import type { Policy } from './policy.ts';
import { ECHO_DEFAULTS, type EchoServerOptions } from './server-options.ts';
import { type TrustList, trustListOf } from './trust.ts';

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

/** The settings as connections see them, with defaults filled in. */
export function contextOf(options: EchoServerOptions): ServerContext {
  const trust = options.trust ?? null;
  const logger = options.logger ?? silentLogger;
  const metrics = new Metrics();
  const headerTimeoutMs = options.headerTimeoutMs ?? ECHO_DEFAULTS.headerTimeoutMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? ECHO_DEFAULTS.idleTimeoutMs;
  return {
    policy: options.proxyProtocol ?? ECHO_DEFAULTS.proxyProtocol,
    trust: trust === null || 'allows' in trust ? trust : trustListOf(trust),
    maxLine: options.maxLine ?? ECHO_DEFAULTS.maxLine,
    headerTimeoutMs,
    idleTimeoutMs,
    lingerMs: options.lingerMs ?? ECHO_DEFAULTS.lingerMs,
    upper: options.transform === 'upper',
    parseOptions:
      options.maxHeaderSize === undefined ? {} : { maxV2HeaderSize: options.maxHeaderSize },
    logger,
    metrics,
    http:
      options.http === 'off'
        ? null
        : createHttpAnswerer({
            logger,
            metrics,
            headersTimeoutMs: headerTimeoutMs,
            idleTimeoutMs,
            health: options.health,
          }),
    tls: options.tls == null ? null : createTlsHandoff(options.tls, logger),
    greeting: options.greeting === true,
    identity: options.identity ?? hostIdentity(),
    connections: new Set<Connection>(),
    now: Date.now(),
    onClosed: () => {},
  };
}
