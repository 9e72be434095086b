import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildProxyHeader, parseProxyHeader } from '../../src/protocol/index.ts';
import type { ProxyHeaderInit } from '../../src/protocol/index.ts';
import { V2_CASES, hex, V2_SIG } from './cases.ts';

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');
const tcp = (
  version: 1 | 2,
  protocol: 'TCP4' | 'TCP6',
  src: string,
  dst: string,
): ProxyHeaderInit => ({
  version,
  command: 'proxy',
  protocol,
  source: { address: src, port: 45418 },
  destination: { address: dst, port: 5000 },
});

const v1 = suite('v1 lines');
v1('the Classic ELB line', () => {
  assert.is(
    latin1(buildProxyHeader(tcp(1, 'TCP4', '54.222.152.163', '10.0.11.239'))),
    'PROXY TCP4 54.222.152.163 10.0.11.239 45418 5000\r\n',
  );
});
v1('IPv6 is written in canonical form whatever form it was given in', () => {
  assert.is(
    latin1(buildProxyHeader(tcp(1, 'TCP6', '2001:DB8:0:0:0:0:0:1', '::FFFF:C000:0201'))),
    'PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 45418 5000\r\n',
  );
});
v1('UNKNOWN is the short form', () => {
  assert.is(
    latin1(buildProxyHeader({ version: 1, command: 'proxy', protocol: 'UNKNOWN' })),
    'PROXY UNKNOWN\r\n',
  );
});
v1.run();

const v2 = suite('v2 headers');
v2('the NLB header with the AWS TLV, byte for byte', () => {
  const nlb = V2_CASES[0];
  assert.equal(Array.from(buildProxyHeader(nlb.header)), Array.from(nlb.bytes));
});
v2('LOCAL with TLVs right after the prefix, as the NLB health check', () => {
  const capture = V2_CASES[1];
  const rebuilt = buildProxyHeader(
    {
      version: 2,
      command: 'local',
      protocol: 'TCP4',
      tlvs: [{ type: 3, value: new Uint8Array(4) }, capture.header.tlvs[1]],
    },
    { crc32c: true },
  );
  assert.equal(
    Array.from(rebuilt),
    Array.from(capture.bytes),
    'the same CRC32C as the captured one',
  );
});
v2('crc32c: true appends a CRC32C TLV that verifies, and fills one given in place', () => {
  const appended = buildProxyHeader(
    {
      ...tcp(2, 'TCP4', '1.2.3.4', '5.6.7.8'),
      tlvs: [{ type: 1, value: Uint8Array.of(0x68, 0x32) }],
    },
    { crc32c: true },
  );
  const parsed = parseProxyHeader(appended, { crc32c: 'require' });
  assert.is(parsed.status, 'ok');
  assert.equal(parsed.status === 'ok' && parsed.header.tlvs.map((t) => t.type), [1, 3]);
  const inPlace = buildProxyHeader(
    {
      ...tcp(2, 'TCP4', '1.2.3.4', '5.6.7.8'),
      tlvs: [
        { type: 3, value: new Uint8Array(4) },
        { type: 4, value: new Uint8Array(3) },
      ],
    },
    { crc32c: true },
  );
  assert.equal(Array.from(inPlace.subarray(28, 31)), [3, 0, 4]);
  assert.is(parseProxyHeader(inPlace, { crc32c: 'require' }).status, 'ok');
});
v2('a LOCAL header with no TLVs is the bare 16-byte prefix', () => {
  assert.equal(
    Array.from(buildProxyHeader({ version: 2, command: 'local', protocol: 'UNKNOWN' })),
    Array.from(hex(`${V2_SIG} 20 00 0000`)),
  );
});
v2.run();

const refused = suite('what a version cannot carry is a RangeError');
const REFUSED: [string, ProxyHeaderInit, object?][] = [
  ['v1 UDP4', { ...tcp(1, 'TCP4', '1.2.3.4', '5.6.7.8'), protocol: 'UDP4' }],
  ['v1 LOCAL', { version: 1, command: 'local', protocol: 'UNKNOWN' }],
  [
    'v1 with TLVs',
    { ...tcp(1, 'TCP4', '1.2.3.4', '5.6.7.8'), tlvs: [{ type: 1, value: new Uint8Array(1) }] },
  ],
  ['v1 with crc32c', tcp(1, 'TCP4', '1.2.3.4', '5.6.7.8'), { crc32c: true }],
  ['version 3', { ...tcp(1, 'TCP4', '1.2.3.4', '5.6.7.8'), version: 3 as 1 }],
  ['IPv6 under TCP4', tcp(1, 'TCP4', '::1', '5.6.7.8')],
  ['IPv4 under TCP6', tcp(2, 'TCP6', '1.2.3.4', '::1')],
  ['a leading zero', tcp(2, 'TCP4', '1.2.3.04', '5.6.7.8')],
  [
    'port 65536',
    { ...tcp(2, 'TCP4', '1.2.3.4', '5.6.7.8'), source: { address: '1.2.3.4', port: 65536 } },
  ],
  ['a missing destination', { ...tcp(2, 'TCP4', '1.2.3.4', '5.6.7.8'), destination: null }],
  ['v2 LOCAL with addresses', { ...tcp(2, 'TCP4', '1.2.3.4', '5.6.7.8'), command: 'local' }],
  [
    'a UNIX path of 109 bytes',
    {
      version: 2,
      command: 'proxy',
      protocol: 'UNIX_STREAM',
      source: { address: 'x'.repeat(109), port: 0 },
      destination: { address: '/b', port: 0 },
    },
  ],
  [
    'a TLV type over 255',
    {
      version: 2,
      command: 'proxy',
      protocol: 'UNKNOWN',
      tlvs: [{ type: 256, value: new Uint8Array(0) }],
    },
  ],
  [
    'TLVs over 64 KiB',
    {
      version: 2,
      command: 'proxy',
      protocol: 'UNKNOWN',
      tlvs: [{ type: 4, value: new Uint8Array(65533) }],
    },
  ],
  [
    'a CRC32C TLV of 3 bytes to fill',
    {
      version: 2,
      command: 'proxy',
      protocol: 'UNKNOWN',
      tlvs: [{ type: 3, value: new Uint8Array(3) }],
    },
    { crc32c: true },
  ],
];
for (const [name, header, options] of REFUSED)
  refused(name, () =>
    assert.throws(
      () => buildProxyHeader(header, options),
      (e: unknown) => e instanceof RangeError && /^buildProxyHeader: /.test(e.message),
    ),
  );
refused.run();
