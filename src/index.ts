// The package's library entry: the PROXY protocol parser/builder and the echo server.
export * from './protocol/index.ts';
export { createEchoServer } from './server/server.ts';
export type { EchoServer, EchoServerOptions } from './server/server.ts';
