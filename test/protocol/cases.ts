// Valid headers shared by the table tests and the property tests: wire bytes and what they mean.
import type { Endpoint, Protocol, ProxyHeader, ProxyHeaderInit, Tlv } from '../../src/protocol/index.ts';

export interface ValidCase {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly header: ProxyHeader;
}

export const text = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));

export const V2_SIG = '0d0a0d0a000d0a515549540a';
const tcp = (protocol: 'TCP4' | 'TCP6', src: string, sport: number, dst: string, dport: number): ProxyHeader => ({
  version: 1,
  command: 'proxy',
  protocol,
  source: { address: src, port: sport },
  destination: { address: dst, port: dport },
  tlvs: [],
});
/** A v2 PROXY header with addresses, as `address port` pairs. */
const proxied = (protocol: Protocol, source: [string, number], destination: [string, number], tlvs: Tlv[] = []): ProxyHeader => ({
  version: 2,
  command: 'proxy',
  protocol,
  source: { address: source[0], port: source[1] },
  destination: { address: destination[0], port: destination[1] },
  tlvs,
});
const v1Unknown: ProxyHeader = { version: 1, command: 'proxy', protocol: 'UNKNOWN', source: null, destination: null, tlvs: [] };
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
    bytes: text('PROXY TCP6 2001:DB8::21f:5bff:febf:ce22:8a2e 2001:0db8:0000:0000:0000:0000:0000:0001 35646 80\r\n'),
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
  { name: 'UNKNOWN at the 107-byte limit', bytes: text(`PROXY UNKNOWN ${'x'.repeat(91)}\r\n`), header: v1Unknown },
];

const aws = '01' + Buffer.from('vpce-08d2bf15fefb1a2fa').toString('hex');

export const V2_CASES: readonly ValidCase[] = [
  {
    name: 'NLB TCP4 with the AWS VPC endpoint TLV',
    bytes: hex(`${V2_SIG} 21 11 0026  c0000201 0a000b0f  b16a 1388  ea 0017 ${aws}`),
    header: proxied('TCP4', ['192.0.2.1', 45418], ['10.0.11.15', 5000], [{ type: 0xea, value: hex(aws) }]),
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
    header: { version: 2, command: 'local', protocol: 'UNKNOWN', source: null, destination: null, tlvs: [] },
  },
  {
    name: 'LOCAL whose contents are not TLVs is skipped whole',
    bytes: hex(`${V2_SIG} 20 21 0005 ffffffff01`),
    header: { version: 2, command: 'local', protocol: 'TCP6', source: null, destination: null, tlvs: [] },
  },
  {
    name: 'PROXY UNSPEC with a TLV: no addresses',
    bytes: hex(`${V2_SIG} 21 00 0005 01 0002 6832`),
    header: { version: 2, command: 'proxy', protocol: 'UNKNOWN', source: null, destination: null, tlvs: [{ type: 1, value: text('h2') }] },
  },
  {
    name: 'TCP6',
    bytes: hex(`${V2_SIG} 21 21 0024 20010db8000000000000000000000001 00000000000000000000ffffc0000201 0050 01bb`),
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
    bytes: hex(`${V2_SIG} 21 32 00d8 ${Buffer.from('p'.repeat(108)).toString('hex')} ${unixField('')}`),
    header: proxied('UNIX_DGRAM', ['p'.repeat(108), 0], ['', 0]),
  },
  {
    name: 'TCP4 with ALPN, AUTHORITY, UNIQUE_ID of 128 bytes, SSL with sub-TLVs, NETNS and an unknown type',
    bytes: hex(
      `${V2_SIG} 21 11 ${(12 + 5 + 14 + 131 + 21 + 4 + 3).toString(16).padStart(4, '0')} 01020304 05060708 0001 0002` +
        `01 0002 6832  02 000b ${Buffer.from('example.com').toString('hex')}  05 0080 ${'ab'.repeat(128)}` +
        `20 0012 07 00000000 21 0007 ${Buffer.from('TLSv1.3').toString('hex')} 22 0000  30 0001 6e  f7 0000`,
    ),
    header: proxied('TCP4', ['1.2.3.4', 1], ['5.6.7.8', 2], [
      { type: 0x01, value: text('h2') },
      { type: 0x02, value: text('example.com') },
      { type: 0x05, value: new Uint8Array(128).fill(0xab) },
      { type: 0x20, value: hex(`07 00000000 21 0007 ${Buffer.from('TLSv1.3').toString('hex')} 22 0000`) },
      { type: 0x30, value: text('n') },
      { type: 0xf7, value: new Uint8Array(0) },
    ]),
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
  const endpoint = (e: Endpoint | null | undefined) => (e == null ? null : { address: e.address, port: e.port });
  return {
    version: header.version,
    command: header.command,
    protocol: header.protocol,
    source: endpoint(header.source),
    destination: endpoint(header.destination),
    tlvs: (header.tlvs ?? []).map(({ type, value }) => ({ type, value: Uint8Array.from(value) })),
  };
}
