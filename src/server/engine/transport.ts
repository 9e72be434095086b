// The seam between one connection's life (connection.ts) and the socket layer under it.
//
// A connection is written once against `Transport`; an engine (net.ts: node:net sockets,
// uv.ts: the runtime's libuv TCP handles) supplies transports for accepted connections.
// Both engines behave alike at this seam: the same reads, the same backpressure (a write that
// answers false stops reading until `onDrain`), the same half-close (our FIN goes after the
// queued writes; the peer's FIN closes the connection once our echo has gone out).
import type net from 'node:net';

/** What a transport tells its connection. One object per connection (no closures needed). */
export interface TransportEvents {
  /**
   * The bytes of one read. Valid only during the call: the engine may reuse the memory for the
   * next read (of any connection), so whatever must outlive the call is copied.
   */
  onData(chunk: Buffer): void;
  /** Everything queued has gone out, after a write that answered false. */
  onDrain(): void;
  /** The connection is gone; `error` is the code of the socket error that ended it, if any. */
  onClose(error: string | null): void;
}

export interface Transport {
  /** Starts reading; from now on the events go to `events`. */
  start(events: TransportEvents): void;
  /**
   * Writes `first` then `second` (when given) in one go. true: written, or queued within
   * limits; false: queued beyond them: stop reading (`pause`) until `onDrain`. The bytes may be
   * a read's own (see onData): a transport keeps a copy of whatever it cannot write at once.
   */
  write(first: Buffer, second?: Buffer): boolean;
  /** Writes a short message (a reason for closing); ignored once the transport cannot write. */
  writeText(text: string): void;
  /** Stops reading (backpressure). */
  pause(): void;
  resume(): void;
  /** Half-close: our FIN after the queued writes. Reading goes on until the peer closes. */
  end(): void;
  /** Closes at once; queued writes are dropped. `onClose` follows. */
  destroy(): void;
  /** Bytes written but not yet taken by the kernel (what backpressure bounds). */
  queuedBytes(): number;
  /** Whether writes still go anywhere (not ended or destroyed). */
  readonly writable: boolean;
  /** The peer's address as the socket reports it; undefined when it is already gone. */
  remoteAddress(): string | undefined;
  remotePort(): number;
  /**
   * Leaves the fast path: stops delivering events and hands back a `net.Socket` over the same
   * connection, with `unread` (bytes already read that the new owner must see first, if any)
   * put back in front of whatever arrives next. The transport is unusable afterwards.
   */
  detach(unread?: Buffer): net.Socket;
}

/** What a server does with the connections an engine accepts. */
export interface AcceptHooks {
  /** A new connection, not yet reading: call `transport.start`. */
  accept(transport: Transport): void;
  /** A connection refused at once because `maxConnections` were open. */
  refused(): void;
  /** accept() itself failed (EMFILE…); libuv goes on accepting. */
  acceptFailed(code: string): void;
}

/** What an engine applies to every connection it accepts. */
export interface AcceptSettings {
  /** Connections beyond this are refused at once. */
  readonly maxConnections: number;
  /** TCP keepalive: idle time before the first probe, ms (whole seconds); 0: off. */
  readonly keepAliveMs: number;
}

/** How an engine accepts on a listening `net.Server`. */
export interface Engine {
  readonly name: EngineName;
  /**
   * Wires `server` (not yet listening) so that its connections go to `hooks` as transports;
   * `open()` counts the connections open now, for the `maxConnections` check.
   */
  adopt(server: net.Server, settings: AcceptSettings, open: () => number, hooks: AcceptHooks): void;
}

export const ENGINES = ['uv', 'net'] as const;
export type EngineName = (typeof ENGINES)[number];
