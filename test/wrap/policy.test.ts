// The wrapper's rules on real loopback connections: every policy × trust combination (the echo
// server's rules), the header timeout, peers that reset or go, bounded memory, and its options.
import { createHook } from 'node:async_hooks';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildProxyHeader } from '../../src/protocol/index.ts';
import { acceptProxyProtocol, proxyHeader } from '../../src/wrap/index.ts';
import type { Policy, ProxyProtocolOptions, Rejection } from '../../src/wrap/index.ts';
import { close, connect, listen, V1_CLIENT } from './helpers.ts';

/** Trusted: 127.0.0.1. Untrusted: 127.0.0.2 (both reach the loopback listener). */
const TRUSTED = '127.0.0.1';
const UNTRUSTED = '127.0.0.2';

/** A wrapped net.Server that answers, once the client half-closes, with what it saw. */
async function start(options: ProxyProtocolOptions) {
  const rejections: Rejection[] = [];
  const server = acceptProxyProtocol(
    net.createServer({ allowHalfOpen: true }, (socket) => {
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
      socket.on('end', () => {
        const header = proxyHeader(socket);
        socket.end(JSON.stringify({ client: socket.remoteAddress, header: header !== null, data }));
      });
    }),
    { ...options, onReject: (rejection) => rejections.push(rejection) },
  );
  return { server, port: await listen(server), rejections };
}

/** Sends `bytes` from `from`, half-closes, and returns the server's answer ('' if it closed). */
async function exchange(port: number, from: string, bytes: string): Promise<string> {
  const socket = await connect(port, from);
  socket.on('error', () => {});
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  socket.end(bytes);
  await new Promise((resolve) => socket.once('close', resolve));
  return answer;
}

const HEADER = `${V1_CLIENT}hi`;
const DATA = 'GET / HTTP/1.1\r\n\r\n';

type Expect = { client: string; header: boolean; data: string } | `refused:${string}`;
const seenHeader: Expect = { client: '203.0.113.7', header: true, data: 'hi' };
const asData = (client: string): Expect => ({ client, header: false, data: DATA });
const asPlain = (client: string, bytes: string): Expect => ({ client, header: false, data: bytes });

/** policy, trust set?, peer, input → what happens (the echo server's rules). */
const TABLE: ReadonlyArray<[Policy, boolean, string, string, Expect]> = [
  ['require', false, UNTRUSTED, HEADER, seenHeader],
  ['require', false, UNTRUSTED, DATA, 'refused:not-proxy'],
  ['require', true, TRUSTED, HEADER, seenHeader],
  ['require', true, TRUSTED, DATA, 'refused:not-proxy'],
  ['require', true, UNTRUSTED, HEADER, 'refused:untrusted'],
  ['require', true, UNTRUSTED, DATA, 'refused:untrusted'],
  ['optional', false, UNTRUSTED, HEADER, seenHeader],
  ['optional', false, UNTRUSTED, DATA, asData(UNTRUSTED)],
  ['optional', true, TRUSTED, HEADER, seenHeader],
  ['optional', true, TRUSTED, DATA, asData(TRUSTED)],
  ['optional', true, UNTRUSTED, HEADER, 'refused:untrusted'],
  ['optional', true, UNTRUSTED, DATA, asData(UNTRUSTED)],
  ['off', false, UNTRUSTED, HEADER, asPlain(UNTRUSTED, HEADER)],
  ['off', true, TRUSTED, HEADER, asPlain(TRUSTED, HEADER)],
  ['off', true, UNTRUSTED, HEADER, asPlain(UNTRUSTED, HEADER)],
  ['off', true, UNTRUSTED, DATA, asData(UNTRUSTED)],
];

const rules = suite('policy × trust');
for (const [policy, trustSet, from, input, expected] of TABLE) {
  const name = `${policy}, ${trustSet ? 'trust 127.0.0.1' : 'no trust'}, from ${from}, ${input === DATA ? 'data' : 'header'}`;
  rules(name, async () => {
    const { server, port, rejections } = await start({
      policy,
      trust: trustSet ? [`${TRUSTED}/32`] : undefined,
    });
    const answer = await exchange(port, from, input);
    if (typeof expected === 'string') {
      assert.is(answer, '');
      assert.equal(
        rejections.map((r) => `refused:${r.code}`),
        [expected],
      );
      assert.is(rejections[0].remoteAddress, from);
    } else {
      assert.equal(JSON.parse(answer), expected);
      assert.equal(rejections, []);
    }
    await close(server);
  });
}
rules('optional: a first line that starts like a header but is not one stays data', async () => {
  const { server, port } = await start({ policy: 'optional' });
  assert.equal(
    JSON.parse(await exchange(port, TRUSTED, 'PROXIMITY\n')),
    asPlain(TRUSTED, 'PROXIMITY\n'),
  );
  await close(server);
});
rules.run();

