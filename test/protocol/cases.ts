// Valid headers shared by the table tests and the property tests: wire bytes and what they mean.
import type {
  Endpoint,
  ParseErrorCode,
  Protocol,
  ProxyHeader,
  ProxyHeaderInit,
  Tlv,
} from '../../src/protocol/index.ts';

export interface ValidCase {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly header: ProxyHeader;
}

export const text = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
export const hex = (s: string): Uint8Array =>
  Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));

export const V2_SIG = '0d0a0d0a000d0a515549540a';
const tcp = (
  protocol: 'TCP4' | 'TCP6',
  src: string,
  sport: number,
  dst: string,
  dport: number,
): ProxyHeader => ({
  version: 1,
  command: 'proxy',
  protocol,
  source: { address: src, port: sport },
  destination: { address: dst, port: dport },
  tlvs: [],
});
/** A v2 PROXY header with addresses, as `address port` pairs. */
const proxied = (
  protocol: Protocol,
  source: [string, number],
  destination: [string, number],
  tlvs: Tlv[] = [],
): ProxyHeader => ({
  version: 2,
  command: 'proxy',
  protocol,
  source: { address: source[0], port: source[1] },
  destination: { address: destination[0], port: destination[1] },
  tlvs,
});
const v1Unknown: ProxyHeader = {
  version: 1,
  command: 'proxy',
  protocol: 'UNKNOWN',
  source: null,
  destination: null,
  tlvs: [],
};
const full6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';

export const V1_CASES: readonly ValidCase[] = [
  {
    name: 'Classic ELB TCP4 line',
    bytes: text('PROXY TCP4 54.222.152.163 10.0.11.239 45418 5000\r\n'),
    header: tcp('TCP4', '54.222.152.163', 45418, '10.0.11.239', 5000),
  },
  {
    name: 'extreme IPv4 addresses and ports',
    bytes: text('PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n'),
    header: tcp('TCP4', '0.0.0.0', 0, '255.255.255.255', 65535),
  },
  {
    name: "AWS guide's upper-case TCP6 with :: for one group",
    bytes: text(
      'PROXY TCP6 2001:DB8::21f:5bff:febf:ce22:8a2e 2001:0db8:0000:0000:0000:0000:0000:0001 35646 80\r\n',
    ),
    header: tcp('TCP6', '2001:db8:0:21f:5bff:febf:ce22:8a2e', 35646, '2001:db8::1', 80),
  },
  {
    name: 'TCP6 with an IPv4-mapped dotted tail and its hex form',
    bytes: text('PROXY TCP6 ::ffff:192.0.2.1 ::FFFF:c000:0201 1 2\r\n'),
    header: tcp('TCP6', '::ffff:192.0.2.1', 1, '::ffff:192.0.2.1', 2),
  },
  {
    name: 'TCP6 :: alone and the longest zero run compressed',
    bytes: text('PROXY TCP6 :: 1:0:0:2:0:0:0:3 443 8443\r\n'),
    header: tcp('TCP6', '::', 443, '1:0:0:2::3', 8443),
  },
  {
    name: 'the longest TCP6 line (104 bytes)',
    bytes: text(`PROXY TCP6 ${full6} ${full6} 65535 65535\r\n`),
    header: tcp('TCP6', full6, 65535, full6, 65535),
  },
  { name: 'UNKNOWN short form', bytes: text('PROXY UNKNOWN\r\n'), header: v1Unknown },
  {
    name: 'UNKNOWN with the rest of a TCP6 line (ignored)',
    bytes: text(`PROXY UNKNOWN ${full6} ${full6} 65535 65535\r\n`),
    header: v1Unknown,
  },
  {
    name: 'UNKNOWN at the 107-byte limit',
    bytes: text(`PROXY UNKNOWN ${'x'.repeat(91)}\r\n`),
    header: v1Unknown,
  },
];

const line = (s: string) => text(`PROXY ${s}\r\n`);
/** Invalid input: name, bytes, the code the parser must give, and its reason where the wording matters. */
export type InvalidCase = readonly [string, Uint8Array, ParseErrorCode, RegExp?];

