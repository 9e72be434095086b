// The `uv` engine: connections on the runtime's own libuv TCP handles, below node:net.
//
// What it saves per connection and per read: no net.Socket and no stream state (a handle and one
// small transport object), and no fresh buffer per read: every connection reads into one shared
// buffer (`useUserBuffer`), and the connection copies only what it keeps (a partial line, a
// header split over reads). A write from that shared buffer goes out as a one-byte string:
// the runtime writes it at once when the socket takes it, and copies only the rest when it does
// not (the next read, of any connection, overwrites the shared buffer).
//
// The bindings are internal to the runtime. The executable ships its own runtime, and
// `uvBindingsProblem()` checks their shape before this engine is used (and a test checks it on
// the pinned runtime), so a runtime that changed them falls back to the `net` engine.
//
// Listening stays with node:net (address, port, backlog, SO_REUSEPORT, an inherited fd, cluster
// workers: all as on the `net` engine); only what happens at accept differs.
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { putBack } from '../../wrap/hand-over.ts';
import type {
  AcceptHooks,
  AcceptSettings,
  Engine,
  Transport,
  TransportEvents,
} from './transport.ts';

/** The parts of a libuv TCP handle (tcp_wrap `TCP`) this engine uses. */
interface TcpHandle {
  onread: ((this: TcpHandle) => void) | null;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
  writeBuffer(req: Request, buffer: Uint8Array): number;
  writeLatin1String(req: Request, text: string): number;
  shutdown(req: Request): number;
  /** `callback` runs with the handle as `this`. */
  close(callback: (this: TcpHandle) => void): void;
  setNoDelay(on: boolean): number;
  /** `delay` in seconds (TCP_KEEPIDLE). */
  setKeepAlive(on: boolean, delay: number): number;
  getpeername(out: { address?: string; port?: number }): number;
  /** Bytes libuv holds for writes not yet taken by the kernel. */
  readonly writeQueueSize: number;
  [kTransport]?: UvTransport;
}

/** A WriteWrap or ShutdownWrap: `oncomplete` runs with the request as `this`. */
interface Request {
  handle: TcpHandle;
  oncomplete: (this: Request, status: number) => void;
  /** Keeps a written buffer alive while libuv still points into it. */
  buffer?: Uint8Array;
}

interface Bindings {
  readonly WriteWrap: new () => Request;
  readonly ShutdownWrap: new () => Request;
  readonly state: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kLastWriteWasAsync: number;
  readonly UV_EOF: number;
}

const kTransport = Symbol('transport');

// What the bindings must offer; a missing one is named by uvBindingsProblem.
const HANDLE_METHODS = [
  'readStart',
  'readStop',
  'useUserBuffer',
  'writeBuffer',
  'writeLatin1String',
  'shutdown',
  'close',
  'setNoDelay',
  'setKeepAlive',
  'getpeername',
] as const;

let bindings: Bindings | null = null;
let problem: string | null | undefined;

/** Why the `uv` engine cannot run on this runtime, or null when its bindings are as expected. */
export function uvBindingsProblem(): string | null {
  if (problem === undefined) {
    try {
      problem = loadBindings((process as unknown as { binding?: BindingLoader }).binding);
    } catch (error) {
      problem = `the runtime's libuv bindings cannot be loaded (${(error as Error).message})`;
    }
  }
  return problem;
}

type BindingLoader = (name: string) => Record<string, unknown>;

/**
 * Checks the shape of the bindings `binding` loads and, when it is as expected, keeps them for
 * the engine. Returns what differs, or null. (Exported for the test that feeds it changed shapes.)
 */
export function loadBindings(binding: BindingLoader | undefined): string | null {
  if (typeof binding !== 'function') return 'process.binding is missing';
  const tcp = binding('tcp_wrap');
  const stream = binding('stream_wrap');
  const uv = binding('uv');
  const TCP = tcp.TCP as (new (type: number) => object) | undefined;
  const constants = tcp.constants as Record<string, number> | undefined;
  if (typeof TCP !== 'function') return 'tcp_wrap has no TCP';
  if (typeof constants?.SOCKET !== 'number') return 'tcp_wrap.constants has no SOCKET';
  const proto = TCP.prototype as Record<string, unknown>;
  for (const method of HANDLE_METHODS)
    if (typeof proto[method] !== 'function') return `tcp_wrap.TCP has no ${method}()`;
  for (const name of ['WriteWrap', 'ShutdownWrap'])
    if (typeof stream[name] !== 'function') return `stream_wrap has no ${name}`;
  const state = stream.streamBaseState;
  if (!(state instanceof Int32Array)) return 'stream_wrap.streamBaseState is not an Int32Array';
  for (const name of ['kReadBytesOrError', 'kLastWriteWasAsync']) {
    const index = stream[name];
    if (typeof index !== 'number' || index < 0 || index >= state.length)
      return `stream_wrap.${name} is not an index into streamBaseState`;
  }
  if (typeof uv.UV_EOF !== 'number') return 'uv has no UV_EOF';
  bindings = {
    WriteWrap: stream.WriteWrap as Bindings['WriteWrap'],
    ShutdownWrap: stream.ShutdownWrap as Bindings['ShutdownWrap'],
    state,
    kReadBytesOrError: stream.kReadBytesOrError as number,
    kLastWriteWasAsync: stream.kLastWriteWasAsync as number,
    UV_EOF: uv.UV_EOF,
  };
  return null;
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
let peerOf: TcpHandle | null = null;

class UvTransport implements Transport {
  readonly handle: TcpHandle;
  events: TransportEvents | null = null;
  flags = 0;
  /** Writes not finished yet. */
  queued = 0;
  error: string | null = null;

  constructor(handle: TcpHandle) {
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

function onRead(this: TcpHandle): void {
  const transport = this[kTransport];
  if (transport === undefined || transport.flags & (CLOSED | DETACHED)) return;
  const b = bindings as Bindings;
  const n = b.state[b.kReadBytesOrError];
  if (n > 0) transport.events?.onData((shared as Buffer).subarray(0, n));
  else if (n === b.UV_EOF) transport.peerEnded();
  else if (n < 0) transport.fail(n);
}

function afterWrite(this: Request, status: number): void {
  const transport = this.handle[kTransport];
  this.buffer = undefined;
  if (transport === undefined || transport.flags & (CLOSED | DETACHED)) return;
  transport.queued--;
  if (status < 0) transport.fail(status);
  else if (transport.queued === 0) transport.events?.onDrain();
}

function afterShutdown(this: Request): void {
  const transport = this.handle[kTransport];
  if (transport !== undefined && !(transport.flags & (CLOSED | DETACHED))) transport.shut();
}

function onHandleClosed(this: TcpHandle): void {
  const transport = this[kTransport];
  this[kTransport] = undefined;
  if (peerOf === this) peerOf = null;
  transport?.events?.onClose(transport.error);
}

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
