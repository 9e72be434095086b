// Whether the start of a v1 field can still grow into a valid field: where a start stops being
// one, and how many bytes a start lacks at the least. Only the v1 parser's cold path asks
// (v1-fault.ts, once a field has failed its one-pass read).
import { IPV6_MAX_TEXT } from './constants.ts';
import { parseIPv4 } from './ipv4.ts';
import { parseIPv6 } from './ipv6.ts';

const COLON = 0x3a;
const DOT = 0x2e;
const DIGIT_0 = 0x30;

/**
 * Where text[start, end) stops being the start of an IPv4 (or, with `v6`, IPv6) address: the
 * offset of the first byte that no address can have there after the bytes before it, or `end`.
 * One pass, like the readers in ipv4.ts and ipv6.ts, but it asks what may still follow rather
 * than whether the address is whole.
 */
export function addressStop(text: Uint8Array, start: number, end: number, v6: boolean): number {
  return v6 ? ipv6Stop(text, start, end) : ipv4Stop(text, start, end);
}

/** Up to four decimal numbers 0..255 without leading zeros, joined by single dots. */
function ipv4Stop(text: Uint8Array, start: number, end: number): number {
  let dots = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const digit = text[i] - DIGIT_0;
    if (digit >= 0 && digit <= 9) {
      if (digits === 1 && value === 0) return i; // a leading zero
      value = value * 10 + digit;
      if (value > 255) return i;
      digits++;
    } else if (text[i] === DOT && digits > 0 && dots < 3) {
      dots++;
      value = 0;
      digits = 0;
    } else {
      return i;
    }
  }
  return end;
}

/**
 * Groups of 1 to 4 hex digits joined by single colons, with at most one `::` standing for one or
 * more zero groups: so at most 8 groups without it and 7 with it, counting a dotted IPv4 tail,
 * which takes the place of the last two, as two.
 */
function ipv6Stop(text: Uint8Array, start: number, end: number): number {
  let groups = 0; // groups ended by their colon
  let digits = 0; // of the group being read
  let gap = false;
  let groupStart = start;
  for (let i = start; i < end; i++) {
    const c = text[i];
    if (isHexDigit(c)) {
      if (i === start + 1 && text[start] === COLON) return i; // a lone leading colon
      if (digits === 0 && gap && groups > 6) return i; // no room for another group
      if (++digits > 4) return i;
    } else if (c === COLON) {
      if (digits > 0) {
        groups++; // another group, or the `::`, must follow: there must be room for it
        if (groups > (gap ? 6 : 7)) return i;
      } else if (i > start) {
        if (gap) return i; // a third colon in a row, or a second `::`
        gap = true; // the second colon of `::` (the first ended a group or began the text)
      }
      digits = 0;
      groupStart = i + 1;
    } else if (c === DOT && digits > 0 && (gap ? groups <= 5 : groups === 6)) {
      // The group read so far begins the tail: it must be a decimal number 0..255 (a dot after a
      // hex group is refused on the dot).
      return Math.max(i, ipv4Stop(text, groupStart, end));
    } else {
      return i;
    }
  }
  return end;
}

/** 0-9, a-f or A-F. */
function isHexDigit(c: number): boolean {
  const lower = c | 0x20;
  return (c >= 0x30 && c <= 0x39) || (lower >= 0x61 && lower <= 0x66);
}

/** As addressStop for a port: up to five decimal digits, 0..65535, without leading zeros. */
export function portStop(text: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text[i] - DIGIT_0;
    if (digit < 0 || digit > 9 || (i === start + 1 && value === 0)) return i; // or after a lone 0
    value = value * 10 + digit;
    if (value > 0xffff) return i;
  }
  return end;
}

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
/** The most bytes a start of an address (or a port) can lack. */
export const LONGEST_ENDING = Math.max(...ENDINGS.map((ending) => ending.length));
const room = new Uint8Array(IPV6_MAX_TEXT + LONGEST_ENDING);
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
