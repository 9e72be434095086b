import { isIPv4, isIPv6 } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatIPv4 } from '../../src/protocol/ipv4.ts';
import { formatIPv6 } from '../../src/protocol/ipv6.ts';
import { PARSE_ERROR_CODES, buildProxyHeader, parseProxyHeader } from '../../src/protocol/index.ts';
import type {
  ParseErrorCode,
  ParseResult,
  Protocol,
  ProxyHeader,
  Tlv,
} from '../../src/protocol/index.ts';
import {
  V1_CASES,
  V1_IMPOSSIBLE_STARTS,
  LONG_FORM,
  V1_INVALID,
  V1_SPLIT_CASES,
  VALID_CASES,
  V2_SIG,
  concat,
  hex,
  plain,
  text,
} from './cases.ts';
import { Random, runSeed } from './random.ts';

const seed = runSeed();
const context = `(replay with SEED=${seed})`;

const splits = suite('streaming');
splits('every split point of every valid case: incomplete, then the same ok', () => {
  for (const c of VALID_CASES) {
    const whole = concat(c.bytes, text('payload'));
    for (let cut = 0; cut < c.bytes.length; cut++) {
      assert.is(
        parseProxyHeader(whole.subarray(0, cut)).status,
        'incomplete',
        `${c.name}: first ${cut} bytes`,
      );
    }
    for (let cut = c.bytes.length; cut <= whole.length; cut++) {
      const result = parseProxyHeader(whole.subarray(0, cut));
      if (result.status !== 'ok')
        throw new Error(`${c.name}: first ${cut} bytes: ${JSON.stringify(result)}`);
      assert.is(result.length, c.bytes.length);
      assert.equal(plain(result.header), c.header, `${c.name}: first ${cut} bytes`);
    }
  }
});
splits.run();

// An oracle written apart from the parser, straight from the spec's wording: whatever the parser
// calls a header must be one.
const V1_LINE =
  /^PROXY (?:UNKNOWN(?: [^\r\n]*)?|(TCP4|TCP6) ([^ ]+) ([^ ]+) (0|[1-9][0-9]{0,4}) (0|[1-9][0-9]{0,4}))\r\n$/;
const DEFINED_FAMILIES = new Set([0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32]);

