// Whether the start of a v1 field, cut off by the end of the input, can still grow into a valid
// field. Only the v1 parser's cold path asks (when the input ends inside a field), so these favour
// reusing the address readers over speed.
import { parseIPv4 } from './ipv4.ts';
import { parseIPv6 } from './ipv6.ts';

/**
 * Endings that turn any text that can still begin an address into an address: whatever a valid
 * start lacks is at most the rest of an IPv4 number or group (nothing, or `0` after a dot or a
 * colon), then the missing dotted numbers (`.0` each), or a `::` (or its second colon) for the
 * missing groups. So a start for which none of them gives an address has no valid ending at all.
 */
const ENDINGS: readonly Uint8Array[] = ['', '0', '.0', '.0.0', '.0.0.0', '0.0', '0.0.0', '0.0.0.0', ':', '::', ':0'].map((ending) =>
  Uint8Array.from(ending, (c) => c.charCodeAt(0)),
);
const IPV6_MAX_TEXT = 45;
const room = new Uint8Array(IPV6_MAX_TEXT + 8);
const decoded = new Uint8Array(16);

/** Whether text[start, end) begins some IPv4 (or, with `v6`, IPv6) address text. */
export function canBeginAddress(text: Uint8Array, start: number, end: number, v6: boolean): boolean {
  const length = end - start;
  if (length > IPV6_MAX_TEXT) return false;
  room.set(text.subarray(start, end));
  for (const ending of ENDINGS) {
    room.set(ending, length);
    const size = length + ending.length;
    if ((v6 ? parseIPv6(room, 0, size, decoded) : parseIPv4(room, 0, size, decoded, 0)) === size) return true;
  }
  return false;
}

/**
 * Whether text[start, end) (decimal digits, at most five) begins a port: every start of a port
 * is itself a port, so it must be one, or empty.
 */
export function canBeginPort(text: Uint8Array, start: number, end: number): boolean {
  if (end - start > 1 && text[start] === 0x30) return false; // a leading zero
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + text[i] - 0x30;
  return value <= 0xffff;
}
