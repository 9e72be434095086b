// acceptProxyProtocol: any Node server (net, tls, http, https, http2) reads the PROXY header of
// each connection before its own connection handling sees a byte of it.
//
// How: the server's `emit` is wrapped, and a 'connection' event goes to awaitHeader first; the
// original emit gets it once the header is read. Every server kind does its work in 'connection'
// listeners (node:http's parser, TLS's TLSSocket, HTTP/2's session, the user's own), some added
// by its constructor and some by the user at any time; holding back the event holds back all of
// them, whenever added, in their order, and keeps any other wrapper of emit in the chain.
// Moving the listeners instead would miss those added later, and a listener prepended in front
// of them cannot stop them from running (TLS takes over the socket's handle at once).
import type net from 'node:net';
import { awaitHeader, type Gate, headerDeadlines } from './await-header.ts';
import { type ProxyProtocolOptions, settingsOf } from './options.ts';

const kWrapped = Symbol('elb-proxy-echo.acceptProxyProtocol');

type Wrapped = net.Server & { [kWrapped]?: true };

/**
 * Makes `server` read a PROXY protocol header (v1 or v2) at the start of every connection: its
 * sockets then report the real client (remoteAddress, remotePort, remoteFamily) and
 * proxyHeader(socket) gives the header. Refused connections are closed and given to
 * `options.onReject`. Returns `server`. Throws for bad options, or a server already wrapped.
 */
export function acceptProxyProtocol<S extends net.Server>(
  server: S,
  options: ProxyProtocolOptions = {},
): S {
  const settings = settingsOf(options);
  const wrapped = server as Wrapped;
  if (wrapped[kWrapped])
    throw new Error('acceptProxyProtocol: this server already reads PROXY headers');
  wrapped[kWrapped] = true;
  const emit: (event: string | symbol, ...args: unknown[]) => boolean = server.emit;
  const gate: Gate = {
    settings,
    deliver: (socket) => {
      emit.call(server, 'connection', socket);
    },
    deadlines: headerDeadlines(settings.headerTimeout),
  };
  server.emit = function gated(this: S, event: string | symbol, socket?: unknown): boolean {
    if (event === 'connection') {
      awaitHeader(socket as net.Socket, gate);
      return true;
    }
    // Every other event (node:http's 'request' among them) passes with its arguments unchanged.
    // biome-ignore lint/complexity/noArguments: forwards them all without building an array
    return emit.apply(this, arguments as unknown as Parameters<typeof emit>);
  } as S['emit'];
  return server;
}
