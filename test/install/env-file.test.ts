// /etc/default/elb-proxy-echo in the syntax systemd's EnvironmentFile= reads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { envFileText, envFileValue } from '../../src/install/env-file.ts';
import { UsageError } from '../../src/options.ts';

test('plain values are written as they are', () => {
  assert.is(envFileValue('10.0.0.0/8,192.168.1.7'), '10.0.0.0/8,192.168.1.7');
  assert.is(envFileValue('5s'), '5s');
});

test('other values are double-quoted with \\ " ` $ escaped', () => {
  assert.is(envFileValue('a b'), '"a b"');
  assert.is(envFileValue('say "hi" $HOME `x` \\'), '"say \\"hi\\" \\$HOME \\`x\\` \\\\"');
  assert.is(envFileValue(''), '');
});

test('a value with a line break is refused as a usage error', () => {
  assert.throws(
    () => envFileValue('a\nb'),
    (error: unknown) => error instanceof UsageError,
  );
});

test('the file is comment lines, then one KEY=VALUE line per variable in order', () => {
  const text = envFileText(
    new Map([
      ['ELB_PROXY_ECHO_PORT', '5001'],
      ['ELB_PROXY_ECHO_TRUST', '10.0.0.0/8'],
    ]),
  );
  const lines = text.trimEnd().split('\n');
  assert.ok(lines.slice(0, -2).every((line) => line.startsWith('#')));
  assert.equal(lines.slice(-2), ['ELB_PROXY_ECHO_PORT=5001', 'ELB_PROXY_ECHO_TRUST=10.0.0.0/8']);
});

test.run();
