// IPv4 addresses between their dotted-quad text (as bytes) and their 4 binary bytes.

const DOT = 0x2e;
const DIGIT_0 = 0x30;

/** Decimal text of 0..255, alone and with its dot: an address is then three concatenations. */
const OCTET_TEXT: readonly string[] = Array.from({ length: 256 }, (_, n) => String(n));
const OCTET_DOT: readonly string[] = OCTET_TEXT.map((text) => `${text}.`);

/**
 * Reads a dotted quad from text[start] on, not past `end`, into out[at, at + 4): returns the
 * offset just after it, or -1 if text[start, end) does not begin with exactly four decimal
 * numbers 0..255 joined by single dots. Callers check what follows (the end of the text, or a
 * separator). A leading zero (`010`) is refused, as the spec says, because some readers take it
 * for octal; a lone `0` is fine.
 */
export function parseIPv4(
  text: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array | null,
  at: number,
): number {
  // One loop over the bytes (no loop per octet): this is the hot path of a TCP4 line.
  let octets = 0; // octets done
  let value = 0;
  let digits = 0;
  let i = start;
  for (; i < end; i++) {
    const digit = text[i] - DIGIT_0;
    if (digit >= 0 && digit <= 9) {
      if (digits === 1 && value === 0) return -1; // a leading zero
      value = value * 10 + digit;
      if (value > 255) return -1;
      digits++;
    } else if (text[i] === DOT && digits > 0 && octets < 3) {
      if (out !== null) out[at + octets] = value;
      octets++;
      value = 0;
      digits = 0;
    } else {
      break;
    }
  }
  if (digits === 0 || octets !== 3) return -1;
  if (out !== null) out[at + 3] = value;
  return i;
}

/** The dotted quad of bytes[at, at + 4). */
export function formatIPv4(bytes: Uint8Array, at: number): string {
  return (
    OCTET_DOT[bytes[at]] +
    OCTET_DOT[bytes[at + 1]] +
    OCTET_DOT[bytes[at + 2]] +
    OCTET_TEXT[bytes[at + 3]]
  );
}