const time = suite('header timeout');
time('a silent peer and a header that stops halfway are refused after headerTimeout', async () => {
  const { server, port, rejections } = await start({ headerTimeout: 150 });
  const silent = await connect(port);
  const partial = await connect(port);
  partial.write('PROXY TCP4 203.0.');
  const started = Date.now();
  await Promise.all([silent, partial].map((s) => new Promise((r) => s.once('close', r))));
  const waited = Date.now() - started;
  assert.ok(waited >= 100 && waited < 2000, `closed after ${waited} ms`);
  assert.equal(rejections.map((r) => [r.code, r.reason]).sort(), [
    ['header-timeout', 'no complete PROXY header within 0.15 s (17 bytes of one)'],
    ['header-timeout', 'nothing received within 0.15 s'],
  ]);
  await close(server);
});
time('connections waiting for their header share one timer', async () => {
  const { server, port } = await start({ headerTimeout: 5000 });
  let made = 0;
  const hook = createHook({ init: (_id, type) => void (type === 'Timeout' && made++) }).enable();
  const waiting = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
  await sleep(50); // every one accepted
  hook.disable();
  for (const socket of waiting) socket.destroy();
  await close(server);
  assert.ok(made <= 2, `${made} timers made for 20 connections`); // the sweep's, and sleep's
});
time('once the header is in, the timer is gone: the connection outlives it', async () => {
  const { server, port, rejections } = await start({ headerTimeout: 100 });
  const socket = await connect(port);
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk));
  socket.write(V1_CLIENT);
  await sleep(300);
  socket.end('late');
  await new Promise((r) => socket.once('close', r));
  assert.equal(JSON.parse(answer), { client: '203.0.113.7', header: true, data: 'late' });
  assert.equal(rejections, []);
  await close(server);
});
time.run();

const hostile = suite('peers that misbehave');
hostile('a reset or a close before the header: no delivery, no exception, no report', async () => {
  const { server, port, rejections } = await start({});
  let delivered = 0;
  server.on('connection', () => delivered++);
  const reset = await connect(port);
  reset.write('PROXY TCP4 1.2.3.4');
  await sleep(20);
  reset.resetAndDestroy();
  const gone = await connect(port);
  const silent = await connect(port);
  const closed = [gone, silent].map((s) => new Promise((r) => s.once('close', r)));
  gone.end('PROXY TCP4 1.2');
  silent.end();
  await Promise.all(closed);
  await sleep(50);
  assert.is(delivered, 0);
  assert.equal(rejections, []);
  await close(server);
});
hostile(
  'a v2 header declared larger than maxHeaderSize is refused on its 16-byte prefix',
  async () => {
    const { server, port, rejections } = await start({ maxHeaderSize: 64 });
    const big = buildProxyHeader({
      version: 2,
      command: 'proxy',
      protocol: 'TCP4',
      source: { address: '192.0.2.1', port: 1 },
      destination: { address: '192.0.2.2', port: 2 },
      tlvs: [{ type: 0xe0, value: new Uint8Array(100) }],
    });
    // Only the prefix is sent: the refusal cannot wait for the rest.
    assert.is(
      await exchange(port, TRUSTED, Buffer.from(big.subarray(0, 16)).toString('latin1')),
      '',
    );
    assert.equal(
      rejections.map((r) => r.code),
      ['header-too-large'],
    );
    await close(server);
  },
);
hostile('garbage of every kind is refused with its code', async () => {
  const { server, port, rejections } = await start({});
  for (const input of [
    '\x16\x03\x01\x02\x00',
    'PROXY TCP4 1.2.3.4 5.6.7.8 65536 1\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r',
    'PROXY TCP9',
  ])
    assert.is(await exchange(port, TRUSTED, input), '');
  assert.equal(
    rejections.map((r) => r.code),
    ['not-proxy', 'bad-port', 'bad-line-end', 'bad-v1-protocol'],
  );
  await close(server);
});
hostile.run();

const options = suite('options');
options('bad options throw when the server is wrapped, naming the option', () => {
  const cases: Array<[ProxyProtocolOptions, RegExp]> = [
    [{ policy: 'sometimes' as Policy }, /policy must be require, optional, off/],
    [{ headerTimeout: 0 }, /headerTimeout must be an integer from 1/],
    [{ headerTimeout: 1.5 }, /headerTimeout/],
    [{ maxHeaderSize: 15 }, /maxHeaderSize must be an integer from 16 to 65551/],
    [{ trust: '10.0.0.0/33' }, /trust: "10\.0\.0\.0\/33": the prefix length must be 0\.\.32/],
    [{ trust: ['lb.example.com'] }, /trust: "lb\.example\.com" is not an IPv4 or IPv6/],
    [{ onReject: 'log' as unknown as () => void }, /onReject must be a function/],
  ];
  for (const [bad, message] of cases)
    assert.throws(() => acceptProxyProtocol(net.createServer(), bad), message, JSON.stringify(bad));
});
options('a server is wrapped once', () => {
  const server = acceptProxyProtocol(net.createServer());
  assert.throws(() => acceptProxyProtocol(server), /already reads PROXY headers/);
});
options('trust as a comma-separated string, as --trust takes it', async () => {
  const { server, port, rejections } = await start({ trust: '10.0.0.0/8, 127.0.0.1' });
  assert.equal(JSON.parse(await exchange(port, TRUSTED, HEADER)), seenHeader);
  assert.is(await exchange(port, UNTRUSTED, HEADER), '');
  assert.equal(
    rejections.map((r) => r.code),
    ['untrusted'],
  );
  await close(server);
});
options.run();
