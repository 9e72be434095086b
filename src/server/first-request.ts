// What node:http reads from a metrics connection: the bytes of its first request and no more.
//
// node:http parses every byte it is given and builds a request and a queued response for each
// request in them, so a client that pipelines thousands of requests in one write costs thousands
// of objects even when only the first is answered. This stream stands between the socket and
// node:http: it hands the bytes read on one line at a time (a request head ends at a line feed,
// so no piece can complete more than one request) and stops for good once `stop()` is called,
// which the server does when node:http announces the first request. What the peer sends after
// that is read and dropped, so the close that follows the answer is not a reset. Writes go to
// the socket unchanged. While pieces of a read wait, the socket is paused: at most one read's
// bytes are held.
import { Duplex } from 'node:stream';
import type net from 'node:net';

const LINE_FEED = 0x0a;

export class FirstRequestOnly extends Duplex {
  readonly #socket: net.Socket;
  #pending: Buffer = Buffer.alloc(0);
  #wanted = false;
  #stopped = false;

  constructor(socket: net.Socket) {
    // One piece at a time: a push returns false as soon as a piece waits unread.
    super({ readableHighWaterMark: 1 });
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#take(chunk));
    socket.on('end', () => {
      if (!this.#stopped) this.push(null);
    });
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  /** Bytes written to the socket so far (node:http's client-error path reads this). */
  get bytesWritten(): number {
    return this.#socket.bytesWritten;
  }

  /** The first request is in: node:http gets nothing more from this connection. */
  stop(): void {
    this.#stopped = true;
    this.#pending = Buffer.alloc(0);
    this.#socket.resume();
  }

  override _read(): void {
    this.#wanted = true;
    this.#feed();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    this.#socket.write(chunk, (error) => done(error ?? undefined));
  }

  override _final(done: () => void): void {
    this.#socket.destroySoon();
    done();
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    this.#socket.destroy();
    done(error);
  }

  #take(chunk: Buffer): void {
    if (this.#stopped) return;
    this.#pending = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#socket.pause();
    this.#feed();
  }

  /** Hands on lines while node:http wants them and the first request has not come. */
  #feed(): void {
    while (this.#wanted && !this.#stopped && this.#pending.length > 0) {
      const end = this.#pending.indexOf(LINE_FEED);
      const cut = end < 0 ? this.#pending.length : end + 1;
      const piece = this.#pending.subarray(0, cut);
      this.#pending = this.#pending.subarray(cut);
      this.#wanted = this.push(piece);
    }
    if (this.#pending.length === 0) this.#socket.resume();
  }
}
