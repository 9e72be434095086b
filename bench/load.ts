// The C load generator (bench/baselines/epoll-load.c) as the comparison drives it: build the C
// programs, run one scenario against a started server, and read the server's CPU from /proc over
// exactly the generator's measured window (it prints a line when the window opens).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ServerHandle } from '../src/loadgen/for-benchmarks.ts';

export type LoadScenario = 'pingpong' | 'connect' | 'hold';

/** What epoll-load prints when its window closes (see report() in epoll-load.c). */
export interface LoadReport {
  readonly scenario: LoadScenario;
  readonly clients: number;
  readonly up: number;
  readonly seconds: number;
  readonly lines: number;
  readonly linesPerSecond: number;
  readonly connections: number;
  readonly connectionsPerSecond: number;
  readonly latencyUs: { p50: number; p90: number; p99: number; max: number; samples: number };
  readonly trickle: {
    p50Us: number;
    p99Us: number;
    maxUs: number;
    answered: number;
    timeouts: number;
    pending: number;
  };
  /** The generator's own CPU over the window, as a share of one core. */
  readonly generatorBusy: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly wrongEchoes: number;
}

export interface LoadResult extends LoadReport {
  /** Server CPU over the window as a share of one core, or null when not measurable. */
  readonly serverBusy: number | null;
  /** Server CPU µs per echoed line (pingpong) or per connection (connect), or null. */
  readonly serverMicrosPerUnit: number | null;
}

export interface LoadPlan {
  readonly scenario: LoadScenario;
  readonly clients: number;
  readonly durationMs: number;
  readonly lineBytes: number;
  /** New clients per second, timed from connect to first echo (pingpong). */
  readonly trickle?: number;
  /** Global number of the first client (distinct headers across generators). */
  readonly firstIndex?: number;
  /** How long a client may wait for the server before it counts as a timeout (default 5 s). */
  readonly timeoutMs?: number;
  /** taskset CPU list, or undefined for no pinning. */
  readonly cpus: string | undefined;
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Builds bench/baselines/NAME.c into `dir`; null (and nothing built) when there is no gcc. */
export function compileC(dir: string, name: string): string | null {
  if (spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  const binary = join(dir, name);
  execFileSync('gcc', ['-O2', '-o', binary, here(`./baselines/${name}.c`)]);
  return binary;
}

function loadArgs(plan: LoadPlan, server: ServerHandle): string[] {
  const args = [
    ...['--host', server.host, '--port', String(server.port), '--scenario', plan.scenario],
    ...['--clients', String(plan.clients), '--line-bytes', String(plan.lineBytes)],
    ...['--duration-ms', String(plan.durationMs), '--first-index', String(plan.firstIndex ?? 0)],
    ...['--trickle', String(plan.trickle ?? 0), '--timeout-ms', String(plan.timeoutMs ?? 5000)],
  ];
  return args;
}

/** A running generator: `measuring` resolves when its window opens, `done` with its report. */
export interface LoadProcess {
  readonly measuring: Promise<void>;
  readonly done: Promise<LoadReport>;
  /** Closes the window now (SIGTERM): the generator reports and exits. */
  stop(): void;
}

export function startLoad(binary: string, plan: LoadPlan, server: ServerHandle): LoadProcess {
  const argv = [binary, ...loadArgs(plan, server)];
  const [file, ...args] = plan.cpus === undefined ? argv : ['taskset', '-c', plan.cpus, ...argv];
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  let opened: () => void = () => {};
  const measuring = new Promise<void>((resolve) => (opened = resolve));
  const done = new Promise<LoadReport>((resolve, reject) => {
    let report: LoadReport | undefined;
    lines.on('line', (line) => {
      const message = JSON.parse(line) as { phase: string } & LoadReport;
      if (message.phase === 'measure') opened();
      else report = message;
    });
    child.once('error', reject);
    child.once('close', (code) =>
      report === undefined
        ? reject(new Error(`epoll-load exited (${code}) without a report`))
        : resolve(report),
    );
  });
  // A generator that dies before its window opens must not leave `measuring` waiting forever.
  void done.catch(() => {}).finally(opened);
  return { measuring, done, stop: () => void child.kill('SIGTERM') };
}

/** One scenario with the server's CPU taken over the generator's window. */
export async function runLoad(
  binary: string,
  plan: LoadPlan,
  server: ServerHandle,
): Promise<LoadResult> {
  const load = startLoad(binary, plan, server);
  await load.measuring;
  const before = server.cpuMicros();
  const report = await load.done;
  const after = server.cpuMicros();
  const used = before === null || after === null ? null : after - before;
  const units = plan.scenario === 'connect' ? report.connections : report.lines;
  return {
    ...report,
    serverBusy: used === null ? null : used / 1e6 / report.seconds,
    serverMicrosPerUnit: used === null || units === 0 ? null : used / units,
  };
}
