// One connection of the `uv` engine: a libuv TCP handle driven directly, below node:net.
//
// What it saves per connection and per read: no net.Socket and no stream state (a handle and one
// small transport object), and no fresh buffer per read: every connection reads into one shared
// buffer (`useUserBuffer`), and the connection copies only what it keeps (a partial line, a
// header split over reads). A write from that shared buffer goes out as a one-byte string:
// the runtime writes it at once when the socket takes it, and copies only the rest when it does
// not (the next read, of any connection, overwrites the shared buffer).
//
// This file is the engine's data path: every read and write of every connection runs here, so
// what it needs per read (the bindings, the shared buffer) is in module variables of its own.
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { putBack } from './put-back.ts';
import type { Transport, TransportEvents } from './transport.ts';
import type { Bindings, Request, TcpHandle } from './uv-bindings.ts';

const kTransport = Symbol('transport');

/** A handle that knows the transport it carries. */
interface OwnedHandle extends TcpHandle {
  [kTransport]?: UvTransport;
}

/** A write or shutdown request on such a handle. */
interface OwnedRequest extends Request {
  handle: OwnedHandle;
}

/** The bindings, from the engine once they are checked (adopt). */
let bindings: Bindings | null = null;

/** Hands the checked bindings to the data path; the engine calls it before the first accept. */
export function useBindings(checked: Bindings): void {
  bindings = checked;
}

/** Every connection's reads land here; a read's bytes are valid until the next read. */
const READ_SIZE = 64 * 1024;
let shared: Buffer | null = null;

// Largest write from the shared buffer that goes out as a string (the runtime tries such a
// string at once from its stack); a longer one is copied first.
const STRING_WRITE_MAX = 16 * 1024;

// Bits of UvTransport.flags.
const ENDED = 1; // our FIN is asked for (shutdown)
const SHUT = 2; // …and has gone out
const EOF = 4; // the peer's FIN has come
const CLOSED = 8; // close() asked for: nothing more goes in or out
const DETACHED = 16; // handed to a net.Socket

// The peer as getpeername last gave it, and whose it was: a connection asks for the address and
// then the port (and the trust check asks first), which is then one system call, not several.
const peer: { address?: string; port?: number } = {};
let peerOf: OwnedHandle | null = null;

export class UvTransport implements Transport {
  readonly handle: OwnedHandle;
  events: TransportEvents | null = null;
  flags = 0;
  /** Writes not finished yet. */
  queued = 0;
  error: string | null = null;

  constructor(handle: OwnedHandle) {
    this.handle = handle;
    handle[kTransport] = this;
  }

  start(events: TransportEvents): void {
    this.events = events;
    const { handle } = this;
    handle.onread = onRead;
    shared ??= Buffer.allocUnsafeSlow(READ_SIZE);
    handle.useUserBuffer(shared);
    const status = handle.readStart();
    if (status < 0) this.fail(status);
  }

  write(first: Buffer, second?: Buffer): boolean {
    if (this.flags & (ENDED | CLOSED)) return true;
    // Two parts (a line that began in an earlier read): one write of their copy.
    const bytes = second === undefined ? first : Buffer.concat([first, second]);
    const b = bindings as Bindings;
    const req = writeRequest(this.handle);
    let status: number;
    // What libuv may still point into after this call: never the shared buffer.
    let kept: Buffer | undefined;
    if (bytes.buffer !== shared?.buffer) kept = bytes;
    else if (bytes.length > STRING_WRITE_MAX) kept = Buffer.from(bytes);
    if (kept !== undefined) status = this.handle.writeBuffer(req, kept);
    else status = this.handle.writeLatin1String(req, bytes.toString('latin1'));
    if (status < 0) {
      this.fail(status);
      return true;
    }
    if (b.state[b.kLastWriteWasAsync] === 0) {
      spare = req;
      return true;
    }
    req.buffer = kept; // alive until the write completes
    this.queued++;
    return false;
  }

  writeText(text: string): void {
    if (this.flags & (ENDED | CLOSED)) return;
    const status = this.handle.writeLatin1String(writeRequest(this.handle), text);
    if (status < 0) this.fail(status);
    else if ((bindings as Bindings).state[(bindings as Bindings).kLastWriteWasAsync] !== 0)
      this.queued++;
  }

  pause(): void {
    if (!(this.flags & CLOSED)) this.handle.readStop();
  }

  resume(): void {
    if (!(this.flags & (CLOSED | EOF))) this.handle.readStart();
  }

