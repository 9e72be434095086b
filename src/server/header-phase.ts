// Awaiting the PROXY header: the header parsed from a connection's first reads (straddling reads
// kept in `pending`), or under --proxy-protocol off and optional the first bytes taken as data;
// then the open line, once it is known who the client is, and the rest of that read.
import { parseProxyHeader } from '../protocol/index.ts';
import type { ProxyHeader } from '../protocol/types.ts';
import { formatEndpoint } from './address-text.ts';
import { tlvLogFields } from './answer/tlv-view.ts';
import { requestStart } from './answer/http-detect.ts';
import type { Connection } from './connection.ts';
import { echo } from './echo.ts';
import { refuse, stopped } from './ending.ts';
import { firstLine, greet, phaseAfterHeader } from './first-line.ts';
import { keepHeader } from './kept-header.ts';
import {
  ECHO,
  FIRST_LINE,
  HEALTH_CHECK,
  HTTP_HEAD,
  OPENED,
  SPEAKS_HTTP,
  TLS_HANDSHAKE,
  UNTRUSTED,
} from './phase.ts';
import { startsLikeHeader } from './policy.ts';
import { MAYBE, NO, YES } from './verdict.ts';

/** Data while awaiting the header: the header, or under policy off/optional the first data. */
export function awaitingHeader(conn: Connection, chunk: Buffer): void {
  const { ctx } = conn;
  if (ctx.policy === 'off') {
    opened(conn, null, chunk);
    return;
  }
  // Concatenate only when the header straddles reads; the usual case parses the chunk itself.
  const bytes = conn.pending === null ? chunk : Buffer.concat([conn.pending, chunk]);
  if (ctx.policy === 'optional' && !optionalHeader(conn, chunk, bytes)) return;
  const result = parseProxyHeader(bytes, ctx.parseOptions);
  if (result.status === 'incomplete') {
    hold(conn, chunk, bytes);
    return;
  }
  if (result.status === 'invalid') {
    // Not a PROXY signature: curl without a header gets its refusal as an HTTP 400, whatever
    // its first reads held. Telling needs at most a method and a space, under the header timeout.
    const http = result.code === 'not-proxy' ? requestStart(bytes) : NO;
    if (http === MAYBE) {
      hold(conn, chunk, bytes);
      return;
    }
    conn.pending = null;
    if (http === YES) conn.flags |= SPEAKS_HTTP;
    refuse(conn, 'bad-header', result);
    return;
  }
  conn.pending = null;
  // Bytes after the header in the same read are data: judged from a view.
  opened(conn, result.header, result.length < bytes.length ? bytes.subarray(result.length) : null);
  const { state } = conn;
  if (state === FIRST_LINE || state === HTTP_HEAD || state === TLS_HANDSHAKE)
    keepHeader(conn, bytes, result.length);
}

/** Keeps the bytes so far for the next read (`bytes`: `pending` then `chunk`). */
function hold(conn: Connection, chunk: Buffer, bytes: Buffer): void {
  // Copy a lone chunk: the read buffer behind it may be far larger than the few bytes kept.
  conn.pending = bytes === chunk ? Buffer.from(chunk) : bytes;
}

/**
 * Under `--proxy-protocol optional`: true when `bytes` should be parsed as a header; otherwise
 * the connection has been dealt with (kept waiting for more bytes, echoed as data, or refused).
 */
function optionalHeader(conn: Connection, chunk: Buffer, bytes: Buffer): boolean {
  const looks = startsLikeHeader(bytes);
  if (looks === MAYBE) {
    hold(conn, chunk, bytes);
    return false;
  }
  if (looks === NO) {
    conn.pending = null;
    opened(conn, null, bytes);
    return false;
  }
  if (conn.flags & UNTRUSTED) {
    refuse(conn, 'untrusted-header');
    return false;
  }
  return true;
}

/** The connection opens with `header` (null: none), then `data`, the rest of this read (if any). */
function opened(conn: Connection, header: ProxyHeader | null, data: Buffer | null): void {
  open(conn, header);
  if (data === null) return;
  if (conn.state === FIRST_LINE) stopped(conn, firstLine(conn, data, header));
  else stopped(conn, echo(conn, data));
}

/** The connection is ready for its first line: one log line with who it really is. */
function open(conn: Connection, header: ProxyHeader | null): void {
  const { ctx } = conn;
  conn.state = phaseAfterHeader(ctx);
  conn.active = ctx.now; // idle from here, not from the header's first byte
  const kind =
    header === null ? 'none' : header.command === 'local' ? 'v2-local' : `v${header.version}`;
  ctx.metrics.headers[kind]++;
  if (kind === 'v2-local') conn.flags |= HEALTH_CHECK;
  conn.flags |= OPENED;
  if (ctx.greeting && conn.state === ECHO) greet(conn, header);
  if (!ctx.logger.infoEnabled) return; // who it is matters only to the log lines
  const source = header?.source ?? null;
  const unix = header?.protocol.startsWith('UNIX') === true;
  conn.client =
    source === null ? conn.peerText() : formatEndpoint(source.address, source.port, unix);
  const destination = header?.destination ?? null;
  ctx.logger.info(conn.flags & HEALTH_CHECK ? 'health check (v2 LOCAL)' : 'open', {
    client: conn.client,
    // The balancer's own address, when the client is someone else.
    via: source === null ? undefined : conn.peerText(),
    to:
      destination === null
        ? undefined
        : formatEndpoint(destination.address, destination.port, unix),
    header: kind,
    ...tlvLogFields(header),
  });
}