function assertIsHeader(bytes: Uint8Array, header: ProxyHeader, length: number): void {
  const consumed = bytes.subarray(0, length);
  const shown = JSON.stringify(Buffer.from(consumed).toString('latin1'));
  if (header.version === 1) {
    assert.ok(length <= 107, `v1 line over 107 bytes: ${shown}`);
    const match = V1_LINE.exec(Buffer.from(consumed).toString('latin1'));
    assert.ok(match, `not a v1 line: ${shown}`);
    if (match![1] === undefined) return assert.is(header.source, null);
    const ipOk = match![1] === 'TCP4' ? isIPv4 : isIPv6;
    assert.ok(
      ipOk(match![2]) && ipOk(match![3]) && !/[%[]/.test(match![2] + match![3]),
      `bad addresses: ${shown}`,
    );
    assert.ok(Number(match![4]) <= 65535 && Number(match![5]) <= 65535, `bad ports: ${shown}`);
    assert.is(header.source!.port, Number(match![4]));
    assert.is(header.destination!.port, Number(match![5]));
    // The addresses reported are the ones on the line (compared as the URL parser normalises them).
    assert.is(
      sameAddress(header.source!.address, match![2]),
      true,
      `source ${header.source!.address}: ${shown}`,
    );
    assert.is(
      sameAddress(header.destination!.address, match![3]),
      true,
      `destination ${header.destination!.address}: ${shown}`,
    );
    return;
  }
  assert.equal(Array.from(consumed.subarray(0, 12)), Array.from(hex(V2_SIG)), 'v2 signature');
  assert.ok(consumed[12] === 0x20 || consumed[12] === 0x21, 'v2 version/command');
  // LOCAL ignores the family byte; PROXY needs a defined one.
  if (consumed[12] === 0x21) assert.ok(DEFINED_FAMILIES.has(consumed[13]), 'v2 family');
  assert.is(length, 16 + ((consumed[14] << 8) | consumed[15]), 'v2 length');
  assert.ok(length <= 4096, 'v2 size cap');
  if (
    header.command === 'proxy' &&
    header.protocol !== 'UNKNOWN' &&
    !header.protocol.startsWith('UNIX')
  ) {
    // The PROXY encoding with addresses is unique: rebuilding it must give the very same bytes.
    // (Blocks without addresses may be skipped unread, as the spec says: no unique encoding.)
    assert.equal(
      Array.from(buildProxyHeader(header)),
      Array.from(consumed),
      `rebuilt v2 header differs: ${shown}`,
    );
  }
}

/** Whether two IPv4 or two IPv6 texts name the same address (WHATWG URL host normalisation). */
function sameAddress(a: string, b: string): boolean {
  const host = (address: string) =>
    new URL(`http://${address.includes(':') ? `[${address}]` : address}/`).hostname;
  return host(a) === host(b);
}

const INTERESTING = [
  0x00, 0x0a, 0x0d, 0x20, 0x30, 0x31, 0x39, 0x3a, 0x2e, 0x50, 0x55, 0x41, 0x66, 0xff, 0x03, 0x04,
  0x11, 0x21,
];

function mutate(random: Random, input: Uint8Array): Uint8Array {
  let bytes: Uint8Array = Uint8Array.from(input);
  const edits = 1 + random.int(3);
  for (let e = 0; e < edits; e++) {
    const at = random.int(bytes.length + 1);
    switch (random.int(7)) {
      case 0:
        if (at < bytes.length) bytes[at] = random.int(256);
        break;
      case 5:
        if (at < bytes.length) bytes[at] ^= 1 << random.int(8);
        break;
      case 6:
        if (at < bytes.length) bytes[at] += random.int(2) === 0 ? 1 : -1;
        break;
      case 1:
        if (at < bytes.length) bytes[at] = random.pick(INTERESTING);
        break;
      case 2:
        bytes = concat(
          bytes.subarray(0, at),
          Uint8Array.of(random.pick(INTERESTING)),
          bytes.subarray(at),
        );
        break;
      case 3:
        bytes = concat(bytes.subarray(0, at), bytes.subarray(at + 1));
        break;
      default:
        bytes = bytes.subarray(0, at);
    }
  }
  return bytes;
}

function randomInput(random: Random): Uint8Array {
  const starts = [
    new Uint8Array(0),
    text('P'),
    text('PROXY '),
    text('PROXY TCP4 '),
    text('PROXY TCP6 '),
    hex(V2_SIG),
    hex(`${V2_SIG} 21 11`),
  ];
  return concat(random.pick(starts), random.bytes(random.int(120)));
}

const fuzz = suite('random and mutated input');
fuzz(`100k inputs never throw and never pass a non-header as ok ${context}`, () => {
  const random = new Random(seed);
  let ok = 0;
  for (let n = 0; n < 100_000; n++) {
    const input =
      n % 2 === 0 ? mutate(random, random.pick(VALID_CASES).bytes) : randomInput(random);
    let result;
    try {
      result = parseProxyHeader(input);
    } catch (error) {
      throw new Error(
        `threw on ${Buffer.from(input).toString('hex')} ${context}: ${String(error)}`,
      );
    }
    if (result.status === 'ok') {
      ok++;
      assertIsHeader(input, result.header, result.length);
    } else if (result.status === 'invalid') {
      assert.ok(PARSE_ERROR_CODES.includes(result.code), `code ${result.code} ${context}`);
      assert.type(result.reason, 'string');
      assert.ok(result.reason.length > 0);
    }
  }
  assert.ok(ok > 100, `the mutations should also reach valid headers (got ${ok})`);
});
/**
 * Valid lines written long (leading zeros, dotted tails) so that they end at or near the 107-byte
 * limit: mutated, the room left for the CRLF decides as often as the bytes do.
 */
const LONG_V1_LINES = [
  text(`PROXY TCP6 ${LONG_FORM} ${LONG_FORM.slice(0, 44)} 1 1\r\n`),
  text(`PROXY TCP6 ${LONG_FORM.slice(0, 43)} ${LONG_FORM.slice(0, 40)} 12 345\r\n`),
  text(`PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n`),
];

fuzz(
  `streaming holds for mutated and random input: invalid is final, with the same code ${context}`,
  () => {
    const random = new Random(seed ^ 0xf1e1d);
    let invalid = 0;
    for (let n = 0; n < 6000; n++) {
      const input =
        n % 3 === 0
          ? mutate(random, random.pick(VALID_CASES).bytes)
          : n % 3 === 1
            ? mutate(random, random.pick(LONG_V1_LINES))
            : randomInput(random);
      const whole = parseProxyHeader(input);
      let first: ParseResult | null = null; // the shortest invalid prefix's result
      for (let cut = 0; cut <= input.length; cut++) {
        const part = parseProxyHeader(input.subarray(0, cut));
        const shown = `${Buffer.from(input).toString('hex')} cut at ${cut} ${context}`;
        if (first !== null) {
          // Once invalid, every longer input is invalid with the same code, whole input included:
          // the code a server logs cannot depend on how TCP split the header.
          assert.is(part.status, 'invalid', `invalid must stay invalid: ${shown}`);
          assert.is(code(part), code(first), `the code must not change: ${shown}`);
        } else if (part.status === 'invalid') {
          first = part;
          invalid++;
          assert.is(
            code(whole),
            code(part),
            `the whole input must have the prefix's code: ${shown}`,
          );
        }
        if (whole.status === 'ok') {
          if (cut < whole.length) assert.is(part.status, 'incomplete', shown);
          else assert.is(part.status === 'ok' && part.length, whole.length, shown);
        }
        if (whole.status === 'incomplete') assert.is(part.status, 'incomplete', shown);
      }
    }
    assert.ok(invalid > 3000, `most inputs should turn invalid somewhere (got ${invalid})`);
  },
);

const code = (result: ParseResult) => (result.status === 'invalid' ? result.code : result.status);
fuzz.run();

// Whether a text can still begin a v1 line, told apart from the parser: the spec's grammar on
// strings, node:net judging whole addresses, and the room left in 107 bytes for what is still
// missing at the shortest (the rest of the field, the later fields, the CRLF).
const isPort = (field: string) => /^(0|[1-9][0-9]{0,4})$/.test(field) && Number(field) <= 65535;
const isOctet = (field: string) => /^(0|[1-9][0-9]{0,2})$/.test(field) && Number(field) <= 255;
/** Every string of up to five of '0', ':' and '.', shortest first: what an IPv6 start may lack at most (`::`, `0.0.0`). */
const IPV6_ENDINGS: string[] = [''];
for (let n = 0; IPV6_ENDINGS[n].length < 5; n++)
  for (const c of '0:.') IPV6_ENDINGS.push(IPV6_ENDINGS[n] + c);

/** The fewest characters that make `field` an address, or -1 when none do. */
function addressEnding(field: string, v6: boolean): number {
  if (v6) {
    if (!/^[0-9a-fA-F:.]*$/.test(field)) return -1;
    const ending = IPV6_ENDINGS.find((end) => isIPv6(field + end));
    return ending === undefined ? -1 : ending.length;
  }
  const octets = field.split('.');
  const last = octets[octets.length - 1];
  if (octets.length > 4 || !octets.slice(0, -1).every(isOctet) || !(last === '' || isOctet(last)))
    return -1;
  return (last === '' ? 1 : 0) + 2 * (4 - octets.length); // the last number, then `.0` for each one missing
}

const portEnding = (field: string) => (field === '' ? 1 : isPort(field) ? 0 : -1);

/** Whether `line` can begin a v1 line; with `room` false, whatever its length. */
function canBeginV1(line: string, room = true): boolean {
  const limit = room ? 107 : Number.POSITIVE_INFINITY;
  if (line.length <= 6) return 'PROXY '.startsWith(line);
  if (!line.startsWith('PROXY ')) return false;
  const rest = line.slice(6);
  const missingLineEnd = line.endsWith('\r\n') ? 0 : line.endsWith('\r') ? 1 : 2;
  if (rest.startsWith('UNKNOWN'))
    return /^UNKNOWN(?: [^\r\n]*)?(?:\r\n?)?$/.test(rest) && line.length + missingLineEnd <= limit;
  if (['UNKNOWN', 'TCP4 ', 'TCP6 '].some((word) => word.startsWith(rest))) return true;
  if (!/^TCP[46] /.test(rest)) return false;
  const v6 = rest[3] === '6';
  const body = rest.slice(5);
  const ended = missingLineEnd < 2; // then all four fields are there
  const fields = body.replace(/\r\n?$/, '').split(' ');
  if (fields.length > 4 || (ended && fields.length < 4)) return false;
  let missing = missingLineEnd;
  for (let i = 0; i < fields.length; i++) {
    const ending = i < 2 ? addressEnding(fields[i], v6) : portEnding(fields[i]);
    if (ending < 0 || (ending > 0 && (ended || i < fields.length - 1))) return false;
    missing += ending;
  }
  for (let later = fields.length; later < 4; later++)
    missing += 1 + (later >= 2 ? 1 : v6 ? '::'.length : '0.0.0.0'.length);
  return line.length + missing <= limit;
}

/**
 * The code for `line`, whose last character is the first that cannot begin a v1 line, told
 * from that character and what precedes it alone: no room left, or what the character is
 * where it stands.
 */
function expectedCode(line: string): ParseErrorCode {
  if (canBeginV1(line, false)) return 'line-too-long';
  const c = line[line.length - 1];
  const rest = line.slice(6, -1); // what came after "PROXY " before it
  if (line.length <= 6) return 'not-proxy';
  if (rest === 'UNKNOWN' || rest === 'TCP4' || rest === 'TCP6') return 'bad-v1-field'; // no space
  if (rest.startsWith('UNKNOWN')) return 'bad-line-end'; // a CR or LF out of place
  if (!/^TCP[46] /.test(rest)) return 'bad-v1-protocol';
  if (rest.endsWith('\r')) return 'bad-line-end';
  const v6 = rest[3] === '6';
  const fields = rest.slice(5).split(' ');
  const field = fields.length - 1;
  const text = fields[field];
  if (c === (field === 3 ? '\r' : ' ')) return text === '' ? 'bad-v1-field' : 'bad-address';
  if (field >= 2) return /[0-9]/.test(c) ? 'bad-port' : 'bad-v1-field';
  if (c === (v6 ? '.' : ':') && addressEnding(text + c, !v6) >= 0) return 'family-mismatch';
  return (v6 ? /[0-9a-fA-F:.]/ : /[0-9:.]/).test(c) ? 'bad-address' : 'bad-v1-field';
}

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

/** Length of the shortest prefix of `bytes` that the parser calls invalid, or -1. */
function firstInvalidPrefix(bytes: Uint8Array): number {
  for (let cut = 0; cut <= bytes.length; cut++)
    if (parseProxyHeader(bytes.subarray(0, cut)).status === 'invalid') return cut;
  return -1;
}

const early = suite('v1: invalid exactly where the line stops being the start of a valid one');
early('the checker in this test accepts every prefix of every valid v1 case', () => {
  for (const c of V1_CASES)
    for (let cut = 0; cut <= c.bytes.length; cut++)
      assert.ok(canBeginV1(latin1(c.bytes.subarray(0, cut))), `${c.name}: first ${cut} bytes`);
});
early(
  'every invalid v1 case in the tables is refused at the first byte the checker refuses',
  () => {
    const splitLines = V1_SPLIT_CASES.map(
      ([name, start, rest, code]) => [name, concat(start, rest), code] as const,
    );
    for (const [name, bytes, code] of [...V1_INVALID, ...V1_IMPOSSIBLE_STARTS, ...splitLines]) {
      const line = latin1(bytes);
      let expected = -1;
      for (let cut = 0; cut <= line.length && expected < 0; cut++)
        if (!canBeginV1(line.slice(0, cut))) expected = cut;
      assert.ok(expected > 0, `${name}: the checker finds nothing wrong`);
      assert.is(firstInvalidPrefix(bytes), expected, `${name}: ${JSON.stringify(line)}`);
      assert.is(expectedCode(line.slice(0, expected)), code, `${name}: the checker's code`);
    }
  },
);
const V1_STARTS = [...V1_CASES.map((c) => c.bytes), ...LONG_V1_LINES];
early(
  `mutated v1 lines: every prefix is invalid exactly when the checker says it cannot begin a line, with the checker's code ${context}`,
  () => {
    const random = new Random(seed ^ 0xea51);
    let invalid = 0;
    for (let n = 0; n < 3000; n++) {
      const input = mutate(random, random.pick(V1_STARTS));
      if (input[0] !== 0x50) continue; // 'P': anything else is not (only) a v1 start
      for (let cut = 1; cut <= input.length; cut++) {
        const result = parseProxyHeader(input.subarray(0, cut));
        const shown = `${JSON.stringify(latin1(input.subarray(0, cut)))} ${context}`;
        assert.is(result.status === 'invalid', !canBeginV1(latin1(input.subarray(0, cut))), shown);
        if (result.status === 'invalid') {
          invalid++;
          assert.is(result.code, expectedCode(latin1(input.subarray(0, cut))), shown);
        }
        if (result.status !== 'incomplete') break; // an ok line is followed by payload
      }
    }
    assert.ok(invalid > 500, `the mutations should also make invalid lines (got ${invalid})`);
  },
);
early.run();

const ALL_PROTOCOLS: readonly Protocol[] = [
  'TCP4',
  'TCP6',
  'UDP4',
  'UDP6',
  'UNIX_STREAM',
  'UNIX_DGRAM',
  'UNKNOWN',
];
const TLV_TYPES = [0x01, 0x02, 0x04, 0x05, 0x20, 0x30, 0xe0, 0xea, 0xee, 0xf0, 0xff];

function randomAddress(random: Random, protocol: Protocol): string {
  if (protocol.endsWith('4')) return formatIPv4(random.bytes(4), 0);
  if (protocol.endsWith('6')) {
    // Mostly sparse addresses, so zero runs and IPv4-mapped forms come up.
    const bytes = random.bytes(16).map((b) => (random.int(3) === 0 ? b : 0));
    if (random.int(8) === 0) bytes.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
    return formatIPv6(bytes, 0);
  }
  return Array.from({ length: random.int(60) }, () =>
    random.pick(['/', 'a', 'z', '.', '-', 'é', '9']),
  ).join('');
}

function randomTlv(random: Random): Tlv {
  const type = random.pick(TLV_TYPES);
  if (type === 0x20) {
    const sub = random.bytes(random.int(20));
    return { type, value: concat(random.bytes(5), Uint8Array.of(0x21, 0, sub.length), sub) };
  }
  return { type, value: random.bytes(random.int(type === 0x05 ? 129 : 300)) };
}

function randomHeader(random: Random): ProxyHeader {
  const version = random.int(2) === 0 ? 1 : 2;
  const protocol =
    version === 1 ? random.pick<Protocol>(['TCP4', 'TCP6', 'UNKNOWN']) : random.pick(ALL_PROTOCOLS);
  const command = version === 2 && random.int(4) === 0 ? 'local' : 'proxy';
  const withAddresses = command === 'proxy' && protocol !== 'UNKNOWN';
  const unix = protocol.startsWith('UNIX');
  const endpoint = () => ({
    address: randomAddress(random, protocol),
    port: unix ? 0 : random.int(65536),
  });
  const tlvs = version === 2 ? Array.from({ length: random.int(4) }, () => randomTlv(random)) : [];
  return {
    version,
    command,
    protocol,
    source: withAddresses ? endpoint() : null,
    destination: withAddresses ? endpoint() : null,
    tlvs,
  };
}

const roundTrips = suite('builder round trips');
roundTrips(`parse(build(h)) gives h back for 3000 random headers ${context}`, () => {
  const random = new Random(seed ^ 0x5eed);
  for (let n = 0; n < 3000; n++) {
    const header = randomHeader(random);
    const withCrc = header.version === 2 && random.int(2) === 0;
    const bytes = buildProxyHeader(header, { crc32c: withCrc });
    const result = parseProxyHeader(concat(bytes, text('after')), {
      maxV2HeaderSize: 65551,
      crc32c: withCrc ? 'require' : 'verify',
    });
    if (result.status !== 'ok')
      throw new Error(`${JSON.stringify(result)} for ${JSON.stringify(header)} ${context}`);
    assert.is(result.length, bytes.length);
    const got = plain(result.header);
    assert.equal(
      withCrc ? { ...got, tlvs: got.tlvs.filter((tlv) => tlv.type !== 0x03) } : got,
      plain(header),
    );
    if (n % 10 === 0) {
      for (let cut = 0; cut < bytes.length; cut++)
        assert.is(
          parseProxyHeader(bytes.subarray(0, cut), { maxV2HeaderSize: 65551 }).status,
          'incomplete',
        );
    }
  }
});
roundTrips.run();

// The address text a header reports is the text of the line when that is already canonical and
// rendered again from the bytes otherwise: either way it must be what rendering the address's
// bytes gives. Random addresses, each written in the many ways the grammar allows.
const texts = suite('address text: sliced or re-rendered, always the canonical one');

/** A valid IPv6 text of `bytes`, in a random one of the forms RFC 4291 allows. */
function writeIPv6(random: Random, bytes: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, w) => (bytes[2 * w] << 8) | bytes[2 * w + 1]);
  const upper = random.int(4) === 0;
  const word = (w: number) => {
    const digits = random.int(3) === 0 ? w.toString(16).padStart(4, '0') : w.toString(16);
    return upper ? digits.toUpperCase() : digits;
  };
  const dotted = random.int(5) === 0;
  const groups = (dotted ? words.slice(0, 6) : words).map(word);
  const tail = dotted ? [...bytes.subarray(12)].join('.') : null;
  // Compress a random run of zero groups (or none), not always the longest.
  const zeros = groups.flatMap((_, i) => (words[i] === 0 ? [i] : []));
  let text: string;
  if (zeros.length > 0 && random.int(4) !== 0) {
    const from = random.pick(zeros);
    let to = from + 1;
    while (to < groups.length && words[to] === 0 && random.int(4) !== 0) to++;
    text = `${groups.slice(0, from).join(':')}::${groups.slice(to).join(':')}`;
    if (tail !== null) text += to === groups.length ? tail : `:${tail}`;
  } else {
    text = groups.join(':') + (tail === null ? '' : `:${tail}`);
  }
  return text;
}

