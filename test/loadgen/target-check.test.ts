// The check bench makes of a --target before a run: one connection, and a reason in words when
// it cannot be made (bench.test.ts runs it from the command line). Names are resolved by a
// stand-in here: nothing may leave loopback.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { unreachableTarget } from '../../src/loadgen/target-check.ts';

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A resolver that fails as getaddrinfo does, with `code`. */
function failingLookup(code: string): net.LookupFunction {
  return (hostname, _options, callback) =>
    callback(Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code }), '', 0);
}

test('a listening target passes', async () => {
  const server = net.createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    assert.is(await unreachableTarget('127.0.0.1', port, 2000), null);
  } finally {
    server.close();
  }
});

test('nothing listening, by address or by name (IPv6 and IPv4 both tried): connection refused', async () => {
  const port = await closedPort();
  for (const host of ['127.0.0.1', 'localhost'])
    assert.is(
      await unreachableTarget(host, port, 2000),
      'connection refused (nothing listens on that port)',
      host,
    );
});

test('a name that does not resolve: no such host; a resolver that does not answer: DNS', async () => {
  const ask = (code: string) =>
    unreachableTarget('lb.example.test', 5000, 2000, failingLookup(code));
  assert.is(await ask('ENOTFOUND'), 'no such host');
  assert.is(await ask('EAI_AGAIN'), 'the name could not be looked up (no answer from DNS)');
  assert.is(await ask('EWHATEVER'), 'EWHATEVER');
});

test('no answer at all: the check gives up after its time', async () => {
  const started = Date.now();
  const silent: net.LookupFunction = () => {};
  assert.is(
    await unreachableTarget('lb.example.test', 5000, 300, silent),
    'no answer within 300ms',
  );
  assert.ok(Date.now() - started < 1500);
});

test.run();
