// The install/uninstall subcommands as a user runs them: options checked first, then root and
// the built executable; from src/ nothing is touched.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { givenAsVariables, requireBindablePort, socketListen } from '../../src/install/command.ts';
import { socketDropInText } from '../../src/install/install.ts';
import { UsageError } from '../../src/options.ts';
import { serveOptions } from '../../src/serve-options.ts';
import { runCli } from '../helpers/cli.ts';

test('only the serve options given become variables, with the text as typed', () => {
  assert.equal(
    [...givenAsVariables(serveOptions, ['--port', '5001', '--socket'])],
    [['ELB_PROXY_ECHO_PORT', '5001']],
  );
  assert.equal(
    [...givenAsVariables(serveOptions, ['--port=0080'])],
    [['ELB_PROXY_ECHO_PORT', '0080']],
  );
  assert.equal([...givenAsVariables(serveOptions, [])], []);
  // A switch becomes a variable that serve reads as on.
  assert.equal(
    [...givenAsVariables(serveOptions, ['--greeting', '--http', 'off'])],
    [
      ['ELB_PROXY_ECHO_GREETING', 'true'],
      ['ELB_PROXY_ECHO_HTTP', 'off'],
    ],
  );
});

test('install with a bad option exits 2 with a one-line reason', async () => {
  const r = await runCli(['install', '--port', '70000']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^elb-proxy-echo: --port: 70000 is outside 0\.\.65535\n$/);
});

test('install runs the cross-checks of serve first: --metrics-port equal to --port exits 2', async () => {
  const r = await runCli(['install', '--port', '5000', '--metrics-port', '5000']);
  assert.is(r.code, 2);
  assert.match(
    r.stderr,
    /^elb-proxy-echo: --metrics-port 5000 is the echo port too; pick another\n$/,
  );
});

test('--socket listens where --host says (IPv6 in brackets), with --backlog', () => {
  const dropIn = (host: string) => socketDropInText(socketListen(host, 80, 511));
  assert.match(
    dropIn('127.0.0.1'),
    /^ListenStream=\nListenStream=127\.0\.0\.1:80\nBacklog=511\n$/m,
  );
  assert.match(dropIn('::'), /^ListenStream=80$/m, 'every address, as systemd spells it');
  assert.match(dropIn('::1'), /^ListenStream=\[::1\]:80$/m);
  assert.match(dropIn('2001:db8::7'), /^ListenStream=\[2001:db8::7\]:80$/m);
});

test('--socket refuses what systemd cannot listen on: a name, a zone id, port 0', async () => {
  const usage = (pattern: RegExp) => (error: unknown) =>
    error instanceof UsageError && pattern.test(error.message);
  assert.throws(() => socketListen('localhost', 80, 1), usage(/--host to be an IP address/));
  assert.throws(() => socketListen('fe80::1%eth0', 80, 1), usage(/without a zone/));
  assert.throws(() => socketListen('::', 0, 1), usage(/--port other than 0/));
  const r = await runCli(['install', '--socket', '--host', 'localhost', '--port', '80']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^elb-proxy-echo: --socket needs --host to be an IP address/);
});

test('a port the unprivileged service cannot listen on needs --socket', async () => {
  assert.throws(
    () => requireBindablePort(80, false, 1024),
    (error: unknown) => error instanceof UsageError && /add --socket/.test(error.message),
  );
  requireBindablePort(80, true, 1024);
  requireBindablePort(1024, false, 1024);
  requireBindablePort(80, false, 0);
  // The CLI asks the kernel where unprivileged ports start (1024 unless lowered by sysctl).
  const start = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
  const r = await runCli(['install', '--port', '80']);
  assert.is(r.code, 2);
  if (start > 80)
    assert.match(
      r.stderr,
      /^elb-proxy-echo: --port 80: the service has no privileges to listen below port \d+; add --socket to let systemd listen for it\n$/,
    );
  else assert.not.match(r.stderr, /add --socket/);
});

test('install from src/ (not the built executable, or not root) refuses with exit 2 and changes nothing', async () => {
  const r = await runCli(['install', '--port', '5001']);
  assert.is(r.code, 2);
  const expected = process.getuid?.() === 0 ? /run it from the built file/ : /run it as root/;
  assert.match(r.stderr, expected);
  assert.is(r.stdout, '');
});

test('uninstall takes no arguments', async () => {
  const r = await runCli(['uninstall', 'now']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /uninstall takes no arguments/);
});

test('--help lists install and uninstall; install --help its --socket', async () => {
  const r = await runCli(['--help']);
  assert.match(r.stdout, /^ {2}install /m);
  assert.match(r.stdout, /^ {2}uninstall /m);
  assert.match((await runCli(['install', '--help'])).stdout, /^ {6}--socket /m);
});

test.run();
