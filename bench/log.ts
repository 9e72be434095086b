// npm run bench:log — what one log line costs the server: CPU nanoseconds per line and write
// system calls per line, for text and JSON lines, with stdout a pipe and a file.
//
// Each case runs in a child process whose stdout is the destination, as the server's is. The
// child logs the two lines of a connection (open, close) once per event-loop turn, as a server
// under connection churn does, and measures its own CPU (every thread, so work handed to
// Node's thread pool counts) and its write calls (/proc/self/io syscw) until the sink has
// flushed. The same loop without logging is measured alongside and subtracted. Before timing,
// each case checks that every line arrived whole and in order.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, FdSink, type LogFormat, type Logger, silentLogger } from '../src/log.ts';

const LINES = Number(process.env.BENCH_LOG_LINES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_LOG_ROUNDS ?? 5);
const WARM_UP = 4000;

interface Sample {
  readonly cpuNs: number;
  readonly writes: number;
}

function writeCalls(): number {
  return Number(/^syscw: (\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);
}

/** The lines of `count` connections, two per event-loop turn; resolves after `settle`. */
async function churn(log: Logger, count: number, settle: () => Promise<void>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const writes = writeCalls();
  for (let i = 0; i < count; i++) {
    log.info('open', {
      client: '54.222.152.163:45418',
      via: '10.0.11.239:36921',
      to: '10.0.11.20:5000',
      header: 'v2',
    });
    log.info('close', { client: '54.222.152.163:45418', reason: 'quit', lines: 3, bytes: 48 });
    await new Promise<void>(setImmediate);
  }
  await settle();
  const used = process.cpuUsage(cpu);
  return { cpuNs: (used.user + used.system) * 1000, writes: writeCalls() - writes };
}

async function child(format: LogFormat): Promise<void> {
  const sink = new FdSink(1);
  const log = createLogger({ format, sink });
  const results: Array<{ ns: number; writes: number }> = [];
  await churn(log, WARM_UP / 2, () => sink.flush());
  for (let round = 0; round < ROUNDS; round++) {
    const idle = await churn(silentLogger, LINES / 2, async () => {});
    const busy = await churn(log, LINES / 2, () => sink.flush());
    results.push({ ns: (busy.cpuNs - idle.cpuNs) / LINES, writes: busy.writes / LINES });
  }
  process.send?.({ results, dropped: sink.dropped } satisfies ChildReport);
}

interface ChildReport {
  readonly results: Array<{ ns: number; writes: number }>;
  /** Lines the sink dropped because the reader did not keep up. */
  readonly dropped: number;
}

interface CaseResult {
  readonly ns: number[];
  readonly writes: number[];
  readonly dropped: number;
  readonly problem: string | null;
}

/** Runs one case in a child whose stdout is a pipe (drained here) or a file. */
async function runCase(format: LogFormat, to: 'pipe' | 'file'): Promise<CaseResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-log-'));
  const file = join(dir, 'out');
  const fd = to === 'file' ? openSync(file, 'w') : null;
  try {
    const args = [process.execPath, import.meta.filename, '--child', format];
    const [cmd, ...rest] = PINNED ? ['taskset', '-c', '0', ...args] : args;
    const proc = spawn(cmd, rest, {
      stdio: ['ignore', fd ?? 'pipe', 'inherit', 'ipc'],
    });
    let lines = 0;
    let tail = '';
    let bad = 0;
    const count = (line: string) => {
      if (!wellFormed(line, format)) bad++;
      else if (!line.startsWith('log: ')) lines++;
    };
    // Kept and checked after the run, so this reader always keeps up with the child.
    const chunks: Buffer[] = [];
    proc.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    let report: ChildReport = { results: [], dropped: 0 };
    proc.on('message', (message) => (report = message as ChildReport));
    await new Promise((resolve) => proc.on('close', resolve));
    if (fd !== null) closeSync(fd);
    const output =
      fd === null ? Buffer.concat(chunks).toString('utf8') : readFileSync(file, 'utf8');
    const all = output.split('\n');
    tail = all.pop() ?? '';
    for (const line of all) count(line);
    const expected = WARM_UP + LINES * ROUNDS;
    const { results, dropped } = report;
    const problem =
      bad > 0 || tail !== '' || lines + dropped !== expected
        ? `${lines} lines and ${dropped} dropped of ${expected}, ${bad} malformed`
        : null;
    return {
      ns: results.map((r) => r.ns),
      writes: results.map((r) => r.writes),
      dropped,
      problem,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TEXT = /^(\S+ )?info {2}(open|close) client=54\.222\.152\.163:45418 \S.*[^ ]$/;
const JSON_LINE =
  /^\{"time":"[-0-9T:.Z]+","level":"info","msg":"(open|close)","client":"54\.222\.152\.163:45418",.*\}$/;
const NOTICE = /^log: \d+ lines dropped because the log output was not keeping up$/;

/** A whole open or close line (or the sink's notice of dropped lines), checked cheaply. */
function wellFormed(line: string, format: LogFormat): boolean {
  return (format === 'json' ? JSON_LINE : TEXT).test(line) || NOTICE.test(line);
}

function spread(values: number[], digits: number): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return `${median.toFixed(digits)} (${sorted[0].toFixed(digits)}–${sorted.at(-1)?.toFixed(digits)})`;
}

/**
 * With two cores or more and taskset, the logging child runs on core 0 and this process, the
 * pipe's reader, on core 1, so the reader keeps up and does not steal the child's core.
 */
function pinReader(): boolean {
  if (availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let PINNED = false;

async function main(): Promise<void> {
  PINNED = pinReader();
  process.stdout.write(
    `bench:log — ${LINES} lines per round (two per event-loop turn), ${ROUNDS} rounds; median (min–max)${PINNED ? '; logging on core 0, reading on core 1' : ''}\n` +
      'format  stdout  CPU ns per line        write calls per line   dropped\n',
  );
  let failed = false;
  for (const format of ['text', 'json'] as const)
    for (const to of ['pipe', 'file'] as const) {
      const r = await runCase(format, to);
      const figures =
        r.problem === null
          ? `${spread(r.ns, 0).padEnd(22)} ${spread(r.writes, 3).padEnd(22)} ${r.dropped}`
          : `not timed: ${r.problem}`;
      failed ||= r.problem !== null;
      process.stdout.write(`${format.padEnd(7)} ${to.padEnd(7)} ${figures}\n`);
    }
  if (failed) process.exitCode = 1;
}

if (process.argv[2] === '--child') await child(process.argv[3] as LogFormat);
else await main();
