// `npm run bench`: the standard local comparison, in one run on this machine.
//
// Our server (one worker, then --workers auto), a raw Node echo (socket.pipe), a naive Node
// echo (string buffering and split) and, when gcc is present, a C epoll echo (the machine's
// ceiling), each started as a child process on the same Node, each driven through the three
// scenarios by the same generator as `elb-proxy-echo bench`. One-worker servers are pinned to
// CPU 0 and the generator to CPU 1 when taskset is there. Prints one table and the ratios behind
// issue 4's goals; exit status 1 if any echo was wrong or our server saw any error.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { panelsFor, writeChart } from '../src/bench/chart.ts';
import type { Scenario } from '../src/bench/generator.ts';
import {
  exitOnSignals,
  pinning,
  progressWriter,
  selfCommand,
  serverArgs,
} from '../src/bench/harness.ts';
import { errorsText, headline } from '../src/bench/report.ts';
import { exitStatus, runBench, type RunResult } from '../src/bench/run.ts';
import { startCommand, type ServerHandle } from '../src/bench/servers.ts';
import { type Contender, summary } from './summary.ts';
import { formatOptions, integer, parseOptions, text, UsageError } from '../src/options.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const CLI = here('../src/cli.ts');
/** Issue 4's goals are stated for 16-byte lines. */
const LINE_BYTES = 16;

const compareOptions = {
  quick: {
    flag: 'quick',
    help: 'a short run for CI (fewer clients, about 1.5 s per scenario)',
    default: false,
    parse: () => true,
  },
  clients: {
    flag: 'clients',
    value: 'N',
    help: 'clients per run (default 1000; 200 with --quick)',
    default: 0,
    parse: integer(1, 16_000),
  },
  json: {
    flag: 'json',
    help: 'print one JSON object instead of the table',
    default: false,
    parse: () => true,
  },
  chart: {
    flag: 'chart',
    value: 'FILE',
    help: 'also draw the comparison as a bar chart (SVG, or an HTML page for a .html name)',
    default: '',
    parse: text,
  },
} as const;

