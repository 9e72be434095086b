// The `uv` engine: connections on the runtime's own libuv TCP handles, below node:net. Each
// accepted connection becomes a UvTransport (uv-transport.ts, the data path).
//
// The bindings are internal to the runtime: uv-bindings.ts describes them and checks their
// shape before this engine is used.
//
// Listening stays with node:net (address, port, backlog, SO_REUSEPORT, an inherited fd, cluster
// workers: all as on the `net` engine); only what happens at accept differs.
import type net from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { AcceptHooks, AcceptSettings, Engine } from './transport.ts';
import { checkedBindings, type TcpHandle, uvBindingsProblem } from './uv-bindings.ts';
import { UvTransport, useBindings } from './uv-transport.ts';

function noop(): void {}

/** The listening handle of a net.Server (internal; its shape is what the tests check). */
interface ListenHandle {
  onconnection: (status: number, client: TcpHandle | undefined) => void;
}

export const uvEngine: Engine = {
  name: 'uv',
  adopt(server: net.Server, settings: AcceptSettings, open: () => number, hooks: AcceptHooks) {
    const { maxConnections, keepAliveMs } = settings;
    const problem = uvBindingsProblem();
    if (problem !== null) throw new Error(`the uv engine cannot run here: ${problem}`);
    useBindings(checkedBindings());
    // node:net listens (and, in a cluster worker, receives connections from the primary);
    // from its first connection on, accepts come here instead of becoming net.Sockets.
    server.on('listening', () => {
      const handle = (server as unknown as { _handle: ListenHandle | null })._handle;
      if (typeof handle?.onconnection !== 'function')
        throw new Error('net.Server has no listening handle with onconnection');
      handle.onconnection = (status, client) => {
        if (status < 0 || client === undefined)
          return hooks.acceptFailed(getSystemErrorName(status));
        // Refused before anything is built for it, as node:net does.
        if (open() >= maxConnections) {
          client.close(noop);
          return hooks.refused();
        }
        client.setNoDelay(true);
        if (keepAliveMs > 0) client.setKeepAlive(true, keepAliveMs / 1000);
        hooks.accept(new UvTransport(client));
      };
    });
    // Errors of the listening socket after listen() (not accepts: those come above).
    server.on('error', (error: NodeJS.ErrnoException) => {
      if (server.listening) hooks.acceptFailed(error.code ?? error.message);
    });
  },
};
