// npm run bench:parser — PROXY headers parsed per second: ours against the npm libraries a user
// would pick instead and a naive toString/split parser, each handed the header as a Buffer (the
// form bytes arrive in from a socket). Every contender's answer is checked before it is timed;
// a wrong or missing answer is shown, not timed. One process, a few seconds per case.
import { buildProxyHeader, parseProxyHeader, TLV_TYPE } from '../src/protocol/index.ts';
import type { ProxyHeader, ProxyHeaderInit } from '../src/protocol/index.ts';
import { benchLibraries } from './libraries.ts';

const LIBRARIES = ['proxy-protocol-js', '@balena/proxy-protocol-parser', 'findhit-proxywrap'];
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 100);
const ROUNDS = 6;

const require = benchLibraries('bench:parser', LIBRARIES);
const proxyProtocolJs = require('proxy-protocol-js');
const balena = require('@balena/proxy-protocol-parser');
// findhit-proxywrap parses inside its socket wrapper; this is the same work on one header:
// the chunk to an ASCII string, up to the CR, its strict-mode regular expression, split on spaces.
const findhitRegexp: RegExp = require('findhit-proxywrap/lib/proxy-protocol.regexp.js');

/** What every contender must agree on: the client and the address it connected to. */
interface Answer {
  source: string;
  sourcePort: number;
  destination: string;
  destinationPort: number;
}

interface Case {
  name: string;
  bytes: Buffer;
  expected: Answer;
}

function headerCase(name: string, header: ProxyHeaderInit): Case {
  const { source, destination } = header;
  return {
    name,
    bytes: Buffer.from(buildProxyHeader(header)),
    expected: {
      source: source!.address,
      sourcePort: source!.port,
      destination: destination!.address,
      destinationPort: destination!.port,
    },
  };
}

const aws = new Uint8Array([0x01, ...Buffer.from('vpce-08d2bf15fefb1a2fa')]);
const CASES: Case[] = [
  headerCase('v1 TCP4 (Classic ELB line)', {
    version: 1,
    command: 'proxy',
    protocol: 'TCP4',
    source: { address: '54.222.152.163', port: 45418 },
    destination: { address: '10.0.11.239', port: 5000 },
  }),
  headerCase('v1 TCP6', {
    version: 1,
    command: 'proxy',
    protocol: 'TCP6',
    source: { address: '2001:db8:85a3::8a2e:370:7334', port: 51234 },
    destination: { address: '2001:db8::1', port: 443 },
  }),
  headerCase('v2 TCP4 + AWS VPC endpoint TLV', {
    version: 2,
    command: 'proxy',
    protocol: 'TCP4',
    source: { address: '192.0.2.1', port: 45418 },
    destination: { address: '10.0.11.15', port: 5000 },
    tlvs: [{ type: TLV_TYPE.AWS, value: aws }],
  }),
];

/**
 * A contender: `parse` is what a user calls on the bytes (null or a throw: not a header);
 * `read` takes the addresses and ports out of its result, as a server logging the client does.
 */
interface Contender {
  name: string;
  library: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: each library returns its own result shape, read only by its own `read`
  parse(bytes: Buffer): any;
  // biome-ignore lint/suspicious/noExplicitAny: see parse
  read(result: any): Answer;
}

const CONTENDERS: Contender[] = [
  {
    name: 'elb-proxy-echo',
    library: false,
    parse: (bytes) => {
      const result = parseProxyHeader(bytes);
      return result.status === 'ok' ? result.header : null;
    },
    read: (header: ProxyHeader) => ({
      source: header.source!.address,
      sourcePort: header.source!.port,
      destination: header.destination!.address,
      destinationPort: header.destination!.port,
    }),
  },
  {
    name: 'proxy-protocol-js',
    library: true,
    // Its v1 parser takes a string: the conversion is part of the cost.
    parse: (bytes) =>
      bytes[0] === 0x50
        ? proxyProtocolJs.V1ProxyProtocol.parse(bytes.toString('latin1'))
        : proxyProtocolJs.V2ProxyProtocol.parse(bytes),
    read: (parsed) => {
      if (parsed.proxyAddress === undefined) {
        return {
          source: parsed.source.ipAddress,
          sourcePort: parsed.source.port,
          destination: parsed.destination.ipAddress,
          destinationPort: parsed.destination.port,
        };
      }
      const address = parsed.proxyAddress; // v2 gives the IPv4 addresses as arrays of numbers
      return {
        source: address.sourceAddress.address.join('.'),
        sourcePort: address.sourcePort,
        destination: address.destinationAddress.address.join('.'),
        destinationPort: address.destinationPort,
      };
    },
  },
  {
    name: '@balena/proxy-protocol-parser',
    library: true,
    parse: (bytes) => balena.decode(bytes, true),
    read: (parsed) => ({
      source: parsed.remoteAddress,
      sourcePort: parsed.remotePort,
      destination: parsed.localAddress,
      destinationPort: parsed.localPort,
    }),
  },
  {
    name: 'findhit-proxywrap (v1 only)',
    library: true,
    parse: (bytes) => {
      if (bytes[0] !== 0x50) return null;
      const text = bytes.toString('ascii');
      const line = text.substring(0, text.indexOf('\r'));
      return findhitRegexp.test(line) ? line.split(' ') : null;
    },
    read: (fields: string[]) => ({
      source: fields[2],
      sourcePort: Number(fields[4]),
      destination: fields[3],
      destinationPort: Number(fields[5]),
    }),
  },
  {
    name: 'naive toString/split (v1 only)',
    library: false,
    parse: (bytes) => {
      const text = bytes.toString('latin1');
      const end = text.indexOf('\r\n');
      return text.startsWith('PROXY ') && end >= 0 ? text.slice(0, end).split(' ') : null;
    },
    read: (fields: string[]) => ({
      source: fields[2],
      sourcePort: Number(fields[4]),
      destination: fields[3],
      destinationPort: Number(fields[5]),
    }),
  },
];

