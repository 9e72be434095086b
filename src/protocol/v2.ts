// PROXY protocol version 2: the binary header of §2.2, parsed from the bytes, and built.
//
// Decisions on the loose points (spec §2.2, our digest's checklist):
// - byte 12 must be 0x20 (LOCAL) or 0x21 (PROXY); under PROXY byte 13 must be one of the seven
//   defined family/transport pairs (0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32);
// - LOCAL ignores byte 13, whatever it holds, as HAProxy does: the spec says a LOCAL receiver
//   "must use the real connection endpoints and discard the protocol block including the family
//   which is ignored". A LOCAL header with a byte nobody defined reports protocol UNKNOWN;
// - the whole header (16 + length) may not exceed options.maxV2HeaderSize (4 KiB by default);
//   that is known from the first 16 bytes, so an oversized header is refused before it arrives;
// - PROXY with a length shorter than its family's address block is refused as soon as the
//   16-byte prefix is in; the bytes after the block are TLVs and must tile it exactly;
// - PROXY over AF_UNSPEC (0x00) is accepted with no addresses (protocol UNKNOWN), and its block
//   is treated exactly as LOCAL's: for AF_UNSPEC the spec says "the receiver is free to accept
//   the connection anyway and use the real endpoint addresses or to reject it. The receiver
//   should ignore address information", and it asks for the real endpoints for unknown
//   families too;
// - LOCAL (health checks of the balancer itself) and PROXY over AF_UNSPEC never carry
//   addresses: AWS sends LOCAL with family 0x11 and only TLVs after the prefix, HAProxy sends
//   0x00 with TLVs. Their block is reported as TLVs when it reads as a well-formed TLV list
//   from byte 16 on (a CRC32C among them is then checked), and otherwise skipped unread, as the
//   spec says to discard it;
// - CRC32C (§2.2.3): 'verify' checks it when present, 'require' also refuses a PROXY header
//   with addresses but without one (headers with no addresses carry no client to protect),
//   'ignore' does not compute it;
// - UNIX paths end at the first NUL of their 108-byte field; what follows it is not checked
//   (a copied sockaddr_un may carry junk there); paths are decoded as UTF-8.
import {
  COMMAND_LOCAL,
  COMMAND_PROXY,
  TLV_TYPE,
  UNIX_PATH_LENGTH,
  V2_PREFIX_LENGTH,
  V2_SIGNATURE,
} from './constants.ts';
import { crc32c } from './crc32c.ts';
import { LazyHeader, bareHeader, endpoint } from './header.ts';
import { formatIPv4, parseIPv4 } from './ipv4.ts';
import { formatIPv6, parseIPv6 } from './ipv6.ts';
import { INCOMPLETE, invalid } from './results.ts';
import { walkTlvs, writeTlv } from './tlvs.ts';
import type {
  Endpoint,
  ParseResult,
  Protocol,
  ProxyHeader,
  ProxyHeaderInit,
  Tlv,
} from './types.ts';
import { asciiBytes, requireEndpoint } from './builder-input.ts';

export type CrcMode = 'verify' | 'require' | 'ignore';

/** Protocol of each family/transport byte; undefined for the 249 bytes nobody defined. */
const PROTOCOL_OF: readonly (Protocol | undefined)[] = (() => {
  const table: (Protocol | undefined)[] = new Array(256).fill(undefined);
  table[0x00] = 'UNKNOWN';
  table[0x11] = 'TCP4';
  table[0x12] = 'UDP4';
  table[0x21] = 'TCP6';
  table[0x22] = 'UDP6';
  table[0x31] = 'UNIX_STREAM';
  table[0x32] = 'UNIX_DGRAM';
  return table;
})();

const FAMILY_BYTE: Readonly<Record<Protocol, number>> = {
  UNKNOWN: 0x00,
  TCP4: 0x11,
  UDP4: 0x12,
  TCP6: 0x21,
  UDP6: 0x22,
  UNIX_STREAM: 0x31,
  UNIX_DGRAM: 0x32,
};

