// What acceptProxyProtocol costs a Node server: the same server wrapped and unwrapped, side by
// side in each round, in three scenarios; in the setup scenario also wrapped by proxywrap
// (findhit-proxywrap, pinned in bench/package.json and installed on first use; v1 only).
//
//   node bench/wrap.ts [--rounds N] [--seconds S] [--generators N] [--server-cpu C] [--load-cpu C]
//                      [--scenarios keepalive,setup,tls] [--no-proxywrap]
//
// - keepalive: 32 keep-alive connections, one GET after another (the header once per
//   connection): requests/s;
// - setup: 32 clients each connect, send the header with a GET (Connection: close), read the
//   answer, close, and again: connections/s and the server's CPU per connection. The clients are
//   bench/baselines/http-setup-load.c (built with gcc into a temporary folder), so that the
//   server is the busy side; without gcc, 16 clients of this script's own;
// - tls: 8 clients each connect, send the header, do a full TLS handshake (ECDSA P-256) and
//   close: handshakes/s and the server's CPU per handshake.
// The server's CPU is its threads' (/proc/PID/task/TID/schedstat).
// The server (node:http, or node:tls) runs on --server-cpu and the load generators on --load-cpu
// (taskset -c); a generator's own CPU is reported: over 90 % busy, a figure is the generator's.
// The order of the variants rotates by round. Each server is checked before it is timed: one
// request must come back naming the client the header gave (or the peer, unwrapped).
// Bounded: at most 20 rounds of 10 s each.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { acceptProxyProtocol } from '../src/wrap/index.ts';
import { selfSigned } from '../test/helpers/certificate.ts';
import { firstLine, median, pinned, pinnedCommand } from './children.ts';
import { benchLibraries } from './libraries.ts';
import { compileC } from './load.ts';
import { cpuSecondsFine } from './proc-stat.ts';

const SCENARIOS = ['keepalive', 'setup', 'tls'] as const;
type Scenario = (typeof SCENARIOS)[number];
/** Unwrapped, acceptProxyProtocol, proxywrap. */
const VARIANTS = ['plain', 'ours', 'proxywrap'] as const;
type Variant = (typeof VARIANTS)[number];
const PROXYWRAP = 'findhit-proxywrap';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'driver' },
    scenario: { type: 'string', default: '' },
    variant: { type: 'string', default: 'plain' },
    port: { type: 'string', default: '0' },
    ms: { type: 'string', default: '0' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '2' },
    generators: { type: 'string', default: '1' },
    'server-cpu': { type: 'string', default: '0' },
    'load-cpu': { type: 'string', default: '1' },
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    proxywrap: { type: 'boolean', default: true },
  },
  allowNegative: true,
});

const HEADER = 'PROXY TCP4 203.0.113.7 10.0.0.5 51000 80\r\n';
const GET = 'GET / HTTP/1.1\r\nHost: bench\r\n\r\n';
const GET_CLOSE = 'GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n';
const CONCURRENCY: Record<Scenario, number> = { keepalive: 32, setup: 16, tls: 8 };

