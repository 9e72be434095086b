// Strings straight from validated bytes: the address text of a v1 line when it is already in
// canonical form (so reading an address costs no decode and no re-render), and the fields quoted
// in failure reasons.

const char = String.fromCharCode;

/**
 * The text of bytes[start, end), one character per byte (only ASCII reaches here). Taken 16
 * bytes per call of String.fromCharCode with a fixed argument count, which V8 turns into one
 * string without an intermediate array: a dotted quad takes one call, an IPv6 address up to
 * three, several times faster than decoding and re-rendering it (npm run bench:parser). Bytes
 * past the end of `bytes` read as undefined and are cut off with the rest.
 */
export function latin1Text(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  let i = start;
  for (; end - i > 16; i += 16) text += sixteen(bytes, i);
  const last = sixteen(bytes, i);
  return text + (end - i === 16 ? last : last.slice(0, end - i));
}

function sixteen(b: Uint8Array, i: number): string {
  return char(
    b[i],
    b[i + 1],
    b[i + 2],
    b[i + 3],
    b[i + 4],
    b[i + 5],
    b[i + 6],
    b[i + 7],
    b[i + 8],
    b[i + 9],
    b[i + 10],
    b[i + 11],
    b[i + 12],
    b[i + 13],
    b[i + 14],
    b[i + 15],
  );
}
