// The `net` engine: connections as node:net sockets, the runtime's public API. The fallback
// when the libuv bindings are not as expected, and the engine for library users elsewhere.
//
// Each socket's handlers are shared functions that find their transport through a symbol, so a
// connection costs no closures.
import type net from 'node:net';
import { putBack } from './put-back.ts';
import type {
  AcceptHooks,
  AcceptSettings,
  Engine,
  Transport,
  TransportEvents,
} from './transport.ts';

const kTransport = Symbol('transport');
type Tagged = net.Socket & { [kTransport]: NetTransport };

class NetTransport implements Transport {
  readonly socket: net.Socket;
  events: TransportEvents | null = null;
  error: string | null = null;

  constructor(socket: net.Socket) {
    this.socket = socket;
    (socket as Tagged)[kTransport] = this;
  }

  start(events: TransportEvents): void {
    this.events = events;
    this.socket.on('data', onData);
    this.socket.on('error', onError);
    this.socket.on('close', onClose);
  }

  write(first: Buffer, second?: Buffer): boolean {
    const { socket } = this;
    let ok: boolean;
    if (second === undefined) ok = socket.write(first);
    else {
      // Both parts in one writev. While corked the buffer only grows, so the second write's
      // answer covers both.
      socket.cork();
      socket.write(first);
      ok = socket.write(second);
      socket.uncork();
    }
    // The listener is added only then: most connections never need one.
    if (!ok) socket.once('drain', onDrain);
    return ok;
  }

  writeText(text: string): void {
    if (this.socket.writable) this.socket.write(text);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  queuedBytes(): number {
    return this.socket.writableLength;
  }

  get writable(): boolean {
    return this.socket.writable;
  }

  remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  remotePort(): number {
    return this.socket.remotePort ?? 0;
  }

  detach(unread?: Buffer): net.Socket {
    const { socket } = this;
    // Paused first: with its 'data' listener gone a flowing socket would drop what comes next.
    socket.pause();
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('close', onClose);
    socket.off('drain', onDrain);
    this.events = null;
    // The new owner decides what the peer's FIN means (node:http answers what came before it).
    socket.allowHalfOpen = true;
    putBack(socket, unread);
    return socket;
  }
}

/**
 * A transport over any connected net.Socket, such as the TLSSocket of a connection that
 * switched to TLS after its header (answer/tls-handoff.ts): its reads are the decrypted bytes.
 */
export function socketTransport(socket: net.Socket): Transport {
  return new NetTransport(socket);
}

function onData(this: net.Socket, chunk: Buffer): void {
  (this as Tagged)[kTransport].events?.onData(chunk);
}

function onDrain(this: net.Socket): void {
  (this as Tagged)[kTransport].events?.onDrain();
}

function onError(this: net.Socket, error: NodeJS.ErrnoException): void {
  (this as Tagged)[kTransport].error = error.code ?? error.message;
}

function onClose(this: net.Socket): void {
  const transport = (this as Tagged)[kTransport];
  transport.events?.onClose(transport.error);
}

export const netEngine: Engine = {
  name: 'net',
  adopt(server: net.Server, settings: AcceptSettings, open: () => number, hooks: AcceptHooks) {
    const { maxConnections, keepAliveMs } = settings;
    // Over the limit, Node closes the new socket before building anything for it; but it
    // counts per net.Server, and a server may listen on several (server.ts): the limit on all
    // of them together is checked here.
    server.maxConnections = maxConnections;
    server.on('connection', (socket: net.Socket) => {
      if (open() < maxConnections) {
        if (keepAliveMs > 0) socket.setKeepAlive(true, keepAliveMs);
        return hooks.accept(new NetTransport(socket));
      }
      socket.destroy();
      hooks.refused();
    });
    server.on('drop', () => hooks.refused());
    // accept() failing (EMFILE…) is reported on the server: never fatal, libuv keeps accepting.
    server.on('error', (error: NodeJS.ErrnoException) => {
      if (server.listening) hooks.acceptFailed(error.code ?? error.message);
    });
  },
};