/** Invalid v1 input. */
export const V1_INVALID: readonly InvalidCase[] = [
  [
    'lower-case prefix',
    text('proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n'),
    'not-proxy',
    /^not a PROXY protocol header: first byte 'p'/,
  ],
  ['misspelt prefix', text('PROXZ TCP4'), 'not-proxy', /^v1: expected "PROXY " but byte 4 is 'Z'/],
  [
    'double space after PROXY',
    line(' TCP4 1.2.3.4 5.6.7.8 1 2'),
    'bad-v1-protocol',
    /^v1: protocol must be TCP4, TCP6 or UNKNOWN; byte 6 is ' ' \(0x20\)/,
  ],
  ['lower-case protocol', line('tcp4 1.2.3.4 5.6.7.8 1 2'), 'bad-v1-protocol'],
  [
    'UDP4 in v1',
    line('UDP4 1.2.3.4 5.6.7.8 1 2'),
    'bad-v1-protocol',
    /^v1: protocol must be .* byte 6 is 'U'|byte 7/,
  ],
  [
    'TCP5',
    line('TCP5 1.2.3.4 5.6.7.8 1 2'),
    'bad-v1-protocol',
    /^v1: protocol must be .*byte 9 is '5'/,
  ],
  [
    'tab instead of space',
    line('TCP4 1.2.3.4\t5.6.7.8 1 2'),
    'bad-v1-field',
    /^v1: unexpected 0x09 in source address at byte 18/,
  ],
  [
    'two spaces between addresses',
    line('TCP4 1.2.3.4  5.6.7.8 1 2'),
    'bad-v1-field',
    /^v1: empty destination address at byte 19/,
  ],
  ['trailing space before CRLF', line('TCP4 1.2.3.4 5.6.7.8 1 2 '), 'bad-v1-field'],
  [
    'leading zero in an octet',
    line('TCP4 1.2.3.04 5.6.7.8 1 2'),
    'bad-address',
    /^v1: source address 1\.2\.3\.04 has a leading zero/,
  ],
  ['octet 256', line('TCP4 1.2.3.4 5.6.7.256 1 2'), 'bad-address'],
  ['three octets', line('TCP4 1.2.3 5.6.7.8 1 2'), 'bad-address'],
  ['five octets', line('TCP4 1.2.3.4.5 5.6.7.8 1 2'), 'bad-address'],
  ['empty octet', line('TCP4 1..3.4 5.6.7.8 1 2'), 'bad-address'],
  ['IPv6 under TCP4', line('TCP4 ::1 5.6.7.8 1 2'), 'family-mismatch'],
  ['IPv4 under TCP6', line('TCP6 1.2.3.4 ::1 1 2'), 'family-mismatch'],
  ['IPv6 zone id', line('TCP6 fe80::1%eth0 ::1 1 2'), 'bad-v1-field'],
  ['IPv6 in brackets', line('TCP6 [::1] ::1 1 2'), 'bad-v1-field'],
  ['IPv6 with two ::', line('TCP6 1::2::3 ::1 1 2'), 'bad-address'],
  ['IPv6 with nine groups', line('TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2'), 'bad-address'],
  ['IPv6 with seven groups', line('TCP6 1:2:3:4:5:6:7 ::1 1 2'), 'bad-address'],
  [':: for no group at all', line('TCP6 1:2:3:4::5:6:7:8 ::1 1 2'), 'bad-address'],
  ['IPv6 group of 5 digits', line('TCP6 12345::1 ::1 1 2'), 'bad-address'],
  ['IPv6 lone leading colon', line('TCP6 :1:2:3:4:5:6:7 ::1 1 2'), 'bad-address'],
  ['IPv6 lone trailing colon', line('TCP6 1:2:3:4:5:6:7: ::1 1 2'), 'bad-address'],
  ['IPv4 tail not at the end', line('TCP6 ::1.2.3.4:5 ::1 1 2'), 'bad-address'],
  [
    'IPv6 field longer than any address',
    line(`TCP6 ${'0'.repeat(46)} ::1 1 2`),
    'bad-address',
    /^v1: source address 0{46} is not a valid IPv6 address$/,
  ],
  ['port 65536', line('TCP4 1.2.3.4 5.6.7.8 65536 2'), 'bad-port'],
  ['port 99999', line('TCP4 1.2.3.4 5.6.7.8 1 99999'), 'bad-port'],
  [
    'port with a leading zero',
    line('TCP4 1.2.3.4 5.6.7.8 080 2'),
    'bad-port',
    /^v1: source port 080 has a leading zero/,
  ],
  [
    'port 00',
    line('TCP4 1.2.3.4 5.6.7.8 1 00'),
    'bad-port',
    /^v1: destination port 00 has a leading zero/,
  ],
  ['signed port', line('TCP4 1.2.3.4 5.6.7.8 +1 2'), 'bad-v1-field'],
  ['hex port', line('TCP4 1.2.3.4 5.6.7.8 0x50 2'), 'bad-v1-field'],
  ['six-digit port', line('TCP4 1.2.3.4 5.6.7.8 000001 2'), 'bad-port'],
  ['a field missing', line('TCP4 1.2.3.4 5.6.7.8 1'), 'bad-v1-field'],
  ['a field too many', line('TCP4 1.2.3.4 5.6.7.8 1 2 3'), 'bad-v1-field'],
  ['LF alone', text('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'), 'bad-v1-field'],
  [
    'CR without LF',
    text('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX'),
    'bad-line-end',
    /^v1: carriage return not followed by line feed at byte 30/,
  ],
  ['CR CR LF', text('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n'), 'bad-line-end'],
  [
    'UNKNOWN glued to text',
    text('PROXY UNKNOWNX\r\n'),
    'bad-v1-field',
    /^v1: expected a space or CRLF after UNKNOWN but byte 13 is 'X'/,
  ],
  [
    'UNKNOWN with a bare CR inside',
    text('PROXY UNKNOWN a\rb\r\n'),
    'bad-line-end',
    /^v1: carriage return not followed by line feed at byte 15/,
  ],
  [
    'UNKNOWN with a bare LF inside',
    text('PROXY UNKNOWN a\nb\r\n'),
    'bad-line-end',
    /^v1: line feed without carriage return at byte 15/,
  ],
  [
    'UNKNOWN of 108 bytes',
    text(`PROXY UNKNOWN ${'x'.repeat(92)}\r\n`),
    'line-too-long',
    /^v1: no CRLF within the first 107 bytes$/,
  ],
  [
    'UNKNOWN with CR as byte 107',
    text(`PROXY UNKNOWN ${'x'.repeat(92)}\r`),
    'line-too-long',
    /^v1: no CRLF within the first 107 bytes$/,
  ],
];

