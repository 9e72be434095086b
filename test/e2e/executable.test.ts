// Smoke test of the built x64 executable (run after `npm run build`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pkg from '../../package.json' with { type: 'json' };
import { TestClient } from '../helpers/socket.ts';

const EXE = fileURLToPath(new URL('../../dist/elb-proxy-echo-linux-x64', import.meta.url));

test('the x64 executable exists (run npm run build first)', () => {
  assert.ok(existsSync(EXE), `${EXE} is missing`);
});

test('--version prints the version and the bundled Node', () => {
  const r = spawnSync(EXE, ['--version'], { encoding: 'utf8' });
  assert.is(r.status, 0);
  assert.is(r.stdout, `elb-proxy-echo ${pkg.version} (node v${pkg.devDependencies.node}, linux-x64)\n`);
});

test('the executable serves on a loopback port and echoes a line', async () => {
  const child = spawn(EXE, ['--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no port in output: ${out}`)), 10_000);
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        const m = /port (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    const client = await TestClient.connect(port);
    // The server requires a PROXY header by default: play the load balancer first.
    client.write('PROXY TCP4 54.222.152.163 10.0.11.239 45418 5000\r\nhello\r\n');
    assert.is((await client.readBytes(7)).toString(), 'hello\r\n');
    client.write('q\r\n');
    await client.waitClose();
  } finally {
    child.kill('SIGKILL');
  }
});

test.run();
