import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { crc32c } from '../../src/protocol/index.ts';
import { V2_CASES, text } from './cases.ts';

test('the CRC-32C check value of "123456789" is 0xe3069283', () => {
  assert.is(crc32c(text('123456789'), 0, 9), 0xe3069283);
});

test('the captured NLB health check carries the checksum of itself with the value zeroed', () => {
  const capture = V2_CASES.find((c) => c.name.startsWith('captured NLB'))!.bytes;
  assert.is(crc32c(capture, 0, capture.length, 19), 0xbce5951f);
  assert.is.not(
    crc32c(capture, 0, capture.length),
    0xbce5951f,
    'the value itself is not part of the sum',
  );
});

test.run();
