// Accepting: the hooks an engine reports accepts through, and how a port this process binds is
// bound (a group of SO_REUSEPORT sockets).
import type net from 'node:net';
import { accept } from './connection.ts';
import { countedWarning } from './counted-warning.ts';
import type { AcceptHooks } from './engine/transport.ts';
import type { ServerContext } from './server-context.ts';

/** What the engine reports about accepts, counted in metrics and logged once a second. */
export function acceptHooks(
  ctx: ServerContext,
  maxConnections: number,
): AcceptHooks & { stop(): void } {
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
export function acceptGroup(
  options: net.ListenOptions | { readonly fd: number },
): { readonly options: net.ListenOptions; readonly join: boolean } | null {
  if ('fd' in options || options.port === undefined || options.path !== undefined) return null;
  return { options: { ...options, reusePort: true }, join: options.reusePort === true };
}
