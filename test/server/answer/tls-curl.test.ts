// server.md's TLS examples replayed for real: `serve --tls-cert … --tls-key …` (the CLI, on the
// suites' engine, with a certificate made now) and the docs' own `curl --haproxy-protocol -k
// https://…` command. curl's text answer and the server's `tls` line must be the docs' blocks.
import { rmSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asDocs, assertExample, assertTranscript, DOC_PORT } from '../../docs/examples.ts';
import { certificateDir, selfSignedFiles } from '../../helpers/certificate.ts';
import { runProgram, startCli } from '../../helpers/cli.ts';
import { ENGINE, eventually } from '../harness.ts';

const dir = certificateDir();
const certificate = selfSignedFiles(dir, 'localhost');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/**
 * curl has `--haproxy-protocol` from 7.60 on; 7.87.0 alone starts the TLS handshake before the
 * header, so a server that requires the header refuses it.
 */
async function assertCurlSendsHeaderFirst(): Promise<void> {
  const ran = await runProgram('curl', ['--version']).catch((error: Error) => {
    throw new Error(`curl did not run (${error.message}): these examples need curl`);
  });
  const version = /^curl (\d+)\.(\d+)\.(\d+)/.exec(ran.stdout);
  assert.ok(version, `no version in \`curl --version\`: ${ran.stdout}`);
  const [major, minor, patch] = version.slice(1).map(Number) as [number, number, number];
  const since760 = major > 7 || (major === 7 && minor >= 60);
  const is7870 = major === 7 && minor === 87 && patch === 0;
  assert.ok(
    since760 && !is7870,
    `curl ${version.slice(1).join('.')} cannot send a PROXY header before TLS: use 7.60 or later, not 7.87.0`,
  );
}

/** Runs the docs' `curl … https://localhost:5000/` against the server on `port`: what it printed. */
async function curl(command: string, port: number): Promise<string[]> {
  const [program, ...args] = command.split(' ');
  assert.is(program, 'curl', `only curl commands replay here: \`${command}\``);
  const local = args.map((arg) => arg.replace(`localhost:${DOC_PORT}`, `localhost:${port}`));
  const ran = await runProgram('curl', local);
  assert.is(ran.code, 0, `\`curl ${local.join(' ')}\` exited ${ran.code}: ${ran.stderr}`);
  return asDocs(ran.stdout, port);
}

test("docs/server.md's tls-answer and tls-log: the docs' curl against serve --tls-cert", async () => {
  await assertCurlSendsHeaderFirst();
  const { child, output, match } = await startCli(
    [
      'serve',
      ...['--port', '0', '--host', '127.0.0.1', '--engine', ENGINE],
      ...['--tls-cert', certificate.cert, '--tls-key', certificate.key],
    ],
    /listening on port (\d+)/,
  );
  const port = Number(match[1]);
  try {
    await assertTranscript('docs/server.md', 'tls-answer', (command) => curl(command, port));
    await eventually(() => / tls client=/.test(output()), 'the tls line');
    assertExample('docs/server.md', 'tls-log', asDocs(output(), port));
  } finally {
    child.kill('SIGKILL');
  }
});

test.run();
