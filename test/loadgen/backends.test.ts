// Reading a backend's greeting, checking the client it named, and summing backends over
// generators (src/loadgen/backends.ts): tables of lines and addresses, random text, the bounds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clientEndpoint, headerFor } from '../../src/loadgen/addresses.ts';
import {
  BackendTallies,
  backendParts,
  clientCheckText,
  isExpectedClient,
  OTHER_BACKENDS,
  readGreeting,
  sumBackends,
  UNNAMED,
} from '../../src/loadgen/backends.ts';
import { Histogram } from '../../src/loadgen/histogram.ts';
import { greetingLine } from '../../src/server/answer/greeting.ts';
import { backendView } from '../../src/server/answer/backend-view.ts';
import { parseProxyHeader } from '../../src/protocol/index.ts';

const greetings: [string, { backend: string; client: string | null } | null][] = [
  [
    'elb-proxy-echo on ip-10-0-11-239: you are 54.222.152.163:45418 (PROXY v1 from 10.0.11.239:36921); lines come back, q quits',
    { backend: 'ip-10-0-11-239', client: '54.222.152.163:45418' },
  ],
  [
    'elb-proxy-echo on web-2: you are [2001:db8::7]:1024 (PROXY v2 from [fd00::5]:5000); lines come back, q quits',
    { backend: 'web-2', client: '[2001:db8::7]:1024' },
  ],
  // Fields a newer server may add after the host are part of the name, kept as they come.
  [
    'elb-proxy-echo on ip-10-0-1-5 [i-0abc123 us-east-1a]: you are 203.0.113.7:51000 (PROXY v2 from 10.0.1.9:4000); lines come back, q quits',
    { backend: 'ip-10-0-1-5 [i-0abc123 us-east-1a]', client: '203.0.113.7:51000' },
  ],
  ['elb-proxy-echo on web-3: something else entirely', { backend: 'web-3', client: null }],
  ['elb-proxy-echo on : you are 1.2.3.4:5', null],
  ['elb-proxy-echo says hello', null],
  ['1234abcdefgh', null],
  ['', null],
];

test('readGreeting: the backend between "on " and ":", the client after "you are"', () => {
  for (const [line, expected] of greetings) assert.equal(readGreeting(line), expected, line);
});

test('the greeting our server sends for each made-up client the generator sends names that client', () => {
  for (const kind of ['v1', 'v2'] as const)
    for (let index = 0; index < 2000; index++) {
      const parsed = parseProxyHeader(headerFor(kind, index)!);
      assert.is(parsed.status, 'ok');
      if (parsed.status !== 'ok') return;
      const view = backendView({
        server: { host: 'backend-a' },
        header: parsed.header,
        peer: '127.0.0.1:4000',
        local: null,
      });
      const line = greetingLine(view).trimEnd();
      const read = readGreeting(line);
      const made = clientEndpoint(index);
      assert.is(read?.backend, 'backend-a', line);
      assert.ok(isExpectedClient(read?.client ?? '', made), `${line} vs ${made.address}`);
    }
  const plain = greetingLine(
    backendView({ server: { host: 'b' }, header: null, peer: '127.0.0.1:4000', local: null }),
  );
  assert.equal(readGreeting(plain.trimEnd()), { backend: 'b', client: '127.0.0.1:4000' });
});

test('readGreeting never throws, and names a backend only for lines of our shape (random text)', () => {
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const alphabet = 'elb-proxy-echo on :[]you are 0123456789.\\u \t\r';
  for (let round = 0; round < 5000; round++) {
    let line = round % 2 === 0 ? 'elb-proxy-echo on ' : '';
    const length = next() % 60;
    for (let i = 0; i < length; i++) line += alphabet[next() % alphabet.length];
    const read = readGreeting(line);
    if (read !== null) {
      assert.ok(line.startsWith('elb-proxy-echo on '), line);
      assert.not.match(read.backend, /:/);
      assert.ok(read.backend !== '');
    }
  }
});

test('backendParts: the host, then the extra fields as they came', () => {
  assert.equal(backendParts('ip-10-0-1-5'), { host: 'ip-10-0-1-5', detail: '' });
  assert.equal(backendParts('ip-10-0-1-5 [i-0abc us-east-1a]'), {
    host: 'ip-10-0-1-5',
    detail: '[i-0abc us-east-1a]',
  });
  assert.equal(backendParts('web[zone-b]'), { host: 'web', detail: '[zone-b]' });
});

