// Byte-level behaviour of the wrapper, on a stand-in socket where each chunk is one read: every
// split of every valid header (and into the bytes after it) gives the same connection, with
// those bytes untouched; invalid headers are refused with the parser's code; random splits and
// random bytes never throw.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseProxyHeader } from '../../src/protocol/index.ts';
import { PARSE_ERROR_CODES, type ProxyHeader } from '../../src/protocol/types.ts';
import { concat, plain, text, V1_INVALID, VALID_CASES } from '../protocol/cases.ts';
import { Random, runSeed } from '../protocol/random.ts';
import { feed, type Outcome } from './fake-socket.ts';

const PEER = '10.0.0.9';
const PAYLOAD = text('GET / HTTP/1.1\r\nHost: x\r\n\r\n');

/** The address a wrapped socket should report for `header`: its client, or the peer's own. */
function expectedAddress(header: ProxyHeader): string {
  const ip = header.source !== null && !header.protocol.startsWith('UNIX');
  return ip ? header.source!.address : PEER;
}

function assertPassed(outcome: Outcome, header: ProxyHeader, context: string): void {
  assert.ok(outcome.delivered, `${context}: delivered`);
  assert.equal(outcome.rejections, [], context);
  assert.equal(plain(outcome.header!), plain(header), context);
  assert.is(outcome.address, expectedAddress(header), context);
  assert.is(outcome.data.toString('latin1'), Buffer.from(PAYLOAD).toString('latin1'), context);
}

/** `whole` cut into pieces at `cuts` (ascending offsets inside it). */
function cutAt(whole: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const cut of cuts) {
    pieces.push(whole.subarray(from, cut));
    from = cut;
  }
  pieces.push(whole.subarray(from));
  return pieces;
}

const splits = suite('splits');
splits('every valid header in one read with the bytes after it', async () => {
  for (const c of VALID_CASES)
    assertPassed(await feed([concat(c.bytes, PAYLOAD)]), c.header, c.name);
});

splits('every split point of every valid header and of the first bytes after it', async () => {
  for (const c of VALID_CASES) {
    const whole = concat(c.bytes, PAYLOAD);
    // Up to 8 bytes into the payload: a header's end and the data's start in either read.
    for (let cut = 1; cut <= c.bytes.length + 8; cut++)
      assertPassed(await feed(cutAt(whole, [cut])), c.header, `${c.name}, cut at ${cut}`);
  }
});

splits('one byte per read', async () => {
  for (const c of VALID_CASES) {
    const whole = concat(c.bytes, PAYLOAD);
    const cuts = Array.from({ length: whole.length - 1 }, (_, i) => i + 1);
    assertPassed(await feed(cutAt(whole, cuts)), c.header, `${c.name}, byte by byte`);
  }
});
splits.run();

const invalid = suite('invalid headers');
/** The parser's verdict on `chunks` read one by one: the first invalid code, or null. */
function parserVerdict(chunks: readonly Uint8Array[]): string | null {
  let seen: Uint8Array = new Uint8Array(0);
  for (const chunk of chunks) {
    seen = concat(seen, chunk);
    const result = parseProxyHeader(seen);
    if (result.status === 'invalid') return result.code;
  }
  return null;
}

invalid(
  'each is refused with the parser code, whole or byte by byte; nothing is delivered',
  async () => {
    for (const [name, bytes, code] of V1_INVALID) {
      const byteByByte = cutAt(
        bytes,
        Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
      );
      for (const chunks of [[bytes], byteByByte]) {
        const outcome = await feed(chunks);
        const verdict = parserVerdict(chunks);
        // Whole, the table's own code; a prefix still incomplete at the end just closes.
        if (chunks.length === 1 && verdict !== null) assert.is(verdict, code, name);
        assert.equal(
          outcome.rejections.map((r) => [r.code, r.remoteAddress]),
          verdict === null ? [] : [[verdict, PEER]],
          name,
        );
        assert.not.ok(outcome.delivered, name);
        assert.ok(outcome.destroyed, name);
      }
    }
  },
);
invalid.run();

const seed = runSeed();
const properties = suite(`properties (replay with SEED=${seed})`);
properties('random splits of random valid headers give the same connection', async () => {
  const random = new Random(seed);
  for (let round = 0; round < 300; round++) {
    const c = random.pick(VALID_CASES);
    const whole = concat(c.bytes, PAYLOAD);
    const cuts = new Set<number>();
    const count = 1 + random.int(6);
    for (let i = 0; i < count; i++) cuts.add(1 + random.int(whole.length - 1));
    const sorted = [...cuts].sort((a, b) => a - b);
    assertPassed(await feed(cutAt(whole, sorted)), c.header, `${c.name}, cuts ${sorted}`);
  }
});

properties(
  'random bytes, split at random, never throw: delivered as data or refused with a code',
  async () => {
    const random = new Random(seed + 1);
    const codes = new Set<string>([...PARSE_ERROR_CODES, 'untrusted', 'header-timeout']);
    for (let round = 0; round < 300; round++) {
      // Often a real signature first, so the parsers get past their first byte.
      const start = random.pick([text('PROXY '), text('\r\n\r\n\0\r\nQUIT\n'), new Uint8Array(0)]);
      const bytes = concat(start, random.bytes(random.int(120)));
      const cut = 1 + random.int(Math.max(1, bytes.length - 1));
      const policy = random.pick(['require', 'optional'] as const);
      const outcome = await feed(cutAt(bytes, [cut]), { policy, headerTimeout: 1000 });
      for (const rejection of outcome.rejections)
        assert.ok(codes.has(rejection.code), rejection.code);
      assert.ok(outcome.rejections.length <= 1);
      if (outcome.delivered) assert.is(outcome.rejections.length, 0);
    }
  },
);
properties.run();
