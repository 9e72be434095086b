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

export type ParseResult =
  | { readonly status: 'ok'; readonly header: ProxyHeader; readonly length: number }
  | { readonly status: 'incomplete' }
  | { readonly status: 'invalid'; readonly reason: string };

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
