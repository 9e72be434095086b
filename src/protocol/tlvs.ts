// Walking the TLV list of a v2 header (§2.2): type (1 byte), length (2 bytes, big-endian), value.
import { SSL_FIXED_LENGTH, TLV_TYPE, UNIQUE_ID_MAX_LENGTH } from './constants.ts';
import type { Tlv } from './types.ts';

/** What a walk found: well-formed TLVs (and where the CRC32C value starts, if there is one), or why not. */
export type TlvWalk =
  | { readonly kind: 'tlvs'; readonly crcAt: number | null }
  | { readonly kind: 'invalid'; readonly code: 'tlv-overrun' | 'bad-tlv'; readonly reason: string };

type TlvFault = Extract<TlvWalk, { kind: 'invalid' }>;

/** The walk result of the usual case, shared: no allocation on the hot path. */
const WITHOUT_CRC: TlvWalk = Object.freeze({ kind: 'tlvs', crcAt: null });

/**
 * Checks the TLVs in bytes[start, end), collecting them into `out` when given (values are views,
 * not copies). Refuses a TLV that overruns `end`, a CRC32C TLV whose length is not 4 or that
 * appears twice, a UNIQUE_ID over 128 bytes, or an SSL TLV whose sub-TLVs do not fit. Unknown
 * types are kept as they are.
 */
export function walkTlvs(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Tlv[] | null,
): TlvWalk {
  let crcAt: number | null = null;
  let i = start;
  while (i < end) {
    if (end - i < 3)
      return overrun(
        `v2: TLV at byte ${i} overruns the header (${end - i} bytes left for its 3-byte type and length)`,
      );
    const type = bytes[i];
    const length = (bytes[i + 1] << 8) | bytes[i + 2];
    const value = i + 3;
    if (value + length > end)
      return overrun(
        `v2: TLV 0x${hex(type)} at byte ${i} overruns the header (length ${length}, ${end - value} bytes left)`,
      );
    if (type === TLV_TYPE.CRC32C) {
      if (length !== 4) return badTlv(`v2: CRC32C TLV at byte ${i} has length ${length}, not 4`);
      if (crcAt !== null) return badTlv(`v2: second CRC32C TLV at byte ${i}`);
      crcAt = value;
    } else if (type === TLV_TYPE.UNIQUE_ID) {
      if (length > UNIQUE_ID_MAX_LENGTH)
        return badTlv(
          `v2: UNIQUE_ID TLV at byte ${i} is ${length} bytes, over the ${UNIQUE_ID_MAX_LENGTH}-byte limit`,
        );
    } else if (type === TLV_TYPE.SSL) {
      const fault = checkSsl(bytes, i, value, value + length);
      if (fault !== null) return fault;
    }
    if (out !== null) out.push({ type, value: bytes.subarray(value, value + length) });
    i = value + length;
  }
  return crcAt === null ? WITHOUT_CRC : { kind: 'tlvs', crcAt };
}

function overrun(reason: string): TlvFault {
  return { kind: 'invalid', code: 'tlv-overrun', reason };
}

function badTlv(reason: string): TlvFault {
  return { kind: 'invalid', code: 'bad-tlv', reason };
}

/** An SSL TLV holds client flags (1 byte), verify (4 bytes), then sub-TLVs that must fit. */
function checkSsl(bytes: Uint8Array, at: number, start: number, end: number): TlvFault | null {
  if (end - start < SSL_FIXED_LENGTH)
    return badTlv(
      `v2: SSL TLV at byte ${at} is ${end - start} bytes, shorter than its ${SSL_FIXED_LENGTH}-byte client and verify fields`,
    );
  const stray = walkSubTlvs(bytes, start + SSL_FIXED_LENGTH, end, null);
  if (stray < 0) return null;
  return overrun(
    end - stray < 3
      ? `v2: SSL sub-TLV at byte ${stray} overruns the SSL TLV`
      : `v2: SSL sub-TLV 0x${hex(bytes[stray])} at byte ${stray} overruns the SSL TLV`,
  );
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
