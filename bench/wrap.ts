// What acceptProxyProtocol costs a Node server: the same server wrapped and unwrapped, side by
// side in each round, in three scenarios.
//
//   node bench/wrap.ts [--rounds N] [--seconds S] [--generators N] [--server-cpu C] [--load-cpu C]
//
// - keepalive: 32 keep-alive connections, one GET after another (the header once per
//   connection): requests/s;
// - setup: 16 clients each connect, send the header with a GET (Connection: close), read the
//   answer, close, and again: connections/s and the server's CPU per connection (/proc/PID/stat);
// - tls: 8 clients each connect, send the header, do a full TLS handshake (ECDSA P-256) and
//   close: handshakes/s and the server's CPU per handshake.
// The server (node:http, or node:tls) runs on --server-cpu and the load generators on --load-cpu
// (taskset -c); a generator's own CPU is reported: over 90 % busy, a figure is the generator's.
// The order of the two variants alternates by round. Bounded: at most 20 rounds of 10 s each.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { acceptProxyProtocol } from '../src/wrap/index.ts';
import { selfSigned } from '../test/helpers/certificate.ts';
import { firstLine, median, pinned } from './children.ts';
import { cpuSeconds } from './proc-stat.ts';

const SCENARIOS = ['keepalive', 'setup', 'tls'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'driver' },
    scenario: { type: 'string', default: '' },
    wrapped: { type: 'string', default: '0' },
    port: { type: 'string', default: '0' },
    ms: { type: 'string', default: '0' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '2' },
    generators: { type: 'string', default: '1' },
    'server-cpu': { type: 'string', default: '0' },
    'load-cpu': { type: 'string', default: '1' },
  },
});

const HEADER = 'PROXY TCP4 203.0.113.7 10.0.0.5 51000 80\r\n';
const GET = 'GET / HTTP/1.1\r\nHost: bench\r\n\r\n';
const GET_CLOSE = 'GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n';
const CONCURRENCY: Record<Scenario, number> = { keepalive: 32, setup: 16, tls: 8 };

