// Why a field of a v1 TCP4/TCP6 line is refused, or that it is only cut short: the cold path of
// parseV1, taken when its one-pass read of a field fails.
//
// The code is decided at the first byte that no valid line could have there, as HAProxy rejects
// at the first byte that cannot match, and never by what follows it. It has to be: any bytes may
// follow that byte, every longer input must keep the prefix's code (the server logs and counts
// it, so it cannot depend on how TCP split the header), so nothing after it can count. At that
// byte:
// - line-too-long if the line, at its shortest, no longer fits in 107 bytes before that byte;
// - bad-v1-field for an empty field or a byte no field of its kind holds (a tab, `%`, `x`);
// - family-mismatch only on the other family's own separator: a `:` under TCP4, a `.` under TCP6,
//   when the field so far can begin an address of that family (`::1`, `1.2.3.4`). Digits alone
//   are no evidence, so `256`, `010` and `12345` stay bad-address under either family;
// - bad-address or bad-port for the other bytes of the field's kind (`1.2.3.04`, `1:::`,
//   `65536`, `00`) and for an address that ends at its space unfinished (`1.2.3`).
import { IPV6_MAX_TEXT, V1_MAX_LENGTH } from './constants.ts';
import {
  LONGEST_ENDING,
  addressEnding,
  addressStop,
  portEnding,
  portStop,
} from './field-prefix.ts';
import { INCOMPLETE, describeByte, invalid } from './results.ts';
import { latin1Text } from './text.ts';
import type { ParseResult } from './types.ts';

const SP = 0x20;
const CR = 0x0d;
const COLON = 0x3a;
const DOT = 0x2e;
const DIGIT_0 = 0x30;

// Byte classes of the address and port fields.
const DIGIT = 1;
const HEX_LETTER = 2;
const COLON_OR_DOT = 4;
const CLASS: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let c = 0x30; c <= 0x39; c++) table[c] = DIGIT;
  for (let c = 0x41; c <= 0x46; c++) table[c] = HEX_LETTER;
  for (let c = 0x61; c <= 0x66; c++) table[c] = HEX_LETTER;
  table[COLON] = COLON_OR_DOT;
  table[DOT] = COLON_OR_DOT;
  return table;
})();
/** What each field may hold: a colon under TCP4 is a family mismatch or a bad address, not a stray byte. */
const IPV4_BYTES = DIGIT | COLON_OR_DOT;
const IPV6_BYTES = DIGIT | HEX_LETTER | COLON_OR_DOT;

const FIELD_NAMES = [
  'source address',
  'destination address',
  'source port',
  'destination port',
] as const;

/**
 * Why field number `field` (0, 1: addresses; 2, 3: ports), starting at `start`, is not a valid
 * field followed by its space (the destination port: its CR); or INCOMPLETE when the input ends
 * inside it and it can still become one that fits. The fields before it are valid and complete.
 */
export function fieldFault(
  bytes: Uint8Array,
  field: number,
  start: number,
  v6: boolean,
): ParseResult {
  const address = field < 2;
  const allowed = address ? (v6 ? IPV6_BYTES : IPV4_BYTES) : DIGIT;
  const limit = Math.min(bytes.length, V1_MAX_LENGTH);
  let end = start; // the run of bytes of the field's kind
  while (end < limit && (CLASS[bytes[end]] & allowed) !== 0) end++;
  // Within the run, bytes[start, valid) is the longest start that can still become a field.
  const valid = address ? addressStop(bytes, start, end, v6) : portStop(bytes, start, end);
  if (!fits(bytes, field, start, valid, v6)) return tooLong();
  if (valid < end) return wrongByte(bytes, field, start, valid, v6);
  if (end === bytes.length) return INCOMPLETE;
  const terminator = field === 3 ? CR : SP;
  if (bytes[end] !== terminator) return wrongByte(bytes, field, start, end, v6);
  // The field ends at its terminator but is not complete (a port that can begin is one).
  if (end === start)
    return invalid('bad-v1-field', `v1: empty ${FIELD_NAMES[field]} at byte ${end}`);
  return badAddress(bytes, field, start, v6);
}

