// Is the first line of a connection an HTTP/1.x request line? Only decides whether to hand the
// connection to node:http (which then parses everything itself); pure, no allocation.
//
// Accepted: METHOD SP target SP HTTP/1.d [CR] LF, where METHOD is 1 to 20 capital letters (or
// `-`, `_`) and the target is visible ASCII without spaces. Anything else is an echo line.
//
// Where a PROXY header was due, only the start matters (requestStart): METHOD SP is enough to
// answer a refusal in HTTP, and needs at most 21 bytes, so telling costs no unbounded wait.
import { MAYBE, NO, type Verdict, YES } from '../verdict.ts';

const SP = 0x20;
const CR = 0x0d;
const VERSION = Buffer.from('HTTP/1.');
const MAX_METHOD = 20;

/**
 * Looks at the line whose bytes are `carried` (may be null) followed by chunk[0, lf), lf being
 * the index of its LF in `chunk`.
 */
export function isHttpRequestLine(
  carried: Uint8Array | null,
  chunk: Uint8Array,
  lf: number,
): boolean {
  const head = carried === null ? 0 : carried.length;
  let end = head + lf;
  const at = (i: number) => (i < head ? carried![i] : chunk[i - head]);
  if (end > 0 && at(end - 1) === CR) end--;
  // The tail: SP HTTP/1.d
  const version = end - VERSION.length - 1;
  if (version < 3 || at(version - 1) !== SP) return false;
  for (let i = 0; i < VERSION.length; i++) if (at(version + i) !== VERSION[i]) return false;
  const digit = at(end - 1);
  if (digit < 0x30 || digit > 0x39) return false;
  // The method, then one SP.
  let i = 0;
  while (i < end && i <= MAX_METHOD && isMethodByte(at(i))) i++;
  if (i === 0 || i > MAX_METHOD || at(i) !== SP) return false;
  // The target: at least one visible byte, up to the SP before the version.
  const targetEnd = version - 1;
  if (i + 1 >= targetEnd) return false;
  for (let j = i + 1; j < targetEnd; j++) {
    const b = at(j);
    if (b <= SP || b >= 0x7f) return false;
  }
  return true;
}

/** Do `bytes` begin like an HTTP request line, METHOD SP? MAYBE while every byte is a method's. */
export function requestStart(bytes: Uint8Array): Verdict {
  const n = Math.min(bytes.length, MAX_METHOD + 1);
  let i = 0;
  while (i < n && isMethodByte(bytes[i])) i++;
  if (i === n) return n <= MAX_METHOD ? MAYBE : NO;
  return i > 0 && bytes[i] === SP ? YES : NO;
}

function isMethodByte(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || b === 0x2d || b === 0x5f;
}