const prefix = (s: string) => text(`PROXY ${s}`);
/** Starts of v1 lines whose last byte makes a field impossible, and the code for it. */
export const V1_IMPOSSIBLE_STARTS: readonly InvalidCase[] = [
  ['octet over 255', prefix('TCP4 256'), 'bad-address'],
  [
    'octet with a leading zero',
    prefix('TCP4 01'),
    'bad-address',
    /^v1: source address 01 has a leading zero$/,
  ],
  ['a dot after the fourth octet', prefix('TCP4 1.2.3.4.'), 'bad-address'],
  ['an empty octet', prefix('TCP4 1..'), 'bad-address'],
  ['a colon under TCP4', prefix('TCP4 1.2.3.4 :'), 'family-mismatch'],
  [
    'a colon after a dotted start under TCP4',
    prefix('TCP4 1.0:'),
    'bad-address',
    /^v1: source address 1\.0: is not a valid IPv4 address$/,
  ],
  ['port over 65535', prefix('TCP4 1.2.3.4 5.6.7.8 65536'), 'bad-port'],
  [
    'source port with a leading zero',
    prefix('TCP4 1.2.3.4 5.6.7.8 08'),
    'bad-port',
    /^v1: source port 08 has a leading zero$/,
  ],
  [
    'destination port with a leading zero',
    prefix('TCP4 1.2.3.4 5.6.7.8 1 00'),
    'bad-port',
    /^v1: destination port 00 has a leading zero$/,
  ],
  ['destination port over 65535', prefix('TCP6 ::1 ::2 1 65540'), 'bad-port'],
  ['a third colon in a row', prefix('TCP6 1:::'), 'bad-address'],
  ['an IPv6 group of 5 hex digits', prefix('TCP6 12345'), 'bad-address'],
  ['a 5-digit group after a colon', prefix('TCP6 1:abcde'), 'bad-address'],
  ['a second ::', prefix('TCP6 1::2::'), 'bad-address'],
  [
    'a colon after eight groups (room for a ninth)',
    prefix('TCP6 ::1 1:2:3:4:5:6:7:8:'),
    'bad-address',
  ],
  ['a colon after seven groups and a ::', prefix('TCP6 1::2:3:4:5:6:7:'), 'bad-address'],
  ['a dotted IPv4 start under TCP6', prefix('TCP6 1.'), 'family-mismatch'],
  ['an IPv4 tail octet over 255', prefix('TCP6 ::ffff:1.256'), 'bad-address'],
];

export const LONG_FORM = '0000:0000:0000:0000:0000:0000:255.255.255.255'; // 45 bytes: as long as IPv6 text gets

