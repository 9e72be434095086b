// The header of a connection whose first line has not come in the read that completed it.
//
// The parsed header lives only during that read (its bytes are the read's, only lent): when the
// greeting or an HTTP answer needs it later, it is parsed again from a copy of its bytes. An
// echo session never needs it, so it keeps nothing once the first line has come.
import { parseProxyHeader } from '../protocol/index.ts';
import type { ProxyHeader } from '../protocol/types.ts';
import type { Connection } from './connection.ts';

/** Keeps a copy of bytes[0, length), the header, until the first line decides. */
export function keepHeader(conn: Connection, bytes: Buffer, length: number): void {
  conn.extra = { headerBytes: Buffer.from(bytes.subarray(0, length)), socket: null, http: null };
}

/**
 * The header the connection opened with: `live` when it was parsed in this read (null: there was
 * none), else (undefined) parsed again from its kept bytes.
 */
export function headerAt(
  conn: Connection,
  live: ProxyHeader | null | undefined,
): ProxyHeader | null {
  if (live !== undefined) return live;
  const kept = conn.extra?.headerBytes ?? null;
  if (kept === null) return null;
  const again = parseProxyHeader(kept, conn.ctx.parseOptions);
  return again.status === 'ok' ? again.header : null;
}
