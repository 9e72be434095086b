// The C load generator (bench/baselines/epoll-load.c, via bench/load.ts): it counts what a good
// echo returns, catches an altered or a dropped byte, and refuses a target off loopback. Without
// gcc these cases are not run (and say so); nothing is counted as passed for them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileC, runLoad } from '../../bench/load.ts';
import type { ServerHandle } from '../../src/loadgen/for-benchmarks.ts';
import { loopbackServer } from '../helpers/socket.ts';

/** An echo that skips the v1 header line, then echoes what `mangle` makes of each chunk. */
async function echo(mangle: (chunk: Buffer, count: number) => Buffer = (c) => c) {
  let chunks = 0;
  const server = await loopbackServer((socket) => {
    socket.on('error', () => socket.destroy());
    let header = true;
    socket.on('data', (chunk: Buffer) => {
      if (header) {
        const end = chunk.indexOf(0x0a);
        if (end === -1) return;
        header = false;
        chunk = chunk.subarray(end + 1);
        if (chunk.length === 0) return;
      }
      if (chunk.toString('latin1') === 'q\r\n') return void socket.end();
      socket.write(mangle(chunk, ++chunks));
    });
    socket.on('end', () => socket.end());
  });
  const handle: ServerHandle = {
    name: 'test echo',
    host: '127.0.0.1',
    port: server.port,
    pid: null,
    rss: () => null,
    cpuMicros: () => null,
    stop: async () => server.close(),
  };
  return handle;
}

const work = mkdtempSync(join(tmpdir(), 'load-test-'));
const binary = compileC(work, 'epoll-load');
const plan = (scenario: 'pingpong' | 'connect') => ({
  scenario,
  clients: 5,
  durationMs: 400,
  lineBytes: 16,
  trickle: scenario === 'pingpong' ? 10 : 0,
  cpus: undefined,
});

if (binary === null) {
  process.stdout.write('load.test.ts: no gcc, the C load generator cases were not run\n');
} else {
  test('pingpong and connect against a good echo: lines, connections, trickle, no error', async () => {
    const server = await echo();
    try {
      const pingpong = await runLoad(binary, plan('pingpong'), server);
      assert.ok(pingpong.lines > 0, `lines: ${pingpong.lines}`);
      assert.is(pingpong.up, 5);
      assert.ok(pingpong.trickle.answered > 0, 'trickle clients got their first echo');
      assert.equal(pingpong.errors, {});
      const connect = await runLoad(binary, plan('connect'), server);
      assert.ok(connect.connections > 0, `connections: ${connect.connections}`);
      assert.equal(connect.errors, {});
    } finally {
      await server.stop();
    }
  });

  test('an altered byte is a wrong echo', async () => {
    const server = await echo((chunk, count) => {
      if (count % 20 !== 0) return chunk;
      const altered = Buffer.from(chunk);
      altered[3] ^= 0x20;
      return altered;
    });
    try {
      const result = await runLoad(binary, plan('pingpong'), server);
      assert.ok(result.wrongEchoes > 0, `wrong echoes: ${result.wrongEchoes}`);
      assert.is(result.errors['wrong-echo'], result.wrongEchoes);
    } finally {
      await server.stop();
    }
  });

  test('a dropped byte is caught (the next line no longer matches, or the echo never completes)', async () => {
    const server = await echo((chunk, count) => (count === 15 ? chunk.subarray(1) : chunk));
    try {
      const result = await runLoad(
        binary,
        { ...plan('pingpong'), durationMs: 800, timeoutMs: 200 },
        server,
      );
      const caught = (result.errors['wrong-echo'] ?? 0) + (result.errors.timeout ?? 0);
      assert.ok(caught > 0, `errors: ${JSON.stringify(result.errors)}`);
    } finally {
      await server.stop();
    }
  });

  test('a target off loopback is refused before any connection', () => {
    const run = spawnSync(binary, ['--host', '10.0.0.1', '--port', '5000'], { encoding: 'utf8' });
    assert.is(run.status, 2);
    assert.match(run.stderr, /only 127\.0\.0\.0\/8/);
  });
}

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