/**
 * Invalid lines, each as its shortest invalid prefix and the rest: the whole line must get the
 * prefix's code, decided at the prefix's last byte whatever follows it. One row per way the rest
 * could suggest another code; the name says which.
 */
export const V1_SPLIT_CASES: readonly (readonly [
  string,
  Uint8Array,
  Uint8Array,
  ParseErrorCode,
])[] = [
  [
    'octet over 255, then a colon (not family-mismatch)',
    prefix('TCP4 203.0.1130'),
    text(':1 10.0.0.5 1 2\r\n'),
    'bad-address',
  ],
  [
    'octet with a leading zero, then a colon (not family-mismatch)',
    prefix('TCP4 00'),
    text('00:0000 10.0.0.5 1 2\r\n'),
    'bad-address',
  ],
  [
    'octet over 255, then a letter (not bad-v1-field)',
    prefix('TCP4 10.0.0.256'),
    text('x 10.0.0.5 1 2\r\n'),
    'bad-address',
  ],
  [
    'a dot first, then a letter (not bad-v1-field)',
    prefix('TCP4 .'),
    text('P0.0.0 10.0.0.5 1 2\r\n'),
    'bad-address',
  ],
  [
    'a colon after a dotted start under TCP4, then a stray byte (not bad-v1-field)',
    prefix('TCP4 10.0:'),
    text('& 10.0.0.5 1 2\r\n'),
    'bad-address',
  ],
  [
    'an IPv6 address with letters under TCP4 (not bad-v1-field)',
    prefix('TCP4 1:'),
    text('db8::1 10.0.0.5 1 2\r\n'),
    'family-mismatch',
  ],
  [
    'a five-digit run under TCP6, then a colon (not family-mismatch)',
    prefix('TCP6 20010'),
    text(':db8::1 ::1 1 2\r\n'),
    'bad-address',
  ],
  [
    'a five-digit run under TCP6, then a stray byte (not bad-v1-field)',
    prefix('TCP6 20010'),
    text('/db8::1 ::1 1 2\r\n'),
    'bad-address',
  ],
  [
    'a dot first under TCP6 (not family-mismatch)',
    prefix('TCP6 .'),
    text('::ffff:192.0.2.1 ::1 1 2\r\n'),
    'bad-address',
  ],
  [
    'a port with a leading zero, then a lone LF (not bad-v1-field)',
    prefix('TCP4 203.0.113.7 10.0.0.5 51000 00'),
    text('\n'),
    'bad-port',
  ],
  [
    'a port over 65535, then a stray byte (not bad-v1-field)',
    prefix('TCP4 1.2.3.4 5.6.7.8 1 65536'),
    text('!\r\n'),
    'bad-port',
  ],
  [
    'no room left for the ports, then one port missing (not bad-v1-field)',
    prefix(`TCP6 ${LONG_FORM} ${LONG_FORM}`),
    text(' 1\r\n'),
    'line-too-long',
  ],
  [
    'no room left for the ports, then the address goes on (not bad-address)',
    prefix(`TCP6 ${LONG_FORM} ${LONG_FORM}`),
    text('1 1 1\r\n'),
    'line-too-long',
  ],
];

const aws = `01${Buffer.from('vpce-08d2bf15fefb1a2fa').toString('hex')}`;