function answerOf(contender: Contender, bytes: Buffer): Answer | null {
  try {
    const parsed = contender.parse(bytes);
    return parsed === null || parsed === undefined ? null : contender.read(parsed);
  } catch {
    return null;
  }
}

function sameAnswer(a: Answer, b: Answer): boolean {
  return (
    a.source === b.source &&
    a.sourcePort === b.sourcePort &&
    a.destination === b.destination &&
    a.destinationPort === b.destinationPort
  );
}

type Batch = (parse: Contender['parse'], read: Contender['read'], bytes: Buffer) => number;

/**
 * A batch of 1000 calls in a function compiled for this one contender, so that its call site
 * sees a single parser (as a server's does) rather than all of them: V8 keeps type feedback per
 * function, and a loop shared by every contender would penalise whoever runs last.
 */
function compileBatch(withRead: boolean): Batch {
  const body = withRead
    ? 'sum += read(parse(bytes)).source.length;'
    : 'sum += parse(bytes) === null ? 0 : 1;';
  return new Function(
    'parse',
    'read',
    'bytes',
    `let sum = 0; for (let i = 0; i < 1000; i++) ${body} return sum;`,
  ) as Batch;
}

/** Headers per second over one slice of ROUND_MS. The checksum keeps the work observable. */
let checksum = 0;
function slice(batch: Batch, contender: Contender, bytes: Buffer): number {
  let count = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ROUND_MS * 1e6);
  let now = start;
  while (now < deadline) {
    checksum += batch(contender.parse, contender.read, bytes);
    count += 1000;
    now = process.hrtime.bigint();
  }
  return count / (Number(now - start) / 1e9);
}

/**
 * The best rate of each contender over ROUNDS rounds, taken in turns (one slice each per round),
 * so that a busy moment of the machine hits them all alike. Round -1 warms up and is not counted.
 */
function measureAll(contenders: Contender[], bytes: Buffer, withRead: boolean): number[] {
  const batches = contenders.map(() => compileBatch(withRead));
  const best = contenders.map(() => 0);
  for (let round = -1; round < ROUNDS; round++) {
    contenders.forEach((contender, i) => {
      const rate = slice(batches[i], contender, bytes);
      if (round >= 0 && rate > best[i]) best[i] = rate;
    });
  }
  return best;
}

function format(rate: number): string {
  return rate >= 1e6 ? `${(rate / 1e6).toFixed(2)} M/s` : `${(rate / 1e3).toFixed(0)} k/s`;
}

const rows: string[][] = [];
const worst = [Infinity, Infinity]; // our smallest margin over the fastest library: parse, parse + read
for (const c of CASES) {
  const rates = new Map<string, number[]>(); // [parse, parse + read]; -1 no answer, -2 wrong answer
  const timed: Contender[] = [];
  for (const contender of CONTENDERS) {
    const answer = answerOf(contender, c.bytes);
    if (answer === null) rates.set(contender.name, [-1, -1]);
    else if (!sameAnswer(answer, c.expected)) rates.set(contender.name, [-2, -2]);
    else timed.push(contender);
  }
  const parseRates = measureAll(timed, c.bytes, false);
  const readRates = measureAll(timed, c.bytes, true);
  for (const [i, contender] of timed.entries())
    rates.set(contender.name, [parseRates[i], readRates[i]]);
  const ours = rates.get('elb-proxy-echo')!;
  for (const column of [0, 1]) {
    const fastestLibrary = Math.max(
      ...CONTENDERS.filter((x) => x.library).map((x) => rates.get(x.name)![column]),
    );
    if (ours[column] > 0 && fastestLibrary > 0)
      worst[column] = Math.min(worst[column], ours[column] / fastestLibrary);
  }
  for (const contender of CONTENDERS) {
    const rate = rates.get(contender.name)!;
    const cells = [c.name, contender.name];
    for (const column of [0, 1]) {
      const value = rate[column];
      cells.push(value === -1 ? 'no answer' : value === -2 ? 'WRONG answer' : format(value));
      cells.push(value > 0 && ours[column] > 0 ? `${(ours[column] / value).toFixed(1)}x` : '');
    }
    rows.push(cells);
  }
}

const header = ['case', 'parser', 'parse', 'ours is', 'parse + read addresses', 'ours is'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) =>
  `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
process.stdout.write(
  [
    `Headers per second on Node ${process.version}, best of ${ROUNDS} rounds of ${ROUND_MS} ms taken in turns; "ours is" = our rate / that parser's rate.`,
    'parse: the call a user makes on the Buffer (ours validates every byte but makes strings on first read);',
    'parse + read addresses: also takes out both addresses and ports, as a server logging its clients does.',
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `Our smallest margin over the fastest npm library on any case: ${worst[0].toFixed(1)}x to parse, ${worst[1].toFixed(1)}x to parse and read the addresses (goal: 3x)`,
    `(checksum ${checksum})`,
    '',
  ].join('\n'),
);

// Our own parser must give the right answer on every case: anything else fails the run.
const oursFailed = rows
  .filter((r) => r[1] === 'elb-proxy-echo' && (r[2] === 'no answer' || r[2] === 'WRONG answer'))
  .map((r) => r[0]);
if (oursFailed.length > 0) {
  process.stderr.write(
    `bench:parser: elb-proxy-echo gave no or a wrong answer for: ${oursFailed.join(', ')}\n`,
  );
  process.exitCode = 1;
}
