// Whether the start of a v1 field can still grow into a valid field, and by how many bytes at the
// least. Only the v1 parser's cold path asks (v1-fault.ts, once a field has failed its one-pass
// read), so these favour reusing the address readers over speed.
import { IPV6_MAX_TEXT } from './constants.ts';
import { parseIPv4 } from './ipv4.ts';
import { parseIPv6 } from './ipv6.ts';

/**
 * Endings that turn any text that can still begin an address into an address, shortest first:
 * whatever a valid start lacks is at most the rest of an IPv4 number or group (nothing, or `0`
 * after a dot or a colon), then the missing dotted numbers (`.0` each), or a `::` (or its second
 * colon) for the missing groups. So a start for which none of them gives an address has no valid
 * ending at all, and the first that does is as short as any.
 */
const ENDINGS: readonly Uint8Array[] = [
  '',
  '0',
  ':',
  '.0',
  '::',
  ':0',
  '0.0',
  '.0.0',
  '0.0.0',
  '.0.0.0',
  '0.0.0.0',
].map((ending) => Uint8Array.from(ending, (c) => c.charCodeAt(0)));
const room = new Uint8Array(IPV6_MAX_TEXT + 8);
const decoded = new Uint8Array(16);

/**
 * How many bytes text[start, end) lacks at the least to be an IPv4 (or, with `v6`, IPv6) address
 * text; -1 if it cannot begin one.
 */
export function addressEnding(text: Uint8Array, start: number, end: number, v6: boolean): number {
  const length = end - start;
  if (length > IPV6_MAX_TEXT) return -1;
  room.set(text.subarray(start, end));
  for (const ending of ENDINGS) {
    room.set(ending, length);
    const size = length + ending.length;
    if ((v6 ? parseIPv6(room, 0, size, decoded) : parseIPv4(room, 0, size, decoded, 0)) === size)
      return ending.length;
  }
  return -1;
}

/**
 * How many bytes text[start, end) (decimal digits, at most five) lacks at the least to be a port:
 * 1 when empty, 0 when it is one (every start of a port is a port), else -1.
 */
export function portEnding(text: Uint8Array, start: number, end: number): number {
  if (end === start) return 1;
  if (end - start > 1 && text[start] === 0x30) return -1; // a leading zero
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + text[i] - 0x30;
  return value <= 0xffff ? 0 : -1;
}
