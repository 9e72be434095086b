// Capping a log value or message: what is kept, where the cut falls, what the mark says.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonValue, textFieldValue, textMessage, VALUE_BYTES } from '../src/log-escape.ts';

const bytes = (text: string) => Buffer.byteLength(text);

/** [what, value, JSON literal and text field value (the same once cut), text message]. */
const CUT: ReadonlyArray<readonly [string, string, string, string]> = [
  [
    'plain ASCII: as much as fits with the mark, then the count of characters left out',
    'a'.repeat(16_384),
    `"${'a'.repeat(1005)}...(+15379 chars)"`,
    `${'a'.repeat(1007)}...(+15377 chars)`,
  ],
  [
    'control bytes: whole escapes only',
    `${'\u0001'.repeat(8184)}AAA<0>EMERGENCY`,
    `"${'\\u0001'.repeat(167)}...(+8032 chars)"`,
    `${'\\u0001'.repeat(168)}...(+8031 chars)`,
  ],
  [
    'a pair above U+FFFF is kept whole and counts as one character',
    '\u{1f600}'.repeat(300),
    `"${'\u{1f600}'.repeat(251)}...(+49 chars)"`,
    `${'\u{1f600}'.repeat(252)}...(+48 chars)`,
  ],
  [
    'an escaped pair (a tag character) is kept or left out whole',
    `${'x'.repeat(995)}\u{e0041}${'y'.repeat(20)}`,
    `"${'x'.repeat(995)}...(+21 chars)"`,
    `${'x'.repeat(995)}\\udb40\\udc41y...(+19 chars)`,
  ],
  [
    'lone surrogates count one each',
    `${'é'.repeat(600)}\udfff\ud800`,
    `"${'é'.repeat(503)}...(+99 chars)"`,
    `${'é'.repeat(504)}...(+98 chars)`,
  ],
  [
    'quotes and backslashes take two bytes in a literal, one in a message',
    '"\\'.repeat(600),
    `"${'\\"\\\\'.repeat(251)}\\"...(+697 chars)"`,
    `${'"\\'.repeat(504)}...(+192 chars)`,
  ],
];

for (const [what, value, literal, message] of CUT)
  test(`cut: ${what}`, () => {
    assert.is(jsonValue(value), literal, 'JSON');
    assert.is(textFieldValue(value), literal, 'text field');
    assert.is(textMessage(value), message, 'text message');
    for (const out of [literal, message]) assert.ok(bytes(out) <= VALUE_BYTES, `${bytes(out)}`);
  });

/** [what, value, JSON literal, text field value, text message]: nothing cut. */
const KEPT: ReadonlyArray<readonly [string, string, string, string, string]> = [
  ['a short word', 'quit', '"quit"', 'quit', 'quit'],
  ['empty', '', '""', '""', ''],
  ['a `<` is escaped everywhere', '<0>x', '"\\u003c0>x"', '"\\u003c0>x"', '\\u003c0>x'],
  ['spaces', 'a b', '"a b"', '"a b"', 'a b'],
  [
    'a literal of exactly 1 KiB',
    'b'.repeat(VALUE_BYTES - 2),
    `"${'b'.repeat(VALUE_BYTES - 2)}"`,
    'b'.repeat(VALUE_BYTES - 2),
    'b'.repeat(VALUE_BYTES - 2),
  ],
  [
    'a bare word and a message of exactly 1 KiB (the literal is cut)',
    'c'.repeat(VALUE_BYTES),
    `"${'c'.repeat(VALUE_BYTES - 18)}...(+18 chars)"`,
    'c'.repeat(VALUE_BYTES),
    'c'.repeat(VALUE_BYTES),
  ],
  [
    '1 KiB of UTF-8 in fewer characters',
    `${'日'.repeat(340)}ab`,
    `"${'日'.repeat(340)}ab"`,
    `"${'日'.repeat(340)}ab"`,
    `${'日'.repeat(340)}ab`,
  ],
];

for (const [what, value, literal, field, message] of KEPT)
  test(`kept whole: ${what}`, () => {
    assert.is(jsonValue(value), literal, 'JSON');
    assert.is(textFieldValue(value), field, 'text field');
    assert.is(textMessage(value), message, 'text message');
  });

test.run();
