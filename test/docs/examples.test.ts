// Every output example in the docs is real output: the blocks marked `<!-- example: NAME -->`
// (examples.ts says how they are compared) are produced again here by the program itself
// (`node src/cli.ts` on loopback, on a port the kernel picks), or by the test named in
// ELSEWHERE, which holds its own set-up against the block.
//
// A transcript block (lines starting `$ `) is replayed command by command: the lines after a
// command are its output. Any other block is either a server's log (each of its lines must
// appear in the server's output, in order) or what one connection received.
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { awsVpcEndpointTlv, buildProxyHeader } from '../../src/index.ts';
import type { Tlv } from '../../src/protocol/types.ts';
import {
  CLI,
  type Ran,
  runCli,
  runProgram,
  type Started,
  startCli,
  startProgram,
} from '../helpers/cli.ts';
import { TestClient } from '../helpers/socket.ts';
import {
  asDocs,
  assertInOrder,
  assertTranscript,
  exampleBlocks,
  markdownFiles,
  missingLine,
  withoutFigures,
} from './examples.ts';
import { type CodeBlock, splitFences } from './markdown.ts';

/** The engine the docs show is the one `auto` picks, whatever the test run's variable says. */
const AS_DOCUMENTED = { ELB_PROXY_ECHO_ENGINE: 'auto' };
const ROOT = new URL('../../', import.meta.url);

// ---- the servers the examples run against (one per set of options, stopped at the end) ----

const servers = new Map<string, Promise<Started & { port: number }>>();

