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
// The options and their defaults are in server-options.ts. `createEchoServer` returns an
// `EchoServer`: `listen(options)` takes net.ListenOptions (port and host, or `{ fd: 3 }` for an
// inherited socket) and resolves with the bound address; it rejects with EADDRINUSE when
// anything else listens there, unless `reusePort: true` says the port is shared on purpose
// (another worker of the same server holds it); `close(drainMs?)` resolves once every
// connection is gone; `metrics` holds live counters; `server` is the underlying net.Server.
// Logging: pass `logger` (from src/log.ts `createLogger`); the default is `silentLogger`, which
// writes nothing.
import net from 'node:net';
import type { Logger } from '../log.ts';
import { ACCEPT_SOCKETS, acceptGroup, acceptHooks } from './accepting.ts';
import { checkPeriod } from './check-period.ts';
import { pickEngine, warnFallback } from './engine/pick.ts';
import type { Engine, EngineName } from './engine/transport.ts';
import { checkNoOtherListener, listenOn } from './listen.ts';
import type { Metrics } from './metrics/metrics.ts';
import { contextOf, type ServerContext } from './server-context.ts';
import { ECHO_DEFAULTS, type EchoServerOptions } from './server-options.ts';
import { closeAll, sweep } from './sweep.ts';

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