/** Address block bytes by the family nibble: UNSPEC, INET, INET6, UNIX. */
const ADDRESS_LENGTH = [0, 12, 36, 2 * UNIX_PATH_LENGTH] as const;

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** Parses a v2 header at the start of `bytes` (whose first byte is known to be CR). */
export function parseV2(bytes: Uint8Array, maxHeaderSize: number, crcMode: CrcMode): ParseResult {
  const size = bytes.length;
  // The whole signature in one test when it is all there (the first byte, CR, is known); the
  // loop handles a short prefix and names the first wrong byte.
  const whole =
    size >= 12 &&
    bytes[1] === 0x0a &&
    bytes[2] === 0x0d &&
    bytes[3] === 0x0a &&
    bytes[4] === 0x00 &&
    bytes[5] === 0x0d &&
    bytes[6] === 0x0a &&
    bytes[7] === 0x51 &&
    bytes[8] === 0x55 &&
    bytes[9] === 0x49 &&
    bytes[10] === 0x54 &&
    bytes[11] === 0x0a;
  if (!whole) {
    const signatureBytes = Math.min(size, V2_SIGNATURE.length);
    for (let i = 0; i < signatureBytes; i++) {
      if (bytes[i] !== V2_SIGNATURE[i])
        return invalid('not-proxy', `v2: signature mismatch at byte ${i}`);
    }
  }
  if (size <= 12) return INCOMPLETE;
  const versionCommand = bytes[12];
  if (versionCommand >> 4 !== 2)
    return invalid('bad-v2-version', `v2: version ${versionCommand >> 4} in byte 12 is not 2`);
  const command = versionCommand & 0x0f;
  if (command !== COMMAND_LOCAL && command !== COMMAND_PROXY)
    return invalid(
      'bad-v2-command',
      `v2: command ${command} in byte 12 is neither LOCAL (0) nor PROXY (1)`,
    );
  if (size <= 13) return INCOMPLETE;
  const familyByte = bytes[13];
  const local = command === COMMAND_LOCAL;
  const defined = PROTOCOL_OF[familyByte];
  if (defined === undefined && !local)
    return invalid(
      'bad-family',
      `v2: family/transport byte 0x${familyByte.toString(16).padStart(2, '0')} is not defined`,
    );
  const protocol = defined ?? 'UNKNOWN'; // LOCAL ignores the byte
  if (size < V2_PREFIX_LENGTH) return INCOMPLETE;
  const length = (bytes[14] << 8) | bytes[15];
  const total = V2_PREFIX_LENGTH + length;
  if (total > maxHeaderSize)
    return invalid(
      'header-too-large',
      `v2: header of ${total} bytes exceeds the ${maxHeaderSize}-byte limit`,
    );
  if (local || protocol === 'UNKNOWN') {
    if (size < total) return INCOMPLETE;
    return parseWithoutAddresses(bytes, local, protocol, total, crcMode);
  }

  const addressLength = ADDRESS_LENGTH[familyByte >> 4];
  if (length < addressLength)
    return invalid(
      'short-address-block',
      `v2: length ${length} is shorter than the ${addressLength}-byte ${protocol} address block`,
    );
  if (size < total) return INCOMPLETE;
  const walk = walkTlvs(bytes, V2_PREFIX_LENGTH + addressLength, total, null);
  if (walk.kind === 'invalid') return invalid(walk.code, walk.reason);
  if (walk.kind === 'tlvs') {
    if (crcMode === 'require')
      return invalid('crc32c-missing', 'v2: no CRC32C TLV but one is required');
  } else if (crcMode !== 'ignore' && !crcMatches(bytes, total, walk.valueAt)) {
    return crcMismatch();
  }
  const header = new V2Header('proxy', protocol, bytes, familyByte >> 4, addressLength, total);
  return { status: 'ok', header, length: total };
}

/**
 * LOCAL (any family byte) and PROXY over AF_UNSPEC: no addresses, and a block that counts as
 * TLVs only if it reads as a well-formed list; otherwise it is skipped unread (see the top
 * comment).
 */
