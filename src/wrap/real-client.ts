// Making a socket report the client its PROXY header named, where Node servers and frameworks
// look for it: socket.remoteAddress, remotePort and remoteFamily, also on the TLSSocket that TLS
// (https, HTTP/2) builds over it; and the header itself, through proxyHeader().
//
// net.Socket's remote* getters read `_peername`, which it fills from its handle on first use and
// then keeps: filling it first makes them report the header's client, at the cost of one field.
// A TLSSocket does not ask the socket it wraps: it asks that socket's handle (the libuv TCP
// handle it takes over) through getpeername(). So the handle's getpeername is replaced too, by
// one that reports the header's client: every layer over the handle then agrees, from the TLS
// handshake on.
import type net from 'node:net';
import type { ProxyHeader } from '../protocol/types.ts';

const kHeader = Symbol('elb-proxy-echo.proxyHeader');
const kPeer = Symbol('elb-proxy-echo.peer');

interface Peer {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

/** What Node keeps under net.Socket's `_handle`, as far as we use it. */
interface PeerHandle {
  getpeername?: (out: Record<string, unknown>) => number;
  [kPeer]?: Peer;
}

type Tagged = net.Socket & {
  [kHeader]?: ProxyHeader;
  /** What net.Socket's remote* getters report (its own cache of the handle's getpeername). */
  _peername?: Peer;
  _handle?: PeerHandle | null;
  /** A TLSSocket's underlying socket. */
  _parent?: Tagged | null;
};

/**
 * Records `header` on `socket` and, when it names an IP client (PROXY TCP/UDP over IPv4/IPv6),
 * makes the socket report that client. LOCAL (a balancer's own health check), UNKNOWN and UNIX
 * headers keep the socket's own addresses.
 */
export function adoptHeader(socket: net.Socket, header: ProxyHeader): void {
  const tagged = socket as Tagged;
  tagged[kHeader] = header;
  const source = header.source;
  if (source === null || header.protocol.startsWith('UNIX')) return;
  const peer: Peer = {
    address: source.address,
    port: source.port,
    family: header.protocol.endsWith('4') ? 'IPv4' : 'IPv6',
  };
  tagged._peername = peer;
  const handle = tagged._handle;
  if (typeof handle?.getpeername === 'function') {
    handle[kPeer] = peer;
    handle.getpeername = reportPeer;
  }
}

/** The handle's getpeername as Node calls it: fills `out`, 0 for success. */
function reportPeer(this: PeerHandle, out: Record<string, unknown>): number {
  const peer = this[kPeer]!;
  out.address = peer.address;
  out.port = peer.port;
  out.family = peer.family;
  return 0;
}

/**
 * The PROXY header `socket` opened with, TLVs included: the socket a server was given (a
 * net.Socket, a TLSSocket over one, or HTTP/2's req.socket); null when it had none (policy
 * optional or off) or its server does not read headers.
 */
export function proxyHeader(socket: net.Socket): ProxyHeader | null {
  const tagged = socket as Tagged;
  return tagged[kHeader] ?? tagged._parent?.[kHeader] ?? null;
}