function compileEpoll(dir: string): string | null {
  if (spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  const binary = join(dir, 'epoll-echo');
  execFileSync('gcc', ['-O2', '-o', binary, here('./baselines/epoll-echo.c')]);
  return binary;
}

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    process.stdout.write(
      `Usage: npm run bench [-- options]\n\nOur server against the baselines in the three scenarios, on this machine.\n\n${formatOptions(compareOptions)}\n`,
    );
    return 0;
  }
  exitOnSignals();
  const { values, positionals } = parseOptions(compareOptions, process.argv.slice(2));
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const quick = values.quick;
  const clients = values.clients || (quick ? 200 : 1000);
  const durationMs = quick ? 1500 : 2500;
  const rounds = quick ? 1 : 2;
  const self = await selfCommand(CLI);
  const pins = pinning();
  const cpus = availableParallelism();
  const work = mkdtempSync(join(tmpdir(), 'bench-'));
  // Removed on any exit, also an interrupted one (finally blocks do not run on process.exit).
  process.once('exit', () => rmSync(work, { recursive: true, force: true }));
  try {
    const epoll = compileEpoll(work);
    const contenders: Contender[] = [
      {
        name: 'ours, 1 worker',
        argv: [self.file, ...self.args, ...serverArgs(1, clients, LINE_BYTES)],
        workers: 1,
        nodeBaseline: false,
        ours: true,
      },
      {
        name: `ours, ${cpus} workers (auto)`,
        argv: [self.file, ...self.args, ...serverArgs(cpus, clients, LINE_BYTES)],
        workers: cpus,
        nodeBaseline: false,
        ours: true,
      },
      {
        name: 'raw Node (pipe)',
        argv: [process.execPath, here('./baselines/raw.ts')],
        workers: 1,
        nodeBaseline: true,
        ours: false,
      },
      {
        name: 'naive Node (split)',
        argv: [process.execPath, here('./baselines/naive.ts')],
        workers: 1,
        nodeBaseline: true,
        ours: false,
      },
    ];
    if (epoll !== null)
      contenders.push({
        name: 'C epoll (ceiling)',
        argv: [epoll],
        workers: 1,
        nodeBaseline: false,
        ours: false,
      });
    const setup = [
      `${clients} clients per run, PROXY v2 headers, 16-byte lines; ${durationMs / 1000} s measured per run; hold: a line every ~1 s per client;` +
        ` pingpong and connect: best of ${rounds} interleaved round${rounds === 1 ? '' : 's'}`,
      'µs/line, µs/conn: server CPU time (user + system, from /proc) per echoed line / per connection; busy: server and generator CPU in pingpong (100% = one core);',
      'mem/conn: server RSS growth per held connection, from half the clients to all',
      pins === null
        ? 'not pinned to CPUs (no taskset or one CPU)'
        : `one-worker servers pinned to CPU ${pins.server}, the generator to CPU ${pins.generators}; the ${cpus}-worker server is not pinned`,
      'our server runs with --log-level warn (no per-connection log lines); baselines log nothing',
    ];
    if (epoll === null) setup.push('no gcc: the C epoll ceiling is left out');
    const progress = values.json ? undefined : progressWriter();
    const runs: { contender: Contender; result: RunResult }[] = [];
    const results: { contender: Contender; result: RunResult }[] = [];
    const servers = new Map<Contender, ServerHandle>();
    try {
      for (const contender of contenders)
        servers.set(
          contender,
          await startCommand(
            contender.name,
            contender.argv,
            contender.workers === 1 ? pins?.server : undefined,
          ),
        );
      const drive = async (contender: Contender, scenario: Scenario): Promise<RunResult> => {
        process.stderr.write(`compare: ${contender.name}, ${scenario}\n`);
        const result = await runBench(
          {
            scenario,
            clients,
            durationMs,
            lineBytes: LINE_BYTES,
            thinkMs: scenario === 'hold' ? 1000 : 0,
            header: 'v2',
            timeoutMs: 10_000,
            procs: 1,
            generatorCpus: contender.workers === 1 ? pins?.generators : undefined,
            self,
            progress,
          },
          servers.get(contender)!,
        );
        runs.push({ contender, result });
        return result;
      };
      // Hold first, on fresh processes, so its memory figure is not inflated by the busier runs.
      for (const contender of contenders)
        results.push({ contender, result: await drive(contender, 'hold') });
      // Then rounds that take every server in turn; each keeps its best round. The machine is
      // shared: other work can only slow a round down, so the best round is the least disturbed.
      for (const scenario of ['pingpong', 'connect'] as const) {
        const tries = contenders.map(() => [] as RunResult[]);
        for (let round = 0; round < rounds; round++)
          for (const [i, contender] of contenders.entries())
            tries[i].push(await drive(contender, scenario));
        for (const [i, contender] of contenders.entries()) {
          const best = tries[i].reduce((a, b) => (headline(b).value > headline(a).value ? b : a));
          results.push({ contender, result: best });
        }
      }
    } finally {
      for (const server of servers.values()) await server.stop();
    }
    const report = summary(results);
    if (values.json)
      process.stdout.write(
        `${JSON.stringify({
          setup,
          rows: report.rows,
          goals: report.goals,
          results: results.map((r) => r.result),
        })}\n`,
      );
    else process.stdout.write(['', ...setup, '', report.text, ''].join('\n'));
    if (values.chart !== '') {
      writeChart(
        values.chart,
        `elb-proxy-echo vs baselines, ${clients} clients`,
        panelsFor(
          results.map((r) => r.result),
          (r) => r.server.startsWith('ours'),
        ),
      );
    }
    const bad = runs.filter(
      ({ contender, result }) =>
        result.wrongEchoes > 0 || (contender.ours && exitStatus(result, 0) !== 0),
    );
    for (const { result } of bad)
      process.stderr.write(
        `compare: ${result.server} ${result.scenario}: errors ${errorsText(result.errors)}\n`,
      );
    return bad.length > 0 ? 1 : 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof UsageError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