export const V2_CASES: readonly ValidCase[] = [
  {
    name: 'NLB TCP4 with the AWS VPC endpoint TLV',
    bytes: hex(`${V2_SIG} 21 11 0026  c0000201 0a000b0f  b16a 1388  ea 0017 ${aws}`),
    header: proxied(
      'TCP4',
      ['192.0.2.1', 45418],
      ['10.0.11.15', 5000],
      [{ type: 0xea, value: hex(aws) }],
    ),
  },
  {
    name: 'captured NLB health check: LOCAL, family 0x11, CRC32C and NOOP TLVs',
    bytes: hex(`${V2_SIG} 20 11 0054 030004 bce5951f 04004a ${'00'.repeat(74)}`),
    header: {
      version: 2,
      command: 'local',
      protocol: 'TCP4',
      source: null,
      destination: null,
      tlvs: [
        { type: 0x03, value: hex('bce5951f') },
        { type: 0x04, value: new Uint8Array(74) },
      ],
    },
  },
  {
    name: 'HAProxy health check: LOCAL UNSPEC, empty',
    bytes: hex(`${V2_SIG} 20 00 0000`),
    header: {
      version: 2,
      command: 'local',
      protocol: 'UNKNOWN',
      source: null,
      destination: null,
      tlvs: [],
    },
  },
  {
    name: 'LOCAL whose contents are not TLVs is skipped whole',
    bytes: hex(`${V2_SIG} 20 21 0005 ffffffff01`),
    header: {
      version: 2,
      command: 'local',
      protocol: 'TCP6',
      source: null,
      destination: null,
      tlvs: [],
    },
  },
  {
    name: 'PROXY UNSPEC with a TLV: no addresses',
    bytes: hex(`${V2_SIG} 21 00 0005 01 0002 6832`),
    header: {
      version: 2,
      command: 'proxy',
      protocol: 'UNKNOWN',
      source: null,
      destination: null,
      tlvs: [{ type: 1, value: text('h2') }],
    },
  },
  {
    name: 'TCP6',
    bytes: hex(
      `${V2_SIG} 21 21 0024 20010db8000000000000000000000001 00000000000000000000ffffc0000201 0050 01bb`,
    ),
    header: proxied('TCP6', ['2001:db8::1', 80], ['::ffff:192.0.2.1', 443]),
  },
  {
    name: 'UDP4',
    bytes: hex(`${V2_SIG} 21 12 000c 7f000001 7f000002 0035 0035`),
    header: proxied('UDP4', ['127.0.0.1', 53], ['127.0.0.2', 53]),
  },
  {
    name: 'UDP6',
    bytes: hex(`${V2_SIG} 21 22 0024 ${'00'.repeat(15)}01 fe80${'00'.repeat(12)}0001 ffff 0000`),
    header: proxied('UDP6', ['::1', 65535], ['fe80::1', 0]),
  },
  {
    name: 'UNIX stream with paths',
    bytes: hex(`${V2_SIG} 21 31 00d8 ${unixField('/run/a.sock')} ${unixField('/run/b.sock')}`),
    header: proxied('UNIX_STREAM', ['/run/a.sock', 0], ['/run/b.sock', 0]),
  },
  {
    name: 'UNIX datagram with a full 108-byte path',
    bytes: hex(
      `${V2_SIG} 21 32 00d8 ${Buffer.from('p'.repeat(108)).toString('hex')} ${unixField('')}`,
    ),
    header: proxied('UNIX_DGRAM', ['p'.repeat(108), 0], ['', 0]),
  },
  {
    name: 'TCP4 with ALPN, AUTHORITY, UNIQUE_ID of 128 bytes, SSL with sub-TLVs, NETNS and an unknown type',
    bytes: hex(
      `${V2_SIG} 21 11 ${(12 + 5 + 14 + 131 + 21 + 4 + 3).toString(16).padStart(4, '0')} 01020304 05060708 0001 0002` +
        `01 0002 6832  02 000b ${Buffer.from('example.com').toString('hex')}  05 0080 ${'ab'.repeat(128)}` +
        `20 0012 07 00000000 21 0007 ${Buffer.from('TLSv1.3').toString('hex')} 22 0000  30 0001 6e  f7 0000`,
    ),
    header: proxied(
      'TCP4',
      ['1.2.3.4', 1],
      ['5.6.7.8', 2],
      [
        { type: 0x01, value: text('h2') },
        { type: 0x02, value: text('example.com') },
        { type: 0x05, value: new Uint8Array(128).fill(0xab) },
        {
          type: 0x20,
          value: hex(`07 00000000 21 0007 ${Buffer.from('TLSv1.3').toString('hex')} 22 0000`),
        },
        { type: 0x30, value: text('n') },
        { type: 0xf7, value: new Uint8Array(0) },
      ],
    ),
  },
];

function unixField(path: string): string {
  const field = Buffer.alloc(108);
  field.write(path);
  return field.toString('hex');
}

export const VALID_CASES: readonly ValidCase[] = [...V1_CASES, ...V2_CASES];

/**
 * The fields of a header as a plain object, TLV values as plain Uint8Array copies, to compare it
 * with uvu's assert.equal (parsed headers are lazy: their fields are getters).
 */
export function plain(header: ProxyHeaderInit): ProxyHeader {
  const endpoint = (e: Endpoint | null | undefined) =>
    e == null ? null : { address: e.address, port: e.port };
  return {
    version: header.version,
    command: header.command,
    protocol: header.protocol,
    source: endpoint(header.source),
    destination: endpoint(header.destination),
    tlvs: (header.tlvs ?? []).map(({ type, value }) => ({ type, value: Uint8Array.from(value) })),
  };
}
