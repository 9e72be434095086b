// CRC-32C (Castagnoli; RFC 4960 appendix B), the checksum of the v2 CRC32C TLV (§2.2.3).

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/**
 * CRC-32C of bytes[start, end) with the four bytes at `zeroedAt` read as zero (pass -1 for
 * none): a header's checksum covers the header with its own CRC32C value zeroed, and this way
 * neither the sender nor the receiver has to copy the header to compute it.
 */
export function crc32c(bytes: Uint8Array, start: number, end: number, zeroedAt = -1): number {
  let crc = 0xffffffff;
  const zeroStart = zeroedAt < 0 ? end : zeroedAt;
  const zeroEnd = zeroedAt < 0 ? end : zeroedAt + 4;
  for (let i = start; i < end; i++) {
    const byte = i >= zeroStart && i < zeroEnd ? 0 : bytes[i];
    crc = TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
