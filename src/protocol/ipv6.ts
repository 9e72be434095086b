// IPv6 addresses between their text forms (RFC 4291 §2.2, as bytes) and their 16 binary bytes,
// and the canonical text of RFC 5952.
import { formatIPv4, parseIPv4 } from './ipv4.ts';

const COLON = 0x3a;
const DOT = 0x2e;

/** Value of a hex digit byte, or -1. */
const HEX_VALUE: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let c = 0; c < 10; c++) table[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    table[0x41 + c] = 10 + c;
    table[0x61 + c] = 10 + c;
  }
  return table;
})();

/**
 * Reads an IPv6 address from text[start] on, not past `end`, into out[0, 16): returns the offset
 * just after it, or -1 if the text there does not begin with one (or runs on into a colon that
 * cannot belong to it, as in `1:::`). Callers check what follows (the end of the text, or a
 * separator). Accepts groups of 1 to 4 hex digits in either case, at most one `::` (standing for
 * one or more zero groups, as RFC 4291 allows: the AWS guide's own example uses it for a single
 * group), and a dotted IPv4 tail for the last 32 bits (`::ffff:192.0.2.1`), like inet_pton.
 * Refuses a lone leading or trailing colon and anything but exactly 128 bits; a zone id (`%eth0`)
 * or a bracket is simply not part of the address, so the caller sees it follow.
 * This is the hot path of a TCP6 line: a tight inner loop takes the hex digits of a group, and
 * the byte that stopped it (colon, dot or anything else) is looked at once per group. It is kept
 * small in bytecode (rare cases in helpers, one exit that checks the word count), so that the
 * compiler inlines it into the v1 parser: the call would cost more than the work.
 */
export function parseIPv6(
  text: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array | null,
): number {
  let words = 0;
  let gap = -1; // word index where `::` stands
  let gapEnd = -1; // offset just after the `::`: the only place where a group may be empty
  let i = start;
  if (i + 1 < end && text[i] === COLON && text[i + 1] === COLON) {
    gap = 0;
    i += 2;
    gapEnd = i;
  }
  for (;;) {
    const groupStart = i;
    let value = 0;
    let c = 0;
    while (i < end) {
      c = text[i];
      const digit = HEX_VALUE[c];
      if (digit < 0) break;
      value = (value << 4) | digit;
      i++;
    }
    const more = i < end; // then c is the byte that ended the group
    if (i === groupStart) {
      // No digits: the address ends right after its `::` (a colon or dot there cannot follow).
      if (i !== gapEnd || (more && (c === COLON || c === DOT))) return -1;
      break;
    }
    if (i - groupStart > 4 || words === 8) return -1;
    if (more && c === DOT) return ipv4Tail(text, groupStart, end, out, words, gap);
    if (out !== null) {
      out[words * 2] = value >> 8;
      out[words * 2 + 1] = value & 0xff;
    }
    words++;
    if (!more || c !== COLON) break;
    i++;
    if (i < end && text[i] === COLON) {
      if (gap >= 0) return -1; // a second `::`
      gap = words;
      i++;
      gapEnd = i;
    }
  }
  return complete(out, words, gap, i);
}

/** A dotted IPv4 tail from text[start] on: it fills the last two words and ends the address. */
function ipv4Tail(
  text: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array | null,
  words: number,
  gap: number,
): number {
  if (words > 6) return -1;
  const i = parseIPv4(text, start, end, out, words * 2);
  return i < 0 ? -1 : complete(out, words + 2, gap, i);
}

/**
 * `end` if the address has exactly 8 words, or fewer and a `::` that stands for the rest (then
 * spread in `out`); otherwise -1.
 */
function complete(out: Uint8Array | null, words: number, gap: number, end: number): number {
  if (gap < 0 ? words !== 8 : words === 8) return -1;
  if (out !== null && gap >= 0) spreadGap(out, words, gap);
  return end;
}

/**
 * Moves the words after a `::` to the end and zeroes the gap (plain loops: for a few bytes they
 * beat the typed-array built-ins).
 */
function spreadGap(out: Uint8Array, words: number, gap: number): void {
  const shift = (8 - words) * 2;
  for (let b = words * 2 - 1; b >= gap * 2; b--) out[b + shift] = out[b];
  for (let b = gap * 2; b < gap * 2 + shift; b++) out[b] = 0;
}

/**
 * The RFC 5952 text of bytes[at, at + 16): lower-case hex without leading zeros, the longest
 * run of two or more zero words (the first of equals) as `::`, and IPv4-mapped addresses as
 * `::ffff:a.b.c.d` (§5).
 */
