// Memory a stalled connection keeps: echo (a header and half a line, then silence) against
// HTTP (a header and half a request head, then silence), measured the same way.
//
//   node bench/http-stalled.ts [--clients N] [--cpus LIST] [--server DIR]
//
// For each kind: a fresh server (DIR/src/cli.ts, default this checkout, on core 0 or --cpus via
// `taskset -c`), N/2 connections opened and stalled, RSS read from /proc, N/2 more, RSS again;
// the growth from half to all, per connection added, leaves out what a process pays once.
// Bounded: at most 5,000 connections per kind; every wait has a time limit.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '2000' },
    cpus: { type: 'string', default: '0' },
    server: { type: 'string', default: '.' },
  },
});
const clients = Math.min(5000, Number(values.clients));
const HEADER = 'PROXY TCP4 203.0.113.7 10.0.0.5 51000 5000\r\n';
const KINDS = {
  echo: `${HEADER}hello, this line is not fini`,
  http: `${HEADER}GET / HTTP/1.1\r\nHost: lb.example.com\r\nUser-Agent: stall`,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1]);
}

function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const cli = join(values.server, 'src/cli.ts');
  const args = [cli, '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn'];
  const timeouts = ['--header-timeout', '60', '--idle-timeout', '120'];
  const child = spawn('taskset', ['-c', values.cpus, process.execPath, ...args, ...timeouts], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${text}`)), 10_000);
    const look = (chunk: Buffer) => {
      text += chunk.toString();
      const port = /listening on port (\d+)/.exec(text);
      if (port !== null) {
        clearTimeout(timer);
        resolve({ child, port: Number(port[1]) });
      }
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
  });
}

async function open(port: number, count: number, bytes: string): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.on('error', () => {});
    socket.write(bytes);
    sockets.push(socket);
    if (i % 100 === 99) await sleep(20);
  }
  await sleep(1500);
  return sockets;
}

const results: Record<string, unknown> = {};
for (const [kind, bytes] of Object.entries(KINDS)) {
  const { child, port } = await startServer();
  try {
    await sleep(500);
    const zeroKb = rssKb(child.pid!);
    const half = Math.floor(clients / 2);
    const first = await open(port, half, bytes);
    const halfKb = rssKb(child.pid!);
    const second = await open(port, clients - half, bytes);
    const allKb = rssKb(child.pid!);
    const all = [...first, ...second];
    results[kind] = {
      halfToAll: +((allKb - halfKb) / (clients - half)).toFixed(2),
      fromNone: +((allKb - zeroKb) / clients).toFixed(2),
      // Connections the server had already closed: their memory is not in the figures.
      closed: all.filter((socket) => socket.readableEnded || socket.destroyed).length,
    };
    for (const socket of all) socket.destroy();
  } finally {
    child.kill('SIGKILL');
  }
}
console.log(JSON.stringify({ clients, kibPerConnection: results }));
