// HTTP on the echo port under clients that pipeline requests and never read their answers: the
// server's RSS during and after, its info log lines, and a control client's echo round trips.
//
//   node bench/http-flood.ts [--clients N] [--seconds N] [--tlv BYTES] [--cpus LIST]
//
// Each client sends a PROXY v2 header (with an authority TLV of --tlv bytes of 0x01, 0: none;
// the default 4000 keeps the header within the default --max-header-size of 4096),
// then writes `GET / HTTP/1.1` requests as fast as the socket takes them, never reading, for
// --seconds. Meanwhile a control client (its own header) sends one line at a time and times the
// echo. The server (src/cli.ts on loopback, on core 0 or --cpus via `taskset -c`) logs at info
// in text to a pipe this script counts. Run this script on another core (`taskset -c 1 …`).
// Bounded: at most 200 clients and 60 s; every wait has a time limit.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { buildProxyHeader, TLV_TYPE } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '60' },
    seconds: { type: 'string', default: '10' },
    tlv: { type: 'string', default: '4000' },
    cpus: { type: 'string', default: '0' },
  },
});
const clients = Math.min(200, Number(values.clients));
const seconds = Math.min(60, Number(values.seconds));
const tlvBytes = Math.min(60_000, Number(values.tlv));
const SETTLE_MS = 2000;
const REQUESTS = Buffer.from('GET / HTTP/1.1\r\n\r\n'.repeat(1000));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Number(line?.[1] ?? Number.NaN) / 1024;
}

function header(port: number): Buffer {
  return Buffer.from(
    buildProxyHeader({
      version: 2,
      command: 'proxy',
      protocol: 'TCP4',
      source: { address: '203.0.113.9', port },
      destination: { address: '10.0.0.5', port: 5000 },
      tlvs:
        tlvBytes === 0
          ? []
          : [{ type: TLV_TYPE.AUTHORITY, value: new Uint8Array(tlvBytes).fill(1) }],
    }),
  );
}

interface Server {
  readonly child: ChildProcess;
  readonly port: number;
  /** Info lines logged so far, by message. */
  readonly lines: Map<string, number>;
}

function startServer(): Promise<Server> {
  const args = ['src/cli.ts', '--port', '0', '--host', '127.0.0.1', '--log-format', 'text'];
  const child = spawn('taskset', ['-c', values.cpus, process.execPath, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = new Map<string, number>();
  let rest = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = rest + chunk.toString('latin1');
      const all = text.split('\n');
      rest = all.pop() ?? '';
      for (const line of all) {
        const msg = /^\S+ (\w+) +(\S+)/.exec(line);
        if (msg !== null) lines.set(msg[2], (lines.get(msg[2]) ?? 0) + 1);
        const port = /listening on port (\d+)/.exec(line);
        if (port !== null) {
          clearTimeout(timer);
          resolve({ child, port: Number(port[1]), lines });
        }
      }
    });
  });
}

/** A client that writes requests whenever the socket takes them, and never reads. */
function flooder(port: number, id: number, until: number): net.Socket {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  socket.pause();
  const pump = () => {
    while (Date.now() < until && socket.writable && socket.write(REQUESTS));
  };
  socket.once('connect', () => {
    socket.write(header(40_000 + id));
    pump();
  });
  socket.on('drain', pump);
  return socket;
}

/** The control client: one line, its echo timed, again until `until`. Round trips in ms. */
async function control(port: number, until: number): Promise<number[]> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  socket.write(header(39_999));
  const times: number[] = [];
  let waiting: (() => void) | null = null;
  let got = 0;
  socket.on('data', (chunk: Buffer) => {
    got += chunk.length;
    if (got >= 6) {
      got -= 6;
      waiting?.();
    }
  });
  while (Date.now() < until && !socket.destroyed) {
    const start = performance.now();
    const echoed = new Promise<void>((r) => {
      waiting = r;
    });
    socket.write('ping\r\n');
    await Promise.race([echoed, sleep(5000)]);
    times.push(performance.now() - start);
    await sleep(20);
  }
  socket.destroy();
  return times;
}

const server = await startServer();
const pid = server.child.pid!;
try {
  await sleep(500);
  const before = rssMb(pid);
  const until = Date.now() + seconds * 1000;
  const sockets = Array.from({ length: clients }, (_, i) => flooder(server.port, i, until));
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 100);
  const times = await control(server.port, until);
  for (const socket of sockets) socket.destroy();
  await sleep(SETTLE_MS);
  clearInterval(sampler);
  const after = rssMb(pid);
  times.sort((a, b) => a - b);
  const info = Object.fromEntries(server.lines);
  console.log(
    JSON.stringify({
      clients,
      seconds,
      tlvBytes,
      rssMb: { before: +before.toFixed(1), peak: +peak.toFixed(1), after: +after.toFixed(1) },
      control: {
        roundTrips: times.length,
        medianMs: +times[Math.floor(times.length / 2)].toFixed(2),
        worstMs: +times[times.length - 1].toFixed(1),
      },
      logLines: info,
      perClient: +(((info.http ?? 0) + (info.close ?? 0)) / clients).toFixed(1),
    }),
  );
} finally {
  server.child.kill('SIGKILL');
}
