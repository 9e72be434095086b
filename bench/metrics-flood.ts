// The metrics port under clients that pipeline scrapes and never read: the server's RSS before
// and after each round, its CPU per round, and whether it still echoes and answers a scrape.
//
//   node bench/metrics-flood.ts [--clients N] [--rounds N] [--scrapes N] [--cpus LIST]
//
// Each round: N clients each write N scrapes in one go, hold the connection for a second without
// reading, then go. The server (src/cli.ts on loopback, on core 0 or --cpus via `taskset -c`)
// keeps this process's NODE_OPTIONS, so `NODE_OPTIONS=--max-old-space-size=128` caps its heap.
// Run this script on another core (`taskset -c 1 npm run bench:metrics-flood`).
// Bounded: at most 20 rounds, 64 clients, 20,000 scrapes each; every wait has a time limit.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { cpuSeconds } from './proc-stat.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    scrapes: { type: 'string', default: '5000' },
    cpus: { type: 'string', default: '0' },
  },
});
const clients = Math.min(64, Number(values.clients));
const rounds = Math.min(20, Number(values.rounds));
const scrapes = Math.min(20_000, Number(values.scrapes));
const HOLD_MS = 1000;
const SETTLE_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Number(line?.[1] ?? Number.NaN) / 1024;
}

function startServer(): Promise<{ child: ChildProcess; echo: number; metrics: number }> {
  const args = ['src/cli.ts', '--port', '0', '--host', '127.0.0.1', '--proxy-protocol', 'off'];
  const child = spawn(
    'taskset',
    ['-c', values.cpus, process.execPath, ...args, '--metrics-port', '0'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${text}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const echo = /listening on port (\d+)/.exec(text);
      const metrics = /metrics at http:\/\/\S+:(\d+)\/metrics/.exec(text);
      if (echo && metrics) {
        clearTimeout(timer);
        resolve({ child, echo: Number(echo[1]), metrics: Number(metrics[1]) });
      }
    });
  });
}

/** Opens the flooding clients (those past the server's cap are closed at once; that is fine);
 * answers the highest RSS seen while they hold on, sampled every 50 ms. */
async function flood(port: number, pid: number): Promise<number> {
  const sockets = Array.from({ length: clients }, () => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.on('error', () => {});
    socket.pause();
    socket.write('GET /metrics HTTP/1.1\r\n\r\n'.repeat(scrapes));
    return socket;
  });
  let peak = 0;
  for (const until = Date.now() + HOLD_MS; Date.now() < until; await sleep(50))
    peak = Math.max(peak, rssMb(pid));
  for (const socket of sockets) socket.destroy();
  return peak;
}

/** True when a line comes back from the echo port and a scrape from the metrics port. */
async function stillServing(echo: number, metrics: number): Promise<boolean> {
  const echoed = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ port: echo, host: '127.0.0.1' }, () => socket.write('hi\n'));
    const timer = setTimeout(() => resolve(false), 3000);
    socket.on('data', (d) => {
      resolve(d.toString() === 'hi\n');
      socket.destroy();
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => clearTimeout(timer));
  });
  const scraped = await fetch(`http://127.0.0.1:${metrics}/metrics`, {
    signal: AbortSignal.timeout(3000),
  }).then(
    (r) => r.status === 200,
    () => false,
  );
  return echoed && scraped;
}

const { child, echo, metrics } = await startServer();
const pid = child.pid as number;
try {
  await sleep(SETTLE_MS);
  console.log(`node ${process.version}, NODE_OPTIONS=${process.env.NODE_OPTIONS ?? ''}`);
  console.log(`${clients} clients x ${scrapes} pipelined scrapes, ${rounds} rounds`);
  console.log(`start: RSS ${rssMb(pid).toFixed(0)} MB`);
  for (let round = 1; round <= rounds; round++) {
    const cpu = cpuSeconds(pid);
    const peak = await flood(metrics, pid);
    await sleep(SETTLE_MS);
    if (child.exitCode !== null || child.signalCode !== null) {
      console.log(`round ${round}: server died (${child.exitCode ?? child.signalCode})`);
      process.exitCode = 1;
      break;
    }
    const serving = await stillServing(echo, metrics);
    const spent = cpuSeconds(pid) - cpu;
    console.log(
      `round ${round}: RSS peak ${peak.toFixed(0)} MB, after ${rssMb(pid).toFixed(0)} MB, server CPU ${spent.toFixed(2)} s, ` +
        `echo and scrape after: ${serving ? 'yes' : 'NO'}`,
    );
    if (!serving) process.exitCode = 1;
  }
} finally {
  child.kill('SIGKILL');
}
