// Interop with the real programs that send PROXY headers in production, in a small network of
// namespaces this suite builds (needs root, iproute2, socat, haproxy, nginx, curl):
//
//   client ns ──10.71.1.0/24, fd71:1::/64── balancer ns ──10.71.2.0/24── server ns
//       └───────────────────────10.71.3.0/24─────────────────────────────────┘
//
// Our server runs in the server namespace with --trust 10.71.2.0/24 (the balancer's side only).
// Every client connects from its own namespace address with a known source port, so the test
// can check that the server logs the real client, not the balancer.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collect, exchange, link, Netns, removeAll } from '../helpers/netns.ts';
import { startHaproxy, startNginx, startServer, type Running } from '../helpers/peers.ts';
import { logEndpoint, logLines, type LogLine } from '../helpers/resilience.ts';
import { buildProxyHeader, TLV_TYPE, type ProxyHeaderInit } from '../../src/protocol/index.ts';
import { certificateDir, selfSignedFiles } from '../helpers/certificate.ts';
import type { BackendView } from '../../src/server/answer/backend-view.ts';

const SERVER_PORT = 5000;
const SERVER = `10.71.2.2:${SERVER_PORT}`;
const EXE_PORT = 5001;
const EXE = fileURLToPath(new URL('../../dist/elb-proxy-echo-linux-x64', import.meta.url));
const REVERSE_LOG = 'reverse src=%ci:%cp dst=%fi:%fp authority=%[fc_pp_authority]';

let client: Netns;
let balancer: Netns;
let serverNs: Netns;
let server: Running;
const peers: Running[] = [];

test.before(async () => {
  client = Netns.create('io-cl');
  balancer = Netns.create('io-lb');
  serverNs = Netns.create('io-sv');
  link(client, '10.71.1.2/24', balancer, '10.71.1.1/24');
  link(client, 'fd71:1::2/64', balancer, 'fd71:1::1/64');
  const toServer = link(balancer, '10.71.2.1/24', serverNs, '10.71.2.2/24');
  link(client, '10.71.3.2/24', serverNs, '10.71.3.1/24');
  // A second address on the balancer's server-side link, for curl (see its test).
  balancer.ip(['addr', 'add', '10.71.2.9/24', 'dev', toServer.a]);
  // TLS after the header on the same port (the https curl case); certificates made now.
  const certificate = selfSignedFiles(certificateDir());
  // HAProxy reads a certificate and its key from one file.
  const haproxyPem = join(certificate.dir, 'haproxy.pem');
  writeFileSync(
    haproxyPem,
    Buffer.concat([readFileSync(certificate.cert), readFileSync(certificate.key)]),
  );
  server = await startServer(serverNs, SERVER_PORT, [
    '--tls-cert',
    certificate.cert,
    '--tls-key',
    certificate.key,
    '--proxy-protocol',
    'require',
    '--trust',
    '10.71.2.0/24',
    '--log-format',
    'json',
    '--header-timeout',
    '2s',
  ]);
  peers.push(
    await startHaproxy(balancer, [
      { bind: '10.71.1.1:7001', server: SERVER, send: 'v1' },
      { bind: '10.71.1.1:7002', server: SERVER, send: 'v2' },
      {
        bind: '10.71.1.1:7003',
        server: SERVER,
        send: 'v2',
        v2Options: ['unique-id', 'authority', 'crc32c'],
      },
      { bind: '[fd71:1::1]:7004', server: SERVER, send: 'v1' },
      { bind: '[fd71:1::1]:7005', server: SERVER, send: 'v2', v2Options: ['crc32c'] },
      // In reverse: HAProxy parses headers made by our builder, logs what it understood, and
      // passes the client on to our server in a v2 header of its own.
      {
        bind: '10.71.1.1:7201',
        acceptProxy: true,
        server: SERVER,
        send: 'v2',
        v2Options: ['authority', 'crc32c'],
        logFormat: REVERSE_LOG,
      },
      // Health checks as a balancer makes them (v2 LOCAL header, then a probe line): be6 must
      // stay up; be7 expects a reply our server never gives, so it shows what "down" looks like.
      {
        bind: '10.71.1.1:7301',
        server: SERVER,
        send: 'v2',
        check: { send: 'health\r\n', expect: 'health' },
      },
      {
        bind: '10.71.1.1:7302',
        server: SERVER,
        send: 'v2',
        check: { send: 'health\r\n', expect: 'no-such-reply' },
      },
      // HTTP health checks (v2 LOCAL header, then GET /health) on the echo port: be8 must stay
      // up; be9 expects a status our server never answers, the control that "down" is seen.
      {
        bind: '10.71.1.1:7303',
        server: SERVER,
        send: 'v2',
        httpCheck: { path: '/health', status: 200 },
      },
      {
        bind: '10.71.1.1:7304',
        server: SERVER,
        send: 'v2',
        httpCheck: { path: '/health', status: 404 },
      },
      // TLS through HAProxy: passed through as bytes after its v2 header (an NLB's TCP listener
      // on 443), and ended at HAProxy then begun again to us, the client's TLS in the SSL TLV (an
      // NLB's TLS listener with a TLS target group).
      { bind: '10.71.1.1:7501', server: SERVER, send: 'v2' },
      {
        bind: '10.71.1.1:7502',
        tlsCertificate: haproxyPem,
        server: SERVER,
        send: 'v2-ssl',
        v2Options: ['ssl-cipher'],
        tlsToServer: true,
      },
      // The shipped executable (see its test), with two workers.
      {
        bind: '10.71.1.1:7401',
        server: `10.71.2.2:${EXE_PORT}`,
        send: 'v2',
        v2Options: ['crc32c'],
      },
    ]),
    await startNginx(balancer, [
      { listen: '10.71.1.1:7101', upstream: SERVER },
      { listen: '[fd71:1::1]:7102', upstream: SERVER },
    ]),
  );
});

