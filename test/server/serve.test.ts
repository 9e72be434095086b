// `elb-proxy-echo serve` as a process: signals and drain, JSON logs, metrics, socket
// activation, workers, one server per port. Each case spawns the CLI on an ephemeral loopback
// port.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { METRICS_LIMITS } from '../../src/server/metrics/limits.ts';
import { holdersOf, listenersOn } from '../../src/server/process/port-holder.ts';
import { CLI, runCli, startCli } from '../helpers/cli.ts';
import { certificateDir, selfSignedFiles } from '../helpers/certificate.ts';
import { TestClient } from '../helpers/socket.ts';
import { tlsWithHeader } from '../wrap/helpers.ts';
import { eventually, v1 } from './harness.ts';

const LOOPBACK = ['--port', '0', '--host', '127.0.0.1'];

function exited(
  child: import('node:child_process').ChildProcess,
  timeoutMs = 10_000,
): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not exit')), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function metricsOf(output: () => string): Promise<string> {
  const port = /metrics at http:\/\/[^ ]*:(\d+)\/metrics/.exec(output())?.[1];
  assert.ok(port, `no metrics line in ${output()}`);
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.is(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The CLI under `prlimit --nofile=N:N` (Node raises its soft limit to the hard one: the server sees N). */
function underFileLimit(nofile: number, args: readonly string[]) {
  const child = spawn('prlimit', [`--nofile=${nofile}:${nofile}`, process.execPath, CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

const signals = suite('signals');

signals('SIGTERM drains: open connections finish, new ones are refused, then exit 0', async () => {
  const { child, match, output } = await startCli(
    [...LOOPBACK, '--drain-timeout', '5s'],
    /port (\d+)/,
  );
  try {
    const port = Number(match[1]);
    const client = await TestClient.connect(port);
    client.write(Buffer.concat([v1(), Buffer.from('before\n')]));
    await client.readBytes(7);
    child.kill('SIGTERM');
    await eventually(() => /SIGTERM: draining/.test(output()), 'the drain line');
    await TestClient.connect(port).then(
      () => assert.unreachable('accepted a connection while draining'),
      (error: NodeJS.ErrnoException) => assert.is(error.code, 'ECONNREFUSED'),
    );
    client.write('during\n');
    assert.is((await client.readBytes(14)).toString(), 'before\nduring\n');
    assert.is(child.exitCode, null);
    client.write('q\n');
    await client.waitClose();
    assert.is(await exited(child), 0);
    assert.match(output(), /info {2}stopped connections=1 lines=2\n$/);
  } finally {
    child.kill('SIGKILL');
  }
});

signals(
  'past --drain-timeout the rest is closed and the exit is still 0; SIGHUP is ignored',
  async () => {
    const { child, match, output } = await startCli(
      [...LOOPBACK, '--drain-timeout', '200ms'],
      /port (\d+)/,
    );
    try {
      const client = await TestClient.connect(Number(match[1]));
      client.write(Buffer.concat([v1(), Buffer.from('x\n')]));
      await client.readBytes(2);
      child.kill('SIGHUP');
      await eventually(() => /SIGHUP ignored/.test(output()), 'the SIGHUP line');
      client.write('y\n');
      await client.readBytes(4);
      child.kill('SIGINT');
      assert.match((await client.waitClose()).toString(), /shutting down/);
      assert.is(await exited(child), 0);
      assert.match(output(), /close client=54\.222\.152\.163:45418 .*reason=shutdown/);
    } finally {
      child.kill('SIGKILL');
    }
  },
);

signals(
  'SIGHUP with --tls-cert and --workers 2: each worker reloads; a TLS session open across it goes on',
  async () => {
    const dir = certificateDir();
    const first = selfSignedFiles(dir, 'first');
    const second = selfSignedFiles(dir, 'second');
    const cert = `${dir}/cert.pem`;
    const key = `${dir}/key.pem`;
    copyFileSync(first.cert, cert);
    copyFileSync(first.key, key);
    const { child, match, output } = await startCli(
      [...LOOPBACK, '--workers', '2', '--tls-cert', cert, '--tls-key', key],
      /listening on port (\d+)/,
      {},
      20_000,
    );
    try {
      const port = Number(match[1]);
      const before = await tlsWithHeader(port, v1());
      assert.is(before.getPeerCertificate().subject.CN, 'first');
      copyFileSync(second.cert, cert);
      copyFileSync(second.key, key);
      child.kill('SIGHUP');
      await eventually(
        () => output().split('TLS certificate reloaded').length - 1 === 2,
        'one reload line per worker',
        10_000,
      );
      const after = await tlsWithHeader(port, v1());
      assert.is(after.getPeerCertificate().subject.CN, 'second');
      before.write('across the reload\n');
      const echoed = await new Promise<string>((resolve) =>
        before.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))),
      );
      assert.is(echoed, 'across the reload\n');
      before.destroy();
      after.destroy();
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

signals.run();

const output = suite('output');

output(
  '--log-format json: every stdout line is one JSON object with time, level and msg',
  async () => {
    const { child, match, output } = await startCli(
      [...LOOPBACK, '--log-format', 'json'],
      /port (\d+)/,
    );
    try {
      const client = await TestClient.connect(Number(match[1]));
      client.write(Buffer.concat([v1(), Buffer.from('a "quoted" line\nq\n')]));
      await client.waitClose();
      await eventually(() => /"msg":"close"/.test(output()), 'the close line');
      const lines = output()
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      for (const line of lines)
        assert.ok(
          typeof line.time === 'string' &&
            typeof line.level === 'string' &&
            typeof line.msg === 'string',
          JSON.stringify(line),
        );
      assert.equal(
        lines.map((l) => l.msg),
        [
          'no --trust set: any address may send a PROXY header and claim to be any client; set --trust to the load balancer subnets',
          lines[1].msg,
          `listening on port ${match[1]}`,
          'open',
          'close',
        ],
      );
      assert.match(String(lines[1].msg), /^--max-connections auto: \d+ per process$/);
      assert.equal(lines[4], {
        ...lines[4],
        client: '54.222.152.163:45418',
        lines: 1,
        bytes: 16,
        reason: 'quit',
      });
    } finally {
      child.kill('SIGKILL');
    }
  },
);

output('a stdout nobody reads does not stop the echo; lost log lines are counted', async () => {
  const { child, match, output } = await startCli(
    [...LOOPBACK, '--log-level', 'debug', '--trust', '127.0.0.0/8'],
    /port (\d+)/,
  );
  try {
    const port = Number(match[1]);
    child.stdout!.pause(); // the pipe fills up (64 KiB) and stays full
    const chatty = await TestClient.connect(port);
    const lines = Buffer.alloc(16 * 1024, 'x\n'); // 8192 lines, each a debug log line of about 90 bytes
    chatty.write(v1());
    for (let i = 0; i < 100; i++) chatty.write(lines);
    await chatty.readBytes(100 * lines.length, 10_000);
    // The server still answers a new client at once although its log output is stuck.
    const other = await TestClient.connect(port);
    other.write(Buffer.concat([v1(), Buffer.from('still here\n')]));
    assert.is((await other.readBytes(11, 2000)).toString(), 'still here\n');
    chatty.destroy();
    other.destroy();
    child.stdout!.resume();
    await eventually(
      () => /log: \d+ lines dropped because the log output was not keeping up/.test(output()),
      'the dropped-lines line',
      10_000,
    );
  } finally {
    child.kill('SIGKILL');
  }
});

output(
  'out of descriptors: by default (auto) connections past the open-file limit are refused and logged, not dropped silently',
  async () => {
    const { child, stdout, stderr } = underFileLimit(64, [
      ...LOOPBACK,
      '--log-format',
      'json',
      '--trust',
      '127.0.0.0/8',
    ]);
    const clients: TestClient[] = [];
    try {
      await eventually(
        () => /listening on port \d+/.test(stdout()),
        `the listening line (${stdout()}${stderr()})`,
        10_000,
      );
      const out = stdout();
      const logs = () =>
        stdout()
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      const auto = logs().find((l) => String(l.msg).startsWith('--max-connections auto'));
      assert.ok(auto, `no line for the auto limit in ${out}`);
      const max = Number(/: (\d+) per process/.exec(String(auto.msg))![1]);
      assert.equal(
        [auto.level, auto.open_file_limit, max],
        ['info', 64, 64 - Number(auto.reserved)],
      );
      assert.ok(max >= 5 && max <= 40, `${max} connections allowed with 64 descriptors`);
      const port = Number(/listening on port (\d+)/.exec(out)![1]);
      for (let i = 0; i < max + 30; i++) clients.push(await TestClient.connect(port));
      await eventually(
        () => /refused connections/.test(stdout()),
        `the refusal line (${stdout().slice(-500)})`,
        3000,
      );
      const refusal = logs().find(
        (l) => l.msg === 'refused connections: --max-connections reached',
      )!;
      assert.equal([refusal.level, refusal.limit, refusal.count], ['warn', max, 30]);
      // The ones it holds still echo.
      clients[0].write(Buffer.concat([v1(), Buffer.from('still served\n')]));
      assert.is((await clients[0].readBytes(13)).toString(), 'still served\n');
    } finally {
      for (const client of clients) client.destroy();
      child.kill('SIGKILL');
    }
  },
);

output(
  'an open-file limit that leaves nothing for connections exits 2 at start with one line',
  async () => {
    const { child, stdout, stderr } = underFileLimit(30, LOOPBACK);
    try {
      assert.is(await exited(child), 2);
      assert.is(stdout(), '');
      assert.match(
        stderr(),
        /^elb-proxy-echo: the open-file limit \(30\) leaves no descriptor for connections \(the server keeps \d+ for itself\); raise it \(LimitNOFILE=\)\n$/,
      );
    } finally {
      child.kill('SIGKILL');
    }
  },
);

output('a given --max-connections is used as is, with no line about it', async () => {
  const { child, output } = await startCli(
    [...LOOPBACK, '--max-connections', '7'],
    /listening on port \d+/,
  );
  child.kill('SIGKILL');
  assert.not.match(output(), /max-connections/);
});

output('--log-level error still says the port at start-up', async () => {
  const { child, match } = await startCli(
    [...LOOPBACK, '--log-level', 'error'],
    /listening on port (\d+)/,
  );
  child.kill('SIGKILL');
  assert.ok(Number(match[1]) > 0);
});

/** The accept queue length of the TCP socket listening on `port`, as `ss` reports it (Send-Q). */
function listenBacklog(port: number): number {
  const line = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).trim();
  return Number(line.split(/\s+/)[2]);
}

output('--backlog sets the listen queue (default 4096, what the socket unit uses)', async () => {
  for (const [args, expected] of [
    [[], 4096],
    [['--backlog', '100'], 100],
  ] as const) {
    const { child, match } = await startCli([...LOOPBACK, ...args], /port (\d+)/);
    try {
      assert.is(
        listenBacklog(Number(match[1])),
        Math.min(expected, Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'))),
      );
    } finally {
      child.kill('SIGKILL');
    }
  }
});

output('--trust set: no warning at start-up', async () => {
  const { child, output } = await startCli(
    [...LOOPBACK, '--trust', '10.0.0.0/8,2001:db8::/32'],
    /port (\d+)/,
  );
  child.kill('SIGKILL');
  assert.not.match(output(), /warn/);
});

output(
  '--metrics-port: /healthz answers ok and /metrics counts connections, headers, rejects, lines',
  async () => {
    const { child, match, output } = await startCli(
      [...LOOPBACK, '--metrics-port', '0'],
      /metrics at \S+/,
    );
    try {
      const port = Number(/port (\d+)/.exec(output())![1]);
      const good = await TestClient.connect(port);
      good.write(Buffer.concat([v1(), Buffer.from('one\ntwo\nq\n')]));
      await good.waitClose();
      const bad = await TestClient.connect(port);
      bad.write('GET / HTTP/1.0\r\n\r\n');
      await bad.waitClose();
      const health = await fetch(
        match[0]
          .replace('metrics at ', '')
          .replace('/metrics', '/healthz')
          .replace('[::]', '127.0.0.1'),
      );
      assert.is(await health.text(), 'ok\n');
      const text = await metricsOf(output);
      for (const row of [
        'elb_proxy_echo_connections_total 2',
        'elb_proxy_echo_headers_total{version="v1"} 1',
        'elb_proxy_echo_rejects_total{reason="bad-header",code="not-proxy"} 1',
        'elb_proxy_echo_lines_echoed_total 2',
        'elb_proxy_echo_bytes_echoed_total 8',
        'elb_proxy_echo_workers 1',
      ]) {
        assert.ok(text.split('\n').includes(row), `missing "${row}" in\n${text}`);
      }
      assert.match(text, /^elb_proxy_echo_event_loop_delay_seconds\{quantile="0\.99"\} [\d.e-]+$/m);
    } finally {
      child.kill('SIGKILL');
    }
  },
);

output(
  '--metrics-host: the metrics port listens on loopback unless told, whatever --host is',
  async () => {
    const { child, match } = await startCli(
      ['--port', '0', '--host', '::1', '--metrics-port', '0'],
      /metrics at http:\/\/(\S+):(\d+)\/metrics/,
    );
    try {
      assert.is(match[1], '127.0.0.1');
      const port = Number(match[2]);
      await TestClient.connect(port, '::1').then(
        () => assert.unreachable('the metrics port answered on ::1'),
        (error: NodeJS.ErrnoException) => assert.is(error.code, 'ECONNREFUSED'),
      );
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.is(await response.text(), 'ok\n');
    } finally {
      child.kill('SIGKILL');
    }
  },
);

output(
  '--metrics-port: clients that pipeline scrapes, never read, then go, free their slots at once',
  async () => {
    const { child, match } = await startCli(
      [...LOOPBACK, '--metrics-port', '0'],
      /metrics at http:\/\/\S+:(\d+)\/metrics/,
    );
    try {
      const port = Number(match[1]);
      const clients = await Promise.all(
        Array.from({ length: METRICS_LIMITS.connections }, () => TestClient.connect(port)),
      );
      for (const c of clients) {
        c.socket.pause();
        c.write('GET /metrics HTTP/1.1\r\n\r\n'.repeat(5000));
      }
      const connected = Date.now();
      await new Promise((r) => setTimeout(r, 1000));
      for (const c of clients) c.destroy();
      // Well before the 5 s lifetime the cap has room again (a full cap drops the scrape).
      let answer = '';
      while (answer === '' && Date.now() - connected < 3000) {
        await new Promise((r) => setTimeout(r, 100));
        answer = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.text(),
          () => '',
        );
      }
      assert.is(answer, 'ok\n');
    } finally {
      child.kill('SIGKILL');
    }
  },
);

output(
  '--metrics-port under 256 descriptors: 240 silent metrics connections leave every echo slot usable',
  async () => {
    const { child, stdout, stderr } = underFileLimit(256, [
      ...LOOPBACK,
      '--proxy-protocol',
      'off',
      '--metrics-port',
      '0',
    ]);
    const clients: TestClient[] = [];
    try {
      await eventually(
        () => /metrics at/.test(stdout()),
        `metrics (${stdout()}${stderr()})`,
        10_000,
      );
      const max = Number(/--max-connections auto: (\d+) per process/.exec(stdout())![1]);
      const port = Number(/listening on port (\d+)/.exec(stdout())![1]);
      const metricsPort = Number(/metrics at http:\/\/\S+:(\d+)\//.exec(stdout())![1]);
      const silent: TestClient[] = [];
      for (let i = 0; i < 240; i++) silent.push(await TestClient.connect(metricsPort));
      await eventually(
        () => silent.filter((c) => !c.closed).length <= METRICS_LIMITS.connections,
        'all but the capped few closed',
        1000,
      );
      // Every connection --max-connections allows still gets its echo.
      for (let i = 0; i < max; i++) clients.push(await TestClient.connect(port));
      clients.forEach((c, i) => c.write(`e${i}\n`));
      await Promise.all(clients.map((c, i) => c.readBytes(`e${i}\n`.length, 5000)));
      assert.not.match(stdout(), /accept failed/);
      const since = Date.now();
      await Promise.all(silent.map((c) => c.waitClose(METRICS_LIMITS.lifetimeMs + 2000)));
      assert.ok(Date.now() - since <= METRICS_LIMITS.lifetimeMs + 2000);
    } finally {
      for (const c of clients) c.destroy();
      child.kill('SIGKILL');
    }
  },
);

output(
  '--engine or ELB_PROXY_ECHO_ENGINE picks the engine (auto: uv here); the start-up line names it',
  async () => {
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['--engine', 'net'], {}, 'net'],
      [[], { ELB_PROXY_ECHO_ENGINE: 'uv' }, 'uv'],
      [[], { ELB_PROXY_ECHO_ENGINE: 'auto' }, 'uv'],
    ];
    for (const [args, env, engine] of cases) {
      const { child, match } = await startCli(
        [...LOOPBACK, ...args],
        /listening on port (\d+) .*engine=(\w+)/,
        env,
      );
      try {
        assert.is(match[2], engine, `${args.join(' ')} ${JSON.stringify(env)}`);
        const client = await TestClient.connect(Number(match[1]));
        client.write(Buffer.concat([v1(), Buffer.from('engine\nq\n')]));
        assert.is((await client.waitClose()).toString(), 'engine\n');
      } finally {
        child.kill('SIGKILL');
      }
    }
    const bad = await runCli([...LOOPBACK, '--engine', 'epoll']);
    assert.is(bad.code, 2);
    assert.match(bad.stderr, /--engine/);
  },
);

output('--greeting (or its variable) greets; --http off echoes a request line', async () => {
  for (const [args, env] of [
    [['--greeting'], {}],
    [[], { ELB_PROXY_ECHO_GREETING: '1' }],
  ] as const) {
    const { child, match } = await startCli([...LOOPBACK, ...args], /port (\d+)/, env);
    try {
      const client = await TestClient.connect(Number(match[1]));
      client.write(Buffer.concat([v1(), Buffer.from('hi\n')]));
      assert.match(
        await client.readUntil(/hi\n$/),
        /^elb-proxy-echo on .+: you are 54\.222\.152\.163:45418 \(PROXY v1 from .+\r\nhi\n$/,
      );
      client.destroy();
    } finally {
      child.kill('SIGKILL');
    }
  }
  const { child, match } = await startCli([...LOOPBACK, '--http', 'off'], /port (\d+)/, {
    ELB_PROXY_ECHO_HTTP: 'auto', // the flag wins
  });
  try {
    const client = await TestClient.connect(Number(match[1]));
    client.write(Buffer.concat([v1(), Buffer.from('GET / HTTP/1.1\r\n')]));
    assert.is((await client.readBytes(16)).toString(), 'GET / HTTP/1.1\r\n');
    client.destroy();
  } finally {
    child.kill('SIGKILL');
  }
});

output.run();

const processes = suite('processes');

for (const workers of ['1', '2']) {
  processes(
    `socket activation (--workers ${workers}): with LISTEN_PID/LISTEN_FDS it serves the inherited fd 3`,
    async () => {
      const listener = net.createServer();
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      const port = (listener.address() as net.AddressInfo).port;
      const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
      // `exec` keeps the shell's pid, so LISTEN_PID=$$ names the server process, as systemd does.
      const child = spawn(
        'sh',
        [
          '-c',
          'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"',
          'sh',
          process.execPath,
          CLI,
          '--port',
          '1',
          '--workers',
          workers,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe', fd],
        },
      );
      listener.close(); // the child holds its own copy of the socket now
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
      child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
      try {
        await eventually(() => /listening/.test(out), `the listening line (${out})`, 10_000);
        assert.match(
          out,
          new RegExp(
            `listening on port ${port} address="inherited fd 3 \\(socket activation\\)" proxy_protocol=require workers=${workers}`,
          ),
        );
        for (let i = 0; i < 4; i++) {
          const client = await TestClient.connect(port);
          client.write(Buffer.concat([v1(), Buffer.from(`activated ${i}\n`)]));
          assert.is((await client.readBytes(12)).toString(), `activated ${i}\n`);
          client.destroy();
        }
        child.kill('SIGTERM');
        assert.is(await exited(child), 0);
      } finally {
        child.kill('SIGKILL');
      }
    },
  );
}

processes(
  'socket activation: LISTEN_FDS=2 is refused at start with one line and exit 2',
  async () => {
    const listeners = [net.createServer(), net.createServer()];
    for (const l of listeners) await new Promise<void>((r) => l.listen(0, '127.0.0.1', r));
    const fds = listeners.map((l) => (l as unknown as { _handle: { fd: number } })._handle.fd);
    const child = spawn(
      'sh',
      ['-c', 'LISTEN_PID=$$ LISTEN_FDS=2 exec "$@"', 'sh', process.execPath, CLI, '--port', '1'],
      { stdio: ['ignore', 'pipe', 'pipe', ...fds] },
    );
    for (const l of listeners) l.close();
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    try {
      assert.is(await exited(child), 2);
      assert.is(stdout, '');
      assert.match(
        stderr,
        /^elb-proxy-echo: systemd passed 2 listening sockets \(LISTEN_FDS=2\)[^\n]*\n$/,
      );
    } finally {
      child.kill('SIGKILL');
    }
  },
);

processes(
  '--workers 2: both workers serve, metrics add up, SIGTERM stops them all with exit 0',
  async () => {
    const { child, output } = await startCli(
      [...LOOPBACK, '--workers', '2', '--metrics-port', '0'],
      /metrics at \S+/,
    );
    try {
      const port = Number(/port (\d+)/.exec(output())![1]);
      assert.match(output(), /workers=2/);
      const clients = await Promise.all(Array.from({ length: 20 }, () => TestClient.connect(port)));
      clients.forEach((c, i) =>
        c.write(Buffer.concat([v1('192.0.2.9', i + 1), Buffer.from(`w${i}\nq\n`)])),
      );
      await Promise.all(clients.map((c) => c.waitClose()));
      clients.forEach((c, i) => assert.is(c.received.toString(), `w${i}\n`));
      const text = await metricsOf(output);
      assert.ok(text.includes('elb_proxy_echo_connections_total 20\n'), text);
      assert.ok(text.includes('elb_proxy_echo_workers 2\n'), text);
      child.kill('SIGTERM');
      assert.is(await exited(child), 0);
      assert.match(output(), /stopped\n$/);
    } finally {
      child.kill('SIGKILL');
    }
  },
);

/** Is this process gone (no such pid, or a zombie nobody reaps)? */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return true;
  }
}

processes(
  '--workers 2: a SIGKILLed primary takes its workers with it within a second, and their connections',
  async () => {
    const { child, output } = await startCli([...LOOPBACK, '--workers', '2'], /listening on/);
    try {
      const port = Number(/port (\d+)/.exec(output())![1]);
      const client = await TestClient.connect(port);
      client.write(Buffer.concat([v1(), Buffer.from('held\n')]));
      await client.readBytes(5);
      const pid = child.pid!;
      const workers = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
        .trim()
        .split(' ')
        .map(Number);
      assert.is(workers.length, 2);
      child.kill('SIGKILL');
      const killedAt = Date.now();
      await eventually(() => workers.every(gone), 'both workers gone', 1000);
      assert.ok(Date.now() - killedAt < 1000);
      await client.waitClose();
    } finally {
      child.kill('SIGKILL');
    }
  },
);

processes(
  '--workers 2: a worker that fails before it listens exits, and so does the primary, with status 1 and a one-line reason',
  async () => {
    // Fault injection: in cluster workers only, making a server throws (a bug, or a resource
    // running out, before the worker listens).
    const failure =
      "import net from 'node:net'; import cluster from 'node:cluster'; if (cluster.isWorker) net.createServer = () => { throw new Error('injected failure'); };";
    const { code, stdout, stderr } = await runCli(
      [...LOOPBACK, '--workers', '2', '--trust', '10.0.0.0/8'],
      { NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(failure)}` },
      8000,
    );
    assert.is(code, 1, `exit status ${code} (null: still running when killed)\n${stderr}`);
    assert.is(stdout, '');
    assert.match(stderr, /\nelb-proxy-echo: no worker could listen: Error: injected failure\n$/);
  },
);

processes(
  'a bug at start-up after the port is bound exits 1 with the trace, not serving on half started',
  async () => {
    // Fault injection: the event-loop monitor, started once the echo port listens, throws.
    const failure =
      "import perf from 'node:perf_hooks'; import { syncBuiltinESMExports } from 'node:module'; perf.monitorEventLoopDelay = () => { throw new Error('injected failure'); }; syncBuiltinESMExports();";
    const { code, stderr } = await runCli(
      [...LOOPBACK, '--trust', '10.0.0.0/8'],
      { NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(failure)}` },
      8000,
    );
    assert.is(code, 1, `exit status ${code} (null: still running when killed)\n${stderr}`);
    assert.match(stderr, /^elb-proxy-echo: Error: injected failure\n\s+at /);
  },
);