  end(): void {
    if (this.flags & (ENDED | CLOSED)) return;
    this.flags |= ENDED;
    const req = new (bindings as Bindings).ShutdownWrap();
    req.handle = this.handle;
    req.oncomplete = afterShutdown;
    // libuv sends the FIN once the queued writes are out; anything but 0 means no callback.
    if (this.handle.shutdown(req) !== 0) this.shut();
  }

  /** Our FIN is out: the connection closes once the peer's has come too. */
  shut(): void {
    this.flags |= SHUT;
    if (this.flags & EOF) this.destroy();
  }

  /** The peer's FIN: as node:net does without allowHalfOpen, we end too after our echo. */
  peerEnded(): void {
    this.flags |= EOF;
    this.handle.readStop();
    if (this.flags & SHUT) this.destroy();
    else this.end();
  }

  fail(status: number): void {
    this.error ??= getSystemErrorName(status);
    this.destroy();
  }

  destroy(): void {
    if (this.flags & CLOSED) return;
    this.flags |= CLOSED;
    this.handle.close(onHandleClosed);
  }

  queuedBytes(): number {
    return this.flags & CLOSED ? 0 : this.handle.writeQueueSize;
  }

  get writable(): boolean {
    return !(this.flags & (ENDED | CLOSED));
  }

  remoteAddress(): string | undefined {
    return this.askPeer() ? peer.address : undefined;
  }

  remotePort(): number {
    return this.askPeer() ? (peer.port ?? 0) : 0;
  }

  /** Fills `peer` for this connection (a connected socket's peer never changes); false: gone. */
  askPeer(): boolean {
    if (this.flags & CLOSED) return false;
    if (peerOf === this.handle) return true;
    peer.address = undefined;
    peer.port = 0;
    if (this.handle.getpeername(peer) !== 0) {
      peerOf = null;
      return false;
    }
    peerOf = this.handle;
    return true;
  }

  detach(unread?: Buffer): net.Socket {
    const { handle } = this;
    handle.readStop();
    this.flags |= DETACHED;
    this.events = null;
    // The socket reads into the shared buffer too and turns each read into an ordinary 'data'
    // chunk, a copy made at once: the buffer is free again before any other read. (A buffer of
    // its own would cost each handed-over connection the pages its reads touch.)
    shared ??= Buffer.allocUnsafeSlow(READ_SIZE);
    const socket: net.Socket = new net.Socket({
      handle,
      readable: true,
      writable: true,
      // The new owner decides what the peer's FIN means (node:http answers what came before it).
      allowHalfOpen: true,
      onread: {
        buffer: shared,
        callback: (n: number, buffer: Uint8Array) =>
          socket.push(Buffer.from(buffer.subarray(0, n))),
      },
    } as unknown as net.SocketConstructorOpts);
    putBack(socket, unread);
    return socket;
  }
}

/**
 * A write finished at once leaves its request unused (the runtime attaches its native part only
 * to a write that waits): the next write takes it again instead of a new one.
 */
let spare: Request | null = null;

function writeRequest(handle: TcpHandle): Request {
  const req = spare ?? new (bindings as Bindings).WriteWrap();
  spare = null;
  req.handle = handle;
  req.oncomplete = afterWrite;
  return req;
}

function onRead(this: OwnedHandle): void {
  const transport = this[kTransport];
  if (transport === undefined || transport.flags & (CLOSED | DETACHED)) return;
  const b = bindings as Bindings;
  const n = b.state[b.kReadBytesOrError];
  if (n > 0) transport.events?.onData((shared as Buffer).subarray(0, n));
  else if (n === b.UV_EOF) transport.peerEnded();
  else if (n < 0) transport.fail(n);
}

function afterWrite(this: OwnedRequest, status: number): void {
  const transport = this.handle[kTransport];
  this.buffer = undefined;
  if (transport === undefined || transport.flags & (CLOSED | DETACHED)) return;
  transport.queued--;
  if (status < 0) transport.fail(status);
  else if (transport.queued === 0) transport.events?.onDrain();
}

function afterShutdown(this: OwnedRequest): void {
  const transport = this.handle[kTransport];
  if (transport !== undefined && !(transport.flags & (CLOSED | DETACHED))) transport.shut();
}

function onHandleClosed(this: OwnedHandle): void {
  const transport = this[kTransport];
  this[kTransport] = undefined;
  if (peerOf === this) peerOf = null;
  transport?.events?.onClose(transport.error);
}
