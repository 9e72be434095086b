import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  addressEnding,
  addressStop,
  portEnding,
  portStop,
} from '../../src/protocol/field-prefix.ts';
import { text } from './cases.ts';
import { Random, runSeed } from './random.ts';

const seed = runSeed();
const context = `(replay with SEED=${seed})`;

// addressStop reads a start in one pass; addressEnding (the readers themselves, tried with
// every ending a start can lack) says for each prefix whether it can still become an address.
// The stop must be exactly where the prefixes stop being able to.
const stops = suite('where a field stops being the start of a valid one');

const TABLE: readonly (readonly [string, boolean, number])[] = [
  ['', false, 0],
  ['1.2.3.4', false, 7],
  ['1.2.3.4.', false, 7],
  ['01', false, 1],
  ['256', false, 2],
  ['1..', false, 2],
  ['1:', false, 1],
  ['', true, 0],
  [':', true, 1],
  [':1', true, 1],
  ['::', true, 2],
  [':::', true, 2],
  ['1::2::', true, 5],
  ['12345', true, 4],
  ['1:2:3:4:5:6:7:8', true, 15],
  ['1:2:3:4:5:6:7:8:', true, 15],
  ['1::2:3:4:5:6:7:', true, 14],
  ['1:2:3:4:5:6:7::', true, 15],
  ['1:2:3:4:5:6:7::8', true, 15],
  ['::ffff:1.2.3.4', true, 14],
  ['::ffff:1.256', true, 11],
  ['::1.2.3.4:5', true, 9],
  ['::abc.', true, 5],
  ['1:2.', true, 3],
  ['1:2:3:4:5:6:1.2.3.4', true, 19],
  ['1:2:3:4:5:6::1.', true, 14],
  ['1.', true, 1],
];
for (const [field, v6, stop] of TABLE) {
  stops(`${v6 ? 'IPv6' : 'IPv4'} ${JSON.stringify(field)} stops at ${stop}`, () => {
    const bytes = text(field);
    assert.is(addressStop(bytes, 0, bytes.length, v6), stop);
  });
}

stops(
  `random address and port texts: the stop is where prefixes stop being starts ${context}`,
  () => {
    const random = new Random(seed ^ 0x570);
    const alphabet = [...text('0123456789abcdefABCDEF:.:.:.x')];
    for (let n = 0; n < 10_000; n++) {
      const bytes =
        n % 2 === 0
          ? Uint8Array.from({ length: random.int(50) }, () => random.pick(alphabet))
          : edit(random, text(random.pick(ADDRESSES)), alphabet);
      const shown = `${JSON.stringify(Buffer.from(bytes).toString('latin1'))} ${context}`;
      for (const v6 of [false, true]) {
        const stop = addressStop(bytes, 0, bytes.length, v6);
        for (let cut = 0; cut <= bytes.length; cut++)
          assert.is(
            addressEnding(bytes, 0, cut, v6) >= 0,
            cut <= stop,
            `${shown} v6=${v6} cut ${cut}`,
          );
      }
      const digits = bytes.subarray(0, 7).map((b) => 0x30 + (b % 10));
      const stop = portStop(digits, 0, digits.length);
      for (let cut = 0; cut <= digits.length; cut++)
        assert.is(portEnding(digits, 0, cut) >= 0, cut <= stop, `port ${digits} cut ${cut}`);
    }
  },
);
stops.run();

/** Valid addresses of both families, long and short forms, to edit into near misses. */
const ADDRESSES = [
  '203.0.113.7',
  '255.255.255.255',
  '0.0.0.0',
  '2001:db8::1',
  '::',
  '::ffff:192.0.2.1',
  '1:2:3:4:5:6:7:8',
  '1::8',
  '0000:0000:0000:0000:0000:0000:255.255.255.255',
  'fe80::1:2:3:4:5:6',
  '1:2:3:4:5:6::',
];

/** `bytes` with one to three bytes replaced, inserted or removed. */
function edit(random: Random, bytes: Uint8Array, alphabet: readonly number[]): Uint8Array {
  const out = Array.from(bytes);
  for (let e = random.int(3); e >= 0; e--) {
    const at = random.int(out.length + 1);
    const kind = random.int(3);
    if (kind === 0) out[at] = random.pick(alphabet);
    else if (kind === 1) out.splice(at, 0, random.pick(alphabet));
    else out.splice(at, 1);
  }
  return Uint8Array.from(out);
}