function parseWithoutAddresses(
  bytes: Uint8Array,
  local: boolean,
  protocol: Protocol,
  total: number,
  crcMode: CrcMode,
): ParseResult {
  const walk = total > V2_PREFIX_LENGTH ? walkTlvs(bytes, V2_PREFIX_LENGTH, total, null) : null;
  if (walk === null || walk.kind === 'invalid') {
    const header = local ? LOCAL_HEADERS[protocol] : PROXY_UNSPEC_HEADER;
    return { status: 'ok', header, length: total };
  }
  const checked = walk.kind === 'tlvs-with-crc32c' && crcMode !== 'ignore';
  if (checked && !crcMatches(bytes, total, walk.valueAt)) return crcMismatch();
  const header = new V2Header(local ? 'local' : 'proxy', protocol, bytes, 0, 0, total);
  return { status: 'ok', header, length: total };
}

function crcMismatch(): ParseResult {
  return invalid('crc32c-mismatch', 'v2: CRC32C mismatch');
}

/**
 * A parsed v2 header. The parse validated every byte; addresses and TLV views are made on first
 * read, from `bytes` (which must stay unchanged while the header is in use; TLV values are
 * views into it anyway). `family` is 0 for no addresses (LOCAL, AF_UNSPEC).
 */
class V2Header extends LazyHeader implements ProxyHeader {
  readonly command: 'proxy' | 'local';
  readonly protocol: Protocol;
  readonly #bytes: Uint8Array;
  readonly #family: number;
  readonly #addressLength: number;
  readonly #total: number;
  #source: Endpoint | null | undefined = undefined;
  #destination: Endpoint | null | undefined = undefined;
  #tlvs: readonly Tlv[] | undefined = undefined;

  constructor(
    command: 'proxy' | 'local',
    protocol: Protocol,
    bytes: Uint8Array,
    family: number,
    addressLength: number,
    total: number,
  ) {
    super();
    this.command = command;
    this.protocol = protocol;
    this.#bytes = bytes;
    this.#family = family;
    this.#addressLength = addressLength;
    this.#total = total;
  }

  get version(): 2 {
    return 2; // on the prototype: nothing to store per header
  }

