// Every server kind behind acceptProxyProtocol: the client the header named is what the
// server's own API reports (socket.remoteAddress, req.socket.remoteAddress), proxyHeader()
// gives the header with its TLVs, and the protocol after the header works untouched.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getAwsVpcEndpointId } from '../../src/protocol/index.ts';
import { acceptProxyProtocol, proxyHeader } from '../../src/wrap/index.ts';
import {
  close,
  connect,
  listen,
  once,
  selfSigned,
  tlsWithHeader,
  V1_CLIENT,
  v2Client,
  v2Local,
} from './helpers.ts';

const cert = selfSigned();

/** What a server saw of one connection. */
interface Seen {
  address: string | undefined;
  port: number | undefined;
  family: string | undefined;
  vpce: string | null;
  command: string | null;
}

function seen(socket: net.Socket): Seen {
  const header = proxyHeader(socket);
  return {
    address: socket.remoteAddress,
    port: socket.remotePort,
    family: socket.remoteFamily,
    vpce: header === null ? null : getAwsVpcEndpointId(header),
    command: header?.command ?? null,
  };
}

const V1_SEEN: Seen = {
  address: '203.0.113.7',
  port: 51000,
  family: 'IPv4',
  vpce: null,
  command: 'proxy',
};
const V2_SEEN: Seen = {
  address: '2001:db8::7',
  port: 52000,
  family: 'IPv6',
  vpce: 'vpce-08d2bf15fefb1a2fa',
  command: 'proxy',
};
/** LOCAL keeps the socket's own peer: the test client on 127.0.0.1. */
const LOCAL_SEEN = (port: number): Seen => ({
  address: '127.0.0.1',
  port,
  family: 'IPv4',
  vpce: null,
  command: 'local',
});

const HEADERS: ReadonlyArray<[string, () => Uint8Array, (port: number) => Seen]> = [
  ['v1', () => Buffer.from(V1_CLIENT, 'latin1'), () => V1_SEEN],
  ['v2 with TLVs', v2Client, () => V2_SEEN],
  ['v2 LOCAL', v2Local, LOCAL_SEEN],
];

// ---- net.Server: the user's own 'connection' listener, data after the header untouched.
const plain = suite('net.Server');
for (const [name, header, expected] of HEADERS) {
  plain(`${name}: the listener sees the client, and the bytes after the header`, async () => {
    const server = acceptProxyProtocol(
      net.createServer((socket) => {
        socket.write(`${JSON.stringify(seen(socket))}\n`);
        socket.pipe(socket);
      }),
    );
    const port = await listen(server);
    const client = await connect(port);
    let text = '';
    client.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    client.write(Buffer.concat([header(), Buffer.from('hello\n')]));
    while (!text.includes('hello\n')) await once(client, 'data');
    const [first, echoed] = text.split('\n');
    assert.equal(JSON.parse(first), expected(client.localPort!));
    assert.is(echoed, 'hello');
    client.destroy();
    await close(server);
  });
}
plain('a listener added after acceptProxyProtocol also waits for the header', async () => {
  const server = acceptProxyProtocol(net.createServer());
  const sockets: Seen[] = [];
  server.on('connection', (socket) => {
    sockets.push(seen(socket));
    socket.end();
  });
  const port = await listen(server);
  const client = await connect(port);
  client.write(V1_CLIENT);
  await once(client, 'close');
  assert.equal(sockets, [V1_SEEN]);
  await close(server);
});
plain.run();

// ---- tls.Server: TLSSocket reads the peer from the handle.
const secure = suite('tls.Server');
for (const [name, header, expected] of HEADERS) {
  secure(`${name}: the TLSSocket reports the client from the handshake on`, async () => {
    const atHandshake: Seen[] = [];
    const server = acceptProxyProtocol(
      tls.createServer({ ...cert, SNICallback: undefined }, (socket) => {
        socket.end(`${JSON.stringify(seen(socket))}\n`);
      }),
    );
    server.on('secureConnection', (socket: tls.TLSSocket) => atHandshake.push(seen(socket)));
    const port = await listen(server);
    const client = await tlsWithHeader(port, header());
    const local = (client as tls.TLSSocket & { _parent: net.Socket })._parent.localPort!;
    let text = '';
    client.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await once(client, 'end');
    assert.equal(JSON.parse(text), expected(local));
    assert.equal(atHandshake, [expected(local)]);
    client.destroy();
    await close(server);
  });
}
secure.run();

