// `bench` through a balancer: three greeting servers (in this process, each with its own host
// name) behind a round-robin TCP relay written here, on loopback. The report names every
// backend with its share, and proves each saw the generator as the client; a relay that sends
// a PROXY header of its own naming someone else is caught. JSON and `bench merge` carry it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createEchoServer, type EchoServer } from '../../src/server/server.ts';
import { assertTranscript, cliReplay } from '../docs/examples.ts';
import { runCli } from '../helpers/cli.ts';
import { type LoopbackServer, loopbackServer } from '../helpers/socket.ts';

const NAMES = ['backend-a', 'backend-b', 'backend-c'];
/** The backends' names in the docs' examples. */
const WEB = ['web-1', 'web-2', 'web-3'];

interface Backend {
  backend: string;
  connections: number;
  sawGenerator: number;
  mismatched: number;
  mismatches: { expected: string; reported: string }[];
  clients: string[];
  latencyMs: { p50: number; p99: number; samples: number };
}

/**
 * A round-robin relay in front of `ports`: each connection goes to the next backend, bytes
 * copied both ways; `header` (when given) is what the relay sends a backend first.
 */
async function relay(
  ports: readonly number[],
  header?: (client: net.Socket) => string,
): Promise<LoopbackServer> {
  let next = 0;
  // Each side ends the other, so closing the relay's clients ends their backends too.
  return loopbackServer((client) => {
    const backend = net.connect({ port: ports[next++ % ports.length], host: '127.0.0.1' });
    if (header !== undefined) backend.write(header(client));
    client.pipe(backend);
    backend.pipe(client);
    client.on('error', () => backend.destroy());
    backend.on('error', () => client.destroy());
    client.on('close', () => backend.destroy());
    backend.on('close', () => client.destroy());
  });
}

/** Three greeting servers (named `names`) and a relay in front; `run` gets the relay's port. */
async function balanced(
  run: (port: number) => Promise<void>,
  header?: (client: net.Socket) => string,
  names: readonly string[] = NAMES,
): Promise<void> {
  const servers: EchoServer[] = names.map((host) =>
    createEchoServer({ greeting: true, identity: { host } }),
  );
  const ports = [];
  for (const server of servers)
    ports.push((await server.listen({ port: 0, host: '127.0.0.1' })).port);
  const front = await relay(ports, header);
  try {
    await run(front.port);
  } finally {
    front.close();
    await Promise.all(servers.map((s) => s.close(0)));
  }
}

function bench(port: number, args: readonly string[]) {
  return runCli(
    [
      'bench',
      '--target',
      `127.0.0.1:${port}`,
      '--quiet',
      '--duration',
      '1s',
      '--timeout',
      '5s',
      '--clients',
      '30',
      ...args,
    ],
    {},
    40_000,
  );
}

function backendsOf(stdout: string): Backend[] {
  return (JSON.parse(stdout) as { backends: Backend[] }).backends;
}

/** The backend table of a text report: name → [connections, share, clients named]. */
function tableRows(stdout: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const m = /^(backend-\w)\s+(\d+)\s+([\d.]+)%\s+[\d.]+\s+[\d.]+\s+(.*)$/.exec(line);
    if (m !== null) rows.set(m[1], [m[2], m[3], m[4]]);
  }
  return rows;
}

test('through a round-robin relay: a row per backend, shares adding up to 100%, every backend saw the generator', async () => {
  await balanced(async (port) => {
    const ran = await bench(port, []);
    assert.is(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /^client check +every backend saw the generator as the client$/m);
    const rows = tableRows(ran.stdout);
    assert.equal([...rows.keys()], NAMES, ran.stdout);
    let shares = 0;
    for (const [connections, share, clients] of rows.values()) {
      assert.is(connections, '10', 'round robin: 30 clients, 10 each');
      shares += Number(share);
      // The made-up clients of the generator's v2 headers, documentation addresses all.
      assert.match(clients, /^(\S*(192\.0\.2|198\.51\.100|203\.0\.113|2001:db8)\S*:\d+ ?)+$/);
    }
    assert.is(Math.round(shares * 10), 1000);
  });
});

test('--json: each backend with its connections, latency and clients; the check in numbers', async () => {
  await balanced(async (port) => {
    const ran = await bench(port, ['--json', '--scenario', 'connect']);
    assert.is(ran.code, 0, ran.stderr);
    const backends = backendsOf(ran.stdout);
    assert.equal(
      backends.map((b) => b.backend),
      NAMES,
    );
    const connections = backends.map((b) => b.connections);
    // The relay deals connections out in turn; only those cut off by the stop (at most one per
    // client) may be missing from a backend's count.
    assert.ok(
      Math.max(...connections) - Math.min(...connections) <= 30,
      `churning round robin stays even: ${connections}`,
    );
    assert.ok(Math.min(...connections) > 30, `connections churned: ${connections}`);
    for (const b of backends) {
      assert.is(b.sawGenerator, b.connections, b.backend);
      assert.is(b.mismatched, 0);
      assert.ok(b.latencyMs.samples > 0 && b.latencyMs.p50 <= b.latencyMs.p99, b.backend);
    }
  });
});

/** What a balancer in front sends a backend: a header naming the client that connected to it. */
const realPeer = (client: net.Socket) =>
  `PROXY TCP4 ${client.remoteAddress} 127.0.0.1 ${client.remotePort} 5000\r\n`;

