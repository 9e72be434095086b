// The load generator on its own, against a recording server on loopback.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator } from '../../src/bench/generator.ts';
import { V2_SIGNATURE } from '../../src/protocol/index.ts';

test('a client that connects after the stop still sends its PROXY header before q', async () => {
  const firstBytes: Buffer[] = [];
  const server = net.createServer((socket) => {
    let seen = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => void (seen = Buffer.concat([seen, chunk])));
    socket.on('end', () => {
      firstBytes.push(seen);
      socket.end();
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  try {
    const { port } = server.address() as net.AddressInfo;
    const generator = new Generator({
      scenario: 'connect',
      host: '127.0.0.1',
      port,
      clients: 5,
      firstClient: 0,
      totalClients: 5,
      header: 'v2',
      lineBytes: 16,
      thinkMs: 0,
      timeoutMs: 5000,
      maxConnecting: 5,
    });
    generator.start();
    // Stopped before any connection is up: each one connects during the stop, and quits at once.
    const report = await generator.stop();
    assert.equal(report.totals.errors, {});
    assert.is(report.totals.completed, 5, 'every client ended with q and saw the close');
    assert.is(firstBytes.length, 5);
    for (const bytes of firstBytes) {
      assert.equal([...bytes.subarray(0, 12)], [...V2_SIGNATURE], 'the header comes first');
      assert.is(bytes.subarray(-3).toString('latin1'), 'q\r\n', 'then q');
    }
  } finally {
    server.close();
  }
});

test.run();
