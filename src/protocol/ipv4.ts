// IPv4 addresses between their dotted-quad text (as bytes), a packed 32-bit number and their
// 4 binary bytes.

const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Decimal text of 0..255, alone and with its dot: an address is then three concatenations. */
const OCTET_TEXT: readonly string[] = Array.from({ length: 256 }, (_, n) => String(n));
const OCTET_DOT: readonly string[] = OCTET_TEXT.map((text) => text + '.');

/**
 * Reads a dotted quad from text[start] on, not past `end`, into out[at, at + 4): returns the
 * offset just after it, or -1 if text[start, end) does not begin with exactly four decimal
 * numbers 0..255 joined by single dots. Callers check what follows (the end of the text, or a
 * separator). A leading zero (`010`) is refused, as the spec says, because some readers take it
 * for octal; a lone `0` is fine.
 */
export function parseIPv4(text: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  let i = start;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (i >= end || text[i] !== DOT) return -1;
      i++;
    }
    const first = i;
    let value = 0;
    while (i < end) {
      const c = text[i];
      if (c < DIGIT_0 || c > DIGIT_9) break;
      value = value * 10 + (c - DIGIT_0);
      if (value > 255) return -1;
      i++;
    }
    if (i === first || (i - first > 1 && text[first] === DIGIT_0)) return -1;
    out[at + octet] = value;
  }
  return i;
}

/** The dotted quad of bytes[at, at + 4). */
export function formatIPv4(bytes: Uint8Array, at: number): string {
  return OCTET_DOT[bytes[at]] + OCTET_DOT[bytes[at + 1]] + OCTET_DOT[bytes[at + 2]] + OCTET_TEXT[bytes[at + 3]];
}

