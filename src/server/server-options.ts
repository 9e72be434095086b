// What a server can be asked (EchoServerOptions), and what each setting left out is
// (ECHO_DEFAULTS, from which `serve`'s defaults come too).
import type { Logger } from '../log.ts';
import type { HealthView } from './health.ts';
import type { ServerIdentity } from './answer/identity.ts';
import type { TlsOptions } from './answer/tls-handoff.ts';
import type { EngineChoice } from './engine/pick.ts';
import type { Engine } from './engine/transport.ts';
import type { Policy } from './policy.ts';
import type { TrustList } from './trust.ts';

export interface EchoServerOptions {
  /** Whether connections start with a PROXY header. Default: ECHO_DEFAULTS. */
  readonly proxyProtocol?: Policy;
  /** Peers allowed to send a header: a parsed list or CIDR strings. Default: anyone. */
  readonly trust?: TrustList | readonly string[] | null;
  /** Longest line echoed, without its CR LF, in bytes. Default: ECHO_DEFAULTS. */
  readonly maxLine?: number;
  /** Time allowed for the complete PROXY header, ms. Default: ECHO_DEFAULTS. */
  readonly headerTimeoutMs?: number;
  /** Time a connection may stay without data (or without draining its echo), ms. Default: ECHO_DEFAULTS. */
  readonly idleTimeoutMs?: number;
  /** After the server ends a connection, the time the peer gets to close it too, ms. Default: ECHO_DEFAULTS. */
  readonly lingerMs?: number;
  /** Connections beyond this are refused at once. Default: ECHO_DEFAULTS. */
  readonly maxConnections?: number;
  /** 'upper' echoes ASCII letters in upper case. Default 'none'. */
  readonly transform?: 'none' | 'upper';
  /** Largest v2 header accepted (16-byte prefix + declared length). Default 4096. */
  readonly maxHeaderSize?: number;
  /** 'auto': a connection whose first line is an HTTP/1.x request gets HTTP answers. Default 'auto'. */
  readonly http?: 'auto' | 'off';
  /** Send each client a line saying what the server saw, before any echo. Default false. */
  readonly greeting?: boolean;
  /**
   * TLS after the header: a connection whose first byte after it is a TLS handshake record is
   * served over TLS with these files (read now: a bad one throws). Default: none (all in clear).
   */
  readonly tls?: TlsOptions | null;
  /** While not ok, HTTP answers are 503 with the state (health checks fail). Default: always ok. */
  readonly health?: HealthView;
  /** How the greeting and the HTTP answers name this backend. Default: the host name alone. */
  readonly identity?: ServerIdentity;
  /** TCP keepalive on accepted connections: idle time before the first probe, ms; 0: off. Default: ECHO_DEFAULTS. */
  readonly keepAliveMs?: number;
  readonly logger?: Logger;
  /**
   * uv: the runtime's libuv handles; net: node:net sockets; auto (default): uv when the
   * runtime's bindings are as expected, else net with a warning saying why. Or an Engine of
   * one's own (engine/transport.ts).
   */
  readonly engine?: EngineChoice | Engine;
}

/** What every setting left out of EchoServerOptions is; `serve`'s defaults come from here too. */
export const ECHO_DEFAULTS = Object.freeze({
  proxyProtocol: 'require' as Policy,
  maxLine: 16384,
  headerTimeoutMs: 5000,
  idleTimeoutMs: 300_000,
  /**
   * TCP keepalive's first probe after this much idle time: well inside the 350 s an NLB keeps
   * an idle flow, so a session --idle-timeout lets live longer is not forgotten on the way.
   */
  keepAliveMs: 60_000,
  maxConnections: 10_000,
  lingerMs: 2000,
  /** How long `close()` lets open connections finish. */
  drainMs: 10_000,
});
