// A stand-in socket for the wrapper's byte-level tests: each push() is one read, exactly as
// given, so every split of a header can be tried without the network's own coalescing.
import net from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import type { ProxyHeader } from '../../src/protocol/types.ts';
import { acceptProxyProtocol, proxyHeader } from '../../src/wrap/index.ts';
import type { ProxyProtocolOptions, Rejection } from '../../src/wrap/index.ts';

/**
 * A net.Socket with no connection under it: its peer is what net.Socket reports without a
 * handle (`_peername`), and what the wrapper sets when it adopts a header.
 */
export class FakeSocket extends net.Socket {
  constructor(remoteAddress = '10.0.0.9') {
    super();
    (this as unknown as { _peername: object })._peername = {
      address: remoteAddress,
      port: 40000,
      family: 'IPv4',
    };
  }

  override _read(): void {}

  override _write(_chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    done();
  }

  override _final(done: () => void): void {
    done();
  }
}

/** What happened to one connection fed through a wrapped server. */
export interface Outcome {
  /** The connection reached the server's listener. */
  delivered: boolean;
  /** The bytes the server's listener read. */
  data: Buffer;
  address: string | undefined;
  header: ProxyHeader | null;
  rejections: Rejection[];
  destroyed: boolean;
}

/**
 * Feeds `chunks` to a fresh wrapped server as separate reads (one event-loop turn apart), then
 * ends the stream, and reports what the server's 'connection' listener saw.
 */
export async function feed(
  chunks: readonly Uint8Array[],
  options: ProxyProtocolOptions = {},
  peer?: string,
): Promise<Outcome> {
  const rejections: Rejection[] = [];
  const server = acceptProxyProtocol(net.createServer(), {
    ...options,
    onReject: (rejection) => rejections.push(rejection),
  });
  const socket = new FakeSocket(peer);
  const outcome: Outcome = {
    delivered: false,
    data: Buffer.alloc(0),
    address: undefined,
    header: null,
    rejections,
    destroyed: false,
  };
  const received: Buffer[] = [];
  let ended = false;
  server.on('connection', (given: net.Socket) => {
    outcome.delivered = true;
    outcome.address = given.remoteAddress;
    outcome.header = proxyHeader(given);
    given.on('data', (chunk: Buffer) => received.push(chunk));
    given.on('end', () => (ended = true));
  });
  server.emit('connection', socket);
  for (const chunk of chunks) {
    await tick();
    if (socket.destroyed) break;
    socket.push(chunk);
  }
  await tick();
  socket.push(null);
  for (let i = 0; i < 5 && !ended && !socket.destroyed; i++) await tick();
  outcome.data = Buffer.concat(received);
  outcome.destroyed = socket.destroyed;
  return outcome;
}
