// Decoding (and making) the TLVs a backend behind a load balancer is likely to look at.
// Each getter takes a parsed header (anything with `tlvs`) and returns null when the TLV is
// absent or not in the expected shape; none of them throws. The builders throw a RangeError for
// a value the TLV cannot carry (they take trusted input from code, as buildProxyHeader does).
//
// The cloud vendors' TLVs, each read from the first TLV of its type that has its exact shape:
// - AWS 0xEA: subtype 0x01, then the VPC endpoint id in ASCII (an NLB, for PrivateLink traffic).
// - Azure 0xEE (PP2_TYPE_AZURE): subtype 0x01, then the LinkID of the client's private endpoint
//   as an unsigned 32-bit number in little-endian order (unlike the rest of the header), 5 bytes
//   in all. Microsoft's Private Link service overview, "Getting connection information using TCP
//   Proxy v2": https://learn.microsoft.com/azure/private-link/private-link-service-overview
// - Google Cloud 0xE0: the Private Service Connect connection id of the consumer's endpoint, an
//   unsigned 64-bit number in big-endian order, 8 bytes. Google's guide to publishing services
//   with Private Service Connect (PROXY protocol):
//   https://cloud.google.com/vpc/docs/configure-private-service-connect-producer
// pires/go-proxyproto decodes the same shapes (tlvparse/aws.go, azure.go, gcp.go).
import {
  AWS_SUBTYPE_VPC_ENDPOINT_ID,
  AZURE_SUBTYPE_LINK_ID,
  SSL_FIXED_LENGTH,
  TLV_TYPE,
} from './constants.ts';
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

/** Azure: subtype byte and 32-bit LinkID. */
const AZURE_LINK_ID_LENGTH = 5;
/** Google Cloud: the 64-bit Private Service Connect connection id. */
const GCP_PSC_CONNECTION_ID_LENGTH = 8;

/** The LinkID of the Azure private endpoint the client came through (type 0xEE, subtype 0x01). */
export function getAzureLinkId(header: WithTlvs): number | null {
  for (const tlv of header.tlvs) {
    const value = tlv.value;
    if (
      tlv.type === TLV_TYPE.AZURE &&
      value.length === AZURE_LINK_ID_LENGTH &&
      value[0] === AZURE_SUBTYPE_LINK_ID
    )
      return (value[1] | (value[2] << 8) | (value[3] << 16) | (value[4] << 24)) >>> 0;
  }
  return null;
}

/** The Google Cloud Private Service Connect connection id of the client (type 0xE0). */
export function getGcpPscConnectionId(header: WithTlvs): bigint | null {
  for (const tlv of header.tlvs) {
    const value = tlv.value;
    if (tlv.type === TLV_TYPE.GCP && value.length === GCP_PSC_CONNECTION_ID_LENGTH)
      return (BigInt(readUint32(value, 0)) << 32n) | BigInt(readUint32(value, 4));
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
    verify: readUint32(value, 1),
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

/** The Azure LinkID TLV, as a Private Link service sends it; `linkId` is 0..2^32-1. */
export function azureLinkIdTlv(linkId: number): Tlv {
  if (!Number.isInteger(linkId) || linkId < 0 || linkId > 0xffffffff)
    throw new RangeError(`azureLinkIdTlv: ${String(linkId)} is not an unsigned 32-bit integer`);
  const value = Uint8Array.of(
    AZURE_SUBTYPE_LINK_ID,
    linkId & 0xff,
    (linkId >>> 8) & 0xff,
    (linkId >>> 16) & 0xff,
    linkId >>> 24,
  );
  return { type: TLV_TYPE.AZURE, value };
}

/** The Google Cloud Private Service Connect TLV; `id` is 0n..2n**64n-1n. */
export function gcpPscConnectionIdTlv(id: bigint): Tlv {
  if (typeof id !== 'bigint' || id < 0n || id > 0xffff_ffff_ffff_ffffn)
    throw new RangeError(`gcpPscConnectionIdTlv: ${String(id)} is not an unsigned 64-bit bigint`);
  const value = new Uint8Array(GCP_PSC_CONNECTION_ID_LENGTH);
  writeUint32(value, 0, Number(id >> 32n));
  writeUint32(value, 4, Number(id & 0xffff_ffffn));
  return { type: TLV_TYPE.GCP, value };
}

/** An SSL TLV from its client flags, verify result and sub-TLVs. */
export function sslTlv(client: number, verify: number, subTlvs: readonly Tlv[] = []): Tlv {
  const length = SSL_FIXED_LENGTH + subTlvs.reduce((sum, tlv) => sum + 3 + tlv.value.length, 0);
  const value = new Uint8Array(length);
  value[0] = client;
  writeUint32(value, 1, verify);
  let at = SSL_FIXED_LENGTH;
  for (const tlv of subTlvs) at = writeTlv(value, at, tlv);
  return { type: TLV_TYPE.SSL, value };
}

/** The unsigned 32-bit big-endian number at bytes[at, at + 4). */
function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/** Writes `n` (taken as an unsigned 32-bit number) big-endian at bytes[at, at + 4). */
function writeUint32(bytes: Uint8Array, at: number, n: number): void {
  bytes[at] = n >>> 24;
  bytes[at + 1] = (n >>> 16) & 0xff;
  bytes[at + 2] = (n >>> 8) & 0xff;
  bytes[at + 3] = n & 0xff;
}
