// The server's RSS through thousands of TLS handshakes after a PROXY header, from clients that
// hang up: ours on both engines beside a bare node:tls server (the floor), one after the other
// in one run. A server that holds something per handshake keeps growing; the floor levels off.
//
//   node bench/tls-memory.ts [--handshakes N] [--concurrency N] [--cpu C] [--before CLI]
//
// Each client sends a v1 header and then, by turns: a ClientHello, and a FIN once the
// ServerHello is in; a full handshake, then a FIN; a full handshake, a line and `q`. The RSS of
// the server (/proc) is read every 1,000 handshakes and 2 s after the last. Ours is
// `src/cli.ts serve --tls-cert …` logging at info to a pipe this script drains; the floor is a
// net server that reads the header and wraps the socket in `new tls.TLSSocket(socket,
// { isServer, secureContext })`, one secure context for all. `--before CLI` adds another copy
// of the CLI (an older commit's, from `git archive`) on the uv engine. Servers run on --cpu
// (taskset -c); run this script on another core (`taskset -c 1 …`). Bounded: at most 20,000
// handshakes and 120 s per server, every wait with a time limit.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { CLIENT_HELLO } from '../test/helpers/client-hello.ts';
import { certificateDir, selfSignedFiles } from '../test/helpers/certificate.ts';
import { firstLine } from './children.ts';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'driver' },
    cert: { type: 'string', default: '' },
    key: { type: 'string', default: '' },
    handshakes: { type: 'string', default: '8000' },
    concurrency: { type: 'string', default: '10' },
    cpu: { type: 'string', default: '0' },
    before: { type: 'string' },
  },
});

const HEADER = Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.5 51000 443\r\n');
const TIME_LIMIT_MS = 120_000;
const SETTLE_MS = 2000;
const CLI = new URL('../src/cli.ts', import.meta.url).pathname;

// ---- floor role: prints its port.
function floor(): void {
  const secureContext = tls.createSecureContext({
    cert: readFileSync(values.cert),
    key: readFileSync(values.key),
  });
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      const end = chunk.indexOf('\r\n') + 2;
      if (end < chunk.length) socket.unshift(chunk.subarray(end));
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
      secure.on('error', () => {});
      secure.on('data', (data: Buffer) => (data.includes('q') ? secure.end() : secure.write(data)));
    });
  });
  server.listen(0, '127.0.0.1', () =>
    process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`),
  );
}

// ---- driver.
interface Started {
  readonly child: ChildProcess;
  readonly port: number;
}

async function startOurs(cli: string, engine: string, cert: string, key: string) {
  const args = ['serve', '--host', '127.0.0.1', '--port', '0', '--engine', engine];
  args.push('--tls-cert', cert, '--tls-key', key);
  const child = spawn('taskset', ['-c', values.cpu, process.execPath, cli, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${cli}: not listening in 30 s`)), 30_000);
    const onData = (chunk: Buffer) => {
      text += chunk;
      const match = /listening on port (\d+)/.exec(text);
      if (match === null) return;
      clearTimeout(timer);
      // The log lines that follow are drained unread.
      child.stdout!.off('data', onData).resume();
      resolve(Number(match[1]));
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${cli} exited (${code}) before listening`)));
  });
  return { child, port };
}

async function startFloor(cert: string, key: string): Promise<Started> {
  const script = new URL(import.meta.url).pathname;
  const args = [script, '--role', 'floor', '--cert', cert, '--key', key];
  const child = spawn('taskset', ['-c', values.cpu, process.execPath, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { child, port: Number(await firstLine(child, 'the floor')) };
}

function rssMb(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Math.round(Number(line?.[1] ?? Number.NaN) / 1024);
}

/**
 * One client of kind `turn % 3` (see the top). Resolves once it has hung up (its FIN sent), or
 * for `q` once the server has closed; a connection still open 5 s on is destroyed.
 */
function client(port: number, turn: number): Promise<void> {
  return new Promise((resolve) => {
    const raw = net.connect(port, '127.0.0.1');
    setTimeout(() => raw.destroy(), 5000).unref();
    raw.on('close', () => resolve());
    raw.on('error', () => {});
    raw.write(HEADER);
    const hangUp = () => {
      raw.end();
      resolve();
    };
    if (turn % 3 === 0) {
      raw.write(CLIENT_HELLO);
      raw.once('data', hangUp);
      raw.resume();
      return;
    }
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    secure.on('error', () => raw.destroy());
    secure.on('secureConnect', () => (turn % 3 === 1 ? hangUp() : secure.write('hi\r\nq\r\n')));
    secure.resume();
  });
}

/** RSS at the start, every 1,000 handshakes, and SETTLE_MS after the last. */
async function measure(name: string, server: Started, total: number, concurrency: number) {
  const pid = server.child.pid!;
  const rss = [rssMb(pid)];
  const deadline = Date.now() + TIME_LIMIT_MS;
  let turn = 0;
  let done = 0;
  const worker = async () => {
    while (turn < total && Date.now() < deadline) {
      await client(server.port, turn++);
      if (++done % 1000 === 0) rss.push(rssMb(pid));
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (Date.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  rss.push(rssMb(pid));
  server.child.kill('SIGTERM');
  const growth = rss.at(-1)! - rss[0];
  console.log(
    `${name.padEnd(10)} ${done} in ${seconds.toFixed(1)} s; RSS MB ${rss.join(' ')} (last: +2 s); growth ${growth} MB`,
  );
}

async function drive(): Promise<void> {
  const total = Math.min(20_000, Number(values.handshakes));
  const concurrency = Math.min(100, Number(values.concurrency));
  const dir = certificateDir();
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const { cert, key } = selfSignedFiles(dir);
  console.log(`${total} handshakes, ${concurrency} at a time; RSS every 1,000`);
  await measure('floor', await startFloor(cert, key), total, concurrency);
  for (const engine of ['uv', 'net'])
    await measure(`ours ${engine}`, await startOurs(CLI, engine, cert, key), total, concurrency);
  if (values.before !== undefined)
    await measure('before uv', await startOurs(values.before, 'uv', cert, key), total, concurrency);
}

if (values.role === 'floor') floor();
else await drive();
