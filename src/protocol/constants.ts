// Fixed numbers of the PROXY protocol (HAProxy's doc/proxy-protocol.txt, §2.1 and §2.2).

/** "PROXY ": the first 6 bytes of every v1 line. */
export const V1_SIGNATURE: Uint8Array = Uint8Array.of(0x50, 0x52, 0x4f, 0x58, 0x59, 0x20);

/** "\r\n\r\n\0\r\nQUIT\n": the first 12 bytes of every v2 header. */
export const V2_SIGNATURE: Uint8Array = Uint8Array.of(
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
);

/** Signature, version/command, family/transport and the 16-bit length. */
export const V2_PREFIX_LENGTH = 16;

/** The longest v1 line, CRLF included (UNKNOWN + two full IPv6 + two 5-digit ports). */
export const V1_MAX_LENGTH = 107;

/** The longest IPv6 text a v1 field may hold: `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`. */
export const IPV6_MAX_TEXT = 45;

/** Default cap on a whole v2 header (prefix + declared length), as go-proxyproto's 4 KiB. */
export const DEFAULT_MAX_V2_HEADER_SIZE = 4096;

/** The largest v2 header the 16-bit length field can describe. */
export const V2_MAX_HEADER_SIZE = V2_PREFIX_LENGTH + 0xffff;

/** Bytes of a UNIX path field in a v2 address block (as sun_path). */
export const UNIX_PATH_LENGTH = 108;

/** v2 command nibble (low half of byte 12). */
export const COMMAND_LOCAL = 0x0;
export const COMMAND_PROXY = 0x1;

/** v2 TLV types (§2.2.1–2.2.7) and the vendor types of AWS, Azure and Google Cloud. */
export const TLV_TYPE = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  SSL_VERSION: 0x21,
  SSL_CN: 0x22,
  SSL_CIPHER: 0x23,
  SSL_SIG_ALG: 0x24,
  SSL_KEY_ALG: 0x25,
  NETNS: 0x30,
  AWS: 0xea,
  AZURE: 0xee,
  GCP: 0xe0,
} as const;

/** Subtype (first value byte) of the AWS TLV carrying the VPC endpoint id. */
export const AWS_SUBTYPE_VPC_ENDPOINT_ID = 0x01;

/** Subtype (first value byte) of the Azure TLV carrying the private endpoint's LinkID. */
export const AZURE_SUBTYPE_LINK_ID = 0x01;

/** The spec caps UNIQUE_ID values at 128 bytes. */
export const UNIQUE_ID_MAX_LENGTH = 128;

/** SSL TLV value: 1 byte of client flags and a 4-byte verify result precede the sub-TLVs. */
export const SSL_FIXED_LENGTH = 5;
