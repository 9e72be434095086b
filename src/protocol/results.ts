// The two parse results that carry no header, shared by the v1 and v2 parsers.
import type { ParseErrorCode, ParseResult } from './types.ts';

/** A valid prefix of a header: call again once more bytes have arrived. */
export const INCOMPLETE: ParseResult = Object.freeze({ status: 'incomplete' });

export function invalid(code: ParseErrorCode, reason: string): ParseResult {
  return { status: 'invalid', code, reason };
}

/** How a byte reads in a reason: `'G' (0x47)` for printable ASCII, `0x0a` otherwise. */
export function describeByte(byte: number): string {
  const hex = `0x${byte.toString(16).padStart(2, '0')}`;
  return byte >= 0x20 && byte <= 0x7e ? `'${String.fromCharCode(byte)}' (${hex})` : hex;
}
