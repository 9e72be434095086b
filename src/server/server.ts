// The echo server as a library: a net.Server wired to the per-connection state machine, one
// shared timer for all deadlines, connection limits, and a graceful close.
//
// Usage (tests and the in-process benchmark):
//
//   const echo = createEchoServer({ proxyProtocol: 'require', logger: silentLogger });
//   const { port } = await echo.listen({ port: 0, host: '127.0.0.1' }); // 0: an ephemeral port
//   …connect to 127.0.0.1:port, send a PROXY header, then lines…
//   await echo.close();          // stop accepting, wait for open connections (up to drainMs,
//                                // default ECHO_DEFAULTS.drainMs; 0 ends them at once), then resolve
//
// `createEchoServer` returns an `EchoServer`: `listen(options)` takes net.ListenOptions (port and
// host, or `{ fd: 3 }` for an inherited socket) and resolves with the bound address; it rejects
// with EADDRINUSE when anything else listens there, unless `reusePort: true` says the port is
// shared on purpose (another worker of the same server holds it);
// `close(drainMs?)` resolves once every connection is gone; `metrics` holds live counters;
// `server` is the underlying net.Server. Logging: pass `logger` (from src/log.ts
// `createLogger`); the default is `silentLogger`, which writes nothing.
import net from 'node:net';
import { silentLogger, type Logger } from '../log.ts';
import { accept, type Connection } from './connection.ts';
import type { ServerContext } from './server-context.ts';
import { checkPeriod } from './check-period.ts';
import { type EngineChoice, pickEngine, warnFallback } from './engine/pick.ts';
import { createHttpAnswerer } from './answer/http-handoff.ts';
import { createTlsHandoff, type TlsOptions } from './answer/tls-handoff.ts';
import { closeAll, sweep } from './sweep.ts';
import { hostIdentity, type ServerIdentity } from './answer/identity.ts';
import { checkNoOtherListener, listenOn } from './listen.ts';
import { Metrics } from './metrics/metrics.ts';
import type { HealthView } from './health.ts';
import type { Policy } from './policy.ts';
import type { AcceptHooks, Engine, EngineName } from './engine/transport.ts';
import { trustListOf, type TrustList } from './trust.ts';

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