/**
 * Whether a TCP line whose field number `field` starts at `start` and holds bytes[start, end) so
 * far can still end within 107 bytes: with the rest of the field, the later fields at their
 * shortest and the CRLF. The shortest line that a prefix can still become only grows with each
 * byte, so when it does not fit here, it stopped fitting at a byte no later than `end`.
 */
function fits(bytes: Uint8Array, field: number, start: number, end: number, v6: boolean): boolean {
  const room = V1_MAX_LENGTH - end - shortestRest(field, v6);
  if (room >= LONGEST_ENDING) return true; // whatever the field lacks fits: no need to work it out
  const missing = field < 2 ? addressEnding(bytes, start, end, v6) : portEnding(bytes, start, end);
  return missing <= room;
}

/**
 * The fewest bytes a TCP line needs after its field number `field`: each later field at its
 * shortest (`0.0.0.0`, `::`, `0`) after its space, then the CRLF.
 */
function shortestRest(field: number, v6: boolean): number {
  let rest = 2;
  for (let later = field + 1; later < 4; later++) rest += later < 2 ? 1 + (v6 ? 2 : 7) : 2;
  return rest;
}

/** The reason for the byte at `at`, the first that the field starting at `start` cannot have. */
function wrongByte(
  bytes: Uint8Array,
  field: number,
  start: number,
  at: number,
  v6: boolean,
): ParseResult {
  const c = bytes[at];
  const name = FIELD_NAMES[field];
  if (field < 2) {
    if (c === (v6 ? DOT : COLON) && addressStop(bytes, start, at + 1, !v6) > at)
      return invalid(
        'family-mismatch',
        `v1: ${name} ${word(bytes, start, IPV6_BYTES)} is not IPv${v6 ? 6 : 4} as TCP${v6 ? 6 : 4} requires`,
      );
    if ((CLASS[c] & (v6 ? IPV6_BYTES : IPV4_BYTES)) !== 0) {
      const leadingZero =
        !v6 &&
        CLASS[c] === DIGIT &&
        bytes[at - 1] === DIGIT_0 &&
        (at - 1 === start || bytes[at - 2] === DOT);
      if (leadingZero)
        return invalid(
          'bad-address',
          `v1: ${name} ${word(bytes, start, IPV6_BYTES)} has a leading zero`,
        );
      return badAddress(bytes, field, start, v6);
    }
  } else if (CLASS[c] === DIGIT) {
    const text = word(bytes, start, DIGIT);
    return invalid(
      'bad-port',
      at - start === 1 && bytes[start] === DIGIT_0
        ? `v1: ${name} ${text} has a leading zero`
        : `v1: port ${text} out of range`,
    );
  }
  return invalid('bad-v1-field', `v1: unexpected ${describeByte(c)} in ${name} at byte ${at}`);
}

function badAddress(bytes: Uint8Array, field: number, start: number, v6: boolean): ParseResult {
  return invalid(
    'bad-address',
    `v1: ${FIELD_NAMES[field]} ${word(bytes, start, IPV6_BYTES)} is not a valid IPv${v6 ? 6 : 4} address`,
  );
}

/**
 * The field as a reason quotes it: its bytes of the class `allowed` from `start` on, no more
 * than one over the longest address.
 */
function word(bytes: Uint8Array, start: number, allowed: number): string {
  const limit = Math.min(bytes.length, start + IPV6_MAX_TEXT + 1);
  let end = start;
  while (end < limit && (CLASS[bytes[end]] & allowed) !== 0) end++;
  return latin1Text(bytes, start, end);
}

export function tooLong(): ParseResult {
  return invalid('line-too-long', `v1: no CRLF within the first ${V1_MAX_LENGTH} bytes`);
}

export function crWithoutLf(at: number): ParseResult {
  return invalid('bad-line-end', `v1: carriage return not followed by line feed at byte ${at}`);
}
