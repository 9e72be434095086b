// npm run bench:parser — PROXY headers parsed per second: ours against the npm libraries a user
// would pick instead and a naive toString/split parser, each handed the header as a Buffer (the
// form bytes arrive in from a socket). Every contender's answer is checked before it is timed;
// a wrong or missing answer is shown, not timed. One process, a few seconds per case.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildProxyHeader, parseProxyHeader, TLV_TYPE } from '../src/protocol/index.ts';
import type { ProxyHeaderInit } from '../src/protocol/index.ts';

const benchDir = import.meta.dirname;
const LIBRARIES = ['proxy-protocol-js', '@balena/proxy-protocol-parser', 'findhit-proxywrap'];
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 250);
const ROUNDS = 3;

// The comparison libraries live in bench/node_modules only (bench/package.json).
if (LIBRARIES.some((name) => !existsSync(join(benchDir, 'node_modules', name, 'package.json')))) {
  process.stdout.write('bench:parser: installing the comparison libraries into bench/node_modules\n');
  execFileSync('npm', ['install', '--prefix', benchDir, '--no-audit', '--no-fund', '--silent'], { stdio: 'inherit' });
}
const require = createRequire(join(benchDir, 'package.json'));
const proxyProtocolJs = require('proxy-protocol-js');
const balena = require('@balena/proxy-protocol-parser');
// findhit-proxywrap parses inside its socket wrapper; this is the same work on one header:
// the chunk to an ASCII string, up to the CR, its strict-mode regular expression, split on spaces.
const findhitRegexp: RegExp = require('findhit-proxywrap/lib/proxy-protocol.regexp.js');

/** What every contender must agree on: source and destination as `address port`. */
interface Answer {
  source: string;
  destination: string;
}

interface Case {
  name: string;
  bytes: Buffer;
  expected: Answer;
}

function headerCase(name: string, header: ProxyHeaderInit): Case {
  return {
    name,
    bytes: Buffer.from(buildProxyHeader(header)),
    expected: { source: `${header.source!.address} ${header.source!.port}`, destination: `${header.destination!.address} ${header.destination!.port}` },
  };
}

const aws = new Uint8Array([0x01, ...Buffer.from('vpce-08d2bf15fefb1a2fa')]);
const CASES: Case[] = [
  headerCase('v1 TCP4 (Classic ELB line)', {
    version: 1, command: 'proxy', protocol: 'TCP4',
    source: { address: '54.222.152.163', port: 45418 }, destination: { address: '10.0.11.239', port: 5000 },
  }),
  headerCase('v1 TCP6', {
    version: 1, command: 'proxy', protocol: 'TCP6',
    source: { address: '2001:db8:85a3::8a2e:370:7334', port: 51234 }, destination: { address: '2001:db8::1', port: 443 },
  }),
  headerCase('v2 TCP4 + AWS VPC endpoint TLV', {
    version: 2, command: 'proxy', protocol: 'TCP4',
    source: { address: '192.0.2.1', port: 45418 }, destination: { address: '10.0.11.15', port: 5000 },
    tlvs: [{ type: TLV_TYPE.AWS, value: aws }],
  }),
];

type Parse = (bytes: Buffer) => Answer | null;

