// src/serve.ts in-process: its defaults (the library's, the docs'), and which socket systemd's
// activation variables give the server.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultText, type OptionTable, parseOptions, UsageError } from '../src/options.ts';
import { activatedFd } from '../src/serve.ts';
import { toConfig } from '../src/serve-config.ts';
import { serveOptions } from '../src/serve-options.ts';
import { ECHO_DEFAULTS } from '../src/server/server-options.ts';

test('activatedFd: fd 3 when LISTEN_PID is this process and LISTEN_FDS=1', () => {
  assert.is(activatedFd({ LISTEN_PID: '42', LISTEN_FDS: '1' }, 42), 3);
  assert.is(activatedFd({ LISTEN_PID: '41', LISTEN_FDS: '1' }, 42), null, "another process's");
  assert.is(activatedFd({ LISTEN_FDS: '1' }, 42), null);
  assert.is(activatedFd({ LISTEN_PID: '42', LISTEN_FDS: '0' }, 42), null);
  assert.is(activatedFd({ LISTEN_PID: '42', LISTEN_FDS: 'x' }, 42), null);
});

test('activatedFd: LISTEN_FDS=2 is refused with one line saying what to change', () => {
  assert.throws(
    () => activatedFd({ LISTEN_PID: '42', LISTEN_FDS: '2' }, 42),
    (error: Error) =>
      error instanceof UsageError &&
      /^systemd passed 2 listening sockets \(LISTEN_FDS=2\); elb-proxy-echo serves one: give its socket unit a single ListenStream=/.test(
        error.message,
      ) &&
      !error.message.includes('\n'),
  );
  // Not ours to judge when the variables name another process.
  assert.is(activatedFd({ LISTEN_PID: '41', LISTEN_FDS: '2' }, 42), null);
});

test('with no options, the config has the echo server library defaults (ECHO_DEFAULTS)', () => {
  const { values } = parseOptions(serveOptions, []);
  const config = toConfig(values, 1, () => ({
    maxConnections: ECHO_DEFAULTS.maxConnections,
    limit: null,
    reserved: 0,
    cap: ECHO_DEFAULTS.maxConnections,
  }));
  assert.is(config.echo.proxyProtocol, ECHO_DEFAULTS.proxyProtocol);
  assert.is(config.echo.maxLine, ECHO_DEFAULTS.maxLine);
  assert.is(config.echo.headerTimeoutMs, ECHO_DEFAULTS.headerTimeoutMs);
  assert.is(config.echo.idleTimeoutMs, ECHO_DEFAULTS.idleTimeoutMs);
  assert.is(config.drainTimeoutMs, ECHO_DEFAULTS.drainMs);
  assert.is(config.echo.keepAliveMs, ECHO_DEFAULTS.keepAliveMs);
});

/** The config `argv` gives (a fixed connection budget). */
function configOf(argv: string[]) {
  return toConfig(parseOptions(serveOptions, argv).values, 1, () => ({
    maxConnections: 10,
    limit: null,
    reserved: 0,
    cap: 10,
  }));
}

test('--keepalive: whole seconds up to 2h; 0 and off turn it off; bad values name the flag', () => {
  for (const [raw, ms] of [
    ['90s', 90_000],
    ['400', 400_000],
    ['2h', 7_200_000],
    ['0', 0],
    ['off', 0],
  ] as const)
    assert.is(configOf(['--keepalive', raw]).echo.keepAliveMs, ms, raw);
  for (const [raw, reason] of [
    ['500ms', /^--keepalive: 500ms is not a whole number of seconds$/],
    ['3h', /^--keepalive: 3h is longer than 7200s$/],
    ['soon', /^--keepalive: "soon" is not a duration/],
  ] as const)
    assert.throws(() => configOf(['--keepalive', raw]), reason, raw);
});

test('--identity and --imds-endpoint: what is refused, with the flag named', () => {
  assert.equal(parseOptions(serveOptions, ['--identity', 'blue']).values.identity, {
    label: 'blue',
  });
  assert.throws(() => parseOptions(serveOptions, ['--identity', 'a b']), /^--identity: a label/);
  const endpoint = (raw: string) =>
    parseOptions(serveOptions, ['--imds-endpoint', raw]).values.imdsEndpoint;
  assert.is(endpoint('http://[fd00:ec2::254]'), 'http://[fd00:ec2::254]');
  assert.is(endpoint('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080/');
  for (const bad of ['https://169.254.169.254', 'http://169.254.169.254/latest', '169.254.169.254'])
    assert.throws(() => endpoint(bad), /^--imds-endpoint: ".*" is not an http:\/\/ address/, bad);
});

/** The rows of docs/server.md's option table: flag, variable, default as written. */
function documentedOptions(): string[][] {
  const doc = readFileSync(new URL('../docs/server.md', import.meta.url), 'utf8');
  const row = /^\| `--([a-z-]+)` \(`([A-Z_]+)`\) +\| `([^`]*)` +\|/gm;
  return [...doc.matchAll(row)].map((m) => [m[1], m[2], m[3]]);
}

test('docs/server.md lists every serve option, in order, with its variable and default', () => {
  const expected = Object.values(serveOptions as OptionTable).map((option) => [
    option.flag,
    option.env?.slice('ELB_PROXY_ECHO_'.length),
    defaultText(option),
  ]);
  assert.equal(documentedOptions(), expected);
});

test.run();
