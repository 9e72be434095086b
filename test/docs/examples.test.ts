// Every output example in the docs is real output. A code block marked `<!-- example: NAME -->`
// is produced again here by the program itself (`node src/cli.ts` on loopback, on a port the
// kernel picks) and compared with the block, after masking only what differs from run to run:
// times, durations, pids, ports the kernel picks, the host name and the address of whatever
// connected (a balancer node in the docs, loopback here). Port 5000 in the docs stands for the
// port the server really got.
//
// A transcript block (lines starting `$ `) is replayed command by command: the lines after a
// command are its output. Any other block is either a server's log (each of its lines must
// appear in the server's output, in order) or what one connection received.
import net from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildProxyHeader } from '../../src/index.ts';
import { runCli, type Started, startCli } from '../helpers/cli.ts';
import { TestClient } from '../helpers/socket.ts';
import { type CodeBlock, splitFences } from './markdown.ts';

const DOC_PORT = '5000';
const ROOT = new URL('../../', import.meta.url);

/** What may differ between the docs and this run, masked the same way on both sides. */
const MASKS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /, ''], // journal excerpts show no time
  [/\b(via=|via: +|from )[\w.:[\]]+/g, '$1<peer>'], // who connected: a balancer node, or loopback
  [/\b(127\.\d+\.\d+\.\d+):\d+/g, '$1:<port>'], // a loopback client's port, picked by the kernel
  [/\bduration_s=[\d.]+/g, 'duration_s=<s>'],
  [/\bpid \d+/g, 'pid <pid>'],
  [/\bauto: \d+ per process open_file_limit=\d+/g, 'auto: <n> per process open_file_limit=<n>'],
  [/^(elb-proxy-echo on )[\w.-]+(:| saw:)/, '$1<host>$2'],
];

function mask(line: string): string {
  return MASKS.reduce((text, [pattern, by]) => text.replace(pattern, by), line.trimEnd());
}

