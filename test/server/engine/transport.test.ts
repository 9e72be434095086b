// The engines under the transport seam: leaving the fast path (detach) with no byte lost, on
// both engines.
import http from 'node:http';
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pickEngine } from '../../../src/server/engine/pick.ts';
import { ENGINES, type Transport } from '../../../src/server/engine/transport.ts';
import { TestClient } from '../../helpers/socket.ts';

/** One connection through `engine`: resolves with its transport and its first read. */
async function firstRead(
  name: (typeof ENGINES)[number],
  send: string,
): Promise<{ transport: Transport; chunk: Buffer; client: TestClient; server: net.Server }> {
  const server = net.createServer({ noDelay: true });
  const got = new Promise<{ transport: Transport; chunk: Buffer }>((resolve) => {
    pickEngine(name).engine.adopt(server, { maxConnections: 10, keepAliveMs: 0 }, () => 0, {
      accept(transport) {
        transport.start({
          // A copy: the read's memory is the engine's (uv: shared by every connection).
          onData: (chunk) => resolve({ transport, chunk: Buffer.from(chunk) }),
          onDrain() {},
          onClose() {},
        });
      },
      refused() {},
      acceptFailed() {},
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = await TestClient.connect((server.address() as net.AddressInfo).port);
  client.write(send);
  return { ...(await got), client, server };
}

const detach = suite('detach');

for (const name of ENGINES) {
  detach(`${name}: the net.Socket gets the bytes already read, then the rest`, async () => {
    const { transport, chunk, client, server } = await firstRead(name, 'first\n');
    transport.write(Buffer.from('echo:'));
    const socket = transport.detach(chunk);
    let seen = '';
    socket.on('data', (data: Buffer) => {
      seen += data.toString('latin1');
      if (seen.endsWith('second\n')) socket.end(`[${seen}]`);
    });
    client.write('second\n');
    assert.is((await client.waitClose()).toString(), 'echo:[first\nsecond\n]');
    server.close();
  });

  detach(`${name}: node:http answers a request whose first bytes were read before`, async () => {
    const request = 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const { transport, chunk, client, server } = await firstRead(name, request.slice(0, 20));
    const web = http.createServer((req, res) => res.end(`saw ${req.url}`));
    web.emit('connection', transport.detach(chunk));
    client.write(request.slice(20));
    const answer = (await client.waitClose()).toString();
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(answer.endsWith('saw /healthz'), answer);
    server.close();
    web.close();
  });
}

detach.run();
