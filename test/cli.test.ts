import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pkg from '../package.json' with { type: 'json' };
import { runCli, startCli } from './helpers/cli.ts';
import { classicElbSession, TestClient } from './helpers/socket.ts';

test('--version prints the package version, Node version and architecture', async () => {
  const { code, stdout } = await runCli(['--version']);
  assert.is(code, 0);
  assert.is(
    stdout,
    `elb-proxy-echo ${pkg.version} (node ${process.version}, linux-${process.arch})\n`,
  );
});

test('--help lists the port flag with its variable and default', async () => {
  const { code, stdout } = await runCli(['--help']);
  assert.is(code, 0);
  assert.match(stdout, /Usage: elb-proxy-echo/);
  assert.match(stdout, /--port N .*ELB_PROXY_ECHO_PORT.*default 5000/);
});

test("--help among options is the overview; after a command, that command's own help", async () => {
  for (const [args, usage] of [
    [['--help'], /^Usage: elb-proxy-echo \[COMMAND\] \[options\]\n/],
    [['help'], /^Usage: elb-proxy-echo \[COMMAND\] \[options\]\n/],
    [['--port', '0', '-h'], /^Usage: elb-proxy-echo \[COMMAND\] \[options\]\n/],
    [['serve', '--help'], /^Usage: elb-proxy-echo \[serve\] \[options\]\n/],
    [['install', '--help'], /^Usage: elb-proxy-echo install \[options\] /],
    [['install', '--port', '80', '-h'], /^Usage: elb-proxy-echo install \[options\] /],
    [['uninstall', '--help'], /^Usage: elb-proxy-echo uninstall /],
    [['bench', '--help'], /^Usage: elb-proxy-echo bench \[options\]\n/],
    [['bench', 'merge', '--help'], /^Usage: elb-proxy-echo bench merge FILE/],
  ] as const) {
    const { code, stdout, stderr } = await runCli(args);
    assert.is(code, 0, `${args.join(' ')}: ${stderr}`);
    assert.is(stderr, '', args.join(' '));
    assert.match(stdout, usage, args.join(' '));
  }
});

test('install --help lists its own --socket and sends to serve --help for the rest', async () => {
  const { stdout } = await runCli(['install', '--help']);
  assert.match(stdout, /--socket .*\n.*\[default off\]/);
  assert.match(stdout, /every option of serve \(elb-proxy-echo serve --help\)/);
  assert.not.match(stdout, /--idle-timeout/);
  assert.match(stdout, /Exit status: 0 installed/);
});

test('serve --help: every option shows its default, TIME is explained once, and the exit statuses', async () => {
  const { stdout } = await runCli(['serve', '--help']);
  const rows = stdout.split(/\n(?= {2}(?:-\w, |\s{4})--)/).slice(1);
  assert.ok(rows.length >= 19, `${rows.length} options`);
  for (const row of rows) assert.match(row, /\[env ELB_PROXY_ECHO_\w+, default [^\]]+\]/, row);
  assert.match(stdout, /--greeting [^[]*\[env ELB_PROXY_ECHO_GREETING, default off\]/);
  assert.is(stdout.match(/^TIME is /gm)?.length, 1);
  assert.match(
    stdout,
    /TIME is a number of seconds \(5\) or a number with its unit: 500ms, 5s, 2m, 1h\./,
  );
  assert.match(stdout, /\nExit status:\n {2}0 {2}.*\n {2}1 {2}.*\n {2}2 {2}a bad setting/);
});

test('a TIME in hours is taken', async () => {
  const { child } = await startCli(
    ['--port', '0', '--host', '127.0.0.1', '--idle-timeout', '1h', '--drain-timeout', '0.01h'],
    /listening on port \d+/,
  );
  child.kill('SIGKILL');
});

test('every --help fits in 100 columns, with no [env …, default …] broken across lines', async () => {
  for (const args of [
    ['--help'],
    ['serve', '--help'],
    ['install', '--help'],
    ['uninstall', '--help'],
    ['bench', '--help'],
    ['bench', 'merge', '--help'],
  ]) {
    const { code, stdout } = await runCli(args);
    assert.is(code, 0, args.join(' '));
    assert.match(stdout, /^Usage: elb-proxy-echo /, args.join(' '));
    for (const line of stdout.split('\n')) {
      assert.ok(line.length <= 100, `${args.join(' ')}: ${line.length} columns: ${line}`);
      assert.is(line.split('[').length, line.split(']').length, `${args.join(' ')}: ${line}`);
    }
  }
});

test('an unknown flag exits 2 with a one-line reason: the close match, or where the help is', async () => {
  for (const [args, line] of [
    [['--frobnicate'], 'unknown option --frobnicate (see elb-proxy-echo --help)'],
    [['--greetin'], 'unknown option --greetin; did you mean --greeting?'],
    [
      ['serve', '--idle-timout', '5s'],
      'unknown option --idle-timout; did you mean --idle-timeout?',
    ],
    [['bench', '--bogus'], 'unknown option --bogus (see elb-proxy-echo bench --help)'],
    [['install', '--sockets'], 'unknown option --sockets; did you mean --socket?'],
  ] as const) {
    const { code, stdout, stderr } = await runCli(args);
    assert.is(code, 2, args.join(' '));
    assert.is(stdout, '');
    assert.is(stderr, `elb-proxy-echo: ${line}\n`);
  }
});

