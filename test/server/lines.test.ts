import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  firstLineLength,
  type Scan,
  scanLines,
  STOP_NONE,
  STOP_QUIT,
  STOP_TOO_LONG,
  upperCaseInPlace,
} from '../../src/server/lines.ts';

const b = (s: string) => Buffer.from(s, 'latin1');
const scan = (chunk: string, carried: string | null = null, maxLine = 100): Scan =>
  scanLines(b(chunk), carried === null ? null : b(carried), maxLine, {
    end: 0,
    lines: 0,
    stop: STOP_NONE,
  });

const lines = suite('scanLines');

lines('complete lines end at the last LF; the partial rest is left for the caller', () => {
  assert.equal(scan('one\r\ntwo\nthr'), { end: 9, lines: 2, stop: STOP_NONE });
  assert.equal(scan('no newline yet'), { end: 0, lines: 0, stop: STOP_NONE });
  assert.equal(scan('\n\r\n'), { end: 3, lines: 2, stop: STOP_NONE });
});

lines('a line q or Q (with or without CR) stops before it; lines before it are echoed', () => {
  for (const quit of ['q\n', 'Q\n', 'q\r\n', 'Q\r\n']) {
    assert.equal(scan(`a\r\nbc\n${quit}after\n`), { end: 6, lines: 2, stop: STOP_QUIT }, quit);
  }
});

lines('qq, " q", "q " and quit are ordinary lines', () => {
  assert.equal(scan('qq\n q\nq \nquit\n'), { end: 14, lines: 4, stop: STOP_NONE });
});

lines('a line carried from earlier chunks joins the first line here', () => {
  assert.equal(scan('lo\nnext\n', 'hel'), { end: 8, lines: 2, stop: STOP_NONE });
  assert.equal(scan('more', 'hel'), { end: 0, lines: 0, stop: STOP_NONE });
});

lines('a quit line split across chunks still quits', () => {
  assert.equal(scan('\n', 'q'), { end: 0, lines: 0, stop: STOP_QUIT });
  assert.equal(scan('\r\n', 'Q'), { end: 0, lines: 0, stop: STOP_QUIT });
  assert.equal(scan('\n', 'q\r'), { end: 0, lines: 0, stop: STOP_QUIT });
  assert.equal(scan('q\n', 'q').stop, STOP_NONE);
});

lines('a line longer than the limit stops the scan; CR LF does not count', () => {
  assert.equal(scan('12345\r\n', null, 5), { end: 7, lines: 1, stop: STOP_NONE });
  assert.equal(scan('ok\n123456\n', null, 5), { end: 3, lines: 1, stop: STOP_TOO_LONG });
  assert.equal(scan('45\n', '123', 5), { end: 3, lines: 1, stop: STOP_NONE });
  assert.equal(scan('456\n', '123', 5).stop, STOP_TOO_LONG);
  assert.equal(scan('3456\n', '12', 5).stop, STOP_TOO_LONG);
});

lines('upperCaseInPlace changes ASCII letters only, within the range', () => {
  const bytes = b('abc xyz {é} ABC');
  upperCaseInPlace(bytes, 0, 11);
  assert.is(bytes.toString('latin1'), 'ABC XYZ {é} ABC');
  const partial = b('abcd');
  upperCaseInPlace(partial, 1, 3);
  assert.is(partial.toString('latin1'), 'aBCd');
});

lines('firstLineLength: without CR LF, the CR found in the carried part too', () => {
  const rows: Array<[string | null, string, number]> = [
    [null, 'abc\n', 3],
    [null, 'abc\r\n', 3],
    [null, '\n', 0],
    [null, '\r\n', 0],
    ['ab', 'c\n', 3],
    ['ab', 'c\r\n', 3],
    ['ab\r', '\n', 2],
    ['ab', '\n', 2],
    ['a\rb', '\n', 3],
  ];
  for (const [carried, chunk, length] of rows) {
    const lf = chunk.indexOf('\n');
    const got = firstLineLength(carried === null ? null : b(carried), b(chunk), lf);
    assert.is(got, length, JSON.stringify([carried, chunk]));
  }
});

lines.run();
