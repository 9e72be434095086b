// The public shapes of the PROXY protocol library: what a parse returns and what a build takes.

export type Protocol = 'TCP4' | 'TCP6' | 'UDP4' | 'UDP6' | 'UNIX_STREAM' | 'UNIX_DGRAM' | 'UNKNOWN';

export interface Endpoint {
  /** IPv4 dotted quad, IPv6 in RFC 5952 canonical text, or a UNIX socket path. */
  readonly address: string;
  /** 0..65535; 0 for UNIX sockets. */
  readonly port: number;
}

export interface Tlv {
  readonly type: number;
  /** A view into the parsed bytes (not a copy). */
  readonly value: Uint8Array;
}

export interface ProxyHeader {
  readonly version: 1 | 2;
  /** v1 is always 'proxy'; v2 LOCAL (health checks from the balancer itself) is 'local'. */
  readonly command: 'proxy' | 'local';
  readonly protocol: Protocol;
  /** The real client; null for v1 UNKNOWN, v2 LOCAL and v2 AF_UNSPEC: use the socket's peer. */
  readonly source: Endpoint | null;
  /** The address the client connected to (the load balancer's listener); null as for source. */
  readonly destination: Endpoint | null;
  /** v2 TLVs in wire order; always empty for v1. */
  readonly tlvs: readonly Tlv[];
}

/**
 * Why a header was refused: one stable code per cause a caller might act on (see
 * docs/library.md for the table). The `reason` beside it is for people and may change wording.
 */
export const PARSE_ERROR_CODES = [
  /** Neither the v1 `PROXY ` nor the v2 signature: not a PROXY protocol header at all. */
  'not-proxy',
  /** v1: the word after `PROXY ` is not TCP4, TCP6 or UNKNOWN. */
  'bad-v1-protocol',
  /** v1: a wrong byte, an empty or overlong field, or a missing single space between fields. */
  'bad-v1-field',
  /** v1: an address field that does not decode (`256.1.1.1`, `010.0.0.1`, `1:::`). */
  'bad-address',
  /** v1: an IPv4 address under TCP6 or an IPv6 address under TCP4. */
  'family-mismatch',
  /** v1: a port over 65535 or with a leading zero. */
  'bad-port',
  /** v1: a CR not followed by LF, or an LF without its CR. */
  'bad-line-end',
  /** v1: no CRLF within the first 107 bytes (or none can fit there any more). */
  'line-too-long',
  /** v2: the version nibble of byte 12 is not 2. */
  'bad-v2-version',
  /** v2: the command nibble of byte 12 is neither LOCAL nor PROXY. */
  'bad-v2-command',
  /** v2 PROXY: byte 13 is not one of the seven defined family/transport pairs. */
  'bad-family',
  /** v2: the declared length is shorter than the family's address block. */
  'short-address-block',
  /** v2: the whole header would exceed maxV2HeaderSize. */
  'header-too-large',
  /** v2: a TLV (or an SSL sub-TLV) runs past the end of its header (or SSL TLV). */
  'tlv-overrun',
  /** v2: a TLV breaks its own rules (CRC32C not 4 bytes or twice, UNIQUE_ID over 128, short SSL). */
  'bad-tlv',
  /** v2: the CRC32C TLV does not match the header. */
  'crc32c-mismatch',
  /** v2 PROXY: no CRC32C TLV, and the options require one. */
  'crc32c-missing',
] as const;

export type ParseErrorCode = (typeof PARSE_ERROR_CODES)[number];

export type ParseResult =
  | { readonly status: 'ok'; readonly header: ProxyHeader; readonly length: number }
  | { readonly status: 'incomplete' }
  | { readonly status: 'invalid'; readonly code: ParseErrorCode; readonly reason: string };

/** What buildProxyHeader takes: a header as parsed, where `tlvs` may be left out. */
export interface ProxyHeaderInit {
  readonly version: 1 | 2;
  readonly command: 'proxy' | 'local';
  readonly protocol: Protocol;
  readonly source?: Endpoint | null;
  readonly destination?: Endpoint | null;
  /** v2 only; a v1 header with TLVs is refused. */
  readonly tlvs?: readonly Tlv[];
}

export interface BuildOptions {
  /** v2: fill in the CRC32C TLV of `tlvs`, appending one if there is none. Default false. */
  readonly crc32c?: boolean;
}

export interface ParseOptions {
  /** Largest v2 header accepted (16-byte prefix + declared length), in bytes, 16..65551. Default 4096. */
  readonly maxV2HeaderSize?: number;
  /** 'verify' (default): a CRC32C TLV must match; 'require': and must be present; 'ignore'. */
  readonly crc32c?: 'verify' | 'require' | 'ignore';
}