test('an unknown ELB_PROXY_ECHO_ variable is warned about with the closest name; on/off switches', async () => {
  const { child, output } = await startCli(
    ['--port', '0', '--host', '127.0.0.1'],
    /listening on port \d+/,
    { ELB_PROXY_ECHO_GREETNG: '1', ELB_PROXY_ECHO_HTTP: 'off', ELB_PROXY_ECHO_GREETING: 'off' },
  );
  child.kill('SIGKILL');
  assert.match(
    output(),
    /warn {2}unknown variable ELB_PROXY_ECHO_GREETNG ignored; did you mean ELB_PROXY_ECHO_GREETING\?\n/,
  );
  const on = await runCli(['--port', '0', '--help'], { ELB_PROXY_ECHO_GREETING: 'on' });
  assert.is(on.code, 0, on.stderr);
});

test('a bad port exits 2 before listening', async () => {
  const { code, stderr } = await runCli(['--port', '65536']);
  assert.is(code, 2);
  assert.is(stderr.trim().split('\n').length, 1);
  assert.match(stderr, /--port: 65536 is outside 0\.\.65535/);
});

test('an unknown command exits 2', async () => {
  const { code, stderr } = await runCli(['frob']);
  assert.is(code, 2);
  assert.is(stderr, 'elb-proxy-echo: unknown command "frob" (see elb-proxy-echo --help)\n');
  const near = await runCli(['instal']);
  assert.is(near.code, 2);
  assert.is(near.stderr, 'elb-proxy-echo: unknown command "instal"; did you mean install?\n');
});

test('serve --port 0 listens and echoes over a real socket after a PROXY header', async () => {
  const { child, match } = await startCli(['serve', '--port', '0'], /port (\d+)/);
  try {
    await classicElbSession(Number(match[1]));
  } finally {
    child.kill('SIGKILL');
  }
});

test('serve listens on IPv6 and IPv4 by default (::, dual-stack)', async () => {
  const { child, match } = await startCli(
    ['--port', '0', '--trust', '127.0.0.0/8,::1'],
    /port (\d+)/,
  );
  try {
    for (const host of ['127.0.0.1', '::1']) {
      const client = await TestClient.connect(Number(match[1]), host);
      client.write(`PROXY TCP6 2001:db8::1 2001:db8::2 443 5000\r\nvia ${host}\n`);
      assert.is((await client.readBytes(5 + host.length)).toString(), `via ${host}\n`);
      client.destroy();
    }
  } finally {
    child.kill('SIGKILL');
  }
});

test('bad serve values exit 2 naming the flag or variable', async () => {
  for (const [args, env, reason] of [
    [
      ['--proxy-protocol', 'maybe'],
      {},
      /--proxy-protocol: "maybe" is not one of require, optional, off/,
    ],
    [
      ['--trust', '10.0.0.0/40'],
      {},
      /--trust: "10\.0\.0\.0\/40": the prefix length must be 0\.\.32/,
    ],
    [['--idle-timeout', 'soon'], {}, /--idle-timeout: "soon" is not a duration/],
    [['--header-timeout', '0s'], {}, /--header-timeout: 0s is zero/],
    [['--metrics-port', '5000'], {}, /--metrics-port 5000 is the echo port too/],
    [[], { ELB_PROXY_ECHO_MAX_LINE: '2x' }, /ELB_PROXY_ECHO_MAX_LINE: "2x" is not a size/],
    [['--workers', '0'], {}, /--workers: 0 is outside 1\.\.64/],
  ] as const) {
    const { code, stderr } = await runCli([...args], { ...env });
    assert.is(code, 2, stderr);
    assert.is(stderr.split('\n').length, 2, stderr);
    assert.match(stderr, reason);
  }
});

// Reports, on stderr, each benchmark, installer or node:http module the CLI loads.
const LOADS =
  "import { registerHooks } from 'node:module'; registerHooks({ load(url, context, next) { if (/\\/src\\/(bench|install)\\/|^node:http$/.test(url)) process.stderr.write('loaded ' + url + '\\n'); return next(url, context); } });";
const WATCH_LOADS = { NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(LOADS)}` };

test('serve loads neither the benchmark, the installer nor node:http (no --metrics-port): only what it runs', async () => {
  const { child, output } = await startCli(
    ['serve', '--port', '0', '--host', '127.0.0.1'],
    /listening on port \d+/,
    WATCH_LOADS,
  );
  child.kill('SIGKILL');
  assert.not.match(output(), /loaded/);
  // The watch works: install --help lists the install options, so it loads that module.
  const help = await runCli(['install', '--help'], WATCH_LOADS);
  assert.match(help.stderr, /loaded file:.*\/src\/install\/command\.ts/);
  assert.not.match(help.stderr, /src\/bench\//);
});

test.run();