test.after(async () => {
  for (const peer of peers) await peer.stop();
  await server?.stop();
  removeAll();
});

/** The server's `open` log line for the connection whose client used `port`. */
async function openLine(port: number): Promise<LogLine> {
  const pattern = new RegExp(`"client":"[^"]*:${port}"`);
  await server.waitFor(pattern, 3000);
  return logLines(server.output()).find(
    (l) => typeof l.client === 'string' && l.client.endsWith(`:${port}`),
  )!;
}

function echoThrough(host: string, port: number, sourcePort: number): Promise<Buffer> {
  return exchange(client, { host, port, sourcePort, input: 'hello through the balancer\r\nq\r\n' });
}

const cases = [
  { name: 'HAProxy send-proxy (v1) over IPv4', host: '10.71.1.1', port: 7001, client: '10.71.1.2' },
  { name: 'HAProxy send-proxy-v2 over IPv4', host: '10.71.1.1', port: 7002, client: '10.71.1.2' },
  {
    name: 'HAProxy send-proxy-v2 with unique-id, authority, crc32c',
    host: '10.71.1.1',
    port: 7003,
    client: '10.71.1.2',
  },
  {
    name: 'HAProxy send-proxy (v1 TCP6) over IPv6',
    host: 'fd71:1::1',
    port: 7004,
    client: 'fd71:1::2',
  },
  {
    name: 'HAProxy send-proxy-v2 (IPv6) with crc32c',
    host: 'fd71:1::1',
    port: 7005,
    client: 'fd71:1::2',
  },
  {
    name: 'nginx stream proxy_protocol on over IPv4',
    host: '10.71.1.1',
    port: 7101,
    client: '10.71.1.2',
  },
  {
    name: 'nginx stream proxy_protocol on over IPv6',
    host: 'fd71:1::1',
    port: 7102,
    client: 'fd71:1::2',
  },
];

let sourcePort = 42000;
for (const c of cases) {
  test(`${c.name}: echoes and logs the real client, not the balancer`, async () => {
    const port = ++sourcePort;
    const reply = await echoThrough(c.host, c.port, port);
    assert.is(reply.toString('latin1'), 'hello through the balancer\r\n');
    const line = await openLine(port);
    assert.is(line.client, logEndpoint(c.client, port), 'the real client, address and source port');
    assert.ok(
      String(line.via).startsWith('10.71.2.1:'),
      `via ${String(line.via)} should be the balancer`,
    );
  });
}

