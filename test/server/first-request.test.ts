// FirstRequestOnly over a real loopback socket: lines in order, nothing after stop(), writes through.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FirstRequestOnly } from '../../src/server/first-request.ts';
import { TestClient } from '../helpers/socket.ts';

async function pair(): Promise<{
  client: TestClient;
  stream: FirstRequestOnly;
  close: () => void;
}> {
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((resolve) => {
    server.once('connection', resolve);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = await TestClient.connect((server.address() as net.AddressInfo).port);
  const stream = new FirstRequestOnly(await accepted);
  return { client, stream, close: () => server.close() };
}

const until = async (done: () => boolean) => {
  for (const end = Date.now() + 2000; !done() && Date.now() < end; )
    await new Promise((r) => setTimeout(r, 5));
};

test('hands on what was read one line at a time, in order, whatever the writes', async () => {
  const { client, stream, close } = await pair();
  try {
    const pieces: string[] = [];
    stream.on('data', (piece: Buffer) => pieces.push(piece.toString()));
    const sent = 'GET / HTTP/1.1\r\nho|st: x\r\n\r\n|\nrest'.split('|');
    for (const bytes of sent) {
      client.write(bytes);
      await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => pieces.join('') === sent.join(''));
    assert.is(pieces.join(''), sent.join(''));
    // Reads may merge or split the writes; a piece still never goes past a line feed.
    for (const piece of pieces)
      assert.ok(!piece.slice(0, -1).includes('\n'), JSON.stringify(piece));
    assert.ok(pieces.length >= 5, JSON.stringify(pieces));
  } finally {
    client.destroy();
    close();
  }
});

test('after stop() nothing more comes through; writes still reach the peer, end closes', async () => {
  const { client, stream, close } = await pair();
  const pieces: string[] = [];
  stream.on('data', (piece: Buffer) => {
    pieces.push(piece.toString());
    if (piece.toString() === '\r\n') stream.stop();
  });
  try {
    client.write('GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n'.repeat(100));
    await until(() => pieces.length >= 2);
    client.write('more\r\n'.repeat(1000));
    stream.end('answer');
    await client.waitClose(2000);
    assert.equal(pieces, ['GET / HTTP/1.1\r\n', '\r\n']);
    assert.is(client.received.toString(), 'answer');
  } finally {
    client.destroy();
    close();
  }
});

test.run();