const clientChecks: [string, { address: string; port: number | null }, boolean][] = [
  ['192.0.2.1:1024', { address: '192.0.2.1', port: 1024 }, true],
  ['192.0.2.1:1025', { address: '192.0.2.1', port: 1024 }, false],
  ['192.0.2.2:1024', { address: '192.0.2.1', port: 1024 }, false],
  ['192.0.2.1:1024', { address: '192.0.2.1', port: null }, true],
  ['198.51.100.1:1024', { address: '192.0.2.1', port: null }, false],
  // One address, several spellings: RFC 5952 text against the generator's own.
  ['[2001:db8::a1:1]:80', { address: '2001:db8:0:0:0:0:a1:1', port: 80 }, true],
  ['[2001:db8::a1:1]:80', { address: '2001:DB8::A1:1', port: 80 }, true],
  ['[2001:db8::a1:2]:80', { address: '2001:db8::a1:1', port: 80 }, false],
  // An IPv4 client of a dual-stack socket is the IPv4 client.
  ['[::ffff:127.0.0.1]:4000', { address: '127.0.0.1', port: 4000 }, true],
  ['127.0.0.1:4000', { address: '::ffff:127.0.0.1', port: 4000 }, true],
  ['unix:/run/x.sock', { address: '127.0.0.1', port: null }, false],
  ['192.0.2.1', { address: '192.0.2.1', port: null }, false],
];

test('isExpectedClient: the same address (in any spelling) and port, or any port when none is expected', () => {
  for (const [reported, expected, same] of clientChecks)
    assert.is(
      isExpectedClient(reported, expected),
      same,
      `${reported} vs ${JSON.stringify(expected)}`,
    );
});

test('a tally counts connections, matches and the first few examples; 64 names at most', () => {
  const tallies = new BackendTallies();
  const a = tallies.of('a');
  for (let port = 1; port <= 5; port++)
    a.served(`192.0.2.1:${port}`, { address: '192.0.2.1', port });
  a.served('198.51.100.9:9', { address: '192.0.2.1', port: 6 });
  a.served(null, null);
  const [counts] = tallies.toCounts();
  assert.is(counts.connections, 7);
  assert.is(counts.sawGenerator, 5);
  assert.is(counts.mismatched, 1);
  assert.equal(counts.mismatches, [{ expected: '192.0.2.1:6', reported: '198.51.100.9:9' }]);
  assert.equal(counts.clients, ['192.0.2.1:1', '192.0.2.1:2', '192.0.2.1:3']);
  for (let i = 0; i < 200; i++) tallies.of(`host-${i}`).served(null, null);
  const names = tallies.toCounts().map((b) => b.backend);
  assert.is(names.length, 65);
  assert.ok(names.includes(OTHER_BACKENDS));
  assert.is(tallies.of('host-199').backend, OTHER_BACKENDS);
});

test('sumBackends adds by name over generators: counts, latency, bounded examples, sorted', () => {
  const one = (backend: string, connections: number, micros: number, client: string) => {
    const latency = new Histogram();
    for (let i = 0; i < connections; i++) latency.record(micros);
    return {
      backend,
      connections,
      sawGenerator: connections,
      mismatched: 0,
      mismatches: [],
      clients: [client],
      latencyHistogram: latency.toData(),
    };
  };
  const sum = sumBackends([
    [one('web-b', 10, 1000, '192.0.2.1:1'), one('web-a', 5, 200, '192.0.2.2:1')],
    [one('web-b', 30, 3000, '192.0.2.3:1')],
    [],
  ]);
  assert.equal(
    sum.map((b) => [b.backend, b.connections, b.sawGenerator, b.clients]),
    [
      ['web-a', 5, 5, ['192.0.2.2:1']],
      ['web-b', 40, 40, ['192.0.2.1:1', '192.0.2.3:1']],
    ],
  );
  assert.ok(Math.abs(sum[1].latencyMs.p50 - 3) < 0.1, `p50 ${sum[1].latencyMs.p50}`);
  assert.is(sum[1].latencyMs.samples, 40);
  assert.equal(sumBackends([[one(UNNAMED, 3, 100, '')]]), [], 'no greeting: nothing to show');
});

test('clientCheckText: the verdict in one sentence', () => {
  const backend = (name: string, connections: number, saw: number, wrong: number) => ({
    backend: name,
    connections,
    sawGenerator: saw,
    mismatched: wrong,
    mismatches: [],
    clients: [],
    latencyHistogram: new Histogram().toData(),
  });
  assert.is(
    clientCheckText([backend('a', 3, 3, 0), backend('b', 2, 2, 0)]),
    'every backend saw the generator as the client',
  );
  assert.is(
    clientCheckText([backend('a', 3, 1, 2), backend('b', 2, 2, 0)]),
    'MISMATCH: 2 connections on 1 of 2 backends named another client',
  );
  assert.is(
    clientCheckText([backend('a', 3, 2, 0)]),
    'every backend saw the generator as the client (1 connection named no client)',
  );
  assert.match(clientCheckText([backend(UNNAMED, 3, 0, 0)]), /^not checked/);
});

test.run();