test('curl --haproxy-protocol (v1) straight to the server: logs curl as the client', async () => {
  const port = ++sourcePort;
  // curl is its own balancer: its header describes its own connection, so it must come from a
  // trusted address; it uses the balancer namespace's second address and a fixed source port.
  const curl = balancer.spawn(
    'curl',
    [
      '-sS',
      '--haproxy-protocol',
      '--interface',
      '10.71.2.9',
      '--local-port',
      String(port),
      `telnet://${SERVER}`,
    ],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const reply = await collect(curl, 'hello from curl\r\nq\r\n', 5000);
  assert.is(reply.toString('latin1'), 'hello from curl\r\n');
  const line = await openLine(port);
  assert.is(line.client, `10.71.2.9:${port}`);
});

/** A PROXY-command header from `src` to `dst` (each `address`, `port`). */
function proxied(
  version: 1 | 2,
  src: [string, number],
  dst: [string, number],
  tlvs?: ProxyHeaderInit['tlvs'],
): ProxyHeaderInit {
  const protocol = src[0].includes(':') ? 'TCP6' : 'TCP4';
  return {
    version,
    command: 'proxy',
    protocol,
    source: { address: src[0], port: src[1] },
    destination: { address: dst[0], port: dst[1] },
    tlvs,
  };
}

const VPC_ENDPOINT = Buffer.from('\x01vpce-0123456789abcdef0', 'latin1');
const built: Array<{
  name: string;
  header: ProxyHeaderInit;
  crc32c?: boolean;
  authority?: string;
}> = [
  { name: 'v1 TCP4', header: proxied(1, ['203.0.113.10', 50001], ['192.0.2.80', 443]) },
  { name: 'v1 TCP6', header: proxied(1, ['2001:db8::10', 50002], ['2001:db8::80', 443]) },
  {
    name: 'v2 TCP4 with an authority TLV and CRC32C',
    header: proxied(
      2,
      ['203.0.113.11', 50003],
      ['192.0.2.80', 443],
      [{ type: TLV_TYPE.AUTHORITY, value: Buffer.from('echo.example.com') }],
    ),
    crc32c: true,
    authority: 'echo.example.com',
  },
  {
    name: 'v2 TCP6 with an AWS VPC endpoint TLV',
    header: proxied(
      2,
      ['2001:db8::11', 50004],
      ['2001:db8::80', 5000],
      [{ type: TLV_TYPE.AWS, value: VPC_ENDPOINT }],
    ),
  },
];

for (const b of built) {
  test(`HAProxy accept-proxy understands our builder's ${b.name} header`, async () => {
    const source = b.header.source!;
    const destination = b.header.destination!;
    const header = buildProxyHeader(b.header, { crc32c: b.crc32c });
    const reply = await exchange(client, {
      host: '10.71.1.1',
      port: 7201,
      input: Buffer.concat([header, Buffer.from('built\r\nq\r\n')]),
    });
    assert.is(reply.toString('latin1'), 'built\r\n');
    // HAProxy passed the client it parsed on to our server...
    const line = await openLine(source.port);
    assert.is(line.client, logEndpoint(source.address, source.port));
    // ...and logged what it understood.
    const logged = await peers[0].waitFor(new RegExp(`reverse src=\\S+:${source.port} .*`), 3000);
    assert.is(
      logged[0],
      `reverse src=${source.address}:${source.port} dst=${destination.address}:${destination.port} authority=${b.authority ?? '-'}`,
    );
  });
}

test('HAProxy health checks (v2 LOCAL) are answered and logged as health checks', async () => {
  const haproxy = peers[0];
  await haproxy.waitFor(/Server be7\/s7 is DOWN/, 3000); // the control: a failing check is seen
  await server.waitFor(/(health check \(v2 LOCAL\)[\s\S]*){6}/, 3000);
  const checks = logLines(server.output()).filter((l) => l.msg === 'health check (v2 LOCAL)');
  assert.ok(
    checks.every((l) => String(l.client).startsWith('10.71.2.1:')),
    'a LOCAL check is logged with the balancer as its peer',
  );
  assert.not.ok(
    /Server be6\/s6 is DOWN/.test(haproxy.output()),
    `HAProxy saw our server fail its checks:\n${haproxy.output()}`,
  );
});

/** curl in `ns` with `args`; resolves with what it printed (headers and body with -i). */
function curl(ns: Netns, args: readonly string[]): Promise<string> {
  const child = ns.spawn('curl', ['-sS', '-i', '--max-time', '5', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child, null, 5000).then((out) => out.toString('latin1'));
}

test('curl --haproxy-protocol http://server/: 200 with what the server saw, one http log line', async () => {
  const port = ++sourcePort;
  const out = await curl(balancer, [
    '--haproxy-protocol',
    '--interface',
    '10.71.2.9',
    '--local-port',
    String(port),
    `http://${SERVER}/proof?x=1`,
  ]);
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(out, new RegExp(`\nclient: +10\\.71\\.2\\.9:${port}\n`));
  assert.match(out, /\nproxy: +v1 PROXY TCP4\n/);
  assert.match(out, /\nrequest: +GET \/proof\?x=1 HTTP\/1\.1\n/);
  await server.waitFor(new RegExp(`"msg":"http","client":"10\\.71\\.2\\.9:${port}"`), 3000);
  const line = logLines(server.output()).find(
    (l) => l.msg === 'http' && l.client === `10.71.2.9:${port}`,
  )!;
  assert.equal([line.method, line.path, line.status], ['GET', '/proof?x=1', 200]);
});

test('curl --haproxy-protocol -k https://server/: the header before TLS, then our TLS shown', async () => {
  const port = ++sourcePort;
  const out = await curl(balancer, [
    '--haproxy-protocol',
    '-k',
    '--interface',
    '10.71.2.9',
    '--local-port',
    String(port),
    `https://${SERVER}/tls`,
  ]);
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(out, new RegExp(`\nclient: +10\\.71\\.2\\.9:${port}\n`));
  assert.match(out, /\nproxy: +v1 PROXY TCP4\n/);
  assert.match(out, /\ntls: +TLSv1\.[23] \S+\n/);
  assert.match(out, /\ntls-alpn: +http\/1\.1\n/);
  await server.waitFor(new RegExp(`"msg":"tls","client":"10\\.71\\.2\\.9:${port}"`), 3000);
});

test('curl from the client machine through HAProxy send-proxy-v2: JSON names the real client', async () => {
  const port = ++sourcePort;
  const out = await curl(client, [
    '--local-port',
    String(port),
    '-H',
    'Accept: application/json',
    'http://10.71.1.1:7002/',
  ]);
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
  const json = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4));
  assert.is(json.client, `10.71.1.2:${port}`);
  assert.ok(String(json.via).startsWith('10.71.2.1:'), `via ${json.via}: the balancer`);
  assert.equal([json.proxy.version, json.proxy.command], [2, 'proxy']);
});