/** This test process's command line, as a start-up line names the holder of a port. */
const OWN_COMMAND = readFileSync('/proc/self/cmdline', 'utf8').replaceAll('\0', ' ').trim();

for (const workers of ['1', '2']) {
  processes(
    `a port already in use exits 2 with a one-line reason (--workers ${workers})`,
    async () => {
      const busy = net.createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      try {
        const port = (busy.address() as net.AddressInfo).port;
        const { code, stdout, stderr } = await runCli([
          '--port',
          String(port),
          '--host',
          '127.0.0.1',
          '--workers',
          workers,
          '--trust',
          '10.0.0.0/8',
        ]);
        assert.is(code, 2);
        assert.is(stdout, '');
        assert.is(
          stderr,
          `elb-proxy-echo: cannot listen on 127.0.0.1:${port}: port ${port} is already in use by pid ${process.pid} (${OWN_COMMAND}); stop it or pick another --port\n`,
        );
      } finally {
        busy.close();
      }
    },
  );
}

for (const workers of ['1', '2']) {
  processes(
    `a --metrics-port already in use exits 2 with a one-line reason, not serving on without it (--workers ${workers})`,
    async () => {
      const busy = net.createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      try {
        const port = (busy.address() as net.AddressInfo).port;
        // The echo port is bound before the metrics port is tried: the process must not stay up.
        const { code, stderr } = await runCli(
          [
            ...LOOPBACK,
            '--workers',
            workers,
            '--metrics-port',
            String(port),
            '--trust',
            '10.0.0.0/8',
          ],
          {},
          8000,
        );
        assert.is(code, 2, `exit status ${code} (null: still running when killed)\n${stderr}`);
        assert.is(
          stderr,
          `elb-proxy-echo: cannot serve metrics on 127.0.0.1:${port}: port ${port} is already in use by pid ${process.pid} (${OWN_COMMAND}); stop it or pick another --metrics-port\n`,
        );
      } finally {
        busy.close();
      }
    },
  );
}