const CONTENDERS: { name: string; library: boolean; parse: Parse }[] = [
  {
    name: 'elb-proxy-echo',
    library: false,
    parse: (bytes) => {
      const result = parseProxyHeader(bytes);
      if (result.status !== 'ok' || result.header.source === null || result.header.destination === null) return null;
      const { source, destination } = result.header;
      return { source: `${source.address} ${source.port}`, destination: `${destination.address} ${destination.port}` };
    },
  },
  {
    name: 'proxy-protocol-js',
    library: true,
    parse: (bytes) => {
      if (bytes[0] === 0x50) {
        // Its v1 parser takes a string: the conversion is part of the cost.
        const parsed = proxyProtocolJs.V1ProxyProtocol.parse(bytes.toString('latin1'));
        return { source: `${parsed.source.ipAddress} ${parsed.source.port}`, destination: `${parsed.destination.ipAddress} ${parsed.destination.port}` };
      }
      const { proxyAddress } = proxyProtocolJs.V2ProxyProtocol.parse(bytes);
      return {
        source: `${proxyAddress.sourceAddress.address.join('.')} ${proxyAddress.sourcePort}`,
        destination: `${proxyAddress.destinationAddress.address.join('.')} ${proxyAddress.destinationPort}`,
      };
    },
  },
  {
    name: '@balena/proxy-protocol-parser',
    library: true,
    parse: (bytes) => {
      const parsed = balena.decode(bytes, true);
      return parsed && { source: `${parsed.remoteAddress} ${parsed.remotePort}`, destination: `${parsed.localAddress} ${parsed.localPort}` };
    },
  },
  {
    name: 'findhit-proxywrap (v1 only)',
    library: true,
    parse: (bytes) => {
      if (bytes[0] !== 0x50) return null;
      const text = bytes.toString('ascii');
      const line = text.substring(0, text.indexOf('\r'));
      if (!findhitRegexp.test(line)) return null;
      const fields = line.split(' ');
      return { source: `${fields[2]} ${Number(fields[4])}`, destination: `${fields[3]} ${Number(fields[5])}` };
    },
  },
  {
    name: 'naive toString/split (v1 only)',
    library: false,
    parse: (bytes) => {
      const text = bytes.toString('latin1');
      const end = text.indexOf('\r\n');
      if (!text.startsWith('PROXY ') || end < 0) return null;
      const fields = text.slice(0, end).split(' ');
      return { source: `${fields[2]} ${Number(fields[4])}`, destination: `${fields[3]} ${Number(fields[5])}` };
    },
  },
];

function answerOf(parse: Parse, bytes: Buffer): Answer | null {
  try {
    return parse(bytes);
  } catch {
    return null;
  }
}

/** Best of a few timed rounds, in headers per second. The checksum keeps the work observable. */
let checksum = 0;
function measure(parse: Parse, bytes: Buffer): number {
  let best = 0;
  for (let round = -1; round < ROUNDS; round++) {
    // Round -1 warms up the JIT and is not counted.
    let count = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(ROUND_MS * 1e6);
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < 1000; i++) checksum += parse(bytes)!.source.length;
      count += 1000;
      now = process.hrtime.bigint();
    }
    const rate = count / (Number(now - start) / 1e9);
    if (round >= 0 && rate > best) best = rate;
  }
  return best;
}

function format(rate: number): string {
  return rate >= 1e6 ? `${(rate / 1e6).toFixed(2)} M/s` : `${(rate / 1e3).toFixed(0)} k/s`;
}

const rows: string[][] = [];
let worstRatio = Infinity;
for (const c of CASES) {
  const rates = new Map<string, number>();
  for (const contender of CONTENDERS) {
    const answer = answerOf(contender.parse, c.bytes);
    if (answer === null || answer.source !== c.expected.source || answer.destination !== c.expected.destination) {
      rates.set(contender.name, answer === null ? -1 : -2);
      continue;
    }
    rates.set(contender.name, measure(contender.parse, c.bytes));
  }
  const ours = rates.get('elb-proxy-echo')!;
  const fastestLibrary = Math.max(...CONTENDERS.filter((x) => x.library).map((x) => rates.get(x.name)!));
  if (ours > 0 && fastestLibrary > 0) worstRatio = Math.min(worstRatio, ours / fastestLibrary);
  for (const contender of CONTENDERS) {
    const rate = rates.get(contender.name)!;
    const cell = rate === -1 ? 'no answer (unsupported)' : rate === -2 ? 'WRONG answer' : format(rate);
    const ratio = rate > 0 && ours > 0 ? `${(ours / rate).toFixed(1)}x` : '';
    rows.push([c.name, contender.name, cell, contender.name === 'elb-proxy-echo' ? '1.0x' : ratio]);
  }
}

const header = ['case', 'parser', 'headers/s', 'ours is'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
process.stdout.write(
  [
    `Node ${process.version}, ${ROUNDS} rounds of ${ROUND_MS} ms each, best round; "ours is" = our rate / that parser's rate`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `Slowest margin over the fastest npm library on any case: ${worstRatio.toFixed(1)}x (goal: 3x)`,
    `(checksum ${checksum})`,
    '',
  ].join('\n'),
);