function server(args: readonly string[]): Promise<Started & { port: number }> {
  const key = args.join(' ');
  let started = servers.get(key);
  if (started === undefined) {
    started = startCli(['--port', '0', ...args], /listening on port (\d+)/, AS_DOCUMENTED).then(
      (s) => ({
        ...s,
        port: Number(s.match[1]),
      }),
    );
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
/** A v2 PROXY header for a client at `from` to `to` (each `address:port`, an IPv6 one in brackets). */
function v2Header(from: string, to: string, tlvs: readonly Tlv[] = []): Uint8Array {
  const endpoint = (text: string) => {
    const colon = text.lastIndexOf(':');
    return {
      address: text.slice(0, colon).replace(/^\[|\]$/g, ''),
      port: Number(text.slice(colon + 1)),
    };
  };
  const source = endpoint(from);
  const protocol = source.address.includes(':') ? 'TCP6' : 'TCP4';
  return buildProxyHeader({
    version: 2,
    command: 'proxy',
    protocol,
    source,
    destination: endpoint(to),
    tlvs,
  });
}

const v2Balancer = v2Header('198.51.100.23:52814', '10.0.1.87:5000');
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
  const cli = /^elb-proxy-echo ([^|]+)$/.exec(command);
  if (cli) return runOnce((cli[1] ?? '').trim().split(/\s+/));
  throw new Error(
    `no way to replay \`${command}\`: teach examples.test.ts or leave the block unmarked`,
  );
}

/**
 * A command that runs and exits (`--help`, `bench --target …`). A `--target localhost:N` is
 * pointed at a port nothing listens on, and written back as N.
 */
async function runOnce(args: string[]): Promise<string[]> {
  const target = args.findIndex((arg) => /^localhost:\d+$/.test(arg));
  const shown = args[target] ?? '';
  const closed = target < 0 ? null : await closedPort();
  if (closed !== null) args[target] = `localhost:${closed}`;
  const ran = await runCli(args, AS_DOCUMENTED);
  const text = ran.stdout + ran.stderr;
  return (closed === null ? text : text.replaceAll(`localhost:${closed}`, shown)).split('\n');
}

// ---- the examples: where each is, the server it needs, and what produces it ----

type Check = {
  readonly file: string;
  readonly example: string;
  readonly args?: readonly string[];
  /** What produced the block's lines; a transcript block needs none. */
  readonly produce?: (port: number, output: () => string, child: ChildProcess) => Promise<string[]>;
};

/** The server's output once it has been quiet for 100 ms (at most 2 s): a loaded machine lags. */
const log = async (port: number, output: () => string): Promise<string[]> => {
  let seen = output();
  for (let waited = 0; waited < 2000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (output() === seen) break;
    seen = output();
  }
  return asDocs(seen, port);
};

/**
 * server.md's log example: its sessions one after another from the addresses it names (a Classic
 * ELB, an NLB over IPv6, an NLB health check, no header, an untrusted peer, a TCP health check),
 * then SIGTERM; what the server printed until it stopped.
 */
async function logExampleSessions(
  port: number,
  output: () => string,
  child: ChildProcess,
): Promise<string[]> {
  const classic = await TestClient.connect(port, '127.0.0.1', '127.0.0.2');
  classic.write(`${v1Balancer}hello\nworld\nq\n`);
  await classic.waitClose();
  const nlb = await TestClient.connect(port, '127.0.0.1', '127.0.0.3');
  nlb.write(Buffer.concat([nlbIpv6, Buffer.from('1234\n')]));
  await nlb.readBytes(5);
  nlb.socket.end();
  await nlb.waitClose();
  const local = buildProxyHeader({ version: 2, command: 'local', protocol: 'UNKNOWN' });
  const check = await TestClient.connect(port, '127.0.0.1', '127.0.0.3');
  check.write(local);
  check.socket.end();
  await check.waitClose();
  await exchange(port, 'hi\r\n', '127.0.0.2');
  await exchange(port, v1Balancer, '127.0.0.9');
  const silent = await TestClient.connect(port, '127.0.0.1', '127.0.0.2');
  silent.socket.end();
  await silent.waitClose();
  const stopped = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await stopped;
  return asDocs(output(), port);
}

const nlbIpv6 = v2Header('[2001:db8:85a3::8a2e:370:7334]:51724', '[2001:db8:1::10]:5000', [
  awsVpcEndpointTlv('vpce-0a1b2c3d4e5f67890'),
]);

/** server.md's HTTP answer: a v2 header over IPv6, a VPC endpoint TLV and one of type 0xF3. */
const nlbIpv6WithTlvs = v2Header('[2001:db8:8::17]:51000', '[2001:db8:1::5]:5000', [
  awsVpcEndpointTlv('vpce-0a1b2c3d4e5f67890'),
  { type: 0xf3, value: Buffer.of(0xc0, 0xff, 0xee) },
]);

/**
 * server.md's cut example: a client line of 8184 control bytes and 34 more characters at
 * `--log-level debug`, its `data` line through `cut -c 1-85,1058-`.
 */
async function longDataLine(port: number, output: () => string): Promise<string[]> {
  const client = 'PROXY TCP4 203.0.113.7 10.0.0.5 46001 5000\r\n';
  await exchange(port, `${client}${'\x01'.repeat(8184)}${'x'.repeat(34)}\nq\n`);
  const lines = await log(port, output);
  const data = lines.filter((line) => line.includes(' data '));
  return data.map((line) => line.slice(0, 85) + line.slice(1057));
}

/**
 * server.md's lines for a port that cannot be bound: one a server started with no options
 * holds, port 80 as a user without CAP_NET_BIND_SERVICE (`nobody`, when this runs as root), an
 * address the machine does not have.
 */
async function listenErrors(): Promise<string[]> {
  // Started as the docs show it, `node src/cli.ts` from the clone: the line names the holder.
  const holder = await startProgram(
    'bash',
    ['-c', 'cd "$0" && exec -a node "$1" src/cli.ts', fileURLToPath(ROOT), process.execPath],
    /listening on port (\d+)/,
    { ...AS_DOCUMENTED, ELB_PROXY_ECHO_PORT: '0' },
  );
  try {
    const port = holder.match[1] ?? '';
    const inUse = await runCli(['--port', port], AS_DOCUMENTED);
    const low = await runUnprivileged(['--port', '80']);
    const absent = await runCli(['--host', '10.9.9.9', '--port', '5999'], AS_DOCUMENTED);
    return [inUse, low, absent].flatMap((ran) => asDocs(ran.stderr, port));
  } finally {
    holder.child.kill('SIGKILL');
  }
}

/** The CLI as a user who may not bind ports below 1024: `nobody` when this runs as root. */
async function runUnprivileged(args: readonly string[]): Promise<Ran> {
  if (process.getuid?.() !== 0) {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    // Here any user may bind port 80: the line cannot arise, and the port must not be taken.
    assert.ok(start > 80, `ip_unprivileged_port_start is ${start}: run this as root or raise it`);
    return runCli(args, AS_DOCUMENTED);
  }
  return runProgram(
    'runuser',
    ['-u', 'nobody', '--', process.execPath, CLI, ...args],
    AS_DOCUMENTED,
  );
}

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
  {
    file: 'docs/server.md',
    example: 'greeting-label',
    args: ['--greeting', '--identity', 'blue-a'],
    produce: async (port) =>
      asDocs(await firstLine(port, 'PROXY TCP4 203.0.113.7 10.0.0.5 51000 5000\r\n'), port),
  },
  { file: 'docs/server.md', example: 'http-without-header' },
  {
    file: 'docs/server.md',
    example: 'log-lines',
    args: ['--trust', '127.0.0.2/32,127.0.0.3/32', '--host', '127.0.0.1'],
    produce: logExampleSessions,
  },
  {
    file: 'docs/server.md',
    example: 'long-data-line',
    args: ['--log-level', 'debug'],
    produce: longDataLine,
  },
  {
    file: 'docs/server.md',
    example: 'http-answer-ipv6',
    args: ['--identity', 'blue-a'],
    produce: async (port) => {
      const answer = await firstAnswer(
        port,
        Buffer.concat([nlbIpv6WithTlvs, Buffer.from('GET / HTTP/1.0\r\n\r\n')]),
      );
      return asDocs(answer.slice(answer.indexOf('\r\n\r\n') + 4), port);
    },
  },
  { file: 'docs/server.md', example: 'listen-errors', produce: listenErrors },
  { file: 'docs/benchmark.md', example: 'target-refused' },
  { file: 'docs/benchmark.md', example: 'help' },
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
    example: 'telnet-greeting',
    args: ['--greeting'],
    // Through an NLB the header comes with the first typed line: the terminal shows that line
    // as typed, then the greeting and the line's echo.
    produce: async (port) => {
      const client = await TestClient.connect(port);
      client.write(Buffer.concat([v2Balancer, Buffer.from('hello\r\n')]));
      const received = await client.readUntil(/\nhello\r\n$/);
      client.destroy();
      return ['hello', ...asDocs(received, port)];
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

for (const check of CHECKS)
  test(`${check.file}: the example \`${check.example}\` is what the program prints`, async () => {
    const block = exampleBlocks(check.file).get(check.example);
    assert.ok(block, `${check.file} has no block marked <!-- example: ${check.example} -->`);
    const { port, output, child } = await server(check.args ?? []);
    const what = `${check.file} example ${check.example}`;
    if (check.produce === undefined)
      await assertTranscript(check.file, check.example, (command) => replay(command, port));
    else {
      const shown = block.lines.filter((line) => line.trim() !== '' && !line.startsWith('$ '));
      assertInOrder(await check.produce(port, output, child), shown, what);
    }
  });

/**
 * Examples whose output needs a set-up of their own (a stop with its delay, the health switch,
 * a metadata stand-in): the test that holds the block against real output, with assertExample
 * or assertTranscript from examples.ts.
 */
const ELSEWHERE: ReadonlyArray<{ file: string; example: string; by: string }> = [
  { file: 'docs/server.md', example: 'drain-delay-log', by: 'test/server/process/drain.test.ts' },
  { file: 'docs/server.md', example: 'health-switch', by: 'test/health-command.test.ts' },
  { file: 'docs/server.md', example: 'health-switch-log', by: 'test/health-command.test.ts' },
  { file: 'docs/server.md', example: 'imds-silent', by: 'test/server/process/identify.test.ts' },
  { file: 'docs/server.md', example: 'tls-answer', by: 'test/server/answer/tls-curl.test.ts' },
  { file: 'docs/server.md', example: 'tls-log', by: 'test/server/answer/tls-curl.test.ts' },
  { file: 'docs/library.md', example: 'wrap-curl', by: 'test/wrap/curl.test.ts' },
  { file: 'docs/benchmark.md', example: 'balance-report', by: 'test/loadgen/balance.test.ts' },
  { file: 'docs/benchmark.md', example: 'balance-mismatch', by: 'test/loadgen/balance.test.ts' },
  { file: 'docs/benchmark.md', example: 'bench-tls', by: 'test/loadgen/bench.test.ts' },
  { file: 'docs/load-test-fleet.md', example: 'fleet-merge', by: 'test/loadgen/fleet.test.ts' },
  {
    file: 'docs/load-test-fleet.md',
    example: 'fleet-merge-backends',
    by: 'test/loadgen/balance.test.ts',
  },
];

test('every block marked as an example in README.md and docs/ is checked here or elsewhere', () => {
  for (const file of markdownFiles())
    for (const name of exampleBlocks(file).keys())
      assert.ok(
        CHECKS.some((check) => check.file === file && check.example === name) ||
          ELSEWHERE.some((check) => check.file === file && check.example === name),
        `${file}: <!-- example: ${name} --> has no check in examples.test.ts, nor in ELSEWHERE`,
      );
});

test('each example checked elsewhere is held against its block by the test named', () => {
  for (const { file, example, by } of ELSEWHERE) {
    const source = readFileSync(new URL(by, ROOT), 'utf8').replace(/\s+/g, ' ');
    // The call names the example, or a loop over a list that does.
    const call = new RegExp(`assert(Example|Transcript)\\(\\s*'${file}', ('${example}'|\\w+)`);
    assert.ok(
      call.test(source) && source.includes(`'${example}'`),
      `${by} does not check ${file}'s example ${example} with assertExample or assertTranscript`,
    );
  }
});

/**
 * Output blocks left unchecked, each with why: the first line of the block, by file. Any other
 * block that shows output (a `$ ` transcript, a log line, a line the program prints) must be
 * marked and checked.
 */
const UNCHECKED: Readonly<Record<string, Readonly<Record<string, string>>>> = {};

/** A transcript, or (outside a shell block of commands) a log line or a line the program prints. */
function showsOutput(block: CodeBlock): boolean {
  const commands = ['sh', 'bash', 'shell'].includes(block.language);
  return block.lines.some(
    (line) =>
      line.startsWith('$ ') ||
      (!commands &&
        (line.startsWith('elb-proxy-echo') ||
          /^(\S+Z )?(debug|info|warn|error) {1,2}\S/.test(line))),
  );
}

test('every output block in README.md and docs/ is checked here, or listed with why not', () => {
  for (const file of markdownFiles())
    for (const block of splitFences(readFileSync(new URL(file, ROOT), 'utf8')).blocks) {
      if (block.example !== undefined || !showsOutput(block)) continue;
      const first = block.lines[0] ?? '';
      assert.ok(
        UNCHECKED[file]?.[first] !== undefined,
        `${file}: the output block starting \`${first}\` is not marked <!-- example: NAME --> nor listed in UNCHECKED`,
      );
    }
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
  const agent = ['  User-Agent: curl/8.11.1'];
  assert.is(missingLine(agent, ['  User-Agent: curl/7.88.1']), null, "curl's version is masked");
  assert.is.not(missingLine(agent, ['  User-Agent: wget/7.88.1']), null, 'the program is seen');
});

test('without figures a report keeps its words and layout', () => {
  const run =
    'web-1             10  33.4%    2.53    15.2  10 WRONG; 127.0.0.1:40964 127.0.0.1:40984';
  const docs =
    'web-3            100  33.3%    31.0     117  10 WRONG; 127.0.0.1:36454 127.0.0.1:36458';
  assert.is(withoutFigures(run), withoutFigures(docs));
  for (const other of [
    docs.replace('WRONG', 'RIGHT'),
    docs.replace('web-3', 'api-3'),
    docs.replace('%', ''),
    docs.replace(' 127.0.0.1:36458', ''),
  ])
    assert.is.not(withoutFigures(run), withoutFigures(other), other);
  const header = 'scenario          connect: 8 clients, PROXY v1 headers, 16-byte lines';
  assert.is(withoutFigures(header), withoutFigures(header.replace('8 clients', '30 clients')));
  for (const other of [header.replace('v1', 'v2'), header.replace('PROXY v1', 'PROXY')])
    assert.is.not(withoutFigures(header), withoutFigures(other), other);
});

test.after(async () => {
  for (const started of servers.values()) {
    const { child } = await started;
    child.kill('SIGTERM');
  }
});

test.run();
