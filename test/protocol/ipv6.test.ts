import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatIPv6, parseIPv6 } from '../../src/protocol/ipv6.ts';
import { text } from './cases.ts';
import { Random, runSeed } from './random.ts';

function canonical(address: string): string | null {
  const out = new Uint8Array(16);
  const bytes = text(address);
  return parseIPv6(bytes, 0, bytes.length, out) === bytes.length ? formatIPv6(out, 0) : null;
}

const rfc5952 = suite('RFC 5952 canonical text');
const SAME: [string, string][] = [
  ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // §4.1 leading zeros dropped
  ['2001:DB8::1', '2001:db8::1'], // §4.3 lower case
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3 the first of two equal runs
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2 a single zero group stays
  ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // §4.2.3 the longest run
  ['0:0:0:0:0:0:0:0', '::'],
  ['0:0:0:0:0:0:0:1', '::1'],
  ['1:0:0:0:0:0:0:0', '1::'],
  ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // §5 mapped IPv4 in dotted form
  ['0:0:0:0:0:ffff:c000:201', '::ffff:192.0.2.1'],
  ['::192.0.2.1', '::c000:201'], // only the mapped prefix keeps the dotted form
  ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
];
for (const [input, output] of SAME)
  rfc5952(`${input} -> ${output}`, () => assert.is(canonical(input), output));
rfc5952(`random addresses match the WHATWG URL serializer (seed ${runSeed()})`, () => {
  const random = new Random(runSeed());
  for (let n = 0; n < 5000; n++) {
    const bytes = random.bytes(16).map((b) => (random.int(2) === 0 ? b : 0));
    if (bytes.subarray(0, 12).every((b, i) => b === (i < 10 ? 0 : 0xff))) continue; // mapped: tested above
    const ours = formatIPv6(bytes, 0);
    assert.is(ours, new URL(`http://[${ours}]/`).hostname.slice(1, -1));
    assert.is(canonical(ours), ours, 'its own text parses back to itself');
  }
});
rfc5952.run();

const rejected = suite('not IPv6');
for (const bad of [
  '',
  ':',
  ':::',
  '1:2:3:4:5:6:7:8:9',
  '1::2::3',
  '12345::',
  'g::',
  '::1%eth0',
  '[::1]',
  '1:2:3:4:5:6:7:1.2.3.4',
  '::1.2.3',
  '::1.2.3.04',
  '::1.2.3.4.5',
  '1.2.3.4',
  ' ::1',
  '1:2:3:4:5:6:7::8:9',
]) {
  rejected(JSON.stringify(bad), () => assert.is(canonical(bad), null));
}
rejected.run();
