// A stop with --drain-delay, and the health switch, on the real CLI (one process and --workers
// 2): what clients of the echo port, HTTP health checks and the metrics port see, and when
// the process exits. The engine is ELB_PROXY_ECHO_ENGINE's (uv unless told).
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { asDocs, assertExample } from '../../docs/examples.ts';
import { startCli } from '../../helpers/cli.ts';
import { TestClient } from '../../helpers/socket.ts';
import { ENGINE, eventually, v1 } from '../harness.ts';

const SERVE = ['--port', '0', '--host', '127.0.0.1', '--metrics-port', '0', '--engine', ENGINE];

interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly echoPort: number;
  readonly metricsPort: number;
}

async function serve(extra: readonly string[]): Promise<Running> {
  const { child, output } = await startCli([...SERVE, ...extra], /metrics at \S+:(\d+)\//);
  return {
    child,
    output,
    echoPort: Number(/listening on port (\d+)/.exec(output())![1]),
    metricsPort: Number(/metrics at \S+:(\d+)\//.exec(output())![1]),
  };
}

/** The status of one HTTP request on the echo port, behind a PROXY header, and its body. */
async function echoHttp(port: number): Promise<[number, string]> {
  const client = await TestClient.connect(port);
  client.write(Buffer.concat([v1(), Buffer.from('GET / HTTP/1.1\r\nConnection: close\r\n\r\n')]));
  const text = (await client.waitClose()).toString('latin1');
  return [Number(text.split(' ')[1]), text.slice(text.indexOf('\r\n\r\n') + 4)];
}

async function metrics(port: number, path: string, method = 'GET'): Promise<[number, string]> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return [response.status, await response.text()];
}

/** A client past its header that echoes `line` back. */
async function echoes(port: number, line: string): Promise<TestClient> {
  const client = await TestClient.connect(port);
  client.write(Buffer.concat([v1(), Buffer.from(`${line}\n`)]));
  await client.readUntil(new RegExp(`${line}\n$`));
  return client;
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no exit')), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

const drain = suite('--drain-delay');

for (const workers of ['1', '2']) {
  drain(
    `--workers ${workers}: during the delay new clients are served and health checks get 503; then the drain, and exit 0 within delay + drain timeout`,
    async () => {
      const delayMs = 2500;
      const drainMs = 1000;
      const server = await serve([
        '--workers',
        workers,
        '--drain-delay',
        `${delayMs}ms`,
        '--drain-timeout',
        `${drainMs}ms`,
      ]);
      try {
        assert.is((await echoHttp(server.echoPort))[0], 200);
        const before = await echoes(server.echoPort, 'before');
        const stoppedAt = Date.now();
        server.child.kill('SIGTERM');
        await eventually(
          () =>
            /SIGTERM: failing health checks before draining .*delay=2\.5s/.test(server.output()),
          'the delay line',
        );
        // Every worker runs the delay: several connections all get the same answers.
        for (let i = 0; i < 4; i++) {
          const during = await echoes(server.echoPort, `during${i}`);
          during.write('q\n');
          await during.waitClose();
          assert.equal(await echoHttp(server.echoPort), [503, 'draining\n']);
        }
        assert.equal(await metrics(server.metricsPort, '/healthz'), [503, 'draining\n']);
        assert.equal(await metrics(server.metricsPort, '/health'), [503, 'draining\n']);
        assert.match(
          (await metrics(server.metricsPort, '/metrics'))[1],
          /^elb_proxy_echo_health 0$/m,
        );
        assert.ok(Date.now() - stoppedAt < delayMs, 'all of that within the delay');
        // Past the delay: no new connections; the open one still echoes until the drain ends.
        await eventually(() => /SIGTERM: draining/.test(server.output()), 'the drain line', 3000);
        assert.ok(Date.now() - stoppedAt >= delayMs - 50, 'the drain came after the delay');
        await TestClient.connect(server.echoPort).then(
          (c) => (c.destroy(), assert.unreachable('accepted a connection while draining')),
          (error: NodeJS.ErrnoException) => assert.is(error.code, 'ECONNREFUSED'),
        );
        before.write('still\n');
        await before.readUntil(/still\n$/);
        assert.is(await exitOf(server.child, delayMs + drainMs + 3000), 0);
        const took = Date.now() - stoppedAt;
        assert.ok(took >= delayMs + drainMs - 100, `exited after ${took} ms: the drain ran`);
        assert.ok(took < delayMs + drainMs + 2000, `exited after ${took} ms`);
        await before.waitClose();
      } finally {
        server.child.kill('SIGKILL');
      }
    },
  );
}

drain('--drain-delay 0 (the default): SIGTERM drains at once, as before', async () => {
  const server = await serve(['--drain-timeout', '5s']);
  try {
    const client = await echoes(server.echoPort, 'x');
    server.child.kill('SIGTERM');
    await eventually(() => /SIGTERM: draining/.test(server.output()), 'the drain line');
    assert.not.match(server.output(), /failing health checks/);
    await TestClient.connect(server.echoPort).then(
      (c) => (c.destroy(), assert.unreachable('accepted a connection while draining')),
      (error: NodeJS.ErrnoException) => assert.is(error.code, 'ECONNREFUSED'),
    );
    client.write('q\n');
    assert.is(await exitOf(server.child, 5000), 0);
  } finally {
    server.child.kill('SIGKILL');
  }
});

drain('--workers 2: SIGTERM while the workers start ends them all, exit 0, no error', async () => {
  // The first worker listens (the port is open) while the second still starts: a stop then.
  const { child, output, match } = await startCli(
    ['--port', '0', '--host', '127.0.0.1', '--workers', '2', '--log-level', 'debug'],
    /worker listening pid=\d+ port=(\d+)/,
  );
  try {
    child.kill('SIGTERM');
    assert.is(await exitOf(child, 5000), 0, output());
    assert.not.match(output(), /Error|EPIPE|died/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await TestClient.connect(Number(match[1])).then(
      (c) => (c.destroy(), assert.unreachable('a worker outlived its primary')),
      (error: NodeJS.ErrnoException) => assert.is(error.code, 'ECONNREFUSED'),
    );
  } finally {
    child.kill('SIGKILL');
  }
});

drain("docs/server.md's drain-delay-log: each step's line, as the docs show them", async () => {
  const server = await serve(['--drain-delay', '3s', '--drain-timeout', '2s']);
  try {
    server.child.kill('SIGTERM');
    await eventually(() => /failing health checks/.test(server.output()), 'the delay line');
    const client = await TestClient.connect(server.echoPort);
    client.write('PROXY TCP4 203.0.113.7 10.0.0.5 51000 5000\r\nhi\r\nq\r\n');
    await client.waitClose();
    assert.is((await echoHttp(server.echoPort))[0], 503);
    assert.is(await exitOf(server.child, 6000), 0);
    assertExample('docs/server.md', 'drain-delay-log', asDocs(server.output(), server.echoPort));
  } finally {
    server.child.kill('SIGKILL');
  }
});

drain.run();

const health = suite('health switch');

for (const workers of ['1', '2']) {
  health(
    `--workers ${workers}: POST /health/fail makes both ports answer 503, POST /health/ok 200 again; logged with the peer`,
    async () => {
      const server = await serve(['--workers', workers]);
      try {
        const bothPorts = async (status: number, body: string) => {
          // Several connections: with workers, the kernel spreads them over both.
          for (let i = 0; i < 6; i++) {
            const [got, text] = await echoHttp(server.echoPort);
            assert.is(got, status, `echo port, connection ${i}`);
            if (status === 503) assert.is(text, body);
          }
          assert.equal(await metrics(server.metricsPort, '/healthz'), [status, body]);
          assert.equal(await metrics(server.metricsPort, '/health'), [status, body]);
          const gauge = status === 200 ? 1 : 0;
          assert.match(
            (await metrics(server.metricsPort, '/metrics'))[1],
            new RegExp(`^elb_proxy_echo_health ${gauge}$`, 'm'),
          );
        };
        await bothPorts(200, 'ok\n');
        assert.equal(await metrics(server.metricsPort, '/health/fail', 'POST'), [200, 'failing\n']);
        await bothPorts(503, 'failing\n');
        // The echo itself goes on.
        const client = await echoes(server.echoPort, 'served');
        client.write('q\n');
        await client.waitClose();
        assert.equal(await metrics(server.metricsPort, '/health/ok', 'POST'), [200, 'ok\n']);
        await bothPorts(200, 'ok\n');
        assert.match(server.output(), /health: failing was=ok by=127\.0\.0\.1:\d+\n/);
        assert.match(server.output(), /health: ok was=failing by=127\.0\.0\.1:\d+\n/);
      } finally {
        server.child.kill('SIGKILL');
      }
    },
  );
}

health(
  '--workers 2: a worker started after the switch (one replacing a dead one) fails too',
  async () => {
    const server = await serve(['--workers', '2']);
    try {
      assert.equal(await metrics(server.metricsPort, '/health/fail', 'POST'), [200, 'failing\n']);
      const [first] = readFileSync(
        `/proc/${server.child.pid}/task/${server.child.pid}/children`,
        'utf8',
      )
        .trim()
        .split(' ')
        .map(Number);
      process.kill(first, 'SIGKILL');
      await eventually(() => /worker died; starting another/.test(server.output()), 'the restart');
      // Only a worker that listens answers a scrape: two again means the replacement is in.
      const until = Date.now() + 5000;
      while (!(await metrics(server.metricsPort, '/metrics'))[1].includes('_workers 2\n'))
        assert.ok(Date.now() < until, 'the replacement listens within 5 s');
      for (let i = 0; i < 8; i++) assert.equal(await echoHttp(server.echoPort), [503, 'failing\n']);
    } finally {
      server.child.kill('SIGKILL');
    }
  },
);

health.run();
