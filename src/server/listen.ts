// Binding a port: net.Server.listen as a promise, and the check that nothing else listens
// where a server is about to bind its group of SO_REUSEPORT sockets (server.ts).
import net from 'node:net';

/** Listens; resolves with the bound address, rejects with the bind error (EADDRINUSE…). */
export function listenOn(
  server: net.Server,
  options: net.ListenOptions | { readonly fd: number },
): Promise<net.AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(options, () => {
      server.off('error', onError);
      resolve(server.address() as net.AddressInfo);
    });
  });
}

/**
 * Rejects (EADDRINUSE) when anything listens on the port where `options` would bind. Linux lets
 * a SO_REUSEPORT socket join a listening one of the same user that has it too, so without this
 * a second server (ours, or any program setting SO_REUSEPORT) would start without error and
 * take half the connections, or all of them from a more specific address. A socket bound
 * without SO_REUSEPORT conflicts with every socket listening on an overlapping address, with
 * SO_REUSEPORT or not (the SO_REUSEADDR libuv always sets spares only sockets that do not
 * listen): one plain listen, closed at once, finds a holder. Port 0 needs no check: the kernel
 * picks a port no socket has.
 *
 * What remains: two servers started at the same instant whose checks both pass before either
 * group listens would share the port (only the address lookup, at once for an IP address,
 * lies between a check's close and its group's first bind); and a program that sets
 * SO_REUSEPORT itself may still join later, as the kernel lets any process of the same user.
 */
export async function checkNoOtherListener(options: net.ListenOptions): Promise<void> {
  if (options.port === 0) return;
  const probe = net.createServer();
  // `exclusive`: a cluster worker binds the port itself instead of asking the primary.
  await listenOn(probe, { ...options, reusePort: false, exclusive: true, backlog: 1 });
  probe.close(); // its descriptor is closed here, before the group's first bind
}
