// Giving a connection, some of whose bytes were already read, to a server's own handling.
import type { Duplex } from 'node:stream';

/**
 * Gives `socket` to `deliver` (a server's own 'connection' handling: node:http, TLS, HTTP/2, or
 * a net.Server's listeners) as if it had just been accepted. `unread`, bytes already taken from
 * it that the new owner must see, goes back in front of whatever arrives next, as a view (no
 * copy). `socket` must be paused, with no 'data' listener left by the previous reader.
 *
 * A paused socket does not flow again when a 'data' listener is added (node:http adds one and
 * expects data), so it resumes on the first one, as a freshly accepted socket would. Owners
 * that read without a 'data' listener (TLS and HTTP/2 take the bytes waiting with read(), then
 * the socket's handle) find `unread` there.
 */
export function handOver<S extends Duplex>(
  socket: S,
  unread: Uint8Array | null,
  deliver: (socket: S) => void,
): void {
  putBack(socket, unread);
  deliver(socket);
}

/**
 * The first half of `handOver`, for a caller that gives the socket on itself (a Transport's
 * `detach`): `unread` back in front, and flowing again on the first 'data' listener.
 */
export function putBack(socket: Duplex, unread: Uint8Array | null | undefined): void {
  if (unread != null && unread.length > 0) socket.unshift(unread);
  socket.on('newListener', resumeOnData);
}

function resumeOnData(this: Duplex, event: string | symbol): void {
  if (event !== 'data') return;
  this.off('newListener', resumeOnData);
  this.resume();
}
