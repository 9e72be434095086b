// The `elb-proxy-echo/wrap` entry: the PROXY protocol in front of any Node server.
//
//   import { acceptProxyProtocol, proxyHeader } from 'elb-proxy-echo/wrap';
//   acceptProxyProtocol(https.createServer(options, app), { trust: ['10.0.0.0/16'] });
//
// See docs/library.md for every server kind, the options and the measured overhead.
export { acceptProxyProtocol } from './accept.ts';
export { proxyHeader } from './real-client.ts';
export type { Policy, ProxyProtocolOptions, RejectCode, Rejection } from './options.ts';
export type { Endpoint, ProxyHeader, Tlv } from '../protocol/types.ts';
