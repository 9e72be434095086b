// curl --haproxy-protocol against wrapped https and HTTP/2 servers: the server logs the client
// curl's header named. curl names its own address, so it connects through a relay that
// reaches the server from 127.0.0.3: the socket's peer and the header's client then differ.
import { execFile } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { acceptProxyProtocol, proxyHeader } from '../../src/wrap/index.ts';
import { asDocs, assertTranscript } from '../docs/examples.ts';
import { close, listen, selfSigned } from './helpers.ts';

const run = promisify(execFile);
const cert = selfSigned();
const RELAY_SOURCE = '127.0.0.3';

/** A TCP relay to `port` whose outgoing connections come from 127.0.0.3; records curl's ports. */
async function relay(port: number) {
  const clientPorts: number[] = [];
  const server = net.createServer((inbound) => {
    clientPorts.push(inbound.remotePort!);
    const outbound = net.connect({ port, host: '127.0.0.1', localAddress: RELAY_SOURCE });
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  return { server, port: await listen(server), clientPorts };
}

function logClient(log: string[]) {
  return (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => {
    const socket = req.socket as net.Socket;
    log.push(
      `client=${socket.remoteAddress}:${socket.remotePort} header=v${proxyHeader(socket)?.version}`,
    );
    res.end(`hello ${socket.remoteAddress}\n`);
  };
}

const curl = suite('curl --haproxy-protocol');
for (const [name, make, args] of [
  ['https', (log: string[]) => https.createServer(cert, logClient(log)), ['--http1.1']],
  ['http2 secure', (log: string[]) => http2.createSecureServer(cert, logClient(log)), ['--http2']],
  ['http', (log: string[]) => http.createServer(logClient(log)), []],
] as const) {
  curl(`${name}: the server logs the client the header named, not the relay`, async () => {
    const log: string[] = [];
    const server = acceptProxyProtocol(make(log), { trust: [`${RELAY_SOURCE}/32`] });
    const { server: front, port, clientPorts } = await relay(await listen(server));
    const scheme = name === 'http' ? 'http' : 'https';
    const { stdout } = await run('curl', [
      '-sS',
      '-k',
      '--haproxy-protocol',
      ...args,
      `${scheme}://127.0.0.1:${port}/`,
    ]);
    assert.is(stdout, 'hello 127.0.0.1\n');
    assert.equal(log, [`client=127.0.0.1:${clientPorts[0]} header=v1`]);
    await close(front);
    await close(server);
  });
}
curl('https: curl without the header is refused, and onReject says why', async () => {
  const reasons: string[] = [];
  const server = acceptProxyProtocol(https.createServer(cert, logClient([])), {
    onReject: (r) => reasons.push(`${r.code} from ${r.remoteAddress}`),
  });
  const port = await listen(server);
  const result = await run('curl', ['-sS', '-k', `https://127.0.0.1:${port}/`]).catch((e) => e);
  assert.is.not(result.code, 0);
  assert.equal(reasons, ['not-proxy from 127.0.0.1']);
  await close(server);
});
curl("docs/library.md's wrap-curl: the example server, with and without the header", async () => {
  // The server of the example above the block, on a port the kernel picks.
  const server = acceptProxyProtocol(
    http.createServer((req, res) => {
      const { remoteAddress, remotePort } = req.socket;
      res.end(
        `you are ${remoteAddress}:${remotePort} (PROXY v${proxyHeader(req.socket)?.version})\n`,
      );
    }),
    { trust: ['127.0.0.0/8'] },
  );
  const port = await listen(server);
  try {
    await assertTranscript('docs/library.md', 'wrap-curl', async (command) => {
      const [, ...args] = command.replace('localhost:8080', `127.0.0.1:${port}`).split(' ');
      const ran = await run('curl', args).catch((error) => error);
      return asDocs(`${ran.stdout}${ran.stderr}`);
    });
  } finally {
    await close(server);
  }
});
curl.run();
