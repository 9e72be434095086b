// TLS after the PROXY header: one port serves TLS and clear connections; over TLS the greeting,
// the echo and the HTTP answers are the clear connection's, with our own hop's TLS added.
import { rmSync, copyFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildProxyHeader, sslTlv, TLV_TYPE, textTlv } from '../../../src/index.ts';
import type { EchoServerOptions } from '../../../src/server/server-options.ts';
import { renderMetrics } from '../../../src/server/metrics/metrics.ts';
import {
  certificateDir,
  type CertificateFiles,
  selfSignedFiles,
  signedBy,
} from '../../helpers/certificate.ts';
import { CLIENT_HELLO } from '../../helpers/client-hello.ts';
import { TestClient } from '../../helpers/socket.ts';
import { tlsWithHeader } from '../../wrap/helpers.ts';
import { eventually, type Started, v1, withEcho } from '../harness.ts';

const dir = certificateDir();
const server = selfSignedFiles(dir, 'localhost');
const ca = selfSignedFiles(dir, 'test-ca');
const alice = signedBy(ca, 'alice');
const stranger = selfSignedFiles(dir, 'stranger');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const tlsOn = (more: Partial<EchoServerOptions['tls'] & object> = {}): EchoServerOptions => ({
  tls: { files: { cert: server.cert, key: server.key, clientCa: null }, require: false, ...more },
});
const b = (s: string) => Buffer.from(s, 'latin1');

/** Everything `secure` sends until `pattern` matches. */
function readUntil(secure: tls.TLSSocket, pattern: RegExp, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} in ${JSON.stringify(text)}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!pattern.test(text)) return;
      clearTimeout(timer);
      secure.off('data', onData);
      resolve(text);
    };
    secure.on('data', onData);
  });
}

function closedBy(socket: net.Socket): Promise<void> {
  return new Promise((resolve) =>
    socket.destroyed ? resolve() : socket.once('close', () => resolve()),
  );
}

/** A handshake that the server refuses: resolves with the client's error. */
async function refusedHandshake(port: number, options: tls.ConnectionOptions): Promise<Error> {
  return tlsWithHeader(port, v1(), options).then(
    (secure) => {
      secure.destroy();
      throw new Error('the handshake succeeded');
    },
    (error: Error) => error,
  );
}

const echo = suite('TLS: echo and greeting');

echo('header, then TLS with SNI: lines come back, q closes; open, tls and close lines', () =>
  withEcho(tlsOn(), async ({ port, logged }) => {
    const secure = await tlsWithHeader(port, v1(), { servername: 'echo.example' });
    secure.write('hello over tls\r\n');
    assert.is(await readUntil(secure, /\n$/), 'hello over tls\r\n');
    secure.write('q\r\n');
    await closedBy(secure);
    await eventually(() => logged('close').length === 1, 'close line');
    const [line] = logged('tls', 'info');
    assert.is(line.client, '54.222.152.163:45418');
    assert.match(String(line.version), /^TLSv1\.[23]$/);
    assert.is(line.sni, 'echo.example');
    assert.is(line.alpn, undefined);
    assert.is(logged('close')[0].reason, 'quit');
    assert.is(logged('close')[0].lines, 1);
  }),
);

echo('--greeting over TLS says the header and our TLS (no SNI: none said)', () =>
  withEcho({ ...tlsOn(), greeting: true }, async ({ port }) => {
    const secure = await tlsWithHeader(port, v1());
    const line = await readUntil(secure, /\r\n/);
    assert.match(
      line,
      /^elb-proxy-echo on .+: you are 54\.222\.152\.163:45418 \(PROXY v1 from 127\.0\.0\.1:\d+\) over TLSv1\.3 TLS_\w+; lines come back, q quits\r\n$/,
    );
    assert.not.match(line, /SNI/);
    secure.destroy();
  }),
);

for (const delayMs of [0, 50]) {
  echo(`--greeting, a ClientHello ${delayMs} ms after the header: nothing in clear`, () =>
    withEcho({ ...tlsOn(), greeting: true }, async ({ port }) => {
      const client = await TestClient.connect(port);
      client.write(v1());
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      client.write(CLIENT_HELLO);
      await client.readBytes(1);
      // Past the greeting's wait for silence and a sweep: still only the handshake's records.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      assert.is(client.received[0], 0x16, 'a TLS handshake record first');
      assert.not.match(client.received.toString('latin1'), /elb-proxy-echo/);
      client.destroy();
    }),
  );
}

