// `elb-proxy-echo bench` as a user runs it: each scenario for a second at small client counts
// against our in-process server, a separately started server driven with --target, and broken
// servers that must be caught.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertTranscript, cliReplay } from '../docs/examples.ts';
import { certificateDir, selfSignedFiles } from '../helpers/certificate.ts';
import { runCli, startCli } from '../helpers/cli.ts';
import { type LoopbackServer, loopbackServer } from '../helpers/socket.ts';

interface Result {
  scenario: string;
  clients: number;
  up: number;
  linesPerSecond: number;
  connectionsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number; samples: number };
  memory: { perConnectionBytes: number } | null;
  totals: { linesSent: number; echoesVerified: number; completed: number; connected: number };
  errors: Record<string, number>;
  wrongEchoes: number;
  procs: number;
  serverBusy: number | null;
  serverCpuMicrosPerUnit: number | null;
  notes: string[];
}

async function bench(
  args: string[],
): Promise<{ code: number | null; result: Result; stderr: string }> {
  const ran = await runCli(
    ['bench', '--json', '--quiet', '--duration', '1s', '--timeout', '5s', ...args],
    {},
    40_000,
  );
  let result: Result;
  try {
    result = JSON.parse(ran.stdout) as Result;
  } catch {
    throw new Error(
      `bench did not print one JSON object (exit ${ran.code}); stdout:\n${ran.stdout}\nstderr:\n${ran.stderr}`,
    );
  }
  return { code: ran.code, result, stderr: ran.stderr };
}

function assertConsistent(r: Result, clients: number): void {
  assert.equal(r.errors, {}, 'no errors of any kind');
  assert.is(r.wrongEchoes, 0);
  assert.is(r.up, clients, 'every client stayed up through the window');
  assert.is(r.totals.echoesVerified, r.totals.linesSent, 'every line sent came back verified');
  assert.ok(r.totals.linesSent >= clients, 'each client typed at least one line');
}

