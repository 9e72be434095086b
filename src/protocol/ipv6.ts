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
 * Reads the IPv6 text in text[start, end) into out[0, 16); false if it is not an address.
 * Accepts groups of 1 to 4 hex digits in either case, at most one `::` (standing for one or more
 * zero groups, as RFC 4291 allows: the AWS guide's own example uses it for a single group), and a
 * dotted IPv4 tail for the last 32 bits (`::ffff:192.0.2.1`), like inet_pton. Refuses zone ids,
 * brackets, a lone leading or trailing colon, and anything that is not exactly 128 bits.
 */
export function parseIPv6(text: Uint8Array, start: number, end: number, out: Uint8Array): boolean {
  let words = 0;
  let gap = -1; // word index where `::` stands
  let i = start;
  if (i < end && text[i] === COLON) {
    if (i + 1 >= end || text[i + 1] !== COLON) return false;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    if (words === 8) return false;
    const first = i;
    let value = 0;
    while (i < end && i - first < 5) {
      const digit = HEX_VALUE[text[i]];
      if (digit < 0) break;
      value = value * 16 + digit;
      i++;
    }
    if (i < end && text[i] === DOT) {
      // A dotted IPv4 tail: the rest of the text, filling the last two words.
      if (words > 6 || parseIPv4(text, first, end, out, words * 2) !== end) return false;
      words += 2;
      break;
    }
    const digits = i - first;
    if (digits === 0 || digits > 4) return false;
    out[words * 2] = value >> 8;
    out[words * 2 + 1] = value & 0xff;
    words++;
    if (i === end) break;
    if (text[i] !== COLON) return false;
    i++;
    if (i < end && text[i] === COLON) {
      if (gap >= 0) return false;
      gap = words;
      i++;
    } else if (i === end) {
      return false;
    }
  }
  if (gap < 0) return words === 8;
  if (words === 8) return false;
  // Move the words after the gap to the end and zero the gap (plain loops: for a few bytes they
  // beat the typed-array built-ins).
  const shift = (8 - words) * 2;
  for (let b = words * 2 - 1; b >= gap * 2; b--) out[b + shift] = out[b];
  for (let b = gap * 2; b < gap * 2 + shift; b++) out[b] = 0;
  return true;
}

/**
 * The RFC 5952 text of bytes[at, at + 16): lower-case hex without leading zeros, the longest
 * run of two or more zero words (the first of equals) as `::`, and IPv4-mapped addresses as
 * `::ffff:a.b.c.d` (§5).
 */
export function formatIPv6(bytes: Uint8Array, at: number): string {
  if (isIPv4Mapped(bytes, at)) return '::ffff:' + formatIPv4(bytes, at + 12);
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
  let text = '';
  let separator = false; // whether the next word needs a ':' before it
  for (let w = 0; w < 8; w++) {
    if (w === bestStart) {
      text += '::';
      w += bestLength - 1;
      separator = false;
      continue;
    }
    if (separator) text += ':';
    text += hexWord((bytes[at + w * 2] << 8) | bytes[at + w * 2 + 1]);
    separator = true;
  }
  return text;
}

const HEX_DIGITS = '0123456789abcdef';

/** Lower-case hex of a 16-bit word without leading zeros. */
function hexWord(word: number): string {
  if (word < 0x10) return HEX_DIGITS[word];
  if (word < 0x100) return HEX_DIGITS[word >> 4] + HEX_DIGITS[word & 15];
  if (word < 0x1000) return HEX_DIGITS[word >> 8] + HEX_DIGITS[(word >> 4) & 15] + HEX_DIGITS[word & 15];
  return HEX_DIGITS[word >> 12] + HEX_DIGITS[(word >> 8) & 15] + HEX_DIGITS[(word >> 4) & 15] + HEX_DIGITS[word & 15];
}

function isIPv4Mapped(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < 10; i++) if (bytes[at + i] !== 0) return false;
  return bytes[at + 10] === 0xff && bytes[at + 11] === 0xff;
}