// ---- HTTP: http, https, http2 (h2c and TLS), each through its request's req.socket.
type Kind = 'http' | 'https' | 'http2' | 'http2 secure';

function handler(
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
): void {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(seen(req.socket as net.Socket)));
}

function makeServer(kind: Kind): net.Server {
  if (kind === 'http') return http.createServer(handler);
  if (kind === 'https') return https.createServer(cert, handler);
  if (kind === 'http2') return http2.createServer(handler);
  return http2.createSecureServer(cert, handler);
}

/** One GET over a connection that sent `header` first; the response body and the local port. */
async function get(kind: Kind, port: number, header: Uint8Array): Promise<[string, number]> {
  const raw = await connect(port);
  const local = raw.localPort!;
  raw.write(header);
  const [body] = await getOver(kind, raw);
  return [body, local];
}

/** One GET of `kind` over `raw`, a connection whose header has been written. */
async function getOver(kind: Kind, raw: net.Socket): Promise<[string]> {
  if (kind === 'http' || kind === 'https') {
    const socket = kind === 'http' ? raw : tls.connect({ socket: raw, rejectUnauthorized: false });
    const req = http.request({ createConnection: () => socket, path: '/' });
    req.end();
    const res = await once<http.IncomingMessage>(req, 'response');
    let body = '';
    for await (const chunk of res) body += chunk;
    socket.destroy();
    return [body];
  }
  const session = http2.connect(kind === 'http2' ? 'http://localhost' : 'https://localhost', {
    createConnection: () =>
      kind === 'http2'
        ? raw
        : tls.connect({ socket: raw, rejectUnauthorized: false, ALPNProtocols: ['h2'] }),
  });
  const stream = session.request({ ':path': '/' });
  let body = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) body += chunk;
  session.close();
  return [body];
}

const web = suite('http, https, http2');
for (const kind of ['http', 'https', 'http2', 'http2 secure'] as const) {
  for (const [name, header, expected] of HEADERS) {
    web(`${kind}, ${name}: req.socket reports the client`, async () => {
      const server = acceptProxyProtocol(makeServer(kind));
      const port = await listen(server);
      const [body, local] = await get(kind, port, header());
      assert.equal(JSON.parse(body), expected(local));
      await close(server);
    });
  }
}
web.run();

// ---- Splits on real sockets: the header cut at every byte (and, for HTTP, into the request).
const cuts = suite('splits on real sockets');

/** Writes `first`, waits until the server has surely read it, then hands the socket on. */
async function cutConnection(port: number, first: Uint8Array): Promise<net.Socket> {
  const raw = await connect(port);
  raw.setNoDelay(true);
  raw.write(first);
  await new Promise((resolve) => setTimeout(resolve, 2));
  return raw;
}

cuts('http: v1 and v2 headers cut at every byte and into the request line', async () => {
  const server = acceptProxyProtocol(makeServer('http'));
  const port = await listen(server);
  for (const [name, header, expected] of HEADERS.slice(0, 2)) {
    const request = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const whole = Buffer.concat([header(), request]);
    for (let cut = 1; cut <= header().length + 8; cut++) {
      const raw = await cutConnection(port, whole.subarray(0, cut));
      raw.end(whole.subarray(cut));
      let answer = '';
      for await (const chunk of raw) answer += chunk;
      const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
      assert.equal(JSON.parse(body), expected(0), `${name}, cut at ${cut}`);
    }
  }
  await close(server);
});

cuts('https and http2: a v2 header cut at every byte, then TLS', async () => {
  for (const kind of ['https', 'http2 secure'] as const) {
    const server = acceptProxyProtocol(makeServer(kind));
    const port = await listen(server);
    const header = v2Client();
    for (let cut = 1; cut < header.length; cut++) {
      const raw = await cutConnection(port, header.subarray(0, cut));
      raw.write(header.subarray(cut));
      const [body] = await getOver(kind, raw);
      assert.equal(JSON.parse(body), V2_SEEN, `${kind}, cut at ${cut}`);
    }
    await close(server);
  }
});
cuts.run();