/** curl from the client machine to HAProxy's `port` over https, the answer's JSON body. */
async function httpsThroughHaproxy(
  port: number,
  sourcePort: number,
  args: readonly string[] = [],
): Promise<BackendView> {
  const out = await curl(client, [
    '-k',
    '--local-port',
    String(sourcePort),
    '-H',
    'Accept: application/json',
    ...args,
    `https://10.71.1.1:${port}/`,
  ]);
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
  return JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4));
}

test("curl https through HAProxy send-proxy-v2 (TLS passed through): the client's TLS is ours", async () => {
  const port = ++sourcePort;
  const json = await httpsThroughHaproxy(7501, port);
  assert.is(json.client, `10.71.1.2:${port}`);
  assert.ok(String(json.via).startsWith('10.71.2.1:'), `via ${json.via}: the balancer`);
  assert.equal([json.proxy?.version, json.proxy?.command], [2, 'proxy']);
  assert.is(json.proxy?.tlvs.ssl, undefined, 'HAProxy did not touch the TLS');
  assert.is(json.tls?.version, 'TLSv1.3');
  assert.is(json.tls?.alpn, 'http/1.1');
});

test("HAProxy ends TLS and begins it again (send-proxy-v2-ssl): the client's TLS apart from ours", async () => {
  const port = ++sourcePort;
  // The client's TLS 1.2 to HAProxy, HAProxy's TLS 1.3 to us: each shown where it belongs.
  const json = await httpsThroughHaproxy(7502, port, ['--tls-max', '1.2']);
  assert.is(json.client, `10.71.1.2:${port}`);
  const ssl = json.proxy?.tlvs.ssl;
  assert.equal([ssl?.client, ssl?.verified, ssl?.version], [['ssl'], false, 'TLSv1.2']);
  assert.match(String(ssl?.cipher), /^ECDHE-/);
  assert.is(json.tls?.version, 'TLSv1.3');
  assert.match(String(json.tls?.cipher), /^TLS_/);
  assert.is(json.tls?.alpn, undefined, 'HAProxy offered no ALPN to us');
});

