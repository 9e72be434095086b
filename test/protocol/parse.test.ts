import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect } from 'node:util';
import { buildProxyHeader, parseProxyHeader, plainHeader } from '../../src/protocol/index.ts';
import type { ParseErrorCode, ParseOptions } from '../../src/protocol/index.ts';
import {
  V1_CASES,
  V1_IMPOSSIBLE_STARTS,
  V1_INVALID,
  V1_SPLIT_CASES,
  V2_CASES,
  V2_SIG,
  concat,
  hex,
  plain,
  text,
} from './cases.ts';

function accepts(bytes: Uint8Array, options?: ParseOptions | null) {
  const result = parseProxyHeader(bytes, options);
  if (result.status !== 'ok')
    throw new assert.Assertion({
      message: 'expected an ok result',
      operator: 'ok',
      expects: 'ok',
      actual: result,
    });
  return result;
}

/** The input is refused with `code`, and a reason matching `reason` where the wording matters. */
function rejects(
  bytes: Uint8Array,
  code: ParseErrorCode,
  reason?: RegExp,
  options?: ParseOptions,
): void {
  const result = parseProxyHeader(bytes, options);
  if (result.status !== 'invalid')
    assert.unreachable(
      `expected invalid (${code}), got ${result.status} for ${JSON.stringify(Buffer.from(bytes).toString('latin1'))}`,
    );
  else {
    assert.is(result.code, code, result.reason);
    if (reason !== undefined) assert.match(result.reason, reason);
  }
}

const valid = suite('valid headers');
for (const c of [...V1_CASES, ...V2_CASES]) {
  valid(c.name, () => {
    const payload = text('hello\r\n');
    const result = accepts(concat(c.bytes, payload));
    assert.is(result.length, c.bytes.length, 'header length excludes the payload');
    assert.equal(plain(result.header), c.header);
  });
}
valid('TLV values are views into the input, not copies', () => {
  const bytes = V2_CASES[0].bytes;
  const result = accepts(bytes);
  assert.is(result.header.tlvs[0].value.buffer, bytes.buffer);
});
valid(
  'a parsed header reads as a plain one: JSON, console, plainHeader, the same object twice',
  () => {
    for (const c of [V1_CASES[0], V1_CASES[2], V2_CASES[0], V2_CASES[1]]) {
      const { header } = accepts(c.bytes);
      const json = JSON.parse(JSON.stringify(header));
      assert.equal(json.source, c.header.source);
      assert.is(json.protocol, c.header.protocol);
      assert.is(json.tlvs.length, c.header.tlvs.length);
      assert.ok(inspect(header).includes(`protocol: '${c.header.protocol}'`), inspect(header));
      assert.equal(plain(plainHeader(header)), c.header);
      assert.is(header.source, header.source, 'read twice, the same endpoint');
      assert.is(header.tlvs, header.tlvs);
    }
  },
);
valid.run();

const v1 = suite('v1 invalid');
for (const [name, bytes, code, reason] of V1_INVALID) v1(name, () => rejects(bytes, code, reason));
v1.run();

