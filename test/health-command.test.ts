// `elb-proxy-echo health fail|ok|status` against a running server, and against nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { asDocs, assertExample, assertTranscript } from './docs/examples.ts';
import { runCli, startCli } from './helpers/cli.ts';
import { TestClient } from './helpers/socket.ts';

const command = suite('health');

command(
  'against a running server: status, fail, status, ok; exit 0 ok or done, 1 failing',
  async () => {
    const { child, match } = await startCli(
      ['--port', '0', '--host', '127.0.0.1', '--metrics-port', '0'],
      /metrics at \S+:(\d+)\//,
    );
    try {
      const port = match[1];
      const rows: Array<[action: string, code: number, out: string]> = [
        ['status', 0, 'ok\n'],
        ['fail', 0, 'failing\n'],
        ['status', 1, 'failing\n'],
        ['fail', 0, 'failing\n'],
        ['ok', 0, 'ok\n'],
        ['status', 0, 'ok\n'],
      ];
      for (const [action, code, out] of rows) {
        const ran = await runCli(['health', action, '--metrics-port', port]);
        assert.equal([ran.code, ran.stdout, ran.stderr], [code, out, ''], action);
      }
      // The server's own variable finds it too.
      const byEnv = await runCli(['health', 'status'], { ELB_PROXY_ECHO_METRICS_PORT: port });
      assert.equal([byEnv.code, byEnv.stdout], [0, 'ok\n']);
    } finally {
      child.kill('SIGKILL');
    }
  },
);

/** What curl --haproxy-protocol sends for `path`: a v1 header naming itself, then the request. */
const curlWithHeader = (path: string, port: number) =>
  `PROXY TCP4 127.0.0.1 127.0.0.1 40000 ${port}\r\nGET ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`;

command("docs/server.md's health-switch session and its log lines", async () => {
  const { child, match, output } = await startCli(
    ['--port', '0', '--host', '127.0.0.1', '--metrics-port', '0'],
    /metrics at \S+:(\d+)\//,
  );
  try {
    const metricsPort = match[1];
    const echoPort = Number(/listening on port (\d+)/.exec(output())?.[1]);
    await assertTranscript('docs/server.md', 'health-switch', async (line) => {
      const health = /^elb-proxy-echo health (\w+) --metrics-port 9100(; echo "exit \$\?")?$/.exec(
        line,
      );
      if (health !== null) {
        const ran = await runCli(['health', health[1], '--metrics-port', metricsPort]);
        return [...asDocs(ran.stdout), ...(health[2] ? [`exit ${ran.code}`] : [])];
      }
      assert.is(line, 'curl -s --haproxy-protocol http://localhost:5000/health');
      const client = await TestClient.connect(echoPort);
      client.write(curlWithHeader('/health', echoPort));
      const answer = (await client.waitClose()).toString('utf8');
      return asDocs(answer.slice(answer.indexOf('\r\n\r\n') + 4), echoPort);
    });
    assertExample('docs/server.md', 'health-switch-log', asDocs(output(), echoPort));
  } finally {
    child.kill('SIGKILL');
  }
});

command('a draining server: status 1, and ok is refused with 1', async () => {
  const { child, match, output } = await startCli(
    ['--port', '0', '--host', '127.0.0.1', '--metrics-port', '0', '--drain-delay', '10s'],
    /metrics at \S+:(\d+)\//,
  );
  try {
    const port = match[1];
    child.kill('SIGTERM');
    while (!/failing health checks/.test(output())) await new Promise((r) => setTimeout(r, 10));
    const status = await runCli(['health', 'status', '--metrics-port', port]);
    assert.equal([status.code, status.stdout], [1, 'draining\n']);
    const ok = await runCli(['health', 'ok', '--metrics-port', port]);
    assert.equal([ok.code, ok.stdout], [1, 'draining\n']);
  } finally {
    child.kill('SIGKILL');
  }
});

/** A loopback port nothing listens on (bound, then let go). */
async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

command('against nothing: exit 2 within 5 s, one line on stderr', async () => {
  const port = String(await freePort());
  const started = Date.now();
  const ran = await runCli(['health', 'status', '--metrics-port', port]);
  // A process start and a refused connect: loose enough for a busy machine, not for a hang.
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  assert.is(ran.code, 2);
  assert.is(ran.stdout, '');
  assert.match(
    ran.stderr,
    new RegExp(
      `^elb-proxy-echo: health: no answer from 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*\\n$`,
    ),
  );
});

command('a silent listener: exit 2 after the 1 s wait', async () => {
  const held: net.Socket[] = [];
  const silent = net.createServer((socket) => void held.push(socket)).listen(0, '127.0.0.1');
  await new Promise((r) => silent.once('listening', r));
  try {
    const port = String((silent.address() as net.AddressInfo).port);
    const started = Date.now();
    const ran = await runCli(['health', 'fail', '--metrics-port', port]);
    // The command's own wait is 1 s; the rest is Node starting, slow on a loaded machine.
    const took = Date.now() - started;
    assert.ok(took >= 1000 && took < 4000, `took ${took} ms`);
    assert.is(ran.code, 2);
    assert.match(ran.stderr, /no answer within 1 s/);
  } finally {
    for (const socket of held) socket.destroy();
    silent.close();
  }
});

command('usage: no action, an unknown one, two, or no metrics port: exit 2', async () => {
  const rows: Array<[args: string[], reason: RegExp]> = [
    [['health'], /health needs one of fail, ok or status\n$/],
    [['health', 'down', '--metrics-port', '9100'], /not "down"/],
    [['health', 'ok', 'fail', '--metrics-port', '9100'], /one action, not also "fail"/],
    [['health', 'status'], /health needs --metrics-port N/],
    [['health', 'status', '--metrics-port', 'x'], /--metrics-port: "x" is not a whole number/],
  ];
  for (const [args, reason] of rows) {
    const ran = await runCli(args, { ELB_PROXY_ECHO_METRICS_PORT: '' });
    assert.is(ran.code, 2, args.join(' '));
    assert.match(ran.stderr, reason);
  }
  const help = await runCli(['health', '--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /^Usage: elb-proxy-echo health fail\|ok\|status/);
  assert.match(help.stdout, /Exit status: 0 /);
});

command.run();