echo('the same port still echoes in clear', () =>
  withEcho(tlsOn(), async ({ port, logged }) => {
    const client = await TestClient.connect(port);
    client.write(Buffer.concat([v1(), b('plain\r\nq\r\n')]));
    assert.is((await client.waitClose()).toString('latin1'), 'plain\r\n');
    assert.is(logged('tls').length, 0);
  }),
);

echo('--tls require: a clear connection is refused with a reason, logged and counted', () =>
  withEcho(tlsOn({ require: true }), async ({ echo: server, port, logged }) => {
    const client = await TestClient.connect(port);
    client.write(Buffer.concat([v1(), b('plain\r\n')]));
    const told = (await client.waitClose()).toString('latin1');
    assert.is(told, 'elb-proxy-echo: this port expects TLS after the PROXY header; closing.\r\n');
    assert.is(logged('reject', 'warn')[0].reason, 'tls-required');
    assert.is(server.metrics.rejects['tls-required'], 1);
    // TLS is still served.
    const secure = await tlsWithHeader(port, v1());
    secure.write('ok\n');
    assert.is(await readUntil(secure, /\n/), 'ok\n');
    secure.destroy();
  }),
);

const http = suite('TLS: HTTP');

http('GET over TLS with ALPN http/1.1: the answer shows the header and our TLS', () =>
  withEcho(tlsOn(), async ({ port, logged }) => {
    const secure = await tlsWithHeader(port, v1(), {
      servername: 'localhost',
      ALPNProtocols: ['http/1.1'],
    });
    assert.is(secure.alpnProtocol, 'http/1.1');
    secure.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const text = await readUntil(secure, /\n {2}Connection: close\n$/);
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /^client: +54\.222\.152\.163:45418$/m);
    assert.match(text, /^proxy: +v1 PROXY TCP4$/m);
    assert.match(text, /^tls: +TLSv1\.3 TLS_\w+$/m);
    assert.match(text, /^tls-sni: +localhost$/m);
    await eventually(() => logged('http').length === 1, 'http line');
    secure.destroy();
  }),
);

http("JSON: our hop's TLS apart from the client's TLS the sender reported (SSL TLV)", () =>
  withEcho(tlsOn(), async ({ port }) => {
    const header = Buffer.from(
      buildProxyHeader({
        version: 2,
        command: 'proxy',
        protocol: 'TCP4',
        source: { address: '203.0.113.9', port: 50000 },
        destination: { address: '10.0.0.5', port: 443 },
        tlvs: [
          sslTlv(0x01, 0, [
            textTlv(TLV_TYPE.SSL_VERSION, 'TLSv1.2'),
            textTlv(TLV_TYPE.SSL_CIPHER, 'ECDHE-RSA-AES128-GCM-SHA256'),
          ]),
        ],
      }),
    );
    const secure = await tlsWithHeader(port, header, { ALPNProtocols: ['http/1.1'] });
    secure.write('GET /?format=json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const text = await readUntil(secure, /\}\n$/);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    assert.equal(body.proxy.tlvs.ssl, {
      client: ['ssl'],
      verified: false,
      version: 'TLSv1.2',
      cipher: 'ECDHE-RSA-AES128-GCM-SHA256',
    });
    assert.is(body.tls.version, 'TLSv1.3');
    assert.is(body.tls.alpn, 'http/1.1');
    assert.is(body.tls.sni, undefined);
    secure.destroy();
  }),
);

http('a client offering only h2 is refused in the handshake: one reject line with a code', () =>
  withEcho(tlsOn(), async ({ echo: server, port, logged }) => {
    const error = await refusedHandshake(port, { ALPNProtocols: ['h2'] });
    assert.match(error.message, /no application protocol/);
    await eventually(() => logged('reject').length === 1, 'reject line');
    const [line] = logged('reject', 'warn');
    assert.equal(
      [line.reason, line.code, line.detail],
      ['tls-handshake', 'no-application-protocol', 'no application protocol'],
    );
    assert.match(
      renderMetrics(server.metrics.snapshot(), null),
      /rejects_total\{reason="tls-handshake",code="no-application-protocol"\} 1/,
    );
  }),
);

const refusals = suite('TLS: bad handshakes');