const v2 = suite('v2 invalid');
const tcp4 = (rest: string) => hex(`${V2_SIG} 21 11 ${rest}`);
const V2_INVALID: [string, Uint8Array, ParseErrorCode, RegExp?, ParseOptions?][] = [
  [
    'signature byte 5 wrong',
    hex('0d0a0d0a000e'),
    'not-proxy',
    /^v2: signature mismatch at byte 5$/,
  ],
  ['version 1', hex(`${V2_SIG} 11`), 'bad-v2-version', /^v2: version 1 in byte 12 is not 2$/],
  ['version 3', hex(`${V2_SIG} 31`), 'bad-v2-version', /^v2: version 3 in byte 12 is not 2$/],
  [
    'command 2',
    hex(`${V2_SIG} 22`),
    'bad-v2-command',
    /^v2: command 2 in byte 12 is neither LOCAL \(0\) nor PROXY \(1\)$/,
  ],
  ['command 15', hex(`${V2_SIG} 2f`), 'bad-v2-command'],
  [
    'family 4',
    hex(`${V2_SIG} 21 41`),
    'bad-family',
    /^v2: family\/transport byte 0x41 is not defined$/,
  ],
  [
    'transport 3',
    hex(`${V2_SIG} 21 13`),
    'bad-family',
    /^v2: family\/transport byte 0x13 is not defined$/,
  ],
  ['INET with UNSPEC transport', hex(`${V2_SIG} 21 10`), 'bad-family', /byte 0x10 is not defined/],
  [
    'length shorter than the IPv4 block',
    tcp4('000b 0102030405060708 0001 00'),
    'short-address-block',
    /^v2: length 11 is shorter than the 12-byte TCP4 address block$/,
  ],
  [
    'length shorter than the IPv6 block',
    hex(`${V2_SIG} 21 21 0023`),
    'short-address-block',
    /^v2: length 35 is shorter than the 36-byte TCP6 address block$/,
  ],
  [
    'length shorter than the UNIX block',
    hex(`${V2_SIG} 21 31 00d7`),
    'short-address-block',
    /^v2: length 215 is shorter than the 216-byte UNIX_STREAM address block$/,
  ],
  [
    'header over the default 4 KiB cap',
    tcp4('0ff1'),
    'header-too-large',
    /^v2: header of 4097 bytes exceeds the 4096-byte limit$/,
  ],
  [
    'header over a configured cap',
    tcp4('0011'),
    'header-too-large',
    /^v2: header of 33 bytes exceeds the 32-byte limit$/,
    { maxV2HeaderSize: 32 },
  ],
  [
    'TLV value overruns the header',
    tcp4('0010 0102030405060708 0001 0002 01 0002 68'),
    'tlv-overrun',
    /^v2: TLV 0x01 at byte 28 overruns the header \(length 2, 1 bytes left\)$/,
  ],
  [
    'TLV type and length cut short',
    tcp4('000e 0102030405060708 0001 0002 01 00'),
    'tlv-overrun',
    /^v2: TLV at byte 28 overruns the header/,
  ],
  [
    'CRC32C of the wrong length',
    tcp4('0012 0102030405060708 0001 0002 03 0003 000000'),
    'bad-tlv',
    /^v2: CRC32C TLV at byte 28 has length 3, not 4$/,
  ],
  ['CRC32C mismatch', tcp4('0013 0102030405060708 0001 0002 03 0004 00000000'), 'crc32c-mismatch'],
  [
    'CRC32C required but absent',
    tcp4('000c 0102030405060708 0001 0002'),
    'crc32c-missing',
    undefined,
    { crc32c: 'require' },
  ],
  [
    'UNIQUE_ID over 128 bytes',
    tcp4(`0090 0102030405060708 0001 0002 05 0081 ${'00'.repeat(129)}`),
    'bad-tlv',
    /^v2: UNIQUE_ID TLV at byte 28 is 129 bytes, over the 128-byte limit$/,
  ],
  [
    'SSL TLV shorter than client and verify',
    tcp4('0013 0102030405060708 0001 0002 20 0004 01000000'),
    'bad-tlv',
    /^v2: SSL TLV at byte 28 is 4 bytes/,
  ],
  [
    'SSL sub-TLV overrunning the SSL TLV',
    tcp4('0018 0102030405060708 0001 0002 20 0009 01 00000000 21 0005 41'),
    'tlv-overrun',
    /^v2: SSL sub-TLV 0x21 at byte 36 overruns the SSL TLV$/,
  ],
  [
    'LOCAL with a wrong CRC32C among well-formed TLVs',
    hex(`${V2_SIG} 20 11 0054 030004 bce5951e 04004a ${'00'.repeat(74)}`),
    'crc32c-mismatch',
  ],
];
for (const [name, bytes, code, reason, options] of V2_INVALID)
  v2(name, () => rejects(bytes, code, reason, options));
v2('two CRC32C TLVs', () => {
  const built = buildProxyHeader({
    version: 2,
    command: 'proxy',
    protocol: 'TCP4',
    source: { address: '1.2.3.4', port: 1 },
    destination: { address: '5.6.7.8', port: 2 },
    tlvs: [
      { type: 3, value: new Uint8Array(4) },
      { type: 3, value: new Uint8Array(4) },
    ],
  });
  rejects(built, 'bad-tlv', /^v2: second CRC32C TLV at byte 35$/);
});
v2.run();

