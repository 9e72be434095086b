// `npm run bench`: the standard local comparison, in one run on this machine.
//
// Our server (one worker, then --workers auto), a raw Node echo (socket.pipe), a naive Node
// echo (string buffering and split) and, when gcc is present, a C epoll echo (the machine's
// ceiling), each started as a child process on the same Node, each driven through the three
// scenarios by the same generator as `elb-proxy-echo bench`. One-worker servers are pinned to
// CPU 0 and the generator to CPU 1 when taskset is there. Prints one table and the ratios behind
// issue 4's goals; exit status 1 if any echo was wrong or our server saw any error.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChart } from '../src/bench/chart.ts';
import type { Scenario } from '../src/bench/generator.ts';
import { exitStatus, panelsFor, pinning, progressWriter, selfCommand, serverArgs } from '../src/bench/index.ts';
import { errorsText, kib, num, table } from '../src/bench/report.ts';
import { runBench, type RunResult } from '../src/bench/run.ts';
import { startCommand } from '../src/bench/servers.ts';
import { integer, parseOptions, text, UsageError } from '../src/options.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const CLI = here('../src/cli.ts');

const compareOptions = {
  quick: { flag: 'quick', help: 'a short run for CI (fewer clients, about 1.5 s per scenario)', default: false, parse: () => true },
  clients: { flag: 'clients', value: 'N', help: 'clients per run (default 1000; 200 with --quick)', default: 0, parse: integer(1, 16_000) },
  json: { flag: 'json', help: 'print one JSON object instead of the table', default: false, parse: () => true },
  chart: { flag: 'chart', value: 'FILE', help: 'also draw the comparison as an SVG bar chart', default: '', parse: text },
} as const;

interface Contender {
  readonly name: string;
  readonly argv: readonly string[];
  readonly workers: number;
  /** A Node baseline: what issue 4's goals compare with. */
  readonly nodeBaseline: boolean;
  readonly ours: boolean;
}

