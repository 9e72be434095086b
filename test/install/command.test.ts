// The install/uninstall subcommands as a user runs them: options checked first, then root and
// the built executable; from src/ nothing is touched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { givenAsVariables } from '../../src/install/command.ts';
import { serveOptions } from '../../src/serve.ts';
import { runCli } from '../helpers/cli.ts';

test('only the serve options given become variables, with the text as typed', () => {
  assert.equal([...givenAsVariables(serveOptions, ['--port', '5001', '--socket'])], [['ELB_PROXY_ECHO_PORT', '5001']]);
  assert.equal([...givenAsVariables(serveOptions, ['--port=0080'])], [['ELB_PROXY_ECHO_PORT', '0080']]);
  assert.equal([...givenAsVariables(serveOptions, [])], []);
});

test('install with a bad option exits 2 with a one-line reason', async () => {
  const r = await runCli(['install', '--port', '70000']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^elb-proxy-echo: --port: 70000 is outside 0\.\.65535\n$/);
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

test('--help lists install and uninstall', async () => {
  const r = await runCli(['--help']);
  assert.match(r.stdout, /^  install /m);
  assert.match(r.stdout, /^  uninstall /m);
  assert.match(r.stdout, /--socket/);
});

test.run();
