// The echo server as a library: a net.Server wired to the per-connection state machine, one
// shared timer for all deadlines, connection limits, and a graceful close.
//
// Usage (tests and the in-process benchmark):
//
//   const echo = createEchoServer({ proxyProtocol: 'require', logger: silentLogger });
//   const { port } = await echo.listen({ port: 0, host: '127.0.0.1' }); // 0: an ephemeral port
//   …connect to 127.0.0.1:port, send a PROXY header, then lines…
//   await echo.close();          // stop accepting, wait for open connections (up to drainMs,
//                                // default 10 s; 0 ends them at once), then resolve
//
// `createEchoServer` returns an `EchoServer`: `listen(options)` takes net.ListenOptions (port and
// host, or `{ fd: 3 }` for an inherited socket) and resolves with the bound address;
// `close(drainMs?)` resolves once every connection is gone; `metrics` holds live counters;
// `server` is the underlying net.Server. Logging: pass `logger` (from src/log.ts
// `createLogger`); the default is `silentLogger`, which writes nothing.
import net from 'node:net';
import { silentLogger, type Logger } from '../log.ts';
import { accept, closeAll, type Connection, type ServerContext, sweep } from './connection.ts';
import { Metrics } from './metrics.ts';
import type { Policy } from './policy.ts';
import { trustListOf, type TrustList } from './trust.ts';

export interface EchoServerOptions {
  /** Default 'require'. */
  readonly proxyProtocol?: Policy;
  /** Peers allowed to send a header: a parsed list or CIDR strings. Default: anyone. */
  readonly trust?: TrustList | readonly string[] | null;
  /** Longest line echoed, without its CR LF, in bytes. Default 16384. */
  readonly maxLine?: number;
  /** Time allowed for the complete PROXY header, ms. Default 5000. */
  readonly headerTimeoutMs?: number;
  /** Time a connection may stay without data (or without draining its echo), ms. Default 300000. */
  readonly idleTimeoutMs?: number;
  /** After the server ends a connection, the time the peer gets to close it too, ms. Default 2000. */
  readonly lingerMs?: number;
  /** Connections beyond this are refused at once. Default 10000. */
  readonly maxConnections?: number;
  /** 'upper' echoes ASCII letters in upper case. Default 'none'. */
  readonly transform?: 'none' | 'upper';
  /** Largest v2 header accepted (16-byte prefix + declared length). Default 4096. */
  readonly maxHeaderSize?: number;
  readonly logger?: Logger;
}

export interface EchoServer {
  readonly server: net.Server;
  readonly metrics: Metrics;
  /** Listens (port 0: an ephemeral port; `{ fd }`: an inherited socket); resolves with the address. */
  listen(options: net.ListenOptions | { readonly fd: number }): Promise<net.AddressInfo>;
  /** Stops accepting; open connections get `drainMs` to finish, then are closed. */
  close(drainMs?: number): Promise<void>;
  /** Connections open now. */
  readonly connectionCount: number;
}

export const ECHO_DEFAULTS = Object.freeze({
  proxyProtocol: 'require' as Policy,
  maxLine: 16384,
  headerTimeoutMs: 5000,
  idleTimeoutMs: 300_000,
  maxConnections: 10_000,
  lingerMs: 2000,
});

export function createEchoServer(options: EchoServerOptions = {}): EchoServer {
  const logger = options.logger ?? silentLogger;
  const metrics = new Metrics();
  const headerTimeoutMs = options.headerTimeoutMs ?? ECHO_DEFAULTS.headerTimeoutMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? ECHO_DEFAULTS.idleTimeoutMs;
  const lingerMs = options.lingerMs ?? ECHO_DEFAULTS.lingerMs;
  const trust =
    options.trust === undefined || options.trust === null
      ? null
      : 'allows' in options.trust
        ? options.trust
        : trustListOf(options.trust);
  let drained: (() => void) | null = null;
  const ctx: ServerContext = {
    policy: options.proxyProtocol ?? ECHO_DEFAULTS.proxyProtocol,
    trust,
    maxLine: options.maxLine ?? ECHO_DEFAULTS.maxLine,
    headerTimeoutMs,
    idleTimeoutMs,
    lingerMs,
    upper: options.transform === 'upper',
    parseOptions:
      options.maxHeaderSize === undefined ? {} : { maxV2HeaderSize: options.maxHeaderSize },
    logger,
    metrics,
    connections: new Set<Connection>(),
    now: Date.now(),
    onClosed: () => {
      if (drained !== null && ctx.connections.size === 0) drained();
    },
  };

  const server = net.createServer({ noDelay: true }, (socket) => accept(ctx, socket));
  server.maxConnections = options.maxConnections ?? ECHO_DEFAULTS.maxConnections;
  // Over the limit, Node closes the new socket before building anything for it.
  const refused = countedWarning(logger, 'refused connections: --max-connections reached', {
    limit: server.maxConnections,
  });
  server.on('drop', () => {
    metrics.reject('max-connections');
    refused.add();
  });
  // accept() failing (EMFILE: out of file descriptors…) is reported on the server: never fatal,
  // libuv keeps accepting once descriptors are free again.
  const acceptFailed = countedWarning(logger, 'accept failed', {});
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (!server.listening) return; // listen errors go to listen()'s caller
    metrics.reject('accept-error');
    acceptFailed.add(error.code ?? error.message);
  });

  // One timer for every deadline, its period a fifth of the shortest timeout (20 ms..1 s). A
  // deadline is met within one period either way: the sweep may come a period late, and the
  // coarse clock a connection's time is read from may be a period old (so it may also be early).
  const period = Math.max(
    20,
    Math.min(1000, Math.floor(Math.min(headerTimeoutMs, idleTimeoutMs, lingerMs) / 5)),
  );
  let ticker: NodeJS.Timeout | null = null;
  const tick = () => {
    ctx.now = Date.now();
    sweep(ctx);
  };

  let closing: Promise<void> | null = null;
  return {
    server,
    metrics,
    get connectionCount() {
      return ctx.connections.size;
    },
    listen(listenOptions) {
      return new Promise((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        server.once('error', onError);
        server.listen(listenOptions, () => {
          server.off('error', onError);
          ticker ??= setInterval(tick, period).unref();
          resolve(server.address() as net.AddressInfo);
        });
      });
    },
    close(drainMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
        server.close();
        let timer: NodeJS.Timeout | null = null;
        drained = () => {
          if (timer !== null) clearTimeout(timer);
          if (ticker !== null) clearInterval(ticker);
          refused.stop();
          acceptFailed.stop();
          resolve();
        };
        if (ctx.connections.size === 0) return drained();
        timer = setTimeout(() => closeAll(ctx), drainMs);
      });
      return closing;
    },
  };
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
