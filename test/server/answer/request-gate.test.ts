// RequestGate over a real loopback socket: lines in order, nothing while held or after stop(),
// at most one read held, writes through.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RequestGate } from '../../../src/server/answer/request-gate.ts';
import { TestClient } from '../../helpers/socket.ts';

async function pair(mayFeed?: () => boolean): Promise<{
  client: TestClient;
  stream: RequestGate;
  socket: net.Socket;
  close: () => void;
}> {
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((resolve) => {
    server.once('connection', resolve);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = await TestClient.connect((server.address() as net.AddressInfo).port);
  const socket = await accepted;
  const stream = new RequestGate(socket, mayFeed);
  return { client, stream, socket, close: () => server.close() };
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

test('while mayFeed says no nothing more comes through and at most one read is taken; wake goes on', async () => {
  let open = true;
  const { client, stream, socket, close } = await pair(() => open);
  const pieces: string[] = [];
  stream.on('data', (piece: Buffer) => {
    pieces.push(piece.toString());
    if (piece.toString() === '\r\n') open = false;
  });
  try {
    const request = 'GET / HTTP/1.1\r\n\r\n';
    // Far more than the socket buffers hold: the rest stays in the kernel or the client.
    const flood = Buffer.from(request.repeat(100_000));
    client.write(flood);
    await until(() => pieces.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    // The piece after the request may already be on its way (see request-gate.ts), no more.
    assert.ok(pieces.length <= 3, JSON.stringify(pieces));
    assert.equal(pieces.slice(0, 2), [`GET / HTTP/1.1\r\n`, '\r\n']);
    const before = pieces.length;
    // One read beyond the request at most (64 KiB), not the megabytes sent.
    assert.ok(socket.bytesRead <= 2 * 64 * 1024, `read ${socket.bytesRead}`);
    open = true;
    stream.wake();
    await until(() => pieces.length >= before + 2);
    assert.equal(pieces.slice(0, 4), [...'GET / HTTP/1.1\r\n|\r\n|'.repeat(2).split('|', 4)]);
  } finally {
    client.destroy();
    close();
  }
});

test('setTimeout reaches the socket: a silent peer times out through the gate', async () => {
  const { client, stream, close } = await pair();
  try {
    const timedOut = new Promise<boolean>((resolve) => {
      stream.setTimeout(50, () => resolve(true));
      setTimeout(() => resolve(false), 2000);
    });
    assert.ok(await timedOut);
  } finally {
    client.destroy();
    close();
  }
});

test.run();
