import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { printable } from '../../src/server/printable.ts';

const test = suite('printable');

test('plain text, spaces and non-ASCII letters stay as they are', () => {
  for (const text of ['', 'hello world', 'vpce-08d2bf15fefb1a2fa', 'Zürich 東京', '{"a": 1}'])
    assert.is(printable(text), text);
});

test('controls, line breakers and bidi overrides become escapes; a backslash is doubled', () => {
  assert.is(printable('a\r\nb'), 'a\\u000d\\u000ab');
  assert.is(printable('\u001b[31mred'), '\\u001b[31mred');
  assert.is(printable('x\u007fy\u009bz'), 'x\\u007fy\\u009bz');
  assert.is(printable('a\u2028b\u2029c'), 'a\\u2028b\\u2029c');
  assert.is(printable('\u202egnp.exe'), '\\u202egnp.exe');
  assert.is(printable('\u2066x\u2069'), '\\u2066x\\u2069');
  assert.is(printable('a\u200fb\u061c'), 'a\\u200fb\\u061c');
  assert.is(printable('C:\\u001b'), 'C:\\\\u001b');
});

test('property: a character comes out as itself exactly when it is not one to escape', () => {
  const escaped = new Set<number>([0x5c, 0x2028, 0x2029, 0x061c, 0x200e, 0x200f]);
  const range = (from: number, to: number) => {
    for (let code = from; code <= to; code++) escaped.add(code);
  };
  range(0x00, 0x1f);
  range(0x7f, 0x9f);
  range(0x202a, 0x202e);
  range(0x2066, 0x2069);
  for (let code = 0; code < 0x3000; code++) {
    const c = String.fromCharCode(code);
    const out = printable(`a${c}b`);
    assert.is(out === `a${c}b`, !escaped.has(code), code.toString(16));
    if (escaped.has(code)) assert.ok(/^a\\(\\|u[0-9a-f]{4})b$/.test(out), out);
  }
});

test.run();