test('HAProxy option httpchk with send-proxy-v2: the HTTP health check passes', async () => {
  const haproxy = peers[0];
  await haproxy.waitFor(/Server be9\/s9 is DOWN/, 3000); // the control: a failing check is seen
  assert.not.ok(
    /Server be8\/s8 is DOWN/.test(haproxy.output()),
    `HAProxy saw our server fail its HTTP checks:\n${haproxy.output()}`,
  );
});

test('the built x64 executable with --workers 2 behind HAProxy send-proxy-v2 logs the real client', async () => {
  assert.ok(existsSync(EXE), `${EXE} is missing: run npm run build first`);
  const exe = await startServer(
    serverNs,
    EXE_PORT,
    ['--trust', '10.71.2.0/24', '--log-format', 'json', '--workers', '2'],
    EXE,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n(is dist/ older than src/? run npm run build)`);
  });
  peers.push(exe);
  for (let i = 0; i < 4; i++) {
    const port = ++sourcePort;
    const reply = await exchange(client, {
      host: '10.71.1.1',
      port: 7401,
      sourcePort: port,
      input: `through the executable ${i}\r\nq\r\n`,
    });
    assert.is(reply.toString('latin1'), `through the executable ${i}\r\n`);
    await exe.waitFor(new RegExp(`"client":"10\\.71\\.1\\.2:${port}"`), 3000);
  }
  assert.is(await exe.stop(), 0, exe.output().slice(-2000));
});

test('a client cannot forge its address through the balancer: its header is just data', async () => {
  const port = ++sourcePort;
  const forged = 'PROXY TCP4 203.0.113.66 10.0.0.1 1234 5000\r\n';
  const reply = await exchange(client, {
    host: '10.71.1.1',
    port: 7001,
    sourcePort: port,
    input: `${forged}q\r\n`,
  });
  assert.is(reply.toString('latin1'), forged);
  const line = await openLine(port);
  assert.ok(String(line.client).startsWith('10.71.1.2:'));
});

test('topology: a forged header straight from the client namespace is rejected and logged', async () => {
  const port = ++sourcePort;
  const forged = 'PROXY TCP4 203.0.113.66 10.0.0.1 1234 5000\r\nhello\r\n';
  const reply = (
    await exchange(client, {
      host: '10.71.3.1',
      port: SERVER_PORT,
      sourcePort: port,
      input: forged,
    })
  ).toString('latin1');
  assert.not.ok(reply.includes('hello'), `an untrusted peer got an echo: ${JSON.stringify(reply)}`);
  assert.match(reply, /not a trusted load balancer/);
  await server.waitFor(new RegExp(`"peer":"10\\.71\\.3\\.2:${port}"`), 3000);
  const rejected = logLines(server.output()).find((l) => l.peer === `10.71.3.2:${port}`)!;
  assert.is(rejected.msg, 'reject');
  assert.is(rejected.reason, 'untrusted');
  assert.not.ok(
    JSON.stringify(rejected).includes('203.0.113.66'),
    'the forged address must not be logged',
  );
  assert.not.ok(
    logLines(server.output()).some(
      (l) => l.msg === 'open' && String(l.client).startsWith('203.0.113.66'),
    ),
    'no connection was opened for the forged client',
  );
});

test.run();