/** Random address bytes, rich in zero words and in IPv4-mapped addresses. */
function randomIPv6(random: Random): Uint8Array {
  const bytes = new Uint8Array(16);
  for (let w = 0; w < 8; w++) {
    if (random.int(2) === 0) continue;
    bytes[2 * w] = random.int(3) === 0 ? random.int(256) : 0;
    bytes[2 * w + 1] = random.int(256);
  }
  if (random.int(6) === 0) {
    bytes.fill(0, 0, 10);
    bytes[10] = 0xff;
    bytes[11] = 0xff;
  }
  return bytes;
}

texts(`TCP6: 20k random addresses in random text forms ${context}`, () => {
  const random = new Random(seed ^ 0x6a6);
  let verbatim = 0;
  for (let n = 0; n < 20_000; n++) {
    const bytes = [randomIPv6(random), randomIPv6(random)];
    const written = bytes.map((b) => writeIPv6(random, b));
    const result = parseProxyHeader(text(`PROXY TCP6 ${written[0]} ${written[1]} 1 2\r\n`));
    if (result.status !== 'ok') throw new Error(`${written.join(' ')}: ${JSON.stringify(result)}`);
    const expected = bytes.map((b) => formatIPv6(b, 0));
    assert.is(result.header.source!.address, expected[0], `${written[0]} ${context}`);
    assert.is(result.header.destination!.address, expected[1], `${written[1]} ${context}`);
    verbatim += written.filter((w, i) => w === expected[i]).length;
  }
  assert.ok(verbatim > 200, `some texts should already be canonical (got ${verbatim})`);
});
texts(`TCP4: 20k random addresses ${context}`, () => {
  const random = new Random(seed ^ 0x4a4);
  for (let n = 0; n < 20_000; n++) {
    const bytes = [random.bytes(4), random.bytes(4)];
    const written = bytes.map((b) => [...b].join('.'));
    const result = parseProxyHeader(text(`PROXY TCP4 ${written[0]} ${written[1]} 1 2\r\n`));
    if (result.status !== 'ok') throw new Error(`${written.join(' ')}: ${JSON.stringify(result)}`);
    assert.is(result.header.source!.address, formatIPv4(bytes[0], 0));
    assert.is(result.header.destination!.address, formatIPv4(bytes[1], 0));
  }
});
texts.run();