export function formatIPv6(bytes: Uint8Array, at: number): string {
  if (isIPv4Mapped(bytes, at)) return `::ffff:${formatIPv4(bytes, at + 12)}`;
  let bestStart = -1;
  let bestLength = 1; // a single zero word is never compressed (§4.2.2)
  let runStart = -1;
  for (let w = 0; w < 8; w++) {
    if (bytes[at + w * 2] === 0 && bytes[at + w * 2 + 1] === 0) {
      if (runStart < 0) runStart = w;
      if (w - runStart + 1 > bestLength) {
        bestStart = runStart;
        bestLength = w - runStart + 1;
      }
    } else {
      runStart = -1;
    }
  }
  // Every word but the last is written with its ':' (fewer, larger concatenations); the gap
  // then only adds the second ':' of its '::' (both of them at the start).
  let text = '';
  for (let w = 0; w < 8; w++) {
    if (w === bestStart) {
      text += w === 0 ? '::' : ':';
      w += bestLength - 1;
      continue;
    }
    const high = bytes[at + w * 2];
    const low = bytes[at + w * 2 + 1];
    if (w === 7) text += high === 0 ? BYTE_HEX[low] : BYTE_HEX[high] + BYTE_HEX_PADDED[low];
    else text += high === 0 ? BYTE_HEX_COLON[low] : BYTE_HEX[high] + BYTE_HEX_PADDED_COLON[low];
  }
  return text;
}

/** Hex of a byte without leading zeros ('0'..'ff') and with them ('00'..'ff'), each also with a ':'. */
const BYTE_HEX: readonly string[] = Array.from({ length: 256 }, (_, n) => n.toString(16));
const BYTE_HEX_PADDED: readonly string[] = BYTE_HEX.map((hex) => hex.padStart(2, '0'));
const BYTE_HEX_COLON: readonly string[] = BYTE_HEX.map((hex) => `${hex}:`);
const BYTE_HEX_PADDED_COLON: readonly string[] = BYTE_HEX_PADDED.map((hex) => `${hex}:`);

function isIPv4Mapped(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < 10; i++) if (bytes[at + i] !== 0) return false;
  return bytes[at + 10] === 0xff && bytes[at + 11] === 0xff;
}

const DIGIT_0 = 0x30;
const MAPPED_PREFIX = Uint8Array.from('::ffff:', (c) => c.charCodeAt(0));

/**
 * Whether text[start, end), known to be a valid IPv6 text, is already the RFC 5952 text that
 * formatIPv6 would give, so that it can be used as it is: lower-case hex without leading
 * zeros; a `::` only for the longest run of two or more zero groups (the first of equal runs),
 * covering all of it, and no such run written out; a dotted tail only in `::ffff:a.b.c.d`, and
 * that address never in hex. One pass over the bytes, no decoding.
 */
export function isCanonicalIPv6(text: Uint8Array, start: number, end: number): boolean {
  let words = 0; // groups written so far
  let gap = -1; // groups written before the `::`
  let zeros = 0; // written zero groups in a row, ending here
  let longestBefore = 0; // longest such run before the `::`, and after it
  let longestAfter = 0;
  let i = start;
  if (text[i] === COLON) {
    gap = 0; // a valid text that starts with a colon starts with `::`
    i += 2;
  }
  while (i < end) {
    const groupStart = i;
    for (; i < end && text[i] !== COLON && text[i] !== DOT; i++)
      if (text[i] >= 0x41 && text[i] <= 0x46) return false; // upper-case hex
    if (i < end && text[i] === DOT) return groupStart === start + 7 && hasMappedPrefix(text, start);
    if (text[groupStart] === DIGIT_0) {
      if (i - groupStart > 1 || words === gap) return false; // a leading zero; a zero after `::`
      zeros++;
    } else {
      zeros = 0;
    }
    if (gap < 0) longestBefore = Math.max(longestBefore, zeros);
    else longestAfter = Math.max(longestAfter, zeros);
    words++;
    if (i === end) break;
    i++; // the colon after the group
    if (i < end && text[i] === COLON) {
      if (zeros > 0) return false; // a zero before `::`: the run is longer than the gap
      gap = words;
      i++;
    }
  }
  if (gap < 0) return longestBefore < 2;
  const gapLength = 8 - words;
  if (gapLength < 2 || longestBefore >= gapLength || longestAfter > gapLength) return false;
  // `::ffff:` and two more groups is IPv4-mapped, which RFC 5952 writes with a dotted tail.
  return !(gap === 0 && words === 3 && hasMappedPrefix(text, start));
}

function hasMappedPrefix(text: Uint8Array, start: number): boolean {
  for (let k = 0; k < MAPPED_PREFIX.length; k++)
    if (text[start + k] !== MAPPED_PREFIX[k]) return false;
  return true;
}
