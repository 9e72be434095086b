// One connection before its server sees it: its PROXY header is read, checked against the
// policy and the trust list, and either the connection is handed over (the bytes after the
// header put back in front, the socket reporting the header's client) or it is refused.
//
// The rules are the echo server's (src/server/connection.ts):
// - off: nothing is read; the server gets the connection at once;
// - require: a peer outside `trust` is refused at once; anyone else must send a valid header;
// - optional: first bytes that cannot start a header (`GET`, a TLS ClientHello) pass as data;
//   a header is parsed, and refused from a peer outside `trust`.
// Bytes are kept only while they are a valid prefix of a header, so memory is bounded by the
// largest header allowed, and `headerTimeout` (from accept) bounds the time.
import type net from 'node:net';
import { parseProxyHeader } from '../protocol/index.ts';
import type { ParseOptions, ProxyHeader } from '../protocol/types.ts';
import { V2_MAX_HEADER_SIZE } from '../protocol/constants.ts';
import { startsLikeHeader } from '../server/policy.ts';
import { MAYBE, NO } from '../server/verdict.ts';
import { handOver } from './hand-over.ts';
import type { TrustList } from '../server/trust.ts';
import type { RejectCode, Settings } from './options.ts';
import { adoptHeader } from './real-client.ts';

/** The server's own 'connection' handling, which gets the socket once its header is read. */
export type Deliver = (socket: net.Socket) => void;

const kAwaiting = Symbol('elb-proxy-echo.awaitingHeader');
const NO_LIMITS: ParseOptions = Object.freeze({
  maxV2HeaderSize: V2_MAX_HEADER_SIZE,
  crc32c: 'ignore',
});

/** One connection waiting for its header. */
class Awaiting {
  readonly socket: net.Socket;
  readonly settings: Settings;
  readonly deliver: Deliver;
  readonly trusted: boolean;
  /** The header's bytes so far, when it straddles reads. */
  pending: Buffer | null = null;
  readonly timer: NodeJS.Timeout;

  constructor(socket: net.Socket, settings: Settings, deliver: Deliver, trusted: boolean) {
    this.socket = socket;
    this.settings = settings;
    this.deliver = deliver;
    this.trusted = trusted;
    this.timer = setTimeout(timedOut, settings.headerTimeout, this);
  }
}

type Tagged = net.Socket & { [kAwaiting]?: Awaiting };

/** A new connection of a wrapped server: reads its header, then `deliver`s it or refuses it. */
export function awaitHeader(socket: net.Socket, settings: Settings, deliver: Deliver): void {
  if (settings.policy === 'off') {
    deliver(socket);
    return;
  }
  const { trust } = settings;
  const trusted = trust === null || isTrusted(socket, trust);
  if (settings.policy === 'require' && !trusted) {
    refuse(socket, settings, 'untrusted', `${describePeer(socket)} is not in trust`);
    return;
  }
  (socket as Tagged)[kAwaiting] = new Awaiting(socket, settings, deliver, trusted);
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('close', onClose);
}

function isTrusted(socket: net.Socket, trust: TrustList): boolean {
  const address = socket.remoteAddress;
  return address !== undefined && trust.allows(address);
}

function onData(this: net.Socket, chunk: Buffer): void {
  received((this as Tagged)[kAwaiting]!, chunk);
}

/** The peer finished sending before its header did: nothing to hand over. */
function onEnd(this: net.Socket): void {
  this.destroy();
}

/** A socket error (a reset) before the header: 'close' follows and cleans up. */
function onError(): void {}

function onClose(this: net.Socket): void {
  const awaiting = (this as Tagged)[kAwaiting];
  if (awaiting !== undefined) clearTimeout(awaiting.timer);
}

function received(awaiting: Awaiting, chunk: Buffer): void {
  const { settings } = awaiting;
  // Concatenate only when the header straddles reads; the usual case parses the chunk itself.
  const bytes = awaiting.pending === null ? chunk : Buffer.concat([awaiting.pending, chunk]);
  if (settings.policy === 'optional') {
    const looks = startsLikeHeader(bytes);
    if (looks === MAYBE) {
      keep(awaiting, chunk, bytes);
      return;
    }
    if (looks === NO) {
      pass(awaiting, bytes, null);
      return;
    }
    if (!awaiting.trusted) {
      const peer = describePeer(awaiting.socket);
      stop(awaiting);
      refuse(
        awaiting.socket,
        settings,
        'untrusted',
        `PROXY header from ${peer}, which is not in trust`,
      );
      return;
    }
  }
  const result = parseProxyHeader(bytes, settings.parseOptions);
  if (result.status === 'incomplete') {
    keep(awaiting, chunk, bytes);
  } else if (result.status === 'invalid') {
    stop(awaiting);
    refuse(awaiting.socket, settings, result.code, result.reason);
  } else {
    pass(awaiting, bytes.subarray(result.length), keptHeader(bytes, result.length, result.header));
  }
}

/** A valid prefix: kept for the next read (a copy of a lone chunk: its read buffer can go). */
function keep(awaiting: Awaiting, chunk: Buffer, bytes: Buffer): void {
  awaiting.pending = bytes === chunk ? Buffer.from(chunk) : bytes;
}

/**
 * The header, parsed again from a copy of its bytes: a parsed header reads its fields from the
 * bytes it was given, and those of the read (with the data after the header) should not stay
 * alive as long as the connection.
 */
function keptHeader(bytes: Buffer, length: number, header: ProxyHeader): ProxyHeader {
  // The same bytes parse the same way; the options cannot matter, they were met once.
  const again = parseProxyHeader(Buffer.from(bytes.subarray(0, length)), NO_LIMITS);
  return again.status === 'ok' ? again.header : header;
}

/** Hands the connection over: `unread` goes back in front, the header (if any) is adopted. */
function pass(awaiting: Awaiting, unread: Buffer, header: ProxyHeader | null): void {
  stop(awaiting);
  if (header !== null) adoptHeader(awaiting.socket, header);
  handOver(awaiting.socket, unread, awaiting.deliver);
}

/** This module is done with the socket: its listeners and timer go; the socket stays paused. */
function stop(awaiting: Awaiting): void {
  const { socket } = awaiting;
  clearTimeout(awaiting.timer);
  awaiting.pending = null;
  // Paused first: with its 'data' listener gone a flowing socket would drop what comes next.
  socket.pause();
  socket.off('data', onData);
  socket.off('end', onEnd);
  socket.off('error', onError);
  socket.off('close', onClose);
  (socket as Tagged)[kAwaiting] = undefined;
}

function timedOut(awaiting: Awaiting): void {
  const { socket, settings, pending } = awaiting;
  const secs = settings.headerTimeout / 1000;
  const reason =
    pending === null
      ? `nothing received within ${secs} s`
      : `no complete PROXY header within ${secs} s (${pending.length} bytes of one)`;
  stop(awaiting);
  refuse(socket, settings, 'header-timeout', reason);
}

/** Closes the connection and tells onReject why. */
function refuse(socket: net.Socket, settings: Settings, code: RejectCode, reason: string): void {
  const remoteAddress = socket.remoteAddress;
  socket.destroy();
  settings.onReject?.({ code, reason, remoteAddress });
}

function describePeer(socket: net.Socket): string {
  return socket.remoteAddress === undefined
    ? 'a peer with no address'
    : `${socket.remoteAddress}:${socket.remotePort}`;
}
