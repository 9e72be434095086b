// Decoding (and making) the TLVs a backend behind a load balancer is likely to look at.
// Each getter takes a parsed header (anything with `tlvs`) and returns null when the TLV is
// absent or not in the expected shape; none of them throws.
import { AWS_SUBTYPE_VPC_ENDPOINT_ID, SSL_FIXED_LENGTH, TLV_TYPE } from './constants.ts';
import { walkSubTlvs, writeTlv } from './tlvs.ts';
import type { Tlv } from './types.ts';

export interface WithTlvs {
  readonly tlvs: readonly Tlv[];
}

/** What the SSL TLV (0x20) says about the client's TLS connection to the proxy. */
export interface SslInfo {
  /** Raw flags: 0x01 client used SSL/TLS, 0x02 sent a certificate on this connection, 0x04 on the session. */
  readonly client: number;
  /** The `verify` field: 0 when the client presented a certificate that was verified. */
  readonly verify: number;
  readonly version: string | null;
  readonly commonName: string | null;
  readonly cipher: string | null;
  readonly signatureAlgorithm: string | null;
  readonly keyAlgorithm: string | null;
  /** All sub-TLVs in wire order, views into the header. */
  readonly subTlvs: readonly Tlv[];
}

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** The first TLV of `type`, or null. */
export function findTlv(header: WithTlvs, type: number): Tlv | null {
  for (const tlv of header.tlvs) if (tlv.type === type) return tlv;
  return null;
}

/** The VPC endpoint id (`vpce-…`) an NLB adds for PrivateLink traffic: type 0xEA, subtype 0x01. */
export function getAwsVpcEndpointId(header: WithTlvs): string | null {
  for (const tlv of header.tlvs) {
    if (
      tlv.type === TLV_TYPE.AWS &&
      tlv.value.length > 1 &&
      tlv.value[0] === AWS_SUBTYPE_VPC_ENDPOINT_ID
    )
      return utf8.decode(tlv.value.subarray(1));
  }
  return null;
}

/** The application protocol the client negotiated (ALPN, e.g. `h2`). */
export function getAlpn(header: WithTlvs): string | null {
  return textOf(findTlv(header, TLV_TYPE.ALPN));
}

/** The host name the client asked for (TLS SNI or Host), UTF-8. */
export function getAuthority(header: WithTlvs): string | null {
  return textOf(findTlv(header, TLV_TYPE.AUTHORITY));
}

/** The proxy's opaque connection id (at most 128 bytes), as a view. */
export function getUniqueId(header: WithTlvs): Uint8Array | null {
  return findTlv(header, TLV_TYPE.UNIQUE_ID)?.value ?? null;
}

/** The network namespace name the proxy accepted the connection in. */
export function getNetns(header: WithTlvs): string | null {
  return textOf(findTlv(header, TLV_TYPE.NETNS));
}

/** The SSL TLV decoded, or null if absent or malformed (the parser refuses malformed ones). */
export function getSsl(header: WithTlvs): SslInfo | null {
  const tlv = findTlv(header, TLV_TYPE.SSL);
  if (tlv === null || tlv.value.length < SSL_FIXED_LENGTH) return null;
  const value = tlv.value;
  const subTlvs: Tlv[] = [];
  if (walkSubTlvs(value, SSL_FIXED_LENGTH, value.length, subTlvs) >= 0) return null;
  const sub = (type: number) => textOf(findTlv({ tlvs: subTlvs }, type));
  return {
    client: value[0],
    verify: ((value[1] << 24) | (value[2] << 16) | (value[3] << 8) | value[4]) >>> 0,
    version: sub(TLV_TYPE.SSL_VERSION),
    commonName: sub(TLV_TYPE.SSL_CN),
    cipher: sub(TLV_TYPE.SSL_CIPHER),
    signatureAlgorithm: sub(TLV_TYPE.SSL_SIG_ALG),
    keyAlgorithm: sub(TLV_TYPE.SSL_KEY_ALG),
    subTlvs,
  };
}

function textOf(tlv: Tlv | null): string | null {
  return tlv === null ? null : utf8.decode(tlv.value);
}

/** A TLV whose value is UTF-8 text (ALPN, AUTHORITY, NETNS, SSL sub-TLVs), for the builder. */
export function textTlv(type: number, text: string): Tlv {
  return { type, value: utf8Encoder.encode(text) };
}

/** The AWS VPC endpoint id TLV, as an NLB sends it for PrivateLink traffic. */
export function awsVpcEndpointTlv(id: string): Tlv {
  const encoded = utf8Encoder.encode(id);
  const value = new Uint8Array(1 + encoded.length);
  value[0] = AWS_SUBTYPE_VPC_ENDPOINT_ID;
  value.set(encoded, 1);
  return { type: TLV_TYPE.AWS, value };
}

/** An SSL TLV from its client flags, verify result and sub-TLVs. */
export function sslTlv(client: number, verify: number, subTlvs: readonly Tlv[] = []): Tlv {
  const length = SSL_FIXED_LENGTH + subTlvs.reduce((sum, tlv) => sum + 3 + tlv.value.length, 0);
  const value = new Uint8Array(length);
  value[0] = client;
  value[1] = verify >>> 24;
  value[2] = (verify >>> 16) & 0xff;
  value[3] = (verify >>> 8) & 0xff;
  value[4] = verify & 0xff;
  let at = SSL_FIXED_LENGTH;
  for (const tlv of subTlvs) at = writeTlv(value, at, tlv);
  return { type: TLV_TYPE.SSL, value };
}
