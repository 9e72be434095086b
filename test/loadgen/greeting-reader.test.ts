// Reading past a server's greeting line before the first echo: where the echo begins and what the
// greeting said, however the bytes are split across reads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GreetingReader, NOT_A_GREETING } from '../../src/loadgen/greeting-reader.ts';

type Outcome = { line: string | null; echoAt: number } | 'not-a-greeting';

/** Feeds `bytes` as two reads cut at `cut`; the outcome and the offset in `bytes` the echo starts. */
function readSplit(bytes: Buffer, cut: number): Outcome | 'unfinished' {
  const reader = new GreetingReader();
  let offset = 0;
  for (const part of [bytes.subarray(0, cut), bytes.subarray(cut)]) {
    if (part.length === 0) continue;
    const at = reader.read(part, part.length);
    if (at === NOT_A_GREETING) return 'not-a-greeting';
    if (reader.done) return { line: reader.line, echoAt: offset + at };
    offset += part.length;
  }
  return 'unfinished';
}

const greeting = 'elb-proxy-echo backend=i-0abc client=192.0.2.7:4242';
const rows: [name: string, bytes: string, expected: Outcome | 'unfinished'][] = [
  ['no greeting: the echo at once', '00000001abc\r\n', { line: null, echoAt: 0 }],
  [
    'a greeting then the echo',
    `${greeting}\r\n0001x\r\n`,
    { line: greeting, echoAt: greeting.length + 2 },
  ],
  ['a greeting alone, LF only', `${greeting}\n`, { line: greeting, echoAt: greeting.length + 1 }],
  ['begins like one, then is not', 'elb-proxy-ech0 x\r\n', 'not-a-greeting'],
  ['the prefix ended too early', 'elb-proxy\n', 'not-a-greeting'],
  ['a greeting not finished yet', greeting, 'unfinished'],
  ['longer than 4096 bytes', `elb-proxy-echo ${'x'.repeat(4096)}\n`, 'not-a-greeting'],
];

for (const [name, text, expected] of rows)
  test(`${name}: the same at every split point`, () => {
    const bytes = Buffer.from(text, 'latin1');
    for (let cut = 0; cut <= bytes.length; cut++)
      assert.equal(readSplit(bytes, cut), expected, `cut at ${cut}`);
  });

test('random bytes: never a greeting unless they begin like one, never past the input', () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  for (let round = 0; round < 2000; round++) {
    const bytes = Buffer.alloc(1 + (random() % 40));
    for (let i = 0; i < bytes.length; i++) bytes[i] = random() & 0xff;
    if (round % 4 === 0) Buffer.from('elb-proxy-echo ').copy(bytes); // some begin like a greeting
    const outcome = readSplit(bytes, random() % (bytes.length + 1));
    if (bytes[0] !== 0x65) assert.equal(outcome, { line: null, echoAt: 0 });
    else if (typeof outcome === 'object') assert.ok(outcome.echoAt <= bytes.length);
  }
});

test.run();