// ---- server role: one server, wrapped or not; prints its port.
function serve(scenario: Scenario, wrapped: boolean): void {
  const server: net.Server =
    scenario === 'tls'
      ? tls.createServer(selfSigned(), (socket) => {
          socket.on('error', () => {});
          socket.end();
        })
      : http.createServer((_req, res) => res.end('ok'));
  server.on('error', () => {});
  if (wrapped) acceptProxyProtocol(server);
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`);
  });
}

// ---- load role: CONCURRENCY clients for `ms`; prints {count, cpu} (its own CPU, seconds).
interface LoadResult {
  readonly count: number;
  readonly cpu: number;
}

async function load(scenario: Scenario, port: number, wrapped: boolean, ms: number) {
  const started = process.cpuUsage();
  const deadline = Date.now() + ms;
  const header = wrapped ? HEADER : '';
  const client = { keepalive: keepAliveClient, setup: setupClient, tls: tlsClient }[scenario];
  const counts = await Promise.all(
    Array.from({ length: CONCURRENCY[scenario] }, () => client(port, header, deadline)),
  );
  const used = process.cpuUsage(started);
  const result: LoadResult = {
    count: counts.reduce((a, b) => a + b, 0),
    cpu: (used.user + used.system) / 1e6,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** One connection, one GET after another until the deadline: responses counted. */
function keepAliveClient(port: number, header: string, deadline: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    let count = 0;
    let text = '';
    let length = 0; // one response's length, learnt from the first (node:http's are all alike)
    let pending = 0;
    socket.on('connect', () => socket.write(header + GET));
    socket.on('data', (chunk: Buffer) => {
      if (length === 0) {
        text += chunk.toString('latin1');
        if (!text.includes('\r\n\r\nok')) return;
        length = text.length;
      } else {
        pending += chunk.length;
        if (pending < length) return;
        pending -= length;
      }
      count++;
      if (Date.now() < deadline) socket.write(GET);
      else socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => resolve(count));
  });
}

/** Connect, header and GET in one write, the answer, close; again until the deadline. */
async function setupClient(port: number, header: string, deadline: number): Promise<number> {
  let count = 0;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
      let answered = false;
      socket.on('connect', () => socket.write(header + GET_CLOSE));
      socket.on('data', () => (answered = true));
      socket.on('error', () => {});
      socket.on('close', () => resolve(answered));
    });
    if (ok) count++;
  }
  return count;
}

/** Connect, header, a full TLS handshake, close; again until the deadline. */
async function tlsClient(port: number, header: string, deadline: number): Promise<number> {
  let count = 0;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const raw = net.connect({ port, host: '127.0.0.1', noDelay: true });
      raw.on('error', () => {});
      raw.on('connect', () => {
        if (header !== '') raw.write(header);
        const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
        secure.on('secureConnect', () => {
          secure.destroy();
          resolve(true);
        });
        secure.on('error', () => resolve(false));
      });
      raw.on('close', () => resolve(false));
    });
    if (ok) count++;
  }
  return count;
}

// ---- driver: rounds of both variants, side by side.
const self = new URL(import.meta.url).pathname;
const pinnedHere = (cpu: string, args: string[]) => pinned(self, cpu, args);

interface Measured {
  /** Operations per second. */
  readonly rate: number;
  /** Server CPU per operation, µs. */
  readonly serverUs: number;
  /** The busiest generator's CPU over the run, as a share of one core. */
  readonly loadBusy: number;
}

async function measure(scenario: Scenario, wrapped: boolean, seconds: number, generators: number) {
  const server = pinnedHere(values['server-cpu'], [
    '--role',
    'server',
    '--scenario',
    scenario,
    '--wrapped',
    wrapped ? '1' : '0',
  ]);
  try {
    const port = await firstLine(server, 'server');
    const run = async (ms: number) => {
      const loads = Array.from({ length: generators }, () =>
        pinnedHere(values['load-cpu'], [
          '--role',
          'load',
          '--scenario',
          scenario,
          '--port',
          port,
          '--wrapped',
          wrapped ? '1' : '0',
          '--ms',
          String(ms),
        ]),
      );
      return Promise.all(
        loads.map(async (l) => JSON.parse(await firstLine(l, 'load')) as LoadResult),
      );
    };
    await run(300); // warm-up: JIT and TLS contexts, not measured
    const cpuBefore = cpuSeconds(server.pid!);
    const started = performance.now();
    const results = await run(seconds * 1000);
    const elapsed = (performance.now() - started) / 1000;
    const serverCpu = cpuSeconds(server.pid!) - cpuBefore;
    const count = results.reduce((a, r) => a + r.count, 0);
    const measured: Measured = {
      rate: count / elapsed,
      serverUs: (serverCpu / count) * 1e6,
      loadBusy: Math.max(...results.map((r) => r.cpu / elapsed)),
    };
    return measured;
  } finally {
    server.kill();
  }
}

const fixed = (x: number, digits: number) => x.toFixed(digits);

async function drive(): Promise<void> {
  const rounds = Math.min(20, Math.max(1, Number(values.rounds)));
  const seconds = Math.min(10, Math.max(0.5, Number(values.seconds)));
  const generators = Math.min(4, Math.max(1, Number(values.generators)));
  process.stdout.write(
    `bench:wrap: ${rounds} rounds of ${seconds} s per variant, server on cpu ${values['server-cpu']}, ${generators} generator(s) on cpu ${values['load-cpu']}, Node ${process.version}\n\n`,
  );
  process.stdout.write(
    '| scenario | unwrapped /s | wrapped /s | ratio (median, min–max) | server µs/op unwrapped | wrapped | ratio (median, min–max) | generator busy (max) |\n',
  );
  process.stdout.write('| --- | --- | --- | --- | --- | --- | --- | --- |\n');
  for (const scenario of SCENARIOS) {
    const plain: Measured[] = [];
    const wrapped: Measured[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so a drift in the machine's load favours neither.
      for (const isWrapped of round % 2 === 0 ? [false, true] : [true, false])
        (isWrapped ? wrapped : plain).push(await measure(scenario, isWrapped, seconds, generators));
    }
    const rateRatios = wrapped.map((w, i) => w.rate / plain[i].rate);
    const cpuRatios = wrapped.map((w, i) => w.serverUs / plain[i].serverUs);
    const busy = Math.max(...plain.map((m) => m.loadBusy), ...wrapped.map((m) => m.loadBusy));
    process.stdout.write(
      `| ${scenario} | ${fixed(median(plain.map((m) => m.rate)), 0)} | ${fixed(median(wrapped.map((m) => m.rate)), 0)} | ` +
        `${fixed(median(rateRatios), 3)} (${fixed(Math.min(...rateRatios), 3)}–${fixed(Math.max(...rateRatios), 3)}) | ` +
        `${fixed(median(plain.map((m) => m.serverUs)), 1)} | ${fixed(median(wrapped.map((m) => m.serverUs)), 1)} | ` +
        `${fixed(median(cpuRatios), 3)} (${fixed(Math.min(...cpuRatios), 3)}–${fixed(Math.max(...cpuRatios), 3)}) | ` +
        `${fixed(busy * 100, 0)} %${busy > 0.9 ? ' (generator-bound)' : ''} |\n`,
    );
  }
}

const scenario = values.scenario as Scenario;
if (values.role === 'server') serve(scenario, values.wrapped === '1');
else if (values.role === 'load')
  await load(
    scenario,
    Number(values.port),
    values.wrapped === '1',
    Math.min(10_000, Number(values.ms)),
  );
else await drive();