const early = suite('early rejection and waiting');
early('an HTTP request or a greeting fails on its first byte', () => {
  rejects(text('G'), 'not-proxy', /^not a PROXY protocol header: first byte 'G' \(0x47\)$/);
  rejects(text('hello'), 'not-proxy');
  rejects(new Uint8Array([0x16, 0x03, 0x01]), 'not-proxy', /first byte 0x16$/);
});
early('a wrong byte anywhere in a prefix fails without waiting for the rest', () => {
  rejects(text('PROXZ'), 'not-proxy', /byte 4/);
  rejects(text('PROXY TCP4 1.2.3.4 x'), 'bad-v1-field');
  rejects(hex('0d0a0d0b'), 'not-proxy', /signature mismatch at byte 3/);
  rejects(hex(`${V2_SIG} 21 11 ffff`), 'header-too-large');
});
for (const [name, bytes, code, reason] of V1_IMPOSSIBLE_STARTS) {
  early(`a field that can no longer be valid fails on that byte: ${name}`, () => {
    rejects(bytes, code, reason);
    assert.is(
      parseProxyHeader(bytes.subarray(0, bytes.length - 1)).status,
      'incomplete',
      'one byte less is still a valid start',
    );
  });
}
for (const [name, start, rest, code] of V1_SPLIT_CASES) {
  early(`the whole line has the code of its shortest invalid prefix: ${name}`, () => {
    assert.is(parseProxyHeader(start.subarray(0, start.length - 1)).status, 'incomplete');
    rejects(start, code);
    rejects(concat(start, rest), code);
  });
}
early('starts of fields that can still become valid wait', () => {
  for (const start of [
    'TCP4 0',
    'TCP4 25',
    'TCP4 255.',
    'TCP4 1.2.3.4',
    'TCP6 ::',
    'TCP6 1:2:3:4:5:6:7:',
    'TCP6 1:2:3:4:5:6:',
    'TCP6 ::ffff:1.2.',
    'TCP6 1::ffff',
    'TCP4 1.2.3.4 5.6.7.8 6553',
    'TCP4 1.2.3.4 5.6.7.8 0',
    'TCP6 ::1 ::2 1 65535',
  ]) {
    assert.is(parseProxyHeader(text(`PROXY ${start}`)).status, 'incomplete', start);
  }
});
early(
  'a line that leaves no room for its CRLF within 107 bytes is refused on that byte, not later',
  () => {
    rejects(text(`PROXY UNKNOWN ${'x'.repeat(92)}`), 'line-too-long');
    assert.is(parseProxyHeader(text(`PROXY UNKNOWN ${'x'.repeat(91)}`)).status, 'incomplete');
    assert.is(parseProxyHeader(text(`PROXY UNKNOWN ${'x'.repeat(91)}\r`)).status, 'incomplete');
    // TCP6 addresses written long (leading zeros, a dotted tail) can leave no room for the ports.
    const long = '0000:0000:0000:0000:0000:0000:255.255.255.255';
    const shorter = long.slice(0, 44); // ends in .25: 107 bytes with ` 1 1\r\n`
    assert.is(accepts(text(`PROXY TCP6 ${long} ${shorter} 1 1\r\n`)).length, 107);
    assert.is(parseProxyHeader(text(`PROXY TCP6 ${long} ${shorter}`)).status, 'incomplete');
    rejects(text(`PROXY TCP6 ${long} ${long}`), 'line-too-long');
    rejects(text(`PROXY TCP6 ${long} ${shorter} 1 12`), 'line-too-long');
  },
);
early('empty input and valid prefixes are incomplete', () => {
  assert.is(parseProxyHeader(new Uint8Array(0)).status, 'incomplete');
  assert.is(parseProxyHeader(text('PROXY TCP6 2001:db8::1')).status, 'incomplete');
  assert.is(parseProxyHeader(hex(`${V2_SIG} 21 11 000c 01020304`)).status, 'incomplete');
});
early('a larger cap admits a larger header', () => {
  const big = buildProxyHeader({
    version: 2,
    command: 'proxy',
    protocol: 'UNKNOWN',
    tlvs: [{ type: 4, value: new Uint8Array(5000) }],
  });
  rejects(big, 'header-too-large');
  assert.is(accepts(big, { maxV2HeaderSize: 65551 }).length, 5019);
});
early('CRC32C modes: ignore skips the check, require accepts a good one', () => {
  const bad = tcp4('0013 0102030405060708 0001 0002 03 0004 00000000');
  assert.is(accepts(bad, { crc32c: 'ignore' }).length, 35);
  const good = buildProxyHeader(
    {
      version: 2,
      command: 'proxy',
      protocol: 'TCP4',
      source: { address: '1.2.3.4', port: 1 },
      destination: { address: '5.6.7.8', port: 2 },
    },
    { crc32c: true },
  );
  assert.is(accepts(good, { crc32c: 'require' }).header.tlvs[0].type, 3);
  assert.is(
    accepts(hex(`${V2_SIG} 20 00 0000`), { crc32c: 'require' }).header.command,
    'local',
    'LOCAL needs no CRC',
  );
});
early('null options are no options (defaults apply)', () => {
  assert.is(accepts(text('PROXY UNKNOWN\r\n'), null).length, 15);
});
early('bad options are a programming error: RangeError', () => {
  assert.throws(() => parseProxyHeader(hex(V2_SIG), { maxV2HeaderSize: 15 }), RangeError);
  assert.throws(() => parseProxyHeader(hex(V2_SIG), { crc32c: 'yes' as 'verify' }), RangeError);
  assert.throws(
    () => parseProxyHeader(text('PROXY UNKNOWN\r\n'), { maxV2HeaderSize: 1e6 }),
    RangeError,
    'whatever the bytes',
  );
});
early.run();

