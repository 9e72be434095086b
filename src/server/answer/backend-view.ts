// What the backend saw of one connection: who the client is, which balancer node it came
// through, what it connected to, and what the PROXY header said. A plain object of strings,
// made once from the parsed header (whose lazy fields read the received bytes), so it can
// outlive those bytes; the greeting and the HTTP answers render it.
//
// Every value a peer chose (TLV text, and in the answers the request's parts) is shown cut to
// MAX_SHOWN characters with its full length said (`shown`), and lists to MAX_LISTED entries: a
// view, and so an answer or a greeting, stays small whatever the header carried.
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
import { cutAt } from '../../log-escape.ts';
import { formatEndpoint } from '../address-text.ts';
import type { ServerIdentity } from './identity.ts';

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

export interface ProxyView {
  readonly version: 1 | 2;
  readonly command: 'proxy' | 'local';
  readonly protocol: string;
  readonly tlvs: TlvView;
}

/** A client certificate presented on our own TLS hop (asked for with --tls-client-ca). */
export interface ClientCertificateView {
  readonly subject: string;
  readonly issuer: string;
  /** SHA-256 fingerprint, colon-separated hex. */
  readonly sha256: string;
  /** True when it chains to --tls-client-ca (and is in date). */
  readonly verified: boolean;
  /** Why it did not verify (OpenSSL's code), when it did not. */
  readonly problem?: string;
}

/**
 * TLS between the sender of the connection (the balancer, or the client itself) and this
 * server. Not the client's TLS at a balancer that terminated it: that is the header's `ssl` TLV.
 */
export interface TlsView {
  readonly version: string;
  readonly cipher: string;
  /** The server name the client asked for (SNI), when it sent one. */
  readonly sni?: string;
  /** The protocol agreed with ALPN, when the client offered it. */
  readonly alpn?: string;
  readonly clientCertificate?: ClientCertificateView;
}

export interface BackendView {
  /** Which backend answered. */
  readonly server: ServerIdentity;
  /** The real client: the header's source, else the TCP peer. */
  readonly client: string;
  /** The TCP peer (the balancer node when a header is used). */
  readonly via: string;
  /** What the client connected to: the header's destination, else this socket's own address. */
  readonly destination: string | null;
  /** null: the connection had no PROXY header. */
  readonly proxy: ProxyView | null;
  /** The TLS of this connection's own hop, when it is served over TLS. */
  readonly tls?: TlsView;
}

/** Longest value shown as received; a longer one is cut and its length said. */
export const MAX_SHOWN = 256;
/** Most entries of a list shown (TLV types, request headers); the rest are counted. */
export const MAX_LISTED = 32;
/** Most bytes of an undecoded TLV's value shown in hex (twice as many characters). */
export const MAX_HEX_BYTES = 64;

/**
 * `value` as shown to a client: as is up to MAX_SHOWN characters, else its start and how many
 * characters were left out, marked as the log marks a value it cuts. (Not yet escaped: each rendering escapes in its own way, at most 6 characters each.)
 */
export function shown(value: string): string {
  if (value.length <= MAX_SHOWN) return value;
  // Never half of a surrogate pair at the cut.
  const cut = isHighSurrogate(value.charCodeAt(MAX_SHOWN - 1)) ? MAX_SHOWN - 1 : MAX_SHOWN;
  return cutAt(value, cut);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** The first MAX_LISTED of `items`, and how many more there were. */
export function listed<T>(items: readonly T[]): {
  readonly head: readonly T[];
  readonly more: number;
} {
  return items.length <= MAX_LISTED
    ? { head: items, more: 0 }
    : { head: items.slice(0, MAX_LISTED), more: items.length - MAX_LISTED };
}

export interface ViewInput {
  readonly server: ServerIdentity;
  readonly header: ProxyHeader | null;
  /** The TCP peer as text. */
  readonly peer: string;
  /** This socket's local address as text, when known. */
  readonly local: string | null;
  /** Our own hop's TLS; null: in clear. */
  readonly tls?: TlsView | null;
}

export function backendView({ server, header, peer, local, tls }: ViewInput): BackendView {
  const source = header?.source ?? null;
  const destination = header?.destination ?? null;
  const unix = header?.protocol.startsWith('UNIX') === true;
  return {
    server,
    client: source === null ? peer : formatEndpoint(source.address, source.port, unix),
    via: peer,
    destination:
      destination === null ? local : formatEndpoint(destination.address, destination.port, unix),
    proxy:
      header === null
        ? null
        : {
            version: header.version,
            command: header.command,
            protocol: header.protocol,
            tlvs: tlvView(header),
          },
    ...(tls == null ? {} : { tls }),
  };
}

const DECODED: ReadonlySet<number> = new Set([
  TLV_TYPE.ALPN,
  TLV_TYPE.AUTHORITY,
  TLV_TYPE.CRC32C,
  TLV_TYPE.NOOP,
  TLV_TYPE.UNIQUE_ID,
  TLV_TYPE.SSL,
  TLV_TYPE.NETNS,
]);

function tlvView(header: ProxyHeader): TlvView {
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

/** Our own hop's TLS in a few words: `TLSv1.3 TLS_AES_256_GCM_SHA384, SNI localhost, …`. */
export function tlsPhrase(tls: TlsView): string {
  const parts = [`${tls.version} ${tls.cipher}`];
  if (tls.sni !== undefined) parts.push(`SNI ${tls.sni}`);
  if (tls.alpn !== undefined) parts.push(`ALPN ${tls.alpn}`);
  const cert = tls.clientCertificate;
  if (cert !== undefined) parts.push(certificatePhrase(cert));
  return parts.join(', ');
}

/** A client certificate, saying plainly whether it verified. */
export function certificatePhrase(cert: ClientCertificateView): string {
  const verdict = cert.verified ? 'verified' : `NOT verified (${cert.problem ?? 'unknown'})`;
  return `client certificate ${cert.subject} from ${cert.issuer}, sha256 ${cert.sha256}, ${verdict}`;
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