test('pingpong: every line echoed and verified, rates and latency reported, chart written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  try {
    const chart = join(dir, 'report.svg');
    const { code, result } = await bench([
      '--scenario',
      'pingpong',
      '--clients',
      '20',
      '--chart',
      chart,
    ]);
    assert.is(code, 0);
    assertConsistent(result, 20);
    assert.is(result.totals.completed, 20, 'every client ended with q and saw the close');
    assert.ok(result.linesPerSecond > 100, `lines/s ${result.linesPerSecond}`);
    assert.ok(
      result.latencyMs.samples > 0 &&
        result.latencyMs.p50 <= result.latencyMs.p99 &&
        result.latencyMs.p99 <= result.latencyMs.max,
    );
    assert.match(
      readFileSync(chart, 'utf8'),
      /^<svg [^>]*>[\s\S]*pingpong: lines\/s[\s\S]*<\/svg>\n$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('connect: connections churn, each with its line verified', async () => {
  const { code, result } = await bench(['--scenario', 'connect', '--clients', '10']);
  assert.is(code, 0);
  assert.equal(result.errors, {});
  assert.is(result.totals.echoesVerified, result.totals.linesSent);
  assert.ok(
    result.totals.completed > 10,
    `more connections than clients: ${result.totals.completed}`,
  );
  assert.ok(result.connectionsPerSecond > 10, `connections/s ${result.connectionsPerSecond}`);
});

test('hold: idle clients stay up and answer; server memory per connection is reported', async () => {
  const { code, result } = await bench([
    '--scenario',
    'hold',
    '--clients',
    '50',
    '--think',
    '300ms',
  ]);
  assert.is(code, 0);
  assertConsistent(result, 50);
  assert.ok(result.memory !== null, 'memory measured');
  assert.ok(Number.isFinite(result.memory!.perConnectionBytes));
});

test('the clients can also run inside the bench process (--procs 0), with a v1 header', async () => {
  const { code, result } = await bench(['--clients', '10', '--procs', '0', '--proxy-header', 'v1']);
  assert.is(code, 0);
  assert.is(result.procs, 0);
  assertConsistent(result, 10);
  // The in-process server's CPU would include the clients' own: not reported rather than wrong.
  assert.is(result.serverBusy, null);
  assert.is(result.serverCpuMicrosPerUnit, null);
  assert.ok(
    result.notes.some((note) => /share this process/.test(note)),
    JSON.stringify(result.notes),
  );
});

test('--target drives a separately started server', async () => {
  const { child, match } = await startCli(
    ['serve', '--port', '0', '--host', '127.0.0.1'],
    /port (\d+)/,
  );
  try {
    // No --proxy-header: a target on this machine gets v2 headers, as our server requires.
    const { code, result } = await bench(['--target', `127.0.0.1:${match[1]}`, '--clients', '10']);
    assert.is(code, 0);
    assertConsistent(result, 10);
  } finally {
    child.kill('SIGKILL');
  }
});

test("docs/benchmark.md's bench-tls: the --tls report's words and layout, against serve --tls-cert", async () => {
  const dir = certificateDir();
  const files = selfSignedFiles(dir);
  const { child, match } = await startCli(
    [
      'serve',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--tls-cert',
      files.cert,
      '--tls-key',
      files.key,
    ],
    /listening on port (\d+)/,
  );
  try {
    await assertTranscript(
      'docs/benchmark.md',
      'bench-tls',
      // The docs' 2 s run takes 1 s here: only the figures change.
      cliReplay((arg) =>
        arg === '127.0.0.1:5655' ? `127.0.0.1:${match[1]}` : arg === '2s' ? '1s' : arg,
      ),
      { figures: false },
    );
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

/** An echo server with a fault (bench it with --proxy-header none): `mangle` rewrites each chunk before it is echoed. */
async function brokenServer(
  mangle: (chunk: Buffer, count: number) => Buffer,
): Promise<LoopbackServer> {
  let chunks = 0;
  return loopbackServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      if (chunk.toString('latin1').startsWith('q\r\n')) return void socket.end();
      socket.write(mangle(chunk, ++chunks));
    });
    socket.on('error', () => socket.destroy());
  });
}

test('a server that alters one byte is caught: wrong-echo counted, exit status 1', async () => {
  const broken = await brokenServer((chunk, count) => {
    if (count % 50 !== 0) return chunk;
    const altered = Buffer.from(chunk);
    altered[3] ^= 0x20; // flips the case of a letter, or turns a digit into another character
    return altered;
  });
  try {
    const { code, result } = await bench([
      '--target',
      `127.0.0.1:${broken.port}`,
      '--proxy-header',
      'none',
      '--clients',
      '5',
    ]);
    assert.is(code, 1);
    assert.ok(result.wrongEchoes > 0, `wrong echoes: ${result.wrongEchoes}`);
    assert.is(result.errors['wrong-echo'], result.wrongEchoes);
  } finally {
    broken.close();
  }
});

test('a server that drops a byte is caught: counted as an error, exit status 1', async () => {
  const broken = await brokenServer((chunk, count) => (count === 30 ? chunk.subarray(1) : chunk));
  try {
    const { code, result } = await bench([
      '--target',
      `127.0.0.1:${broken.port}`,
      '--proxy-header',
      'none',
      '--clients',
      '5',
    ]);
    assert.is(code, 1);
    const errors = Object.values(result.errors).reduce((a, b) => a + b, 0);
    assert.ok(errors >= 1, `errors: ${JSON.stringify(result.errors)}`);
    assert.ok(
      result.totals.echoesVerified < result.totals.linesSent,
      'the damaged line is not counted as verified',
    );
  } finally {
    broken.close();
  }
});

test('a target nothing listens on stops the bench before its run: one line, exit 2', async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const started = Date.now();
  const ran = await runCli(
    ['bench', '--json', '-q', '--target', `127.0.0.1:${port}`, '--duration', '30s'],
    {},
    40_000,
  );
  assert.is(ran.code, 2, ran.stderr);
  assert.is(ran.stdout, '');
  assert.is(
    ran.stderr,
    `elb-proxy-echo: --target 127.0.0.1:${port}: connection refused (nothing listens on that port)\n`,
  );
  assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms: not the 30 s run`);
});

test('bad options exit 2 with a one-line reason', async () => {
  const ran = await runCli(['bench', '--scenario', 'flood']);
  assert.is(ran.code, 2);
  assert.match(
    ran.stderr,
    /^elb-proxy-echo: --scenario: "flood" is not one of pingpong, connect, hold\n$/,
  );
  const target = await runCli(['bench', '--target', 'no-port-here']);
  assert.is(target.code, 2);
  const refused: [string[], string][] = [
    [['--keepalive', '500ms'], '--keepalive: 500ms is shorter than 1s'],
    [['--keepalive', '10h'], '--keepalive: 10h is longer than 32767s'],
    [['--expect-client', 'my-laptop'], '--expect-client: "my-laptop" is not an IP address'],
  ];
  for (const [args, reason] of refused) {
    const ran = await runCli(['bench', ...args]);
    assert.is(ran.code, 2, args.join(' '));
    assert.ok(ran.stderr.startsWith(`elb-proxy-echo: ${reason}`), ran.stderr);
  }
});

test('bench --help lists the scenarios and the options', async () => {
  const ran = await runCli(['bench', '--help']);
  assert.is(ran.code, 0);
  assert.match(ran.stdout, /--scenario NAME/);
  assert.match(ran.stdout, /--target HOST:PORT/);
  assert.match(ran.stdout, /--expect-client ADDR/);
  assert.match(ran.stdout, /--keepalive TIME\|off/);
});

test.run();