test('a relay that adds a header naming the real peer, as a balancer does: the generator itself is the client', async () => {
  await balanced(async (port) => {
    const ran = await bench(port, ['--json', '--proxy-header', 'none']);
    assert.is(ran.code, 0, ran.stderr);
    const backends = backendsOf(ran.stdout);
    assert.is(backends.length, 3);
    for (const b of backends) {
      assert.is(b.sawGenerator, 10, b.backend);
      assert.ok(b.clients.every((c) => c.startsWith('127.0.0.1:')));
    }
  }, realPeer);
});

test('a relay that rewrites the header to another client is caught: the mismatches, exit status 1', async () => {
  const someoneElse = () => 'PROXY TCP4 198.51.100.99 127.0.0.1 4242 5000\r\n';
  await balanced(async (port) => {
    const ran = await bench(port, ['--proxy-header', 'none']);
    assert.is(ran.code, 1, ran.stdout);
    assert.match(
      ran.stdout,
      /^client check +MISMATCH: 30 connections on 3 of 3 backends named another client$/m,
    );
    assert.match(
      ran.stdout,
      /^mismatch +backend-a named 198\.51\.100\.99:4242, expected 127\.0\.0\.1:\d+$/m,
    );
    for (const [, , clients] of tableRows(ran.stdout).values())
      assert.is(clients, '10 WRONG; 198.51.100.99:4242');
    // The same run is fine when the address the relay names is the one the user expects.
    const expected = await bench(port, [
      '--json',
      '--proxy-header',
      'none',
      '--expect-client',
      '198.51.100.99',
    ]);
    assert.is(expected.code, 0, expected.stderr);
  }, someoneElse);
});

test('bench merge: backends added up over generators, and a mismatch in any input fails it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'balance-'));
  try {
    await balanced(async (port) => {
      for (const label of ['gen-1', 'gen-2']) {
        const ran = await bench(port, ['--json', '--label', label]);
        assert.is(ran.code, 0, ran.stderr);
        writeFileSync(join(dir, `${label}.json`), ran.stdout);
      }
      const merged = await runCli([
        'bench',
        'merge',
        join(dir, 'gen-1.json'),
        join(dir, 'gen-2.json'),
        '--json',
      ]);
      assert.is(merged.code, 0, merged.stderr);
      const backends = backendsOf(merged.stdout);
      assert.equal(
        backends.map((b) => [b.backend, b.connections, b.sawGenerator]),
        NAMES.map((name) => [name, 20, 20]),
      );
      const text = await runCli([
        'bench',
        'merge',
        join(dir, 'gen-1.json'),
        join(dir, 'gen-2.json'),
      ]);
      assert.match(text.stdout, /^client check +every backend saw the generator as the client$/m);
      assert.equal([...tableRows(text.stdout).keys()], NAMES);
    });
    await balanced(
      async (port) => {
        const ran = await bench(port, ['--json', '--label', 'gen-3', '--proxy-header', 'none']);
        assert.is(ran.code, 1);
        writeFileSync(join(dir, 'gen-3.json'), ran.stdout);
      },
      () => 'PROXY TCP4 198.51.100.99 127.0.0.1 4242 5000\r\n',
    );
    const merged = await runCli([
      'bench',
      'merge',
      join(dir, 'gen-1.json'),
      join(dir, 'gen-3.json'),
    ]);
    assert.is(merged.code, 1, merged.stdout);
    assert.match(merged.stdout, /^client check +MISMATCH: 30 connections on 3 of 3 backends/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const example of ['balance-report', 'balance-mismatch'])
  test(`docs/benchmark.md's ${example}: the report's words and layout, as a run prints them`, async () => {
    await balanced(
      async (port) => {
        await assertTranscript(
          'docs/benchmark.md',
          example,
          // The docs' 5 s run takes 1 s here: only the figures change.
          cliReplay((arg) =>
            arg === '127.0.0.1:47100' ? `127.0.0.1:${port}` : arg === '5s' ? '1s' : arg,
          ),
          { figures: false },
        );
      },
      realPeer,
      WEB,
    );
  });

test("docs/load-test-fleet.md's fleet-merge-backends: two generators' backends merged", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'balance-'));
  const file = (label: string) => join(dir, `${label}.json`);
  try {
    await balanced(
      async (port) => {
        // Far enough ahead for both generators to start and connect on a busy machine.
        const startAt = new Date(Date.now() + 6000).toISOString();
        const runs = await Promise.all(
          ['gen-a', 'gen-b'].map((label) =>
            bench(port, [
              '--json',
              '--label',
              label,
              '--proxy-header',
              'none',
              '--procs',
              '0',
              '--start-at',
              startAt,
            ]),
          ),
        );
        for (const [i, ran] of runs.entries()) {
          assert.is(ran.code, 0, ran.stderr);
          writeFileSync(file(i === 0 ? 'gen-a' : 'gen-b'), ran.stdout);
        }
        await assertTranscript(
          'docs/load-test-fleet.md',
          'fleet-merge-backends',
          cliReplay((arg) => (arg.endsWith('.json') ? join(dir, arg) : arg)),
          { figures: false },
        );
      },
      realPeer,
      WEB,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
