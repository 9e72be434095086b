// The PROXY header's TLVs as a backend view shows them: the ones a person checking a balancer
// cares about decoded (the AWS VPC endpoint, authority, ALPN, SSL, …), the rest in hex; the two
// the open log line names; and one phrase per TLV for the text answers.
import { TLV_TYPE } from '../../protocol/constants.ts';
import {
  getAlpn,
  getAuthority,
  getAwsVpcEndpointId,
  getAzureLinkId,
  getGcpPscConnectionId,
  getNetns,
  getSsl,
  getUniqueId,
} from '../../protocol/tlv-helpers.ts';
import type { ProxyHeader, Tlv } from '../../protocol/types.ts';
import { listed, shown } from './shown.ts';

export interface SslView {
  /** The client flags as words: `ssl`, `cert-conn`, `cert-sess`. */
  readonly client: readonly string[];
  /** True when the client presented a certificate and it was verified (verify field 0). */
  readonly verified: boolean;
  readonly version?: string;
  readonly cipher?: string;
  readonly commonName?: string;
  readonly signatureAlgorithm?: string;
  readonly keyAlgorithm?: string;
}

/** The TLVs a person checking a balancer cares about; absent ones are left out. */
export interface TlvView {
  readonly vpcEndpointId?: string;
  readonly authority?: string;
  readonly alpn?: string;
  /** The balancer's connection id, in hex. */
  readonly uniqueId?: string;
  readonly netns?: string;
  readonly ssl?: SslView;
  /** True when a CRC32C TLV was present (the parser has checked it). */
  readonly crc32c?: boolean;
  /** Azure Private Link: the LinkID of the client's private endpoint. */
  readonly azureLinkId?: number;
  /** Google Cloud Private Service Connect: the connection id, in decimal (64 bits). */
  readonly gcpPscConnectionId?: string;
  /** The TLVs not decoded above, their values in hex (the first MAX_HEX_BYTES bytes). */
  readonly other?: readonly OtherTlv[];
  /** How many more TLVs were not decoded, beyond the MAX_LISTED in `other`. */
  readonly otherNotShown?: number;
}

export interface OtherTlv {
  /** `0xNN`. */
  readonly type: string;
  /** The value's length in bytes. */
  readonly length: number;
  /** The value in hex, cut after MAX_HEX_BYTES bytes (with `...(+N bytes)`). */
  readonly hex: string;
}

/** Most bytes of an undecoded TLV's value shown in hex (twice as many characters). */
export const MAX_HEX_BYTES = 64;

const DECODED: ReadonlySet<number> = new Set([
  TLV_TYPE.ALPN,
  TLV_TYPE.AUTHORITY,
  TLV_TYPE.CRC32C,
  TLV_TYPE.NOOP,
  TLV_TYPE.UNIQUE_ID,
  TLV_TYPE.SSL,
  TLV_TYPE.NETNS,
]);

export function tlvView(header: ProxyHeader): TlvView {
  if (header.tlvs.length === 0) return {};
  const view: Record<string, unknown> = {};
  const put = (key: string, value: string | SslView | null) => {
    if (value !== null) view[key] = typeof value === 'string' ? shown(value) : value;
  };
  const vpce = getAwsVpcEndpointId(header);
  put('vpcEndpointId', vpce);
  put('authority', getAuthority(header));
  put('alpn', getAlpn(header));
  const id = getUniqueId(header);
  put('uniqueId', id === null ? null : Buffer.from(id).toString('hex'));
  put('netns', getNetns(header));
  put('ssl', sslView(header));
  if (header.tlvs.some((tlv) => tlv.type === TLV_TYPE.CRC32C)) view.crc32c = true;
  const linkId = getAzureLinkId(header);
  if (linkId !== null) view.azureLinkId = linkId;
  const psc = getGcpPscConnectionId(header);
  if (psc !== null) view.gcpPscConnectionId = psc.toString();
  // A vendor TLV counts as decoded only when its getter found its shape.
  const decoded = (type: number) =>
    DECODED.has(type) ||
    (type === TLV_TYPE.AWS && vpce !== null) ||
    (type === TLV_TYPE.AZURE && linkId !== null) ||
    (type === TLV_TYPE.GCP && psc !== null);
  const other = header.tlvs.filter((tlv) => !decoded(tlv.type));
  if (other.length > 0) {
    const { head, more } = listed(other);
    view.other = head.map(otherTlv);
    if (more > 0) view.otherNotShown = more;
  }
  return view as TlvView;
}

function otherTlv(tlv: Tlv): OtherTlv {
  const { value } = tlv;
  const hex = Buffer.from(
    value.buffer,
    value.byteOffset,
    Math.min(value.length, MAX_HEX_BYTES),
  ).toString('hex');
  return {
    type: `0x${tlv.type.toString(16).padStart(2, '0')}`,
    length: value.length,
    hex: value.length > MAX_HEX_BYTES ? `${hex}...(+${value.length - MAX_HEX_BYTES} bytes)` : hex,
  };
}

const SSL_FLAGS: ReadonlyArray<[number, string]> = [
  [0x01, 'ssl'],
  [0x02, 'cert-conn'],
  [0x04, 'cert-sess'],
];

function sslView(header: ProxyHeader): SslView | null {
  const ssl = getSsl(header);
  if (ssl === null) return null;
  const view: Record<string, unknown> = {
    client: SSL_FLAGS.filter(([bit]) => ssl.client & bit).map(([, name]) => name),
    verified: (ssl.client & 0x06) !== 0 && ssl.verify === 0,
  };
  for (const key of [
    'version',
    'cipher',
    'commonName',
    'signatureAlgorithm',
    'keyAlgorithm',
  ] as const) {
    const value = ssl[key];
    if (value !== null) view[key] = shown(value);
  }
  return view as unknown as SslView;
}

export interface TlvLogFields {
  readonly vpce?: string;
  readonly authority?: string;
}

const NO_TLV_FIELDS: TlvLogFields = {};

/**
 * What the `open` log line names of the TLVs: the VPC endpoint (PrivateLink traffic through an
 * NLB) and the authority (TLS SNI), cut as the answers cut them.
 */
export function tlvLogFields(header: ProxyHeader | null): TlvLogFields {
  if (header === null || header.tlvs.length === 0) return NO_TLV_FIELDS;
  const vpce = getAwsVpcEndpointId(header);
  const authority = getAuthority(header);
  if (vpce === null && authority === null) return NO_TLV_FIELDS;
  return {
    vpce: vpce === null ? undefined : shown(vpce),
    authority: authority === null ? undefined : shown(authority),
  };
}

/** One line per TLV for a person: `VPC endpoint vpce-…`, `ALPN h2`… (values not yet escaped). */
export function tlvPhrases(tlvs: TlvView): string[] {
  const out: string[] = [];
  if (tlvs.vpcEndpointId !== undefined) out.push(`VPC endpoint ${tlvs.vpcEndpointId}`);
  if (tlvs.authority !== undefined) out.push(`authority ${tlvs.authority}`);
  if (tlvs.alpn !== undefined) out.push(`ALPN ${tlvs.alpn}`);
  if (tlvs.azureLinkId !== undefined) out.push(`Azure LinkID ${tlvs.azureLinkId}`);
  if (tlvs.gcpPscConnectionId !== undefined)
    out.push(`GCP PSC connection ${tlvs.gcpPscConnectionId}`);
  return out;
}