const unaddressed = suite('v2 blocks without addresses: LOCAL and PROXY over AF_UNSPEC');
// The same block under LOCAL (0x20) and under PROXY with family UNSPEC (0x21 0x00).
for (const [command, name] of [
  ['20', 'LOCAL'],
  ['21', 'PROXY UNSPEC'],
] as const) {
  const family = command === '20' ? 'f3' : '00'; // LOCAL: a byte nobody defined, ignored
  const block = (body: string) =>
    hex(
      `${V2_SIG} ${command} ${family} ${(body.replace(/ /g, '').length / 2).toString(16).padStart(4, '0')} ${body}`,
    );
  unaddressed(`${name}: a block that is not a TLV list is skipped unread`, () => {
    const result = accepts(concat(block('ffff 0001 02'), text('hi')));
    assert.is(result.length, 21);
    assert.is(result.header.source, null);
    assert.equal(result.header.tlvs, []);
  });
  unaddressed(`${name}: a well-formed TLV list is reported, its CRC32C checked`, () => {
    const result = accepts(block('02 0003 616263'));
    assert.equal(plain(result.header).tlvs, [{ type: 2, value: text('abc') }]);
    rejects(block('03 0004 00000000'), 'crc32c-mismatch');
    assert.is(accepts(block('03 0004 00000000'), { crc32c: 'ignore' }).length, 23);
  });
  unaddressed(`${name}: needs no CRC32C even when one is required`, () => {
    assert.is(accepts(block(''), { crc32c: 'require' }).header.source, null);
  });
}
unaddressed.run();

const families = suite('all 256 v2 family/transport bytes');
const DEFINED: Record<number, [string, number]> = {
  0: ['UNKNOWN', 0],
  17: ['TCP4', 12],
  18: ['UDP4', 12],
  33: ['TCP6', 36],
  34: ['UDP6', 36],
  49: ['UNIX_STREAM', 216],
  50: ['UNIX_DGRAM', 216],
};
families('PROXY accepts only the seven defined bytes; LOCAL accepts all 256', () => {
  let accepted = 0;
  for (let family = 0; family < 256; family++) {
    for (const command of [0x20, 0x21]) {
      const bytes = concat(
        hex(V2_SIG),
        Uint8Array.of(command, family, 0, 216),
        new Uint8Array(216),
      );
      const result = parseProxyHeader(bytes);
      const defined = DEFINED[family];
      const local = command === 0x20;
      if (defined === undefined && !local) {
        assert.is(result.status, 'invalid', `byte 0x${family.toString(16)}`);
        assert.is(result.status === 'invalid' && result.code, 'bad-family');
        continue;
      }
      if (result.status !== 'ok')
        assert.unreachable(`byte 0x${family.toString(16)}: ${JSON.stringify(result)}`);
      else {
        accepted++;
        assert.is(result.header.protocol, defined?.[0] ?? 'UNKNOWN');
        assert.is(result.header.command, local ? 'local' : 'proxy');
        assert.is(result.length, 232);
        assert.is(
          result.header.source === null,
          local || family === 0,
          'addresses only for PROXY with a family',
        );
      }
    }
  }
  assert.is(accepted, 256 + 7);
});
families.run();
