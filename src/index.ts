// The package entry point (`import … from 'elb-proxy-echo'`): the PROXY protocol library and the echo server.
export * from './protocol/index.ts';
// The echo server, to start in-process (tests, benchmarks): see src/server/server.ts.
export { createEchoServer, type EchoServer } from './server/server.ts';
export { ECHO_DEFAULTS, type EchoServerOptions } from './server/server-options.ts';
export type { ServerIdentity } from './server/answer/identity.ts';
export { ServerConfigError } from './server/errors.ts';
export { createLogger, silentLogger } from './log.ts';
export type { Logger, LogFormat, Level } from './log.ts';