  get source(): Endpoint | null {
    if (this.#source === undefined) this.#source = readEndpoint(this.#bytes, this.#family, false);
    return this.#source;
  }

  get destination(): Endpoint | null {
    if (this.#destination === undefined)
      this.#destination = readEndpoint(this.#bytes, this.#family, true);
    return this.#destination;
  }

  get tlvs(): readonly Tlv[] {
    if (this.#tlvs === undefined) {
      const tlvs: Tlv[] = [];
      walkTlvs(this.#bytes, V2_PREFIX_LENGTH + this.#addressLength, this.#total, tlvs);
      this.#tlvs = tlvs;
    }
    return this.#tlvs;
  }
}

/** The source (or destination) endpoint in the address block of the given family nibble. */
function readEndpoint(bytes: Uint8Array, family: number, destination: boolean): Endpoint | null {
  const a = V2_PREFIX_LENGTH;
  switch (family) {
    case 1: {
      const port = a + (destination ? 10 : 8);
      return endpoint(
        formatIPv4(bytes, destination ? a + 4 : a),
        (bytes[port] << 8) | bytes[port + 1],
      );
    }
    case 2: {
      const port = a + (destination ? 34 : 32);
      return endpoint(
        formatIPv6(bytes, destination ? a + 16 : a),
        (bytes[port] << 8) | bytes[port + 1],
      );
    }
    case 3:
      return endpoint(unixPath(bytes, destination ? a + UNIX_PATH_LENGTH : a), 0);
    default:
      return null;
  }
}

const PROXY_UNSPEC_HEADER = bareHeader(2, 'proxy', 'UNKNOWN');
/** LOCAL headers with nothing readable, one per protocol. */
const LOCAL_HEADERS = Object.fromEntries(
  Object.keys(FAMILY_BYTE).map((protocol) => [
    protocol,
    bareHeader(2, 'local', protocol as Protocol),
  ]),
) as Record<Protocol, ProxyHeader>;

function crcMatches(bytes: Uint8Array, total: number, valueAt: number): boolean {
  const stored =
    ((bytes[valueAt] << 24) |
      (bytes[valueAt + 1] << 16) |
      (bytes[valueAt + 2] << 8) |
      bytes[valueAt + 3]) >>>
    0;
  return crc32c(bytes, 0, total, valueAt) === stored;
}

function unixPath(bytes: Uint8Array, at: number): string {
  let end = at;
  while (end < at + UNIX_PATH_LENGTH && bytes[end] !== 0) end++;
  return utf8.decode(bytes.subarray(at, end));
}

/**
 * The v2 header for `header`. With `withCrc32c` the CRC32C TLV of `header.tlvs` (or one appended
 * after them) gets the header's checksum; without it a CRC32C TLV's 4 bytes are written as given
 * (a CRC32C TLV of another length is refused either way). Throws a
 * RangeError for anything v2 cannot carry. TLV values are written as given, even ones the parser
 * refuses (a UNIQUE_ID over 128 bytes, a broken SSL TLV), so tests can play a faulty sender.
 */
export function buildV2(header: ProxyHeaderInit, withCrc32c: boolean): Uint8Array {
  const { command, familyByte, withAddresses } = commandAndFamily(header);
  const { tlvs, crcIndex } = tlvsToWrite(header, withCrc32c);
  const addressLength = withAddresses ? ADDRESS_LENGTH[familyByte >> 4] : 0;
  const length = blockLength(addressLength, tlvs);
  const out = new Uint8Array(V2_PREFIX_LENGTH + length);
  out.set(V2_SIGNATURE, 0);
  out[12] = 0x20 | (command === 'proxy' ? COMMAND_PROXY : COMMAND_LOCAL);
  out[13] = familyByte;
  out[14] = length >> 8;
  out[15] = length & 0xff;
  if (withAddresses) writeAddresses(out, familyByte >> 4, header);
  const crcAt = writeTlvs(out, V2_PREFIX_LENGTH + addressLength, tlvs, crcIndex);
  if (withCrc32c) fillCrc32c(out, crcAt);
  return out;
}

/** The command and family/transport byte of a header to build, refusing what v2 cannot say. */
function commandAndFamily(header: ProxyHeaderInit): {
  command: 'proxy' | 'local';
  familyByte: number;
  withAddresses: boolean;
} {
  const { command, protocol } = header;
  if (command !== 'proxy' && command !== 'local')
    throw new RangeError(`buildProxyHeader: unknown command ${String(command)}`);
  const familyByte = FAMILY_BYTE[protocol];
  if (familyByte === undefined || !Object.hasOwn(FAMILY_BYTE, protocol))
    throw new RangeError(`buildProxyHeader: unknown protocol ${String(protocol)}`);
  const withAddresses = command === 'proxy' && protocol !== 'UNKNOWN';
  if (!withAddresses && (header.source != null || header.destination != null)) {
    throw new RangeError(
      `buildProxyHeader: a v2 ${command === 'local' ? 'LOCAL' : 'UNKNOWN'} header carries no addresses`,
    );
  }
  return { command, familyByte, withAddresses };
}

/** The caller's TLVs, plus a zeroed CRC32C TLV at the end when one is wanted and none given. */
function tlvsToWrite(
  header: ProxyHeaderInit,
  withCrc32c: boolean,
): { tlvs: Tlv[]; crcIndex: number } {
  const tlvs: Tlv[] = [...(header.tlvs ?? [])];
  let crcIndex = tlvs.findIndex((tlv) => tlv.type === TLV_TYPE.CRC32C);
  if (withCrc32c && crcIndex < 0) {
    crcIndex = tlvs.length;
    tlvs.push({ type: TLV_TYPE.CRC32C, value: new Uint8Array(4) });
  }
  return { tlvs, crcIndex };
}

/** Bytes after the 16-byte prefix: addresses and TLVs, each TLV checked, within the 16-bit length. */
function blockLength(addressLength: number, tlvs: readonly Tlv[]): number {
  let length = addressLength;
  for (const tlv of tlvs) {
    if (!Number.isInteger(tlv.type) || tlv.type < 0 || tlv.type > 0xff)
      throw new RangeError(`buildProxyHeader: TLV type ${String(tlv.type)} is not a byte`);
    if (!(tlv.value instanceof Uint8Array) || tlv.value.length > 0xffff)
      throw new RangeError(
        `buildProxyHeader: TLV 0x${tlv.type.toString(16)} value must be a Uint8Array of at most 65535 bytes`,
      );
    length += 3 + tlv.value.length;
  }
  if (length > 0xffff)
    throw new RangeError(
      `buildProxyHeader: ${length} bytes after the prefix do not fit the 16-bit length`,
    );
  return length;
}

/** Writes the TLVs from `at`; returns where the CRC32C TLV's value sits (-1 without one). */
function writeTlvs(out: Uint8Array, at: number, tlvs: readonly Tlv[], crcIndex: number): number {
  let crcAt = -1;
  for (let i = 0; i < tlvs.length; i++) {
    if (i === crcIndex) {
      if (tlvs[i].value.length !== 4)
        throw new RangeError(
          `buildProxyHeader: a CRC32C TLV has 4 value bytes, not ${tlvs[i].value.length}`,
        );
      crcAt = at + 3;
    }
    at = writeTlv(out, at, tlvs[i]);
  }
  return crcAt;
}

/** The checksum of the whole header, computed with its own 4 bytes as zeros, written big-endian there. */
function fillCrc32c(out: Uint8Array, crcAt: number): void {
  const crc = crc32c(out, 0, out.length, crcAt);
  out[crcAt] = crc >>> 24;
  out[crcAt + 1] = (crc >>> 16) & 0xff;
  out[crcAt + 2] = (crc >>> 8) & 0xff;
  out[crcAt + 3] = crc & 0xff;
}

function writeAddresses(out: Uint8Array, family: number, header: ProxyHeaderInit): void {
  const source = requireEndpoint(header.source, 'source');
  const destination = requireEndpoint(header.destination, 'destination');
  const a = V2_PREFIX_LENGTH;
  if (family === 3) {
    if (source.port !== 0 || destination.port !== 0)
      throw new RangeError('buildProxyHeader: UNIX endpoints have port 0');
    writeUnixPath(out, a, source.address);
    writeUnixPath(out, a + UNIX_PATH_LENGTH, destination.address);
    return;
  }
  const width = family === 1 ? 4 : 16;
  writeAddress(out, a, source.address, width);
  writeAddress(out, a + width, destination.address, width);
  const ports = a + 2 * width;
  out[ports] = source.port >> 8;
  out[ports + 1] = source.port & 0xff;
  out[ports + 2] = destination.port >> 8;
  out[ports + 3] = destination.port & 0xff;
}

function writeAddress(out: Uint8Array, at: number, address: string, width: number): void {
  const text = asciiBytes(address);
  const ok =
    width === 4
      ? parseIPv4(text, 0, text.length, out, at) === text.length
      : parseIPv6(text, 0, text.length, out.subarray(at, at + 16)) === text.length;
  if (!ok)
    throw new RangeError(
      `buildProxyHeader: ${JSON.stringify(address)} is not an IPv${width === 4 ? 4 : 6} address`,
    );
}

function writeUnixPath(out: Uint8Array, at: number, path: string): void {
  const encoded = utf8Encoder.encode(typeof path === 'string' ? path : '');
  if (typeof path !== 'string' || encoded.length > UNIX_PATH_LENGTH || encoded.includes(0)) {
    throw new RangeError(
      `buildProxyHeader: UNIX path ${JSON.stringify(path)} must be at most ${UNIX_PATH_LENGTH} bytes without NUL`,
    );
  }
  out.set(encoded, at);
}