refusals('TLS 1.1 is refused (minimum 1.2)', () =>
  withEcho(tlsOn(), async ({ port, logged }) => {
    await refusedHandshake(port, {
      maxVersion: 'TLSv1.1',
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    await eventually(() => logged('reject').length === 1, 'reject line');
    assert.is(logged('reject')[0].reason, 'tls-handshake');
  }),
);

refusals('a handshake record of garbage: one reject line with OpenSSL reason and code', () =>
  withEcho(tlsOn(), async ({ echo: server, port, logged }) => {
    const client = await TestClient.connect(port);
    client.write(Buffer.concat([v1(), Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])]));
    await client.waitClose();
    await eventually(() => logged('reject').length === 1, 'reject line');
    const [line] = logged('reject', 'warn');
    assert.is(line.reason, 'tls-handshake');
    assert.type(line.code, 'string');
    assert.ok(String(line.detail).length > 0);
    assert.is(server.metrics.rejects['tls-handshake'], 1);
  }),
);

refusals('a handshake that stalls is closed after --header-timeout (tls-handshake-timeout)', () =>
  withEcho({ ...tlsOn(), headerTimeoutMs: 300 }, async ({ echo: server, port, logged }) => {
    const client = await TestClient.connect(port);
    const started = Date.now();
    client.write(Buffer.concat([v1(), Buffer.from([0x16, 0x03, 0x01])]));
    await client.waitClose();
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 2000, `closed after ${took} ms`);
    assert.is(logged('reject', 'warn')[0].reason, 'tls-handshake-timeout');
    assert.is(server.metrics.rejects['tls-handshake-timeout'], 1);
  }),
);

const hangUps = suite('TLS: clients that hang up');

// Timeouts far beyond the test's wait: a connection closed in time was closed by the client's FIN.
const patient = (): EchoServerOptions => ({
  ...tlsOn(),
  headerTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
});

hangUps('a FIN in the handshake closes the connection at once; its close line says so', () =>
  withEcho(patient(), async ({ echo: server, port, logged }) => {
    const client = await TestClient.connect(port);
    client.write(Buffer.concat([v1(), CLIENT_HELLO]));
    await client.readBytes(1); // the ServerHello: the handshake is under way
    client.socket.end();
    await client.waitClose(2000);
    await eventually(() => server.connectionCount === 0, 'no connection open', 2000);
    assert.is(logged('close')[0].reason, 'client-closed');
    assert.is(logged('reject').length, 0);
  }),
);

hangUps('a FIN after the handshake closes the connection at once, as in clear', () =>
  withEcho(patient(), async ({ echo: server, port, logged }) => {
    const secure = await tlsWithHeader(port, v1());
    secure.write('last words\n');
    assert.is(await readUntil(secure, /\n/), 'last words\n');
    secure.end();
    await Promise.race([
      closedBy(secure),
      new Promise((_, reject) => setTimeout(() => reject(new Error('still open after 2 s')), 2000)),
    ]);
    await eventually(() => server.connectionCount === 0, 'no connection open', 2000);
    assert.is(logged('close')[0].reason, 'client-closed');
    assert.is(logged('close')[0].lines, 1);
  }),
);

const certificates = suite('TLS: client certificates');

const withClientCa = (): EchoServerOptions =>
  tlsOn({ files: { cert: server.cert, key: server.key, clientCa: ca.cert } });

async function greetingWith(started: Started, client: CertificateFiles | null): Promise<string> {
  const secure = await tlsWithHeader(
    started.port,
    v1(),
    client === null ? {} : { cert: readPem(client.cert), key: readPem(client.key) },
  );
  const line = await readUntil(secure, /\r\n/);
  secure.destroy();
  return line;
}

function readPem(path: string): Buffer {
  return process.getBuiltinModule('node:fs').readFileSync(path);
}

certificates(
  '--tls-client-ca: a certificate from the CA is shown verified, with its fingerprint',
  () =>
    withEcho({ ...withClientCa(), greeting: true }, async (started) => {
      const line = await greetingWith(started, alice);
      assert.match(
        line,
        /client certificate CN=alice, O=Tests from CN=test-ca, sha256 ([0-9A-F]{2}:){31}[0-9A-F]{2}, verified;/,
      );
      await eventually(() => started.logged('tls').length === 1, 'tls line');
      assert.is(started.logged('tls')[0].client_cert_verified, true);
    }),
);

certificates('a certificate from elsewhere is shown, and said NOT verified, with why', () =>
  withEcho({ ...withClientCa(), greeting: true }, async (started) => {
    const line = await greetingWith(started, stranger);
    assert.match(
      line,
      /client certificate CN=stranger from CN=stranger, sha256 [0-9A-F:]+, NOT verified \(\w+\);/,
    );
  }),
);

