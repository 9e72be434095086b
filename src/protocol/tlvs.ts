// Walking the TLV list of a v2 header (§2.2): type (1 byte), length (2 bytes, big-endian), value.
import { SSL_FIXED_LENGTH, TLV_TYPE, UNIQUE_ID_MAX_LENGTH } from './constants.ts';
import type { Tlv } from './types.ts';

/** What a walk found: well-formed TLVs, with or without a CRC32C TLV (and where its value is), or why not. */
export type TlvWalk =
  | { readonly kind: 'tlvs' }
  | { readonly kind: 'tlvs-with-crc32c'; readonly valueAt: number }
  | { readonly kind: 'invalid'; readonly code: 'tlv-overrun' | 'bad-tlv'; readonly reason: string };

type TlvFault = Extract<TlvWalk, { kind: 'invalid' }>;

/** The walk result of the usual case, shared: no allocation on the hot path. */
const WITHOUT_CRC: TlvWalk = { kind: 'tlvs' };

/**
 * Checks the TLVs in bytes[start, end), collecting them into `out` when given (values are views,
 * not copies). Refuses a TLV that overruns `end`, a CRC32C TLV whose length is not 4 or that
 * appears twice, a UNIQUE_ID over 128 bytes, or an SSL TLV whose sub-TLVs do not fit. Unknown
 * types are kept as they are. Small on purpose, so that V8 inlines it into the v2 parser: the
 * reasons are worked out apart, by tlvFault.
 */
export function walkTlvs(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Tlv[] | null,
): TlvWalk {
  let crcAt = -1; // no CRC32C TLV seen yet
  let i = start;
  while (i < end) {
    if (end - i < 3) return tlvFault(bytes, i, end, crcAt);
    const type = bytes[i];
    const length = (bytes[i + 1] << 8) | bytes[i + 2];
    const value = i + 3;
    if (value + length > end) return tlvFault(bytes, i, end, crcAt);
    if (type === TLV_TYPE.CRC32C) {
      if (length !== 4 || crcAt >= 0) return tlvFault(bytes, i, end, crcAt);
      crcAt = value;
    } else if (type === TLV_TYPE.UNIQUE_ID) {
      if (length > UNIQUE_ID_MAX_LENGTH) return tlvFault(bytes, i, end, crcAt);
    } else if (type === TLV_TYPE.SSL) {
      if (!sslFits(bytes, value, value + length)) return tlvFault(bytes, i, end, crcAt);
    }
    if (out !== null) out.push({ type, value: bytes.subarray(value, value + length) });
    i = value + length;
  }
  return crcAt < 0 ? WITHOUT_CRC : { kind: 'tlvs-with-crc32c', valueAt: crcAt };
}

/** An SSL TLV holds client flags (1 byte), verify (4 bytes), then sub-TLVs that must tile it. */
function sslFits(bytes: Uint8Array, start: number, end: number): boolean {
  return (
    end - start >= SSL_FIXED_LENGTH && walkSubTlvs(bytes, start + SSL_FIXED_LENGTH, end, null) < 0
  );
}

/**
 * Why the TLV at `at` (in a header ending at `end`) is refused; `crcAt` is where an earlier
 * CRC32C value starts, or -1.
 */
function tlvFault(bytes: Uint8Array, at: number, end: number, crcAt: number): TlvFault {
  if (end - at < 3)
    return overrun(
      `v2: TLV at byte ${at} overruns the header (${end - at} bytes left for its 3-byte type and length)`,
    );
  const type = bytes[at];
  const length = (bytes[at + 1] << 8) | bytes[at + 2];
  const value = at + 3;
  if (value + length > end)
    return overrun(
      `v2: TLV 0x${hex(type)} at byte ${at} overruns the header (length ${length}, ${end - value} bytes left)`,
    );
  if (type === TLV_TYPE.CRC32C)
    return badTlv(
      crcAt >= 0
        ? `v2: second CRC32C TLV at byte ${at}`
        : `v2: CRC32C TLV at byte ${at} has length ${length}, not 4`,
    );
  if (type === TLV_TYPE.UNIQUE_ID)
    return badTlv(
      `v2: UNIQUE_ID TLV at byte ${at} is ${length} bytes, over the ${UNIQUE_ID_MAX_LENGTH}-byte limit`,
    );
  return sslFault(bytes, at, value, value + length);
}

function sslFault(bytes: Uint8Array, at: number, start: number, end: number): TlvFault {
  if (end - start < SSL_FIXED_LENGTH)
    return badTlv(
      `v2: SSL TLV at byte ${at} is ${end - start} bytes, shorter than its ${SSL_FIXED_LENGTH}-byte client and verify fields`,
    );
  const stray = walkSubTlvs(bytes, start + SSL_FIXED_LENGTH, end, null);
  return overrun(
    end - stray < 3
      ? `v2: SSL sub-TLV at byte ${stray} overruns the SSL TLV`
      : `v2: SSL sub-TLV 0x${hex(bytes[stray])} at byte ${stray} overruns the SSL TLV`,
  );
}

function overrun(reason: string): TlvFault {
  return { kind: 'invalid', code: 'tlv-overrun', reason };
}

function badTlv(reason: string): TlvFault {
  return { kind: 'invalid', code: 'bad-tlv', reason };
}

/**
 * Walks the sub-TLVs in bytes[start, end), collecting them into `out` when given; returns -1 if
 * they tile the range exactly, else the offset of the first one that overruns it.
 */
export function walkSubTlvs(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Tlv[] | null,
): number {
  let i = start;
  while (i < end) {
    if (end - i < 3) return i;
    const length = (bytes[i + 1] << 8) | bytes[i + 2];
    if (i + 3 + length > end) return i;
    out?.push({ type: bytes[i], value: bytes.subarray(i + 3, i + 3 + length) });
    i += 3 + length;
  }
  return -1;
}

/** Writes one TLV at out[at]; returns the offset after it. */
export function writeTlv(out: Uint8Array, at: number, tlv: Tlv): number {
  const length = tlv.value.length;
  out[at] = tlv.type;
  out[at + 1] = length >> 8;
  out[at + 2] = length & 0xff;
  out.set(tlv.value, at + 3);
  return at + 3 + length;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