function compileEpoll(dir: string): string | null {
  if (spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  const binary = join(dir, 'epoll-echo');
  execFileSync('gcc', ['-O2', '-o', binary, here('./baselines/epoll-echo.c')]);
  return binary;
}

async function main(): Promise<number> {
  const { values, positionals } = parseOptions(compareOptions, process.argv.slice(2));
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const quick = values.quick;
  const clients = values.clients || (quick ? 200 : 1000);
  const durationMs = quick ? 1500 : 4000;
  const self = await selfCommand(CLI);
  const pins = pinning();
  const cpus = availableParallelism();
  const work = mkdtempSync(join(tmpdir(), 'bench-'));
  try {
    const epoll = compileEpoll(work);
    const contenders: Contender[] = [
      { name: 'ours, 1 worker', argv: [self.file, ...self.args, ...serverArgs(1, clients)], workers: 1, nodeBaseline: false, ours: true },
      { name: `ours, ${cpus} workers (auto)`, argv: [self.file, ...self.args, ...serverArgs(cpus, clients)], workers: cpus, nodeBaseline: false, ours: true },
      { name: 'raw Node (pipe)', argv: [process.execPath, here('./baselines/raw.ts')], workers: 1, nodeBaseline: true, ours: false },
      { name: 'naive Node (split)', argv: [process.execPath, here('./baselines/naive.ts')], workers: 1, nodeBaseline: true, ours: false },
    ];
    if (epoll !== null) contenders.push({ name: 'C epoll (ceiling)', argv: [epoll], workers: 1, nodeBaseline: false, ours: false });
    const setup = [
      `${clients} clients per run, PROXY v2 headers, 16-byte lines; ${durationMs / 1000} s measured per scenario; hold: a line every ~1 s per client`,
      pins === null ? 'not pinned to CPUs (no taskset or one CPU)' : `one-worker servers pinned to CPU ${pins.server}, the generator to CPU ${pins.generators}; the ${cpus}-worker server is not pinned`,
      'our server runs with --log-level warn (no per-connection log lines); baselines log nothing',
    ];
    if (epoll === null) setup.push('no gcc: the C epoll ceiling is left out');
    const progress = progressWriter();
    const results: { contender: Contender; result: RunResult }[] = [];
    // Hold first, on a fresh process, so its memory figure is not inflated by the busier runs.
    const scenarios: Scenario[] = ['hold', 'pingpong', 'connect'];
    for (const contender of contenders) {
      const pinned = contender.workers === 1 ? pins : null;
      const server = await startCommand(contender.name, contender.argv, pinned?.server);
      try {
        for (const scenario of scenarios) {
          process.stderr.write(`compare: ${contender.name}, ${scenario}\n`);
          const result = await runBench(
            {
              scenario,
              clients,
              durationMs,
              lineBytes: 16,
              thinkMs: scenario === 'hold' ? 1000 : 0,
              header: 'v2',
              timeoutMs: 10_000,
              procs: 1,
              generatorCpus: pinned?.generators,
              self,
              progress: values.json ? undefined : progress,
            },
            server,
          );
          results.push({ contender, result });
        }
      } finally {
        await server.stop();
      }
    }
    const report = summary(results);
    if (values.json) process.stdout.write(JSON.stringify({ setup, rows: report.rows, goals: report.goals, results: results.map((r) => r.result) }) + '\n');
    else process.stdout.write(['', ...setup, '', report.text, ''].join('\n'));
    if (values.chart !== '') {
      writeFileSync(values.chart, barChart(`elb-proxy-echo vs baselines, ${clients} clients`, panelsFor(results.map((r) => r.result), (r) => r.server.startsWith('ours'))));
    }
    const bad = results.filter(({ contender, result }) => result.wrongEchoes > 0 || (contender.ours && exitStatus(result, 0) !== 0));
    for (const { result } of bad) process.stderr.write(`compare: ${result.server} ${result.scenario}: errors ${errorsText(result.errors)}\n`);
    return bad.length > 0 ? 1 : 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface Row {
  readonly server: string;
  readonly linesPerSecond: number;
  readonly p99Ms: number;
  readonly connectionsPerSecond: number;
  readonly bytesPerConnection: number | null;
  readonly errors: string;
}

function summary(results: readonly { contender: Contender; result: RunResult }[]): { text: string; rows: Row[]; goals: string[] } {
  const names = [...new Set(results.map((r) => r.contender.name))];
  const find = (name: string, scenario: Scenario) => results.find((r) => r.contender.name === name && r.result.scenario === scenario)!.result;
  const rows: Row[] = names.map((name) => {
    const errors: Record<string, number> = {};
    for (const r of results.filter((x) => x.contender.name === name)) for (const [k, n] of Object.entries(r.result.errors)) errors[k] = (errors[k] ?? 0) + n;
    return {
      server: name,
      linesPerSecond: find(name, 'pingpong').linesPerSecond,
      p99Ms: find(name, 'pingpong').latencyMs.p99,
      connectionsPerSecond: find(name, 'connect').connectionsPerSecond,
      bytesPerConnection: find(name, 'hold').memory?.perConnectionBytes ?? null,
      errors: errorsText(errors),
    };
  });
  const byName = new Map(rows.map((row) => [row.server, row]));
  const baselines = results.filter((r) => r.contender.nodeBaseline).map((r) => byName.get(r.contender.name)!);
  const bestLines = Math.max(...baselines.map((b) => b.linesPerSecond));
  const bestChurn = Math.max(...baselines.map((b) => b.connectionsPerSecond));
  const leanest = Math.min(...baselines.map((b) => b.bytesPerConnection ?? Infinity));
  const ratio = (x: number, of: number) => (Number.isFinite(x) && Number.isFinite(of) && of > 0 ? `${(x / of).toFixed(2)}x` : '-');
  const lines = [
    ['server', 'lines/s', 'p99 ms', 'conn/s', 'mem/conn', 'lines/s vs best Node', 'conn/s vs best Node', 'mem vs leanest Node', 'errors'],
    ...rows.map((r) => [
      r.server,
      num(r.linesPerSecond),
      num(r.p99Ms),
      num(r.connectionsPerSecond),
      r.bytesPerConnection === null ? '-' : kib(r.bytesPerConnection),
      ratio(r.linesPerSecond, bestLines),
      ratio(r.connectionsPerSecond, bestChurn),
      r.bytesPerConnection === null ? '-' : ratio(r.bytesPerConnection, leanest),
      r.errors,
    ]),
  ];
  const ours = byName.get('ours, 1 worker')!;
  const multi = rows.find((r) => r.server.includes('(auto)'));
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  const goals = [
    `goal lines/s >= 1.2x the fastest Node baseline: ${ratio(ours.linesPerSecond, bestLines)}, ${verdict(ours.linesPerSecond >= 1.2 * bestLines)}`,
    `goal connections/s >= the fastest Node baseline: ${ratio(ours.connectionsPerSecond, bestChurn)}, ${verdict(ours.connectionsPerSecond >= bestChurn)}`,
    `goal memory per idle connection <= 0.8x the leanest Node baseline: ${ours.bytesPerConnection === null ? 'not measured' : `${ratio(ours.bytesPerConnection, leanest)}, ${verdict(ours.bytesPerConnection <= 0.8 * leanest)}`}`,
  ];
  if (multi !== undefined) goals.push(`the second core (--workers auto vs 1): lines/s ${ratio(multi.linesPerSecond, ours.linesPerSecond)}, connections/s ${ratio(multi.connectionsPerSecond, ours.connectionsPerSecond)} (it shares the 2 cores with the generator)`);
  const ceiling = rows.find((r) => r.server.startsWith('C epoll'));
  if (ceiling !== undefined) goals.push(`against the C epoll ceiling: lines/s ${ratio(ours.linesPerSecond, ceiling.linesPerSecond)}, connections/s ${ratio(ours.connectionsPerSecond, ceiling.connectionsPerSecond)}`);
  return { text: [table(lines), '', ...goals].join('\n'), rows, goals };
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof UsageError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
