// Smoke test of the built x64 executable (run after `npm run build`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pkg from '../../package.json' with { type: 'json' };
import { CLI, type Started, startCli, startProgram } from '../helpers/cli.ts';
import { classicElbSession, TestClient } from '../helpers/socket.ts';

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

/** The executable or the source run, as a command line to which serve options are added. */
const COMMANDS = { executable: [EXE], source: [process.execPath, CLI] } as const;

function startServer(kind: keyof typeof COMMANDS, args: readonly string[]): Promise<Started> {
  const ready = /listening on port (\d+)/;
  return kind === 'executable' ? startProgram(EXE, args, ready) : startCli(args, ready);
}

for (const [first, second] of [
  ['executable', 'source'],
  ['source', 'executable'],
] as const) {
  test(`one server per port: the ${second} run on the port the ${first} run holds exits 2 naming it; every connection stays with the ${first}`, async () => {
    const one = await startServer(first, ['--port', '0', '--host', '127.0.0.1', '--greeting']);
    try {
      const port = Number(one.match[1]);
      const [program, ...before] = COMMANDS[second];
      const started = Date.now();
      const two = spawnSync(
        program,
        [
          ...before,
          '--port',
          String(port),
          '--host',
          '::',
          '--engine',
          'net',
          '--trust',
          '10.0.0.0/8',
        ],
        { encoding: 'utf8', timeout: 10_000 },
      );
      const took = Date.now() - started;
      assert.is(
        two.status,
        2,
        `status ${two.status} (${two.signal}) after ${took} ms\n${two.stderr}`,
      );
      assert.is(two.stdout, '');
      const line = new RegExp(
        `^elb-proxy-echo: cannot listen on \\[::\\]:${port}: port ${port} is already in use by pid ${one.child.pid} \\((.*)\\); stop it or pick another --port\\n$`,
      ).exec(two.stderr);
      assert.ok(line, two.stderr);
      // The command line as /proc has it: the program (the executable, or node and cli.ts),
      // then the options.
      assert.ok(line![1].startsWith(COMMANDS[first].join(' ')), line![1]);
      assert.ok(line![1].endsWith(' --port 0 --host 127.0.0.1 --greeting'), line![1]);
      assert.ok(took < 2000, `the second server took ${took} ms to exit, more than 2 s`);
      // Only the first server greets: every client must get its greeting.
      const clients = await Promise.all(Array.from({ length: 20 }, () => TestClient.connect(port)));
      clients.forEach((c, i) => c.write(`PROXY TCP4 192.0.2.9 10.0.0.5 ${1000 + i} 5000\r\nq\r\n`));
      const received = await Promise.all(clients.map((c) => c.waitClose()));
      received.forEach((bytes, i) =>
        assert.match(bytes.toString(), `: you are 192.0.2.9:${1000 + i} (PROXY v1 from `),
      );
    } finally {
      one.child.kill('SIGKILL');
    }
  });
}

test.run();