export interface EchoServer {
  readonly server: net.Server;
  readonly metrics: Metrics;
  /** The engine serving connections (see engine/transport.ts). */
  readonly engine: EngineName;
  /** Listens (port 0: an ephemeral port; `{ fd }`: an inherited socket); resolves with the address. */
  listen(options: net.ListenOptions | { readonly fd: number }): Promise<net.AddressInfo>;
  /** Stops accepting; open connections get `drainMs` to finish, then are closed. */
  close(drainMs?: number): Promise<void>;
  /** Connections open now. */
  readonly connectionCount: number;
  /**
   * Reads the TLS files again (SIGHUP): null when new connections get them, else why not (the
   * credentials in use stay). Open connections keep theirs.
   */
  reloadTls(): string | null;
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

export function createEchoServer(options: EchoServerOptions = {}): EchoServer {
  const ctx = contextOf(options);
  const engine = engineOf(options.engine, ctx.logger);
  const settings = {
    maxConnections: options.maxConnections ?? ECHO_DEFAULTS.maxConnections,
    // The kernel counts keepalive time in whole seconds, at least one.
    keepAliveMs: wholeSeconds(options.keepAliveMs ?? ECHO_DEFAULTS.keepAliveMs),
  };
  const hooks = acceptHooks(ctx, settings.maxConnections);
  const newListener = () => {
    const listener = net.createServer({ noDelay: true });
    engine.adopt(listener, settings, () => ctx.connections.size, hooks);
    return listener;
  };
  const server = newListener();
  const listeners = [server];
  const ticker = deadlineTicker(ctx);
  let closing: Promise<void> | null = null;
  return {
    server,
    metrics: ctx.metrics,
    engine: engine.name,
    get connectionCount() {
      return ctx.connections.size;
    },
    reloadTls() {
      return ctx.tls === null ? 'no --tls-cert set' : ctx.tls.reload();
    },
    async listen(listenOptions) {
      const group = acceptGroup(listenOptions);
      if (group?.join === false) await checkNoOtherListener(group.options);
      const address = await listenOn(server, group?.options ?? listenOptions);
      while (group !== null && listeners.length < ACCEPT_SOCKETS) {
        const more = newListener();
        listeners.push(more);
        await listenOn(more, { ...group.options, port: address.port, exclusive: true });
      }
      ticker.start();
      return address;
    },
    close(drainMs = ECHO_DEFAULTS.drainMs) {
      closing ??= drain(ctx, listeners, drainMs).then(() => {
        ticker.stop();
        hooks.stop();
      });
      return closing;
    },
  };
}

function wholeSeconds(ms: number): number {
  return ms <= 0 ? 0 : Math.max(1000, Math.round(ms / 1000) * 1000);
}

/** The engine asked for (a name, `auto`, or an engine itself); a fallback from uv is logged. */
function engineOf(asked: EchoServerOptions['engine'], logger: Logger): Engine {
  if (typeof asked === 'object') return asked;
  const { engine, fallback } = pickEngine(asked ?? 'auto');
  if (fallback !== null) warnFallback(logger, fallback);
  return engine;
}

/** What the engine reports about accepts, counted in metrics and logged once a second. */
function acceptHooks(ctx: ServerContext, maxConnections: number): AcceptHooks & { stop(): void } {
  const refused = countedWarning(ctx.logger, 'refused connections: --max-connections reached', {
    limit: maxConnections,
  });
  const acceptFailed = countedWarning(ctx.logger, 'accept failed', {});
  return {
    accept: (transport) => accept(ctx, transport),
    refused() {
      ctx.metrics.reject('max-connections');
      refused.add();
    },
    acceptFailed(code) {
      ctx.metrics.reject('accept-error');
      acceptFailed.add(code);
    },
    stop() {
      refused.stop();
      acceptFailed.stop();
    },
  };
}

/** The settings as connections see them, with defaults filled in. */
function contextOf(options: EchoServerOptions): ServerContext {
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

/**
 * Listening sockets per process on a port it binds itself. libuv accepts one connection per
 * listening socket per turn of the event loop, and under load a turn takes as long as the
 * reads of every busy connection (about 10 ms for 1,000 pingpong clients): a burst of new
 * clients then waits seconds in the kernel's accept queue. The same port bound several times
 * (SO_REUSEPORT; the kernel spreads new connections over the sockets) accepts that many per
 * turn: measured with a burst of 1,000 pingpong clients on a saturated server, the last first
 * echo came after 3.6 s with one socket, 0.5 s with 8 and 0.13–0.24 s with 32. Each costs a
 * descriptor kept from connections (a small open-file limit leaves few): 16. (An inherited
 * socket, fd 3, stays one.)
 */
export const ACCEPT_SOCKETS = 16;

/**
 * How a port this process binds itself is bound: as a group of SO_REUSEPORT sockets (null: an
 * inherited fd or a UNIX socket, bound once as given). A caller that asks for `reusePort`
 * itself joins a port its own server holds (a cluster worker after the first), unchecked;
 * otherwise the port is checked first.
 */
function acceptGroup(
  options: net.ListenOptions | { readonly fd: number },
): { readonly options: net.ListenOptions; readonly join: boolean } | null {
  if ('fd' in options || options.port === undefined || options.path !== undefined) return null;
  return { options: { ...options, reusePort: true }, join: options.reusePort === true };
}

/**
 * One timer for every deadline, its period from the shortest timeout (checkPeriod). A
 * deadline is met within one period either way: the sweep may come a period late, and the
 * coarse clock a connection's time is read from may be a period old (so it may also be early).
 */
function deadlineTicker(ctx: ServerContext) {
  const period = checkPeriod(Math.min(ctx.headerTimeoutMs, ctx.idleTimeoutMs, ctx.lingerMs));
  let timer: NodeJS.Timeout | null = null;
  const tick = () => {
    ctx.now = Date.now();
    sweep(ctx);
  };
  return {
    start() {
      timer ??= setInterval(tick, period).unref();
    },
    stop() {
      if (timer !== null) clearInterval(timer);
    },
  };
}

/** Stops accepting; resolves once every connection is gone (closed by force after `drainMs`). */
function drain(
  ctx: ServerContext,
  listeners: readonly net.Server[],
  drainMs: number,
): Promise<void> {
  for (const listener of listeners) listener.close();
  // HTTP keep-alive connections waiting for a next request close now.
  ctx.http?.close();
  if (ctx.connections.size === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => closeAll(ctx), drainMs);
    ctx.onClosed = () => {
      if (ctx.connections.size > 0) return;
      clearTimeout(timer);
      resolve();
    };
  });
}

/**
 * A warning for events that can come in floods (refused or failed accepts): the first one
 * starts a one-second window, then one line says how many happened in it. `stop` (the server
 * closing) says it at once for a window still open.
 */
function countedWarning(logger: Logger, msg: string, fields: Record<string, string | number>) {
  let count = 0;
  let cause = '';
  let since = 0;
  let timer: NodeJS.Timeout | null = null;
  const report = () => {
    // The window's real length: a second, or less when the server closes within it.
    const window = `${Math.round((Date.now() - since) / 100) / 10}s`;
    logger.warn(msg, { ...fields, count, error: cause || undefined, window });
    count = 0;
    timer = null;
  };
  return {
    add(why = '') {
      cause = why;
      if (count++ > 0) return;
      since = Date.now();
      timer = setTimeout(report, 1000);
      timer.unref();
    },
    stop() {
      if (timer === null) return;
      clearTimeout(timer);
      report();
    },
  };
}
