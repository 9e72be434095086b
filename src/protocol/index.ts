// The PROXY protocol library: parseProxyHeader() and buildProxyHeader(), pure, no I/O.
//
// Streaming contract: call parseProxyHeader with all the bytes received so far on a connection
// (from its first byte). 'incomplete' means they are a valid prefix of a header: call again with
// the grown buffer when more arrive. 'ok' gives the header and its length; the bytes after it are
// payload. 'invalid' is final: close the connection. The parser keeps no state between calls,
// so any split of the input gives the same final answer. It never throws on any input bytes; it
// throws a RangeError only for options outside their documented ranges (a programming error).
//
// Zero-copy and lazy: an 'ok' header has checked every byte, but its address strings, endpoint
// objects and TLV views are made when a field is first read (then kept), from the bytes given.
// So keep those bytes unchanged while you use the header (TLV values are views into them in any
// case). The fields are getters: JSON.stringify and console.log show them, and plainHeader()
// gives a plain copy for spreading or deep comparison.
import {
  DEFAULT_MAX_V2_HEADER_SIZE,
  V1_SIGNATURE,
  V2_MAX_HEADER_SIZE,
  V2_PREFIX_LENGTH,
  V2_SIGNATURE,
} from './constants.ts';
import { INCOMPLETE, describeByte, invalid } from './results.ts';
import type { BuildOptions, ParseOptions, ParseResult, ProxyHeaderInit } from './types.ts';
import { buildV1, parseV1 } from './v1.ts';
import { buildV2, parseV2 } from './v2.ts';
import type { CrcMode } from './v2.ts';

const FIRST_BYTE_V1 = V1_SIGNATURE[0]; // 'P'
const FIRST_BYTE_V2 = V2_SIGNATURE[0]; // CR

export function parseProxyHeader(bytes: Uint8Array, options?: ParseOptions | null): ParseResult {
  // Options are checked on every call that has them (two comparisons), whatever the bytes.
  // null counts as no options, as JavaScript callers often pass it.
  const max = options == null ? DEFAULT_MAX_V2_HEADER_SIZE : maxHeaderSize(options);
  const crc = options == null ? 'verify' : crcMode(options);
  if (bytes.length === 0) return INCOMPLETE;
  const first = bytes[0];
  if (first === FIRST_BYTE_V1) return parseV1(bytes);
  if (first === FIRST_BYTE_V2) return parseV2(bytes, max, crc);
  return invalid('not-proxy', `not a PROXY protocol header: first byte ${describeByte(first)}`);
}

function maxHeaderSize(options: ParseOptions): number {
  const value = options.maxV2HeaderSize;
  if (value === undefined) return DEFAULT_MAX_V2_HEADER_SIZE;
  if (!Number.isInteger(value) || value < V2_PREFIX_LENGTH || value > V2_MAX_HEADER_SIZE) {
    throw new RangeError(
      `parseProxyHeader: maxV2HeaderSize must be an integer from ${V2_PREFIX_LENGTH} to ${V2_MAX_HEADER_SIZE}, not ${String(value)}`,
    );
  }
  return value;
}

function crcMode(options: ParseOptions): CrcMode {
  const value = options.crc32c;
  if (value === undefined) return 'verify';
  if (value !== 'verify' && value !== 'require' && value !== 'ignore') {
    throw new RangeError(
      `parseProxyHeader: crc32c must be 'verify', 'require' or 'ignore', not ${String(value)}`,
    );
  }
  return value;
}

/**
 * The wire bytes of `header`: a v1 line or a v2 header (with its TLVs, and a computed CRC32C if
 * options.crc32c). Addresses may be given in any valid text form; they are written canonically,
 * so parseProxyHeader(buildProxyHeader(h)).header equals h for canonical h. Throws a RangeError
 * for a header the chosen version cannot carry (the builder takes trusted input from code).
 */
export function buildProxyHeader(header: ProxyHeaderInit, options?: BuildOptions): Uint8Array {
  if (header.version === 1) {
    if (header.tlvs !== undefined && header.tlvs.length > 0)
      throw new RangeError('buildProxyHeader: v1 carries no TLVs');
    if (options?.crc32c) throw new RangeError('buildProxyHeader: v1 has no CRC32C');
    return buildV1(header);
  }
  if (header.version === 2) return buildV2(header, options?.crc32c === true);
  throw new RangeError(`buildProxyHeader: version ${String(header.version)} is neither 1 nor 2`);
}

export { crc32c } from './crc32c.ts';
export { plainHeader } from './header.ts';
export {
  awsVpcEndpointTlv,
  azureLinkIdTlv,
  findTlv,
  gcpPscConnectionIdTlv,
  getAlpn,
  getAuthority,
  getAwsVpcEndpointId,
  getAzureLinkId,
  getGcpPscConnectionId,
  getNetns,
  getSsl,
  getUniqueId,
  sslTlv,
  textTlv,
} from './tlv-helpers.ts';
export type { SslInfo, WithTlvs } from './tlv-helpers.ts';
export {
  TLV_TYPE,
  AWS_SUBTYPE_VPC_ENDPOINT_ID,
  AZURE_SUBTYPE_LINK_ID,
  DEFAULT_MAX_V2_HEADER_SIZE,
  V1_MAX_LENGTH,
  V1_SIGNATURE,
  V2_SIGNATURE,
} from './constants.ts';
export { PARSE_ERROR_CODES } from './types.ts';
export type {
  BuildOptions,
  Endpoint,
  ParseErrorCode,
  ParseOptions,
  ParseResult,
  Protocol,
  ProxyHeader,
  ProxyHeaderInit,
  Tlv,
} from './types.ts';
