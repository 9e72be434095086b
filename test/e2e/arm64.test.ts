// The Graviton executable, run here under qemu-user: it starts, reports arm64, and serves one
// PROXY-protocol connection on a loopback port.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pkg from '../../package.json' with { type: 'json' };
import { assertProxyEcho } from './proxy-echo.ts';
import { waitForPort } from './processes.ts';

const EXE = fileURLToPath(new URL('../../dist/elb-proxy-echo-linux-arm64', import.meta.url));
// The arm64 glibc, libstdc++ and loader of Debian's cross packages (libc6-arm64-cross, libstdc++6-arm64-cross).
const QEMU = ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'];

test('the arm64 executable and qemu-aarch64 are there', () => {
  assert.ok(existsSync(EXE), `${EXE} is missing (npm run build)`);
  assert.is(
    spawnSync(QEMU[0], ['--version']).status,
    0,
    'qemu-aarch64 is missing (apt-get install qemu-user)',
  );
  assert.ok(
    existsSync('/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1'),
    'apt-get install libc6-arm64-cross libstdc++6-arm64-cross',
  );
});

test('--version under qemu names the version, the bundled Node and arm64', () => {
  const r = spawnSync(QEMU[0], [...QEMU.slice(1), EXE, '--version'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(
    r.stdout,
    `elb-proxy-echo ${pkg.version} (node v${pkg.devDependencies.node}, linux-arm64)\n`,
  );
});

test('under qemu it serves a PROXY v1 and a v2 connection on loopback', async () => {
  const child = spawn(QEMU[0], [...QEMU.slice(1), EXE, 'serve', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const port = await waitForPort(child, 60_000);
    await assertProxyEcho('127.0.0.1', port, 1, 20_000);
    await assertProxyEcho('127.0.0.1', port, 2, 20_000);
  } finally {
    child.kill('SIGKILL');
  }
});

test.run();