/** A run's output as the docs would show it: its port written as 5000, CR LF as LF. */
function asDocs(text: string, port: number | string): string[] {
  const lines = text.replace(new RegExp(`\\b${port}\\b`, 'g'), DOC_PORT).split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function exampleBlocks(file: string): Map<string, CodeBlock> {
  const markdown = readFileSync(new URL(file, ROOT), 'utf8');
  const marked = splitFences(markdown).blocks.filter((block) => block.example !== undefined);
  return new Map(marked.map((block) => [block.example ?? '', block]));
}

/** A log line as an excerpt in the docs may show it: without its time (masked) and level. */
const withoutLevel = (line: string): string => line.replace(/^(debug|info|warn|error) +/, '');

/** The first line of `want` missing from `got` (masked; in order, other lines may come between), or null. */
function missingLine(got: readonly string[], want: readonly string[]): string | null {
  const masked = got.map(mask);
  let from = 0;
  for (const line of want.map(mask)) {
    const at = masked.findIndex(
      (had, i) => i >= from && (had === line || withoutLevel(had) === line),
    );
    if (at < 0) return line;
    from = at + 1;
  }
  return null;
}

function assertInOrder(got: readonly string[], want: readonly string[], what: string): void {
  const missing = missingLine(got, want);
  assert.is(
    missing,
    null,
    `${what}: no line\n  ${missing}\nin what the program printed:\n  ${got.map(mask).join('\n  ')}`,
  );
}

// ---- the servers the examples run against (one per set of options, stopped at the end) ----

const servers = new Map<string, Promise<Started & { port: number }>>();

function server(args: readonly string[]): Promise<Started & { port: number }> {
  const key = args.join(' ');
  let started = servers.get(key);
  if (started === undefined) {
    started = startCli(['--port', '0', ...args], /listening on port (\d+)/).then((s) => ({
      ...s,
      port: Number(s.match[1]),
    }));
    servers.set(key, started);
  }
  return started;
}

/** Everything a connection received: it sends `bytes`, then waits for the server to close. */
async function exchange(
  port: number,
  bytes: string | Uint8Array,
  localAddress?: string,
): Promise<string> {
  const client = await TestClient.connect(port, '127.0.0.1', localAddress);
  client.write(bytes);
  return (await client.waitClose()).toString('utf8');
}

/** The first line a connection received after sending `bytes` (it then leaves). */
async function firstLine(port: number, bytes: string | Uint8Array): Promise<string> {
  const client = await TestClient.connect(port);
  client.write(bytes);
  const text = await client.readUntil(/\n/);
  client.destroy();
  return text.slice(0, text.indexOf('\n') + 1);
}

/** A closed loopback port: one the kernel gave out and that nothing listens on now. */
async function closedPort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const v1Balancer = 'PROXY TCP4 54.222.152.163 10.0.11.239 45418 5000\r\n';
const v2Balancer = buildProxyHeader({
  version: 2,
  command: 'proxy',
  protocol: 'TCP4',
  source: { address: '198.51.100.23', port: 52814 },
  destination: { address: '10.0.1.87', port: 5000 },
});
const curlRequest = (host: string): string =>
  `GET / HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n`;

/** `printf 'TEXT'` as the shell expands it (the escapes the docs use). */
function printfBytes(text: string): string {
  return text.replace(/\\([rn\\])/g, (_, c: string) => ({ r: '\r', n: '\n', '\\': '\\' })[c] ?? c);
}

/** What one transcript command printed, against the server on `port`. */
async function replay(command: string, port: number): Promise<string[]> {
  const printf = /^printf '([^']*)' \| nc localhost 5000$/.exec(command);
  if (printf) return asDocs(await exchange(port, printfBytes(printf[1] ?? '')), port);
  if (command === 'curl -i http://localhost:5000/')
    return asDocs(await exchange(port, curlRequest('localhost:5000')), port);
  if (/^telnet \S+ 5000$/.test(command)) return asDocs(await firstLine(port, v1Balancer), port);
  const bench = /^elb-proxy-echo bench --target localhost:(\d+)$/.exec(command);
  if (bench) {
    const closed = await closedPort();
    const ran = await runCli(['bench', '--target', `localhost:${closed}`]);
    return asDocs(ran.stdout + ran.stderr, closed).map((line) =>
      line.replaceAll(DOC_PORT, bench[1] ?? ''),
    );
  }
  throw new Error(
    `no way to replay \`${command}\`: teach examples.test.ts or leave the block unmarked`,
  );
}

/** Replays a transcript block: each command's output lines against what it really printed. */
async function checkTranscript(block: CodeBlock, port: number, what: string): Promise<void> {
  let command = '';
  let wanted: string[] = [];
  const flush = async () => {
    if (command !== '')
      assertInOrder(await replay(command, port), wanted, `${what} \`${command}\``);
  };
  for (const line of block.lines) {
    if (line.startsWith('$ ')) {
      await flush();
      command = line.slice(2);
      wanted = [];
    } else if (line.trim() !== '') wanted.push(line);
  }
  await flush();
}

// ---- the examples: where each is, the server it needs, and what produces it ----

type Check = {
  readonly file: string;
  readonly example: string;
  readonly args?: readonly string[];
  /** What produced the block's lines; a transcript block needs none. */
  readonly produce?: (port: number, output: () => string) => Promise<string[]>;
};

const log = async (port: number, output: () => string): Promise<string[]> => {
  await new Promise((resolve) => setTimeout(resolve, 50)); // the logger writes within a millisecond
  return asDocs(output(), port);
};

