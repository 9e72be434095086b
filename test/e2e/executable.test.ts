// Smoke test of the built x64 executable (run after `npm run build`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pkg from '../../package.json' with { type: 'json' };
import { startProgram } from '../helpers/cli.ts';
import { classicElbSession } from '../helpers/socket.ts';

const EXE = fileURLToPath(new URL('../../dist/elb-proxy-echo-linux-x64', import.meta.url));

test('the x64 executable exists (run npm run build first)', () => {
  assert.ok(existsSync(EXE), `${EXE} is missing`);
});

test('--version prints the version and the bundled Node', () => {
  const r = spawnSync(EXE, ['--version'], { encoding: 'utf8' });
  assert.is(r.status, 0);
  assert.is(
    r.stdout,
    `elb-proxy-echo ${pkg.version} (node v${pkg.devDependencies.node}, linux-x64)\n`,
  );
});

test('the executable serves on the uv engine on a loopback port and echoes a line after a PROXY header', async () => {
  // The default engine (auto) must find the embedded runtime's libuv bindings as expected.
  const { child, match, output } = await startProgram(
    EXE,
    ['--port', '0'],
    /listening on port (\d+) .*engine=(\w+)/,
    { ELB_PROXY_ECHO_ENGINE: 'auto' },
  );
  try {
    assert.is(match[2], 'uv', output());
    assert.not.match(output(), /engine uv unavailable/);
    await classicElbSession(Number(match[1]));
  } finally {
    child.kill('SIGKILL');
  }
});

test.run();