certificates('no certificate offered: the connection is served, none shown', () =>
  withEcho({ ...withClientCa(), greeting: true }, async (started) => {
    const line = await greetingWith(started, null);
    assert.not.match(line, /certificate/);
    assert.match(line, /over TLSv1\.3/);
  }),
);

const splits = suite('TLS: split reads');

/**
 * A socket for tls.connect that sends `header` with the client's first flight (its ClientHello),
 * in two writes cut at `at`, some milliseconds apart so that the server reads them apart.
 */
function cutFirstFlight(raw: net.Socket, header: Buffer, at: number): Duplex {
  let first = true;
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, done) {
      if (!first) return void raw.write(chunk, done);
      first = false;
      const all = Buffer.concat([header, chunk]);
      raw.write(all.subarray(0, at));
      setTimeout(() => raw.write(all.subarray(at), done), 3);
    },
    read() {},
    final(done) {
      raw.end();
      done();
    },
    destroy(error, done) {
      raw.destroy();
      done(error);
    },
  });
  raw.on('data', (chunk) => duplex.push(chunk));
  raw.on('end', () => duplex.push(null));
  raw.on('error', () => {});
  return duplex;
}

async function echoedWithCut(port: number, header: Buffer, at: number): Promise<string> {
  const raw = net.connect({ port, host: '127.0.0.1' });
  await new Promise((resolve) => raw.once('connect', resolve));
  const secure = tls.connect({
    socket: cutFirstFlight(raw, header, at),
    rejectUnauthorized: false,
  });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
  });
  secure.write(`cut ${at}\n`);
  const text = await readUntil(secure, /\n/);
  secure.destroy();
  return text;
}

splits('header and ClientHello cut at every byte between the header start and the hello end', () =>
  withEcho(tlsOn(), async ({ port, logged }) => {
    const header = v1();
    // The ClientHello's length, from a first whole connection.
    const hello = await firstFlightLength(port);
    const points = Array.from({ length: header.length + hello - 1 }, (_, i) => i + 1);
    for (let i = 0; i < points.length; i += 8) {
      const batch = points.slice(i, i + 8);
      const got = await Promise.all(batch.map((at) => echoedWithCut(port, header, at)));
      assert.equal(
        got,
        batch.map((at) => `cut ${at}\n`),
      );
    }
    assert.is(logged('reject').length, 0);
  }),
);

/** The size of a default node:tls client's first flight (seen through a plain relay). */
async function firstFlightLength(port: number): Promise<number> {
  const raw = net.connect({ port, host: '127.0.0.1' });
  await new Promise((resolve) => raw.once('connect', resolve));
  let length = 0;
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, done) {
      length ||= chunk.length;
      done();
      duplex.destroy();
    },
    read() {},
  });
  const secure = tls.connect({ socket: duplex, rejectUnauthorized: false });
  await new Promise((resolve) => secure.once('close', resolve).once('error', () => {}));
  raw.destroy();
  return length;
}

const reload = suite('TLS: reload');

reload(
  'reloadTls (SIGHUP): new connections get the new certificate; an open one goes on',
  async () => {
    const live = certificateDir();
    const files = { cert: `${live}/cert.pem`, key: `${live}/key.pem`, clientCa: null };
    const use = (from: CertificateFiles) => {
      copyFileSync(from.cert, files.cert);
      copyFileSync(from.key, files.key);
    };
    use(server);
    try {
      await withEcho(
        { tls: { files, require: false } },
        async ({ echo: started, port, logged }) => {
          const before = await tlsWithHeader(port, v1());
          assert.match(before.getPeerCertificate().subject.CN as string, /^localhost$/);
          use(stranger);
          assert.is(started.reloadTls(), null);
          assert.is(logged('TLS certificate reloaded').length, 1);
          const after = await tlsWithHeader(port, v1());
          assert.is(after.getPeerCertificate().subject.CN, 'stranger');
          before.write('still here\n');
          assert.is(await readUntil(before, /\n/), 'still here\n');
          // A broken file: refused, said, and the certificate in use stays.
          process.getBuiltinModule('node:fs').writeFileSync(files.key, 'not a key');
          assert.match(String(started.reloadTls()), /--tls-key|--tls-cert/);
          const still = await tlsWithHeader(port, v1());
          assert.is(still.getPeerCertificate().subject.CN, 'stranger');
          for (const socket of [before, after, still]) socket.destroy();
        },
      );
    } finally {
      rmSync(live, { recursive: true, force: true });
    }
  },
);

echo.run();
http.run();
refusals.run();
hangUps.run();
certificates.run();
splits.run();
reload.run();
