// The load generator on its own, against a recording server on loopback.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator } from '../../src/loadgen/generator.ts';
import type { GeneratorConfig } from '../../src/loadgen/generator-config.ts';
import { V2_SIGNATURE } from '../../src/protocol/index.ts';
import { createEchoServer } from '../../src/server/server.ts';
import { certificateDir, selfSignedFiles } from '../helpers/certificate.ts';

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
      tls: null,
      expectClient: null,
      keepaliveMs: 0,
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

/** A short pingpong run against `port`; resolves with its report. */
async function pingpong(port: number, clients = 4, tls: GeneratorConfig['tls'] = null) {
  const config: GeneratorConfig = {
    scenario: 'pingpong',
    host: '127.0.0.1',
    port,
    clients,
    firstClient: 0,
    totalClients: clients,
    header: 'v1',
    lineBytes: 32,
    thinkMs: 0,
    timeoutMs: 5000,
    maxConnecting: clients,
    tls,
    expectClient: null,
    keepaliveMs: 0,
  };
  const generator = new Generator(config);
  generator.start();
  await new Promise((r) => setTimeout(r, 300));
  return generator.stop();
}

test('a server that greets: the greeting is not taken for an echo', async () => {
  const echo = createEchoServer({ greeting: true });
  const { port } = await echo.listen({ port: 0, host: '127.0.0.1' });
  try {
    const report = await pingpong(port);
    assert.equal(report.totals.errors, {});
    assert.ok(report.totals.echoesVerified > 4, `${report.totals.echoesVerified} echoes`);
    assert.is(report.totals.completed, 4);
  } finally {
    await echo.close(0);
  }
});

test('a first line that only begins like a greeting is a wrong echo', async () => {
  const server = net.createServer((socket) => {
    socket.on('data', () => socket.write('elb-proxy-XXXX\n'));
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  try {
    const report = await pingpong((server.address() as net.AddressInfo).port, 2);
    assert.equal(report.totals.errors, { 'wrong-echo': 2 });
  } finally {
    server.close();
  }
});

test('--tls: the header in clear, then lines over TLS; handshakes counted and timed', async () => {
  const dir = certificateDir();
  const files = selfSignedFiles(dir);
  const echo = createEchoServer({
    tls: { files: { ...files, clientCa: null }, require: true },
  });
  const { port } = await echo.listen({ port: 0, host: '127.0.0.1' });
  try {
    for (const ca of [null, readFileSync(files.cert, 'utf8')]) {
      const report = await pingpong(port, 4, { ca });
      assert.equal(report.totals.errors, {});
      assert.ok(report.totals.echoesVerified > 4, `${report.totals.echoesVerified} echoes`);
      assert.is(report.totals.handshakes, 4);
      assert.ok(report.totals.handshakeMicros > 0);
      assert.ok(report.totals.firstEchoMicros > report.totals.handshakeMicros);
    }
    // Verification on: a certificate from no known CA is an error, not an echo.
    const other = selfSignedFiles(dir, 'other');
    const refused = await pingpong(port, 2, { ca: readFileSync(other.cert, 'utf8') });
    assert.is(refused.totals.handshakes, 0);
    assert.ok(Object.keys(refused.totals.errors).length > 0);
  } finally {
    await echo.close(0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a greeting cut at every byte: each connection counted for its backend, the client checked', async () => {
  const greeting = (peer: string) =>
    Buffer.from(
      `elb-proxy-echo on web-7 [i-0abc us-east-1a]: you are ${peer} (no PROXY header); lines come back, q quits\r\n`,
    );
  const length = greeting('127.0.0.1:65535').length;
  let connections = 0;
  const server = net.createServer((socket) => {
    // Connection k gets the greeting in two writes cut at byte k, a few ms apart.
    const line = greeting(`${socket.remoteAddress}:${socket.remotePort}`);
    const cut = connections++ % (length + 1);
    const pending: Buffer[] = [];
    let greeted = false;
    const echo = (chunk: Buffer) => {
      if (chunk.toString('latin1').startsWith('q\r\n')) socket.end();
      else socket.write(chunk);
    };
    socket.setNoDelay(true);
    socket.write(line.subarray(0, cut));
    setTimeout(() => {
      socket.write(line.subarray(cut));
      greeted = true;
      for (const chunk of pending.splice(0)) echo(chunk);
    }, 5);
    socket.on('data', (chunk: Buffer) => (greeted ? echo(chunk) : pending.push(chunk)));
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  try {
    const clients = length + 1;
    const generator = new Generator({
      scenario: 'pingpong',
      host: '127.0.0.1',
      port: (server.address() as net.AddressInfo).port,
      clients,
      firstClient: 0,
      totalClients: clients,
      header: 'none',
      lineBytes: 16,
      thinkMs: 0,
      timeoutMs: 5000,
      maxConnecting: clients,
      expectClient: null,
      keepaliveMs: 0,
      tls: null,
    });
    generator.start();
    for (let i = 0; i < 100 && generator.counters.answered < clients; i++)
      await new Promise((r) => setTimeout(r, 20));
    const report = await generator.stop();
    assert.equal(report.totals.errors, {});
    assert.is(connections, clients);
    assert.equal(
      report.backends.map((b) => [b.backend, b.connections, b.sawGenerator, b.mismatched]),
      [['web-7 [i-0abc us-east-1a]', clients, clients, 0]],
    );
  } finally {
    server.close();
  }
});

/** The timer column `ss` shows for each client socket connected to `port` (`keepalive,4.9sec,0`, or none). */
function clientTimers(port: number): string[] {
  const out = execFileSync('ss', ['-tnoH', 'state', 'established', `dport = :${port}`], {
    encoding: 'utf8',
  });
  return out
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => /timer:\(([^)]*)\)/.exec(line)?.[1] ?? 'none');
}

/** Hold clients connected to our server with `keepaliveMs`; returns what ss shows for them. */
async function timersWithKeepalive(keepaliveMs: number): Promise<string[]> {
  const echo = createEchoServer();
  const { port } = await echo.listen({ port: 0, host: '127.0.0.1' });
  const generator = new Generator({
    scenario: 'hold',
    host: '127.0.0.1',
    port,
    clients: 3,
    firstClient: 0,
    totalClients: 3,
    header: 'v2',
    lineBytes: 16,
    thinkMs: 60_000,
    timeoutMs: 5000,
    maxConnecting: 3,
    expectClient: null,
    keepaliveMs,
    tls: null,
  });
  try {
    generator.start();
    for (let i = 0; i < 50 && generator.counters.answered < 3; i++)
      await new Promise((r) => setTimeout(r, 20));
    return clientTimers(port);
  } finally {
    await generator.stop();
    await echo.close(0);
  }
}

test('--keepalive: every client socket has the keepalive timer, set to the idle time asked', async () => {
  const timers = await timersWithKeepalive(7000);
  assert.is(timers.length, 3, timers.join(' | '));
  // Seconds left before the first probe (some ss versions write the unit as ms).
  for (const timer of timers) assert.match(timer, /^keepalive,[67]\.\d+(sec|ms),0$/, timer);
});

test('without --keepalive the client sockets have no keepalive timer', async () => {
  const timers = await timersWithKeepalive(0);
  assert.is(timers.length, 3, timers.join(' | '));
  for (const timer of timers) assert.is(timer, 'none');
});

test.run();