processes(
  'a privileged port without the right to it exits 2 saying what to do instead',
  async () => {
    // As root, the server runs as nobody (a port below 1024 needs root or CAP_NET_BIND_SERVICE).
    const lowest = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    assert.ok(lowest > 80, `port 80 is not privileged here (ip_unprivileged_port_start=${lowest})`);
    const nobody =
      process.getuid?.() === 0
        ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath]
        : [process.execPath];
    const child = spawn(
      nobody[0],
      [...nobody.slice(1), CLI, '--port', '80', '--trust', '10.0.0.0/8'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    try {
      assert.is(await exited(child), 2);
      assert.is(
        stderr,
        `elb-proxy-echo: cannot listen on [::]:80: permission denied: ports below ${lowest} need root or CAP_NET_BIND_SERVICE; pick --port ${lowest} or above, or let systemd listen on it (install --socket, docs/systemd.md)\n`,
      );
    } finally {
      child.kill('SIGKILL');
    }
  },
);

processes.run();

const owner = suite('one owner per port');

/** Where a client reaches a server listening on `host`. */
const clientHost = (host: string) => (host === '::1' ? '::1' : '127.0.0.1');

/** The pids serving for `child`: itself, or with --workers its workers. */
function servingPids(child: ChildProcess, workers: boolean): number[] {
  const pid = child.pid!;
  if (!workers) return [pid];
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(' ')
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * `count` clients, each with its own PROXY source port, send a line and quit; resolves with how
 * many of them `output` (a server's log) shows as opened.
 */
async function reached(port: number, host: string, output: () => string, count = 20) {
  const clients = await Promise.all(
    Array.from({ length: count }, () => TestClient.connect(port, host)),
  );
  clients.forEach((c, i) =>
    c.write(Buffer.concat([v1('192.0.2.9', 1000 + i), Buffer.from('x\nq\n')])),
  );
  await Promise.all(clients.map((c) => c.waitClose()));
  const opened = () =>
    clients.filter((_, i) => output().includes(`open client=192.0.2.9:${1000 + i} `)).length;
  await eventually(() => opened() === count, 'every open line', 2000).catch(() => {});
  return opened();
}

// Two servers, whatever their options and engines, on addresses that overlap.
const OVERLAPPING: Array<{ first: string[]; second: string[] }> = [
  { first: ['--host', '127.0.0.1'], second: ['--host', '::', '--greeting', '--engine', 'net'] },
  {
    first: ['--host', '::', '--engine', 'net', '--proxy-protocol', 'optional'],
    second: ['--host', '127.0.0.1', '--trust', '127.0.0.0/8', '--engine', 'uv'],
  },
  {
    first: ['--host', '0.0.0.0', '--workers', '2'],
    second: ['--host', '127.0.0.1', '--transform', 'upper'],
  },
  {
    first: ['--host', '127.0.0.1'],
    second: ['--host', '127.0.0.1', '--workers', '2', '--engine', 'net'],
  },
  {
    first: ['--host', '::1', '--workers', '2', '--engine', 'net'],
    second: ['--host', '::', '--workers', '2'],
  },
];

for (const { first, second } of OVERLAPPING) {
  owner(
    `a second server exits 2 within 5 s naming the first, which keeps every connection (${first.join(' ')} | ${second.join(' ')})`,
    async () => {
      const host = first[1];
      const workers = first.includes('--workers');
      const one = await startCli(['--port', '0', ...first], /listening on port (\d+)/);
      let two: ChildProcess | null = null;
      try {
        const port = Number(one.match[1]);
        two = spawn(process.execPath, [CLI, '--port', String(port), ...second], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        two.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
        const started = Date.now();
        const code = await exited(two, 10_000).catch(() => null);
        const took = Date.now() - started;
        const count = await reached(port, clientHost(host), one.output);
        assert.is(count, 20, `only ${count} of 20 connections reached the first server`);
        assert.is(code, 2, `the second server did not exit 2 (${code})\n${stderr}`);
        const line = new RegExp(
          `^elb-proxy-echo: cannot listen on \\S+:${port}: port ${port} is already in use by pids? ([\\d, ]+) \\(([^\\n]*)\\); stop it or pick another --port\\n$`,
        ).exec(stderr);
        assert.ok(line, stderr);
        assert.equal(line![1].split(', ').map(Number), servingPids(one.child, workers));
        assert.match(line![2], `${CLI} ${workers ? 'serve ' : ''}--port 0 `);
        // Its whole life: a process start, the probe, the line. Loose enough for a busy machine.
        assert.ok(took < 5000, `the second server took ${took} ms to exit, more than 5 s`);
      } finally {
        two?.kill('SIGKILL');
        one.child.kill('SIGKILL');
      }
    },
  );
}

owner('servers on addresses that do not overlap share a port number', async () => {
  const one = await startCli(['--port', '0', '--host', '127.0.0.1'], /listening on port (\d+)/);
  const others: ChildProcess[] = [];
  try {
    const port = one.match[1];
    for (const host of ['::1', '127.0.0.2']) {
      const other = await startCli(['--port', port, '--host', host], /listening on port (\d+)/);
      others.push(other.child);
      assert.is(await reached(Number(port), host, other.output, 2), 2, host);
    }
    assert.is(await reached(Number(port), '127.0.0.1', one.output, 2), 2);
  } finally {
    for (const child of [one.child, ...others]) child.kill('SIGKILL');
  }
});

owner('--workers 2: a worker that dies is replaced, and the new one joins the port', async () => {
  const one = await startCli(
    ['--port', '0', '--host', '127.0.0.1', '--workers', '2'],
    /listening on port (\d+)/,
  );
  try {
    const port = Number(one.match[1]);
    const [dead, alive] = servingPids(one.child, true);
    process.kill(dead, 'SIGKILL');
    const holders = () => holdersOf(new Set(listenersOn('127.0.0.1', port).map((l) => l.inode)));
    await eventually(
      () => holders().length === 2 && !holders().some((h) => h.pid === dead),
      'a new worker holding the port',
      10_000,
    );
    assert.ok(holders().some((h) => h.pid === alive));
    assert.not.match(one.output(), /already in use/);
    assert.is(await reached(port, '127.0.0.1', one.output), 20);
  } finally {
    one.child.kill('SIGKILL');
  }
});

owner.run();