// ---- server role: one server, as `variant` has it; prints its port. Its HTTP answer is the
// client it saw.
function serve(scenario: Scenario, variant: Variant): void {
  const answer = (req: http.IncomingMessage, res: http.ServerResponse) =>
    res.end(req.socket.remoteAddress);
  const server: net.Server =
    scenario === 'tls'
      ? tls.createServer(selfSigned(), (socket) => {
          socket.on('error', () => {});
          socket.end();
        })
      : variant === 'proxywrap'
        ? benchLibraries('bench:wrap', [PROXYWRAP])(PROXYWRAP).proxy(http).createServer(answer)
        : http.createServer(answer);
  server.on('error', () => {});
  if (variant === 'ours') acceptProxyProtocol(server);
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`);
  });
}

// ---- load role: CONCURRENCY clients for `ms`; prints {count, cpu} (its own CPU, seconds).
interface LoadResult {
  readonly count: number;
  readonly cpu: number;
}

async function load(scenario: Scenario, port: number, variant: Variant, ms: number) {
  const started = process.cpuUsage();
  const deadline = Date.now() + ms;
  const header = variant === 'plain' ? '' : HEADER;
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
        length = responseLength(text);
        if (length === 0 || text.length < length) return;
        pending = text.length - length;
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

/** The length of the response at the start of `text` once its head is in, else 0. */
function responseLength(text: string): number {
  const end = text.indexOf('\r\n\r\n');
  const declared = /content-length: *(\d+)/i.exec(text);
  return end === -1 || declared === null ? 0 : end + 4 + Number(declared[1]);
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

// ---- driver: rounds of every variant, side by side.
const self = new URL(import.meta.url).pathname;

/** The C client for the setup scenario, built by drive(); null: none (no gcc). */
let setupLoad: string | null = null;
const SETUP_CLIENTS_C = 32;

/** One generator for `ms`; its first line is a LoadResult. */
function generator(scenario: Scenario, variant: Variant, port: string, ms: number): ChildProcess {
  const cpu = values['load-cpu'];
  if (scenario === 'setup' && setupLoad !== null) {
    const args = ['--port', port, '--clients', String(SETUP_CLIENTS_C), '--ms', String(ms)];
    return pinnedCommand(cpu, [
      setupLoad,
      ...(variant === 'plain' ? [...args, '--no-header'] : args),
    ]);
  }
  return pinned(self, cpu, [
    ...['--role', 'load', '--scenario', scenario, '--port', port],
    ...['--variant', variant, '--ms', String(ms)],
  ]);
}

interface Measured {
  /** Operations per second. */
  readonly rate: number;
  /** Server CPU per operation, µs. */
  readonly serverUs: number;
  /** The busiest generator's CPU over the run, as a share of one core. */
  readonly loadBusy: number;
}

/** One request, before timing: its answer must name the client the variant should report. */
function check(port: number, variant: Variant): Promise<void> {
  const expected = variant === 'plain' ? '127.0.0.1' : '203.0.113.7';
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let text = '';
    socket.on('connect', () => socket.write((variant === 'plain' ? '' : HEADER) + GET_CLOSE));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      if (body === expected) resolve();
      else reject(new Error(`${variant}: the server saw ${JSON.stringify(body)}, not ${expected}`));
    });
  });
}

async function measure(scenario: Scenario, variant: Variant, seconds: number, generators: number) {
  const server = pinned(self, values['server-cpu'], [
    ...['--role', 'server', '--scenario', scenario, '--variant', variant],
  ]);
  try {
    const port = await firstLine(server, 'server');
    if (scenario !== 'tls') await check(Number(port), variant);
    const run = async (ms: number) => {
      const loads = Array.from({ length: generators }, () =>
        generator(scenario, variant, port, ms),
      );
      return Promise.all(
        loads.map(async (l) => JSON.parse(await firstLine(l, 'load')) as LoadResult),
      );
    };
    await run(300); // warm-up: JIT and TLS contexts, not measured
    const cpuBefore = cpuSecondsFine(server.pid!);
    const started = performance.now();
    const results = await run(seconds * 1000);
    const elapsed = (performance.now() - started) / 1000;
    const serverCpu = cpuSecondsFine(server.pid!) - cpuBefore;
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
/** The median of `xs` and, in brackets, their range. */
const spread = (xs: number[], digits: number) =>
  `${fixed(median(xs), digits)} (${fixed(Math.min(...xs), digits)}–${fixed(Math.max(...xs), digits)})`;
/** a[i] / b[i]: each round's variants against each other. */
const ratios = (a: number[], b: number[]) => a.map((x, i) => x / b[i]);

const LABEL: Record<Variant, string> = {
  plain: 'unwrapped',
  ours: 'acceptProxyProtocol',
  proxywrap: 'proxywrap',
};

function variantsOf(scenario: Scenario): Variant[] {
  return scenario === 'setup' && values.proxywrap ? [...VARIANTS] : ['plain', 'ours'];
}

function scenariosAsked(): Scenario[] {
  const asked = values.scenarios.split(',');
  const unknown = asked.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`--scenarios: no scenario ${unknown.join(', ')}`);
  return SCENARIOS.filter((name) => asked.includes(name));
}

/** Which clients drive the setup scenario, when it runs. */
function setupLine(scenarios: readonly Scenario[]): string {
  if (!scenarios.includes('setup')) return '';
  return setupLoad === null
    ? 'setup load: this script (no gcc for bench/baselines/http-setup-load.c)\n'
    : `setup load: bench/baselines/http-setup-load.c, ${SETUP_CLIENTS_C} clients\n`;
}

async function drive(): Promise<void> {
  const rounds = Math.min(20, Math.max(1, Number(values.rounds)));
  const seconds = Math.min(10, Math.max(0.5, Number(values.seconds)));
  const generators = Math.min(4, Math.max(1, Number(values.generators)));
  const scenarios = scenariosAsked();
  if (scenarios.includes('setup') && values.proxywrap) benchLibraries('bench:wrap', [PROXYWRAP]);
  if (scenarios.includes('setup')) {
    const work = mkdtempSync(join(tmpdir(), 'bench-wrap-'));
    process.once('exit', () => rmSync(work, { recursive: true, force: true }));
    setupLoad = compileC(work, 'http-setup-load');
  }
  process.stdout.write(
    `bench:wrap: ${rounds} rounds of ${seconds} s per variant, server on cpu ${values['server-cpu']}, ${generators} generator(s) on cpu ${values['load-cpu']}, Node ${process.version}\n` +
      setupLine(scenarios) +
      'medians over the rounds, their range in brackets; ratios are taken within each round\n\n',
  );
  process.stdout.write(
    '| scenario | server | /s | /s ratio to unwrapped | server µs/op | µs/op ratio to unwrapped | generator busy (max) |\n',
  );
  process.stdout.write('| --- | --- | --- | --- | --- | --- | --- |\n');
  for (const scenario of scenarios) {
    const variants = variantsOf(scenario);
    const runs = new Map<Variant, Measured[]>(variants.map((v) => [v, []]));
    for (let round = 0; round < rounds; round++) {
      // Rotate which goes first, so a drift in the machine's load favours none.
      for (let i = 0; i < variants.length; i++) {
        const variant = variants[(round + i) % variants.length];
        runs.get(variant)!.push(await measure(scenario, variant, seconds, generators));
      }
    }
    const rates = (v: Variant) => runs.get(v)!.map((m) => m.rate);
    const cpus = (v: Variant) => runs.get(v)!.map((m) => m.serverUs);
    for (const variant of variants) {
      const busy = Math.max(...runs.get(variant)!.map((m) => m.loadBusy));
      const rateRatio =
        variant === 'plain' ? '–' : spread(ratios(rates(variant), rates('plain')), 3);
      const cpuRatio = variant === 'plain' ? '–' : spread(ratios(cpus(variant), cpus('plain')), 3);
      process.stdout.write(
        `| ${scenario} | ${LABEL[variant]} | ${spread(rates(variant), 0)} | ${rateRatio} | ` +
          `${spread(cpus(variant), 1)} | ${cpuRatio} | ` +
          `${fixed(busy * 100, 0)} %${busy > 0.9 ? ' (generator-bound)' : ''} |\n`,
      );
    }
    if (variants.includes('proxywrap'))
      process.stdout.write(
        `\n${scenario}: acceptProxyProtocol against proxywrap, per round: connections/s ${spread(ratios(rates('ours'), rates('proxywrap')), 2)}×, ` +
          `connections per server CPU second ${spread(ratios(cpus('proxywrap'), cpus('ours')), 2)}×\n\n`,
      );
  }
}

const scenario = values.scenario as Scenario;
const variant = values.variant as Variant;
if (values.role === 'server') serve(scenario, variant);
else if (values.role === 'load')
  await load(scenario, Number(values.port), variant, Math.min(10_000, Number(values.ms)));
else await drive();
