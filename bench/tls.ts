// TLS after the PROXY header against a plain node:tls echo server, and clear connections with
// and without --tls-cert, side by side in each round.
//
//   node bench/tls.ts [--rounds N] [--seconds S] [--server-cpu C] [--load-cpu C]
//
// - handshake: 8 clients each connect, send the header, do a full TLS handshake (ECDSA P-256),
//   send `q` and wait for the close; again until the time is up: handshakes per second of
//   server CPU (/proc/PID/stat), ours against a node:tls server that echoes;
// - tls-echo: 16 TLS connections, one 16-byte line after another: echoed lines per second of
//   server CPU, ours against the node:tls echo;
// - clear-echo: the same over clear TCP, ours with --tls-cert against ours without.
// The server runs on --server-cpu and the generator on --load-cpu (taskset -c); the order of the
// two variants alternates by round. Bounded: at most 20 rounds of at most 10 s each.
import net from 'node:net';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { createEchoServer } from '../src/index.ts';
import { certificateDir, selfSignedFiles } from '../test/helpers/certificate.ts';
import { firstLine, median, pinned } from './children.ts';
import { cpuSeconds } from './proc-stat.ts';

const SCENARIOS = {
  handshake: ['tls', 'ours'],
  'tls-echo': ['tls', 'ours'],
  'clear-echo': ['ours-clear', 'ours'],
} as const;
type Scenario = keyof typeof SCENARIOS;
type Server = 'tls' | 'ours' | 'ours-clear';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'driver' },
    scenario: { type: 'string', default: 'handshake' },
    server: { type: 'string', default: 'ours' },
    port: { type: 'string', default: '0' },
    ms: { type: 'string', default: '0' },
    cert: { type: 'string', default: '' },
    key: { type: 'string', default: '' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '3' },
    'server-cpu': { type: 'string', default: '0' },
    'load-cpu': { type: 'string', default: '1' },
  },
});

const HEADER = 'PROXY TCP4 203.0.113.7 10.0.0.5 51000 443\r\n';
const LINE = 'abcdefghijklmn\r\n';

