// A paused socket, some of whose bytes were already read, made ready for its next reader (the
// net engine's hand-over to node:http, and acceptProxyProtocol's to any server): one home for
// how a socket is given on as if freshly accepted.
import type { Duplex } from 'node:stream';

/**
 * Puts `unread` (bytes already taken from `socket` that its next reader must see) back in front
 * of whatever arrives next, as a view (no copy). `socket` must be paused, with no 'data' listener
 * left by the previous reader.
 *
 * A paused socket does not flow again when a 'data' listener is added (node:http adds one and
 * expects data), so it resumes on the first one, as a freshly accepted socket would. Readers
 * that take bytes without a 'data' listener (TLS and HTTP/2 take the bytes waiting with read(),
 * then the socket's handle) find `unread` there.
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
