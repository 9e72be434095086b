// Every way the server refuses a connection on the echo port, in one table keyed by refusal:
// the reason (the log's and the close line's `reason`, the metric's label), the detail the
// warning logs, and the sentence the client is told (a person on telnet sees it; a balancer
// ignores it). A client that speaks HTTP gets that sentence as the body of an HTTP answer.
import { httpRefusal } from './answer/http-answer.ts';
import type { Policy } from './policy.ts';

/** What a refusal's words may mention: the server's settings, the peer, the parser's reason. */
export interface RefusalSettings {
  readonly policy: Policy;
  readonly maxLine: number;
  readonly headerTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

type Words = (settings: RefusalSettings, peer: string, why: string) => string;

export interface Refusal {
  /** The log's and metric's reason; several refusals may share one. */
  readonly reason: string;
  /** Logged in the `reject` warning. */
  readonly detail: Words;
  /** Told to the client, as `elb-proxy-echo: …; closing.` */
  readonly tell: Words;
  /** The status of the HTTP answer a client that speaks HTTP gets instead (0: the line). */
  readonly httpStatus: number;
}

const secs = (ms: number) => ms / 1000;

export const REFUSALS = {
  /** `--proxy-protocol require`: the peer is outside --trust, refused at accept. */
  'untrusted-peer': {
    reason: 'untrusted',
    detail: (_, peer) => `${peer} is not in --trust`,
    tell: (_, peer) => `${peer} is not a trusted load balancer address`,
    httpStatus: 0,
  },
  /** `--proxy-protocol optional`: a header from a peer outside --trust. */
  'untrusted-header': {
    reason: 'untrusted',
    detail: (_, peer) => `PROXY header from ${peer}, which is not in --trust`,
    tell: (_, peer) => `${peer} may not send a PROXY header`,
    httpStatus: 0,
  },
  'bad-header': {
    reason: 'bad-header',
    detail: (_s, _p, why) => why,
    tell: (_s, _p, why) =>
      `this port expects a PROXY protocol header from a load balancer first (${why})`,
    httpStatus: 400,
  },
  'header-timeout': {
    reason: 'header-timeout',
    detail: (s) => `no complete PROXY header within ${secs(s.headerTimeoutMs)}s`,
    tell: (s) => `no PROXY protocol header within ${secs(s.headerTimeoutMs)} s`,
    httpStatus: 0,
  },
  'line-too-long': {
    reason: 'line-too-long',
    detail: (s) => `a line is longer than ${s.maxLine} bytes`,
    tell: (s) => `line longer than ${s.maxLine} bytes`,
    httpStatus: 0,
  },
  /** No data for the idle timeout after some had come. */
  'idle-timeout': {
    reason: 'idle-timeout',
    detail: (s) => `no data for ${secs(s.idleTimeoutMs)}s`,
    tell: (s) => `idle for ${secs(s.idleTimeoutMs)} s`,
    httpStatus: 0,
  },
  /** Nothing at all from the start, for the idle timeout. */
  silent: {
    reason: 'idle-timeout',
    detail: (s) =>
      `nothing received for ${secs(s.idleTimeoutMs)}s (${s.policy === 'off' ? 'no data' : 'no PROXY header, no data'})`,
    tell: (s) => `nothing received for ${secs(s.idleTimeoutMs)} s`,
    httpStatus: 0,
  },
  /** An HTTP request's head not complete within the header timeout (slowloris). */
  'http-timeout': {
    reason: 'http-timeout',
    detail: (s) => `no complete HTTP request head within ${secs(s.headerTimeoutMs)}s`,
    tell: (s) => `no complete HTTP request within ${secs(s.headerTimeoutMs)} s`,
    httpStatus: 408,
  },
  /** A TLS handshake after the header failed: OpenSSL's reason. */
  'tls-handshake': {
    reason: 'tls-handshake',
    detail: (_s, _p, why) => why,
    tell: (_s, _p, why) => why,
    httpStatus: 0,
  },
  /** A TLS handshake not done within the header timeout (a stalled or silent TLS client). */
  'tls-handshake-timeout': {
    reason: 'tls-handshake-timeout',
    detail: (s) => `no complete TLS handshake within ${secs(s.headerTimeoutMs)}s`,
    tell: (s) => `no complete TLS handshake within ${secs(s.headerTimeoutMs)} s`,
    httpStatus: 0,
  },
  /** `--tls require`: the first byte after the header did not begin a TLS handshake. */
  'tls-required': {
    reason: 'tls-required',
    detail: () => 'the connection did not begin TLS after its header (--tls require)',
    tell: () => 'this port expects TLS after the PROXY header',
    httpStatus: 0,
  },
} as const satisfies Record<string, Refusal>;

export type RefusalKey = keyof typeof REFUSALS;

/** The line the server sends before it closes a connection, saying why. */
export function closingLine(why: string): string {
  return `elb-proxy-echo: ${why}; closing.\r\n`;
}

/** What the client is sent: the refusal's line, or (`http`) an HTTP answer carrying it. */
export function refusalAnswer(refusal: Refusal, told: string, http: boolean): string {
  const line = closingLine(told);
  return http && refusal.httpStatus !== 0 ? httpRefusal(refusal.httpStatus, line) : line;
}
