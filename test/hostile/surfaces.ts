// The surfaces a stranger can reach, each described by the bytes that reach it: what brings a
// connection there, one complete exchange, and bytes that leave it waiting. The attacks are
// written against this shape, so a new surface is one more entry here and its rows in cases.ts.
import { buildProxyHeader, TLV_TYPE, textTlv } from '../../src/index.ts';
import { CLIENT_HELLO } from '../helpers/client-hello.ts';
import type { Target } from './target.ts';
import { serverHellos, TLS_ARGS } from './tls-bytes.ts';

export interface Surface {
  readonly name: string;
  /** Server flags the surface needs. */
  readonly args: readonly string[];
  port(target: Target): number;
  /** Bytes that bring connection `i` to the surface; each connection names its own client. */
  opening(i: number): Buffer;
  /** One complete exchange after the opening: a line, a request. */
  readonly request: Buffer;
  /** How many times `request`'s answer is found in `received`. */
  answers(received: string): number;
  /** Requests one connection is answered at most (the metrics port answers one). */
  readonly requestsPerConnection: number;
  /** What puts a connection inside the surface's parser: a request line, or nothing. */
  readonly inside: Buffer;
  /** Bytes that can follow `inside` one by one forever without completing anything. */
  dribble(i: number): Buffer;
  /** Inputs that put the most text a client controls into the log, one per connection. */
  loud(i: number): Buffer[];
}

const b = (text: string) => Buffer.from(text, 'latin1');
/** Control bytes, no CR or LF: each is six bytes once escaped for the log. */
const CONTROL = Buffer.from(Array.from({ length: 16 * 1024 }, (_, i) => 1 + (i % 9)));
const count = (text: string, what: string) => text.split(what).length - 1;

/** A v1 header for attacking connection `i` (client 203.0.113.1, port 10000 + i). */
function v1(i: number): Buffer {
  return b(`PROXY TCP4 203.0.113.1 10.0.0.5 ${10_000 + (i % 50_000)} 5000\r\n`);
}

/**
 * A v2 header whose AUTHORITY TLV fills the 4 096-byte header limit with 0x01 bytes: the most a
 * header can make the server repeat in every answer and log line that names the authority.
 */
function v2BigAuthority(i: number): Buffer {
  return Buffer.from(
    buildProxyHeader({
      version: 2,
      command: 'proxy',
      protocol: 'TCP4',
      source: { address: '203.0.113.2', port: 10_000 + (i % 50_000) },
      destination: { address: '10.0.0.5', port: 5000 },
      tlvs: [textTlv(TLV_TYPE.AUTHORITY, '\x01'.repeat(4096 - 16 - 12 - 3))],
    }),
  );
}

const GET = b('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
const LONG_PATH = `/${'%01'.repeat(3000)}`;

/** The PROXY header itself: the first bytes on the echo port. */
const header: Surface = {
  name: 'header',
  args: [],
  port: (t) => t.port,
  opening: () => Buffer.alloc(0),
  request: v1(0),
  answers: () => 0,
  requestsPerConnection: 1,
  inside: Buffer.alloc(0),
  // A v1 header that never ends: past its 107-byte limit, or slower than the header timeout.
  dribble: () => b(`PROXY TCP4 ${'1'.repeat(200)}`),
  loud: (i) => [
    Buffer.concat([b('PROXY '), CONTROL]),
    Buffer.concat([b('PROXY TCP4 '), CONTROL.subarray(0, 90), b('\r\n')]),
    Buffer.concat([v2BigAuthority(i).subarray(0, 16), CONTROL.subarray(0, 4000)]),
  ],
};

/** The echo: lines after the header. */
const echo: Surface = {
  name: 'echo',
  args: [],
  port: (t) => t.port,
  opening: v1,
  request: b('ping\r\n'),
  answers: (text) => count(text, 'ping\r\n'),
  requestsPerConnection: Number.POSITIVE_INFINITY,
  inside: Buffer.alloc(0),
  dribble: () => b('x'.repeat(100_000)),
  loud: (i) => [
    Buffer.concat([v1(i), CONTROL, b('\r\n')]),
    Buffer.concat([v2BigAuthority(i), b('x\r\n')]),
  ],
};

/** HTTP on the echo port, after a header whose authority fills it. */
const http: Surface = {
  name: 'http',
  args: [],
  port: (t) => t.port,
  opening: v2BigAuthority,
  request: GET,
  answers: (text) => count(text, 'HTTP/1.1 200 OK\r\n'),
  requestsPerConnection: Number.POSITIVE_INFINITY,
  inside: b('GET /slow HTTP/1.1\r\n'),
  dribble: () => b('X-Slow: 1\r\n'.repeat(1000)),
  loud: (i) => [
    Buffer.concat([v1(i), b(`GET ${LONG_PATH} HTTP/1.1\r\nX-Long: ${'y'.repeat(7000)}\r\n\r\n`)]),
    Buffer.concat([v1(i), b(`GET /${'\x7f'.repeat(5000)} HTTP/1.1\r\n\r\n`)]),
    Buffer.concat([v1(i), b('GET / HTTP/1.1\r\n'), CONTROL.subarray(0, 6000), b('\r\n\r\n')]),
  ],
};

/** --greeting: the line before the echo. */
const greeting: Surface = {
  ...echo,
  name: 'greeting',
  args: ['--greeting'],
};

/** The loopback metrics port: one request per connection on node:http. */
const metrics: Surface = {
  name: 'metrics',
  args: [],
  port: (t) => t.metricsPort,
  opening: () => Buffer.alloc(0),
  request: b('GET /metrics HTTP/1.1\r\n\r\n'),
  answers: (text) => count(text, 'HTTP/1.1 200 OK\r\n'),
  requestsPerConnection: 1,
  inside: b('GET /metrics HTTP/1.1\r\n'),
  dribble: () => b('X-Slow: 1\r\n'.repeat(1000)),
  loud: () => [
    b(`GET ${LONG_PATH} HTTP/1.1\r\n\r\n`),
    Buffer.concat([b('GET / HTTP/1.1\r\n'), CONTROL]),
  ],
};

/**
 * TLS after the header (--tls-cert): a ClientHello is the request, the ServerHello its answer;
 * a second ClientHello on the connection ends it. Inside: a handshake record begun, whose
 * 16 KiB body never comes (or comes as bytes no handshake is made of).
 */
const tlsSurface: Surface = {
  name: 'tls',
  args: TLS_ARGS,
  port: (t) => t.port,
  opening: v1,
  request: CLIENT_HELLO,
  answers: serverHellos,
  requestsPerConnection: 1,
  inside: Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00]),
  dribble: () => b('A'.repeat(100_000)),
  loud: (i) => [
    Buffer.concat([v1(i), Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40]), CONTROL.subarray(0, 64)]),
    Buffer.concat([v1(i), CLIENT_HELLO, CONTROL.subarray(0, 4000)]),
  ],
};

/** The health switch on the metrics port: a POST with a body, one answered per connection. */
const health: Surface = {
  ...metrics,
  name: 'health switch',
  request: b(`POST /health/fail HTTP/1.1\r\ncontent-length: 64\r\n\r\n${'x'.repeat(64)}`),
  inside: b('POST /health/fail HTTP/1.1\r\n'),
  loud: () => [
    b(`POST /health/ok?${'%01'.repeat(2500)} HTTP/1.1\r\n\r\n`),
    Buffer.concat([b('POST /health/fail HTTP/1.1\r\ncontent-length: 16384\r\n\r\n'), CONTROL]),
  ],
};

export const SURFACES = { header, echo, http, greeting, metrics, health, tls: tlsSurface } as const;
