// What node:http reads from a connection: one request at a time, or only the first.
//
// node:http parses every byte it is given and builds a request and a queued response for each
// request in them, so a client that pipelines thousands of requests in one write and never
// reads costs thousands of objects and answers. This stream stands between the socket and
// node:http: it hands the bytes read on one line at a time (a request head ends at a line feed,
// so no piece can complete more than one request), and only while its owner lets it:
// - `mayFeed()` (the echo port) is asked before each piece; it says no while an answer is owed,
//   and the owner calls `wake()` once the answer has gone to the kernel. (node:http may be one
//   piece ahead of the question: a piece is handed on as the one before is parsed. One piece
//   cannot complete a request, so at most one more request than allowed is ever parsed.) A
//   client that does not read costs an answer or two and one read.
// - `stop()` (the metrics port, or after a parse error): nothing more ever; what the peer sends
//   after is read and dropped, so the close that follows the answer is not a reset.
// Writes go to the socket unchanged, each finished when the socket's write is. While pieces of
// a read wait, the socket is paused: at most one read's bytes are held.
import { Duplex } from 'node:stream';
import type net from 'node:net';

const LINE_FEED = 0x0a;
const EMPTY = Buffer.alloc(0);
const always = () => true;

export class RequestGate extends Duplex {
  readonly #socket: net.Socket;
  #pending: Buffer = EMPTY;
  readonly #mayFeed: () => boolean;
  #wanted = false;
  #stopped = false;
  /** The peer sent FIN: node:http gets the end once every piece before it is handed on. */
  #ended = false;

  constructor(socket: net.Socket, mayFeed: () => boolean = always) {
    // One piece at a time: a push returns false as soon as a piece waits unread.
    super({ readableHighWaterMark: 1 });
    this.#socket = socket;
    this.#mayFeed = mayFeed;
    socket.on('data', (chunk: Buffer) => this.#take(chunk));
    socket.on('end', () => {
      this.#ended = true;
      this.#feed();
    });
    socket.on('timeout', () => this.emit('timeout'));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  /** Bytes written to the socket so far (node:http's client-error path reads this). */
  get bytesWritten(): number {
    return this.#socket.bytesWritten;
  }

  /** The socket's inactivity timeout (node:http sets its idle and keep-alive timeouts here). */
  setTimeout(ms: number, onTimeout?: () => void): this {
    this.#socket.setTimeout(ms);
    if (onTimeout !== undefined) this.once('timeout', onTimeout);
    return this;
  }

  /** `mayFeed()` may say yes again: hands on what waits. */
  wake(): void {
    this.#feed();
  }

  /**
   * The last words of a refused connection, then a lingering close. Closing with the peer's
   * bytes unread makes the kernel reset the connection, and a reset can drop `text` before the
   * peer reads it; so `text` goes out with a FIN after it, and what the peer still sends is read
   * and dropped until it closes too, for at most `ms` and `bytes`. Only then the socket closes.
   */
  refuseLingering(text: string, ms: number, bytes: number): void {
    this.stop();
    const socket = this.#socket;
    let left = bytes;
    const close = () => socket.destroy();
    const timer = setTimeout(close, ms);
    socket.on('close', () => clearTimeout(timer));
    socket.on('data', (chunk: Buffer) => {
      left -= chunk.length;
      if (left < 0) close();
    });
    socket.on('end', close);
    socket.end(text);
  }

  /** node:http gets nothing more from this connection (its first request is in, or an error). */
  stop(): void {
    this.#stopped = true;
    this.#pending = EMPTY;
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

  /** Hands on lines while node:http wants them and the owner lets it have them. */
  #feed(): void {
    while (this.#wanted && !this.#stopped && this.#pending.length > 0 && this.#mayFeed()) {
      const end = this.#pending.indexOf(LINE_FEED);
      const cut = end < 0 ? this.#pending.length : end + 1;
      const piece = this.#pending.subarray(0, cut);
      this.#pending = this.#pending.subarray(cut);
      this.#wanted = this.push(piece);
    }
    if (this.#pending.length > 0) return;
    // Read on only when nothing waits: then at most one read's bytes are ever held.
    if (!this.#ended) this.#socket.resume();
    else if (!this.#stopped && this.#wanted && this.#mayFeed()) {
      // Requests pipelined before a FIN are all answered before node:http sees the end.
      this.#stopped = true;
      this.push(null);
    }
  }
}