// ---- server role: prints its port.
async function serve(kind: Server): Promise<void> {
  const files = { cert: values.cert, key: values.key };
  if (kind === 'tls') {
    const { readFileSync } = await import('node:fs');
    const server = tls.createServer(
      { cert: readFileSync(files.cert), key: readFileSync(files.key), minVersion: 'TLSv1.2' },
      (socket) => {
        socket.on('error', () => {});
        socket.pipe(socket);
      },
    );
    server.listen(0, '127.0.0.1', () =>
      process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`),
    );
    return;
  }
  const echo = createEchoServer({
    tls: kind === 'ours' ? { files: { ...files, clientCa: null }, require: false } : null,
  });
  const { port } = await echo.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`${port}\n`);
}

// ---- load role: prints the count of operations done in `ms`.
async function load(scenario: Scenario, server: Server, port: number, ms: number) {
  const deadline = Date.now() + ms;
  const header = server === 'tls' ? '' : HEADER;
  const counts =
    scenario === 'handshake'
      ? await Promise.all(Array.from({ length: 8 }, () => handshakes(port, header, deadline)))
      : await Promise.all(
          Array.from({ length: 16 }, () =>
            pingpong(port, header, scenario === 'tls-echo', deadline),
          ),
        );
  process.stdout.write(`${counts.reduce((a, b) => a + b, 0)}\n`);
}

/** A connection that has sent `header`, with TLS over it when `secure`. */
function open(port: number, header: string, secure: boolean): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ port, host: '127.0.0.1', noDelay: true });
    // Bounded: a server that does not answer ends the attempt, not the benchmark.
    raw.setTimeout(5000, () => raw.destroy(new Error('no answer in 5 s')));
    raw.on('error', reject);
    raw.on('connect', () => {
      if (header !== '') raw.write(header);
      if (!secure) return resolve(raw.setTimeout(0));
      const socket = tls.connect({ socket: raw, rejectUnauthorized: false });
      socket.on('secureConnect', () => resolve(raw.setTimeout(0) && socket));
      socket.on('error', reject);
    });
  });
}

/** Connect, header, handshake, `q`, the server's close; again until the deadline. */
async function handshakes(port: number, header: string, deadline: number): Promise<number> {
  let count = 0;
  while (Date.now() < deadline) {
    const socket = await open(port, header, true).catch(() => null);
    if (socket === null) continue;
    count++;
    socket.on('error', () => {});
    await new Promise((resolve) => {
      socket.once('close', resolve);
      // The node:tls echo does not know `q`: it closes when we do.
      socket.end('q\r\n');
      socket.resume();
    });
  }
  return count;
}

/** One line after another on one connection until the deadline: echoes counted. */
async function pingpong(port: number, header: string, secure: boolean, deadline: number) {
  const socket = await open(port, header, secure);
  let count = 0;
  let got = 0;
  return new Promise<number>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got < LINE.length) return;
      got -= LINE.length;
      count++;
      if (Date.now() < deadline) socket.write(LINE);
      else socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => resolve(count));
    socket.write(LINE);
  });
}

// ---- driver.
const self = new URL(import.meta.url).pathname;

/** Operations per second of server CPU, for one server in one scenario. */
async function measure(scenario: Scenario, server: Server, seconds: number, files: object) {
  const common = [
    '--cert',
    (files as { cert: string }).cert,
    '--key',
    (files as { key: string }).key,
  ];
  const child = pinned(self, values['server-cpu'], [
    '--role',
    'server',
    '--server',
    server,
    ...common,
  ]);
  try {
    const port = await firstLine(child, 'server');
    const run = async (ms: number) => {
      const args = ['--role', 'load', '--scenario', scenario, '--server', server, '--port', port];
      const loader = pinned(self, values['load-cpu'], [...args, '--ms', String(ms)]);
      return Number(await firstLine(loader, 'load'));
    };
    await run(500); // warm-up: JIT, TLS contexts
    const cpuBefore = cpuSeconds(child.pid!);
    const started = performance.now();
    const count = await run(seconds * 1000);
    const elapsed = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(child.pid!) - cpuBefore;
    return { rate: count / elapsed, perCpu: count / cpu, busy: cpu / elapsed };
  } finally {
    child.kill();
  }
}

async function drive(): Promise<void> {
  const rounds = Math.min(20, Math.max(1, Number(values.rounds)));
  const seconds = Math.min(10, Math.max(0.5, Number(values.seconds)));
  const dir = certificateDir();
  const files = selfSignedFiles(dir);
  process.stdout.write(
    `bench/tls.ts: ${rounds} rounds of ${seconds} s per variant, server on cpu ${values['server-cpu']}, generator on cpu ${values['load-cpu']}, Node ${process.version}\n\n`,
  );
  process.stdout.write(
    '| scenario | baseline | ops per server CPU s: baseline | ours | ratio (median, min–max) | ours /s | server busy (ours) |\n| --- | --- | --- | --- | --- | --- | --- |\n',
  );
  for (const [scenario, [base, ours]] of Object.entries(SCENARIOS) as [
    Scenario,
    [Server, Server],
  ][]) {
    const a: number[] = [];
    const b: number[] = [];
    const rates: number[] = [];
    const busy: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const which of round % 2 === 0 ? [base, ours] : [ours, base]) {
        const m = await measure(scenario, which, seconds, files);
        if (which === base) a.push(m.perCpu);
        else {
          b.push(m.perCpu);
          rates.push(m.rate);
          busy.push(m.busy);
        }
      }
    }
    const ratios = b.map((x, i) => x / a[i]);
    const f = (x: number) => Math.round(x).toString();
    process.stdout.write(
      `| ${scenario} | ${base} | ${f(median(a))} | ${f(median(b))} | ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ${f(median(rates))} | ${Math.round(median(busy) * 100)} % |\n`,
    );
  }
  process.getBuiltinModule('node:fs').rmSync(dir, { recursive: true, force: true });
}

if (values.role === 'server') await serve(values.server as Server);
else if (values.role === 'load')
  await load(
    values.scenario as Scenario,
    values.server as Server,
    Number(values.port),
    Number(values.ms),
  );
else await drive();
