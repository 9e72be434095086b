import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHttpRequestLine, requestStart } from '../../../src/server/answer/http-detect.ts';
import { MAYBE, NO, YES } from '../../../src/server/verdict.ts';

const b = (s: string) => Buffer.from(s, 'latin1');
/** The decision for one whole line (LF included) in one chunk. */
const whole = (line: string) => isHttpRequestLine(null, b(line), line.indexOf('\n'));

const detect = suite('isHttpRequestLine');

detect('HTTP/1.x request lines, with or without CR, are HTTP', () => {
  for (const line of [
    'GET / HTTP/1.1\r\n',
    'GET / HTTP/1.0\n',
    'HEAD /health HTTP/1.1\r\n',
    'POST /a/b?c=d&e=%20 HTTP/1.1\r\n',
    'OPTIONS * HTTP/1.0\r\n',
    'GET http://example.com:80/x HTTP/1.1\r\n',
    'M-SEARCH * HTTP/1.1\r\n',
    'PROPFIND /dav HTTP/1.1\r\n',
  ])
    assert.ok(whole(line), JSON.stringify(line));
});

detect('other lines are echo lines', () => {
  for (const line of [
    'hello\r\n',
    'GET /\r\n', // HTTP/0.9 style: no version
    'get / HTTP/1.1\r\n', // methods are capital letters
    'GET / HTTP/2.0\r\n',
    'PRI * HTTP/2.0\r\n',
    'GET / HTTP/1.1 \r\n',
    'GET  / HTTP/1.1\r\n',
    'GET / x HTTP/1.1\r\n',
    ' GET / HTTP/1.1\r\n',
    'GET /\u00e9 HTTP/1.1\r\n',
    'GET /\t HTTP/1.1\r\n',
    'GET HTTP/1.1\r\n',
    ' HTTP/1.1\r\n',
    'HTTP/1.1\r\n',
    'GET / HTTP/1.x\r\n',
    'GET / HTTP/1.\r\n',
    'ABCDEFGHIJKLMNOPQRSTU / HTTP/1.1\r\n', // 21-letter method
    'q\r\n',
    '\r\n',
    '\n',
  ])
    assert.not.ok(whole(line), JSON.stringify(line));
});

detect(
  'property: every split of the line between carried bytes and the chunk decides alike',
  () => {
    for (const line of ['GET /index.html HTTP/1.1\r\n', 'GET / HTTP/1.1 \r\n', 'hello world\n']) {
      const expected = whole(line);
      for (let cut = 1; cut < line.length; cut++) {
        const chunk = b(line.slice(cut));
        const got = isHttpRequestLine(b(line.slice(0, cut)), chunk, chunk.indexOf(0x0a));
        assert.is(got, expected, `${JSON.stringify(line)} cut at ${cut}`);
      }
    }
  },
);

detect('property: random bytes never throw, and a line without the version is never HTTP', () => {
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  for (let round = 0; round < 5000; round++) {
    const length = next() % 40;
    const bytes = Buffer.alloc(length + 1);
    for (let i = 0; i < length; i++) bytes[i] = next() & 0xff;
    bytes[length] = 0x0a;
    const lf = bytes.indexOf(0x0a);
    const http = isHttpRequestLine(null, bytes, lf);
    if (http) assert.ok(bytes.subarray(0, lf).includes('HTTP/1.'), bytes.toString('hex'));
  }
});

detect.run();

const start = suite('requestStart');

start(
  'a method and a space begin a request; capitals alone may still; anything else does not',
  () => {
    const rows: ReadonlyArray<readonly [string, number]> = [
      ['GET ', YES],
      ['GET / HTTP/1.1\r\n', YES],
      ['M-SEARCH *', YES],
      ['ABCDEFGHIJKLMNOPQRST /', YES], // 20 letters: the longest method
      ['G', MAYBE],
      ['POST', MAYBE],
      ['ABCDEFGHIJKLMNOPQRST', MAYBE],
      ['ABCDEFGHIJKLMNOPQRSTU', NO], // 21: no method is that long
      ['ABCDEFGHIJKLMNOPQRSTU /', NO],
      [' GET', NO],
      ['get ', NO],
      ['GET\t', NO],
      ['GET\r\n', NO],
      ['hi\r\n', NO],
      ['\r\n\r\n\0\r\nQUIT\n', NO], // the v2 signature
    ];
    for (const [text, expected] of rows)
      assert.is(requestStart(b(text)), expected, JSON.stringify(text));
  },
);

start('property: every prefix of a request line is a maybe until its space, then a request', () => {
  for (const line of ['GET / HTTP/1.1\r\n', 'OPTIONS * HTTP/1.0\r\n', 'M-SEARCH * HTTP/1.1\r\n']) {
    const space = line.indexOf(' ');
    for (let n = 1; n <= line.length; n++)
      assert.is(
        requestStart(b(line.slice(0, n))),
        n <= space ? MAYBE : YES,
        `${JSON.stringify(line)} at ${n}`,
      );
  }
});

start(
  'property: random bytes never leave it undecided past 20 bytes, and a maybe grows into its answer',
  () => {
    let seed = 11;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let round = 0; round < 5000; round++) {
      const bytes = Buffer.alloc(1 + (next() % 30));
      // Half the rounds from capitals and spaces, so the interesting cases come up.
      for (let i = 0; i < bytes.length; i++)
        bytes[i] = round & 1 ? next() & 0xff : i % 7 === 6 ? 0x20 : 0x41 + (next() % 26);
      const whole = requestStart(bytes);
      if (bytes.length > 20) assert.is.not(whole, MAYBE, bytes.toString('hex'));
      for (let n = 1; n < bytes.length; n++) {
        const prefix = requestStart(bytes.subarray(0, n));
        if (prefix !== MAYBE) assert.is(whole, prefix, `${bytes.toString('hex')} at ${n}`);
      }
    }
  },
);

start.run();