const CHECKS: readonly Check[] = [
  { file: 'README.md', example: 'first-session' },
  { file: 'README.md', example: 'refusal' },
  { file: 'README.md', example: 'first-session-log', produce: log },
  { file: 'README.md', example: 'greeting', args: ['--greeting'] },
  { file: 'docs/server.md', example: 'max-connections-auto', produce: log },
  {
    file: 'docs/server.md',
    example: 'greeting',
    args: ['--greeting'],
    produce: async (port) => asDocs(await firstLine(port, v1Balancer), port),
  },
  { file: 'docs/server.md', example: 'http-without-header' },
  { file: 'docs/benchmark.md', example: 'target-refused' },
  { file: 'docs/deploy-aws.md', example: 'start-up', produce: log },
  {
    file: 'docs/deploy-aws.md',
    example: 'session-log',
    produce: async (port, output) => {
      await exchange(port, Buffer.concat([v2Balancer, Buffer.from('hello\nq\n')]));
      return log(port, output);
    },
  },
  {
    file: 'docs/deploy-aws.md',
    example: 'http-answer',
    produce: async (port) => {
      const host = 'elb-proxy-echo-0123456789abcdef.elb.eu-west-1.amazonaws.com:5000';
      const answer = await firstAnswer(
        port,
        Buffer.concat([v2Balancer, Buffer.from(curlRequest(host))]),
      );
      return asDocs(answer.slice(answer.indexOf('\r\n\r\n') + 4), port);
    },
  },
];

/** One HTTP answer on a keep-alive connection: the head and as many body bytes as it announces. */
async function firstAnswer(port: number, bytes: Uint8Array): Promise<string> {
  const client = await TestClient.connect(port);
  client.write(bytes);
  const head = await client.readUntil(/\r\n\r\n/);
  const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
  const whole = await client.readBytes(
    Buffer.byteLength(head.slice(0, head.indexOf('\r\n\r\n') + 4)) + length,
  );
  client.destroy();
  return whole.toString('utf8');
}

for (const check of CHECKS)
  test(`${check.file}: the example \`${check.example}\` is what the program prints`, async () => {
    const block = exampleBlocks(check.file).get(check.example);
    assert.ok(block, `${check.file} has no block marked <!-- example: ${check.example} -->`);
    const { port, output } = await server(check.args ?? []);
    const what = `${check.file} example ${check.example}`;
    if (check.produce === undefined) await checkTranscript(block, port, what);
    else
      assertInOrder(
        await check.produce(port, output),
        block.lines.filter((l) => l.trim() !== ''),
        what,
      );
  });

test('every block marked as an example in README.md and docs/ is checked here', () => {
  const docs = readdirSync(new URL('docs/', ROOT)).filter((name) => name.endsWith('.md'));
  for (const file of ['README.md', ...docs.map((name) => `docs/${name}`)])
    for (const name of exampleBlocks(file).keys())
      assert.ok(
        CHECKS.some((check) => check.file === file && check.example === name),
        `${file}: <!-- example: ${name} --> has no check in examples.test.ts`,
      );
});

test('the masks hide times, durations and loopback ports, not what a line says', () => {
  const real = [
    '2026-12-06T08:00:00.000Z info  open client=203.0.113.7:51000 via=127.0.0.1:40100 to=10.0.0.5:5000',
    '2026-12-06T08:00:00.001Z info  close client=203.0.113.7:51000 duration_s=0.001 lines=1 bytes=4',
  ];
  const docs = [
    '2026-11-30T07:38:54.209Z info  open client=203.0.113.7:51000 via=10.0.1.87:33012 to=10.0.0.5:5000',
    '2026-11-30T07:38:54.210Z info  close client=203.0.113.7:51000 duration_s=4.1 lines=1 bytes=4',
  ];
  assert.is(missingLine(real, docs), null);
  for (const [from, to] of [
    ['bytes=4', 'bytes=5'],
    [':51000', ':51001'],
    ['203.0.113.7', '203.0.113.8'],
    ['to=10', 'to=11'],
  ]) {
    const stale = docs.map((line) => line.replace(from ?? '', to ?? ''));
    assert.is.not(missingLine(real, stale), null, `${from} changed to ${to} is seen`);
  }
  assert.is.not(missingLine(real, [...docs].reverse()), null, 'lines out of order are seen');
});

test.after(async () => {
  for (const started of servers.values()) {
    const { child } = await started;
    child.kill('SIGTERM');
  }
});

test.run();
