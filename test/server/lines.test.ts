import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineSplitter } from '../../src/server/lines.ts';

const b = (s: string) => Buffer.from(s, 'latin1');
const text = (u: Uint8Array | null) => (u === null ? null : Buffer.from(u).toString('latin1'));

test('complete lines are echoed as one view of the chunk', () => {
  const chunk = b('one\r\ntwo\nthree\r\n');
  const fed = new LineSplitter().feed(chunk);
  assert.is(text(fed.echo), 'one\r\ntwo\nthree\r\n');
  assert.is(fed.quit, false);
  assert.is(fed.echo!.buffer, chunk.buffer);
});

test('a partial line waits for its LF', () => {
  const lines = new LineSplitter();
  assert.is(lines.feed(b('hel')).echo, null);
  assert.is(text(lines.feed(b('lo\r\nwor')).echo), 'hello\r\n');
  assert.is(text(lines.feed(b('ld\n')).echo), 'world\n');
});

test('q and Q close without being echoed; lines before are echoed', () => {
  for (const quit of ['q\r\n', 'Q\r\n', 'q\n', 'Q\n']) {
    const fed = new LineSplitter().feed(b(`a\r\n${quit}after\r\n`));
    assert.is(text(fed.echo), 'a\r\n');
    assert.ok(fed.quit);
  }
});

test('q split across chunks still quits', () => {
  const lines = new LineSplitter();
  assert.is(lines.feed(b('q')).quit, false);
  assert.ok(lines.feed(b('\r\n')).quit);
});

test('qq, " q" and q with text are ordinary lines', () => {
  const fed = new LineSplitter().feed(b('qq\n q\nquit\n'));
  assert.is(text(fed.echo), 'qq\n q\nquit\n');
  assert.is(fed.quit, false);
});

test.run();
