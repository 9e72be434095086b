// The server under test: in this process, a child process (our CLI, a baseline), or a target
// someone else runs. For processes we start, memory and CPU come from /proc, summed over the
// process and its children (cluster workers).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { createEchoServer } from '../server/server.ts';

export interface ServerHandle {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** The process whose tree is measured, or null for a remote target. */
  readonly pid: number | null;
  /** Resident memory in bytes of the server's processes, or null when not measurable. */
  rss(): number | null;
  /** CPU time used so far by the server's processes in microseconds, or null. */
  cpuMicros(): number | null;
  stop(): Promise<void>;
}

/** Our server on this process's event loop (the generator then normally runs in child processes), silent. */
export async function startInProcess(limits: {
  maxConnections: number;
  maxLine: number;
}): Promise<ServerHandle> {
  const echo = createEchoServer(limits);
  const { port } = await echo.listen({ port: 0, host: '127.0.0.1' });
  return {
    name: 'ours (in-process)',
    host: '127.0.0.1',
    port,
    pid: process.pid,
    rss: () => process.memoryUsage.rss(),
    cpuMicros: () => {
      const used = process.cpuUsage();
      return used.user + used.system;
    },
    stop: () => echo.close(0),
  };
}

export function remoteTarget(host: string, port: number): ServerHandle {
  return {
    name: `${host}:${port}`,
    host,
    port,
    pid: null,
    rss: () => null,
    cpuMicros: () => null,
    stop: async () => {},
  };
}

// Server processes started here and still running: killed if the bench itself exits first
// (an error, or a signal handled by the CLI's bench command), so none is left behind.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A port the kernel just handed out on 127.0.0.1 (free a moment ago: the server started next binds it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ port: 0, host: '127.0.0.1' }, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts `argv` plus `--port N` (a free loopback port), pinned to `cpus` with taskset when given,
 * and resolves once the port accepts connections. (Waiting for a connection rather than a
 * "listening" line lets our server run with its logging at warn.) Fails after `timeoutMs`, or
 * if the process exits first. With `stdoutFile`, the server's stdout goes to that file instead of
 * a pipe this process reads: a server logging per connection then costs this process nothing.
 */
export async function startCommand(
  name: string,
  argv: readonly string[],
  cpus: string | undefined,
  timeoutMs = 15_000,
  stdoutFile?: string,
): Promise<ServerHandle> {
  const port = await freePort();
  const taskset = cpus === undefined ? [] : ['taskset', '-c', cpus];
  const server = spawnServer([...taskset, ...argv, '--port', String(port)], stdoutFile);
  const why = await whyNotListening(server, port, timeoutMs);
  if (why !== undefined) {
    server.child.kill('SIGKILL');
    throw new Error(`${name}: ${why}; its output:\n${server.output().trim()}`);
  }
  return childHandle(name, port, server.child);
}

interface SpawnedServer {
  readonly child: ChildProcess;
  /** The last 4 KiB the server wrote to the pipes this process reads. */
  output(): string;
  exited(): boolean;
}

/** Starts the server process, registered in `running`, reading its output so it never blocks. */
function spawnServer(command: readonly string[], stdoutFile: string | undefined): SpawnedServer {
  const [file, ...args] = command;
  const logFd = stdoutFile === undefined ? undefined : openSync(stdoutFile, 'w');
  const child = spawn(file!, args, { stdio: ['ignore', logFd ?? 'pipe', 'pipe'] });
  if (logFd !== undefined) closeSync(logFd);
  running.add(child);
  let exited = false;
  child.once('exit', () => {
    running.delete(child);
    exited = true;
  });
  let output = '';
  // Keep reading (a server that logs per connection must never block on a full pipe), keep only the tail.
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4096);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output, exited: () => exited };
}

/** Undefined once `port` accepts a connection; otherwise why it never did (spawn failed, exited, too slow). */
async function whyNotListening(
  server: SpawnedServer,
  port: number,
  timeoutMs: number,
): Promise<string | undefined> {
  const { child } = server;
  const spawned = await new Promise<Error | null>((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', resolve);
  });
  if (spawned !== null) return spawned.message;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await accepts(port)) return undefined;
    if (server.exited()) return `exited (${child.exitCode ?? child.signalCode}) before listening`;
    if (performance.now() > deadline)
      return `not accepting connections on port ${port} within ${timeoutMs} ms`;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The handle of a listening child: /proc figures over its tree; stop is SIGTERM, SIGKILL after 5 s. */
function childHandle(name: string, port: number, child: ChildProcess): ServerHandle {
  const pid = child.pid!;
  return {
    name,
    host: '127.0.0.1',
    port,
    pid,
    rss: () => sumOverTree(pid, rssOf),
    cpuMicros: () => sumOverTree(pid, cpuOf),
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Sum of `measure` over a process and all its descendants (null if the process is gone). */
function sumOverTree(pid: number, measure: (pid: number) => number | null): number | null {
  const own = measure(pid);
  if (own === null) return null;
  let total = own;
  for (const child of childrenOf(pid)) total += sumOverTree(child, measure) ?? 0;
  return total;
}

function childrenOf(pid: number): number[] {
  const found: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (list !== '') for (const child of list.split(' ')) found.push(Number(child));
    }
  } catch {
    // The process ended while we looked: it has no children left to count.
  }
  return found;
}

/** VmRSS of one process in bytes, from /proc/PID/status. */
function rssOf(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

/** User + system CPU time of one process in microseconds, from /proc/PID/stat (clock ticks of 10 ms). */
function cpuOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}
