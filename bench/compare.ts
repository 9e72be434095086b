// `npm run bench`: our server against the C echo and the plain Node echoes, on this machine, driven
// by a C epoll load generator (bench/baselines/epoll-load.c) that is faster than any of them.
//
// Each server runs as a child process pinned to CPU 0, the generator pinned to CPU 1. Per server:
// idle memory (clients held, on a fresh process), then rounds of pingpong (with a trickle of new
// clients timed to their first echo) and connect/close, taking the servers in turn. The product's
// own bench generator runs pingpong against the C echo in each round beside the C generator.
// Prints one table with the spread over rounds and the goals as met / NOT met (goals never fail
// the run); exit status 1 if any echo was wrong or our server saw any error.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  exitOnSignals,
  pinning,
  progressWriter,
  runBench,
  type SelfCommand,
  type ServerHandle,
  selfCommand,
  serverArgs,
  startCommand,
} from '../src/loadgen/for-benchmarks.ts';
import { formatOptions, integer, parseOptions, UsageError } from '../src/options.ts';
import { errorText } from '../src/error-text.ts';
import { idleMemory } from './idle.ts';
import { compileC, type LoadResult, runLoad } from './load.ts';
import { type Contender, type GeneratorRounds, type Measured, summary } from './summary.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const CLI = here('../src/cli.ts');
const LINE_BYTES = 16;
/** New clients per second during pingpong, each timed from connect to its first echo. */
const TRICKLE_PER_SECOND = 50;
/** Connections in flight in connect/close. */
const CONNECT_IN_FLIGHT = 50;

const compareOptions = {
  quick: {
    flag: 'quick',
    help: 'a short run for CI: 200 clients, 1,000 held, one round of 1 s per scenario',
    default: false,
    parse: () => true,
  },
  clients: {
    flag: 'clients',
    value: 'N',
    help: 'pingpong clients (default 1000; 200 with --quick)',
    default: 0,
    parse: integer(1, 16_000),
  },
  rounds: {
    flag: 'rounds',
    value: 'N',
    help: 'rounds of pingpong and connect/close per server (default 3; 1 with --quick)',
    default: 0,
    parse: integer(1, 20),
  },
  json: {
    flag: 'json',
    help: 'print one JSON object instead of the table',
    default: false,
    parse: () => true,
  },
} as const;

interface Settings {
  readonly clients: number;
  readonly held: number;
  readonly rounds: number;
  readonly durationMs: number;
  readonly json: boolean;
}

function settingsFrom(argv: readonly string[]): Settings {
  const { values, positionals } = parseOptions(compareOptions, argv);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  return {
    clients: values.clients || (values.quick ? 200 : 1000),
    held: values.quick ? 1000 : 10_000,
    rounds: values.rounds || (values.quick ? 1 : 3),
    durationMs: values.quick ? 1000 : 3000,
    json: values.json,
  };
}

/** Does this build of our server take `--engine`? (Rows for an engine it lacks show n/a.) */
function hasEngineOption(self: SelfCommand): boolean {
  const help = spawnSync(self.file, [...self.args, 'serve', '--help'], { encoding: 'utf8' });
  return help.stdout.includes('--engine');
}

function ourContenders(self: SelfCommand, s: Settings): Contender[] {
  const engines = hasEngineOption(self);
  const ours = (
    engine: 'uv' | 'net' | null,
    logLevel: 'info' | 'warn',
    available = true,
  ): Contender => ({
    name: `ours${engine === null ? '' : `, ${engine}`}, ${logLevel}`,
    argv: [
      self.file,
      ...self.args,
      ...serverArgs(1, Math.max(s.clients, s.held) + 2 * TRICKLE_PER_SECOND, LINE_BYTES, logLevel),
      ...(engine === null ? [] : ['--engine', engine]),
    ],
    kind: 'ours',
    engine,
    logLevel,
    available,
  });
  if (engines) return [ours('uv', 'info'), ours('uv', 'warn'), ours('net', 'info')];
  return [
    ours(null, 'info'),
    ours(null, 'warn'),
    ours('uv', 'info', false),
    ours('net', 'info', false),
  ];
}

function contenders(self: SelfCommand, s: Settings, echo: string): Contender[] {
  const baseline = (name: string, argv: string[], kind: 'c-echo' | 'node'): Contender => ({
    name,
    argv,
    kind,
    engine: null,
    logLevel: null,
    available: true,
  });
  return [
    baseline('C epoll echo', [echo], 'c-echo'),
    ...ourContenders(self, s),
    baseline('raw Node echo (pipe)', [process.execPath, here('./baselines/raw.ts')], 'node'),
    baseline('naive Node echo (split)', [process.execPath, here('./baselines/naive.ts')], 'node'),
  ];
}

interface Bench {
  readonly settings: Settings;
  readonly load: string;
  readonly pins: { server: string; generators: string } | null;
  readonly work: string;
  readonly self: SelfCommand;
}

function startServer(b: Bench, c: Contender, i: number): Promise<ServerHandle> {
  return startCommand(c.name, c.argv, b.pins?.server, 15_000, join(b.work, `server-${i}.log`));
}

/** Idle memory first, each server on a fresh process, so the busier runs do not inflate it. */
async function measureIdle(b: Bench, list: readonly Contender[], servers: ServerHandle[]) {
  const idle = [];
  for (const [i, c] of list.entries()) {
    process.stderr.write(`compare: ${c.name}, ${b.settings.held} held\n`);
    idle.push(await idleMemory(b.load, servers[i], b.settings.held, b.pins?.generators));
  }
  return idle;
}

function drive(b: Bench, server: ServerHandle, scenario: 'pingpong' | 'connect') {
  process.stderr.write(`compare: ${server.name}, ${scenario}\n`);
  return runLoad(
    b.load,
    {
      scenario,
      clients: scenario === 'pingpong' ? b.settings.clients : CONNECT_IN_FLIGHT,
      durationMs: b.settings.durationMs,
      lineBytes: LINE_BYTES,
      trickle: scenario === 'pingpong' ? TRICKLE_PER_SECOND : 0,
      cpus: b.pins?.generators,
    },
    server,
  );
}

/** The product's generator (one process, pinned like the C one) in pingpong against the C echo. */
async function productGenerator(
  b: Bench,
  cEcho: ServerHandle,
): Promise<{ lines: number; busy: number }> {
  process.stderr.write('compare: product bench generator on the C echo, pingpong\n');
  const result = await runBench(
    {
      scenario: 'pingpong',
      clients: b.settings.clients,
      durationMs: b.settings.durationMs,
      lineBytes: LINE_BYTES,
      thinkMs: 0,
      header: 'v1',
      timeoutMs: 10_000,
      procs: 1,
      generatorCpus: b.pins?.generators,
      self: b.self,
      progress: b.settings.json ? undefined : progressWriter(),
    },
    cEcho,
  );
  return { lines: result.linesPerSecond, busy: Math.max(...result.generatorBusy) };
}

/** Rounds that take every server in turn; the machine is shared, so the spread is reported. */
async function measureRounds(b: Bench, list: readonly Contender[], servers: ServerHandle[]) {
  const pingpong = list.map(() => [] as LoadResult[]);
  const connect = list.map(() => [] as LoadResult[]);
  const generators = { c: [] as number[], product: [] as number[], productBusy: [] as number[] };
  const cEcho = list.findIndex((c) => c.kind === 'c-echo');
  for (let round = 0; round < b.settings.rounds; round++) {
    for (const [i, c] of list.entries()) {
      if (!c.available) continue;
      pingpong[i].push(await drive(b, servers[i], 'pingpong'));
      if (i === cEcho) {
        // Right after the C generator's run on the same server, so both see the same machine.
        const product = await productGenerator(b, servers[cEcho]);
        generators.c.push(pingpong[cEcho][round].linesPerSecond);
        generators.product.push(product.lines);
        generators.productBusy.push(product.busy);
      }
      connect[i].push(await drive(b, servers[i], 'connect'));
    }
  }
  return { pingpong, connect, generators };
}

async function measureAll(b: Bench, list: readonly Contender[]) {
  const servers: ServerHandle[] = [];
  try {
    for (const [i, c] of list.entries()) if (c.available) servers[i] = await startServer(b, c, i);
    const idle = await measureIdle(
      b,
      list.filter((c) => c.available),
      servers.filter(Boolean),
    );
    const rounds = await measureRounds(b, list, servers);
    let next = 0;
    const measured: Measured[] = list.map((contender, i) => ({
      contender,
      pingpong: rounds.pingpong[i],
      connect: rounds.connect[i],
      idle: contender.available ? idle[next++] : null,
    }));
    return { measured, generators: rounds.generators as GeneratorRounds };
  } finally {
    for (const server of servers) await server?.stop();
  }
}

function setupLines(b: Bench): string[] {
  const s = b.settings;
  return [
    `generator: bench/baselines/epoll-load.c (C, epoll); PROXY v1 header, then ${LINE_BYTES}-byte lines, every echo checked byte for byte`,
    `pingpong: ${s.clients} clients, one line outstanding each, plus ${TRICKLE_PER_SECOND} new clients/s timed from connect to first echo (trickle);` +
      ` connect/close: ${CONNECT_IN_FLIGHT} in flight; ${s.durationMs / 1000} s measured per run, ${s.rounds} round${s.rounds === 1 ? '' : 's'}: median (min–max)`,
    `idle mem/conn: server RSS growth from ${s.held / 2} to ${s.held} held idle connections, per connection added`,
    "µs/line, µs/conn: server CPU (user + system, /proc) per echoed line / per connection; gen busy: the C generator's CPU (highest run)",
    b.pins === null
      ? 'not pinned to CPUs (no taskset or one CPU): figures mix server and generator'
      : `servers pinned to CPU ${b.pins.server}, generators to CPU ${b.pins.generators}; server logs go to a file`,
  ];
}

function print(b: Bench, measured: readonly Measured[], generators: GeneratorRounds): void {
  const report = summary(measured, generators);
  if (b.settings.json)
    process.stdout.write(
      `${JSON.stringify({ setup: setupLines(b), rows: report.rows, goals: report.goals, measured, generators })}\n`,
    );
  else process.stdout.write(['', ...setupLines(b), '', report.text, ''].join('\n'));
}

/** Exit status: 1 for any wrong echo anywhere, or any error against our server. */
function verdict(measured: readonly Measured[]): number {
  let bad = 0;
  for (const m of measured)
    for (const r of [...m.pingpong, ...m.connect, ...(m.idle?.reports ?? [])]) {
      const errors = Object.values(r.errors).reduce((a, n) => a + n, 0);
      if (r.wrongEchoes > 0 || (m.contender.kind === 'ours' && errors > 0)) {
        process.stderr.write(
          `compare: ${m.contender.name} ${r.scenario}: errors ${JSON.stringify(r.errors)}\n`,
        );
        bad++;
      }
    }
  return bad > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    process.stdout.write(
      `Usage: npm run bench [-- options]\n\nOur server against the C echo and the plain Node echoes, driven by a C load generator.\n\n${formatOptions(compareOptions)}\n`,
    );
    return 0;
  }
  exitOnSignals();
  const settings = settingsFrom(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'bench-'));
  // Removed on any exit, also an interrupted one (finally blocks do not run on process.exit).
  process.once('exit', () => rmSync(work, { recursive: true, force: true }));
  const load = compileC(work, 'epoll-load');
  const echo = compileC(work, 'epoll-echo');
  if (load === null || echo === null) {
    process.stdout.write(
      'npm run bench: skipped, no C compiler (gcc) for the load generator and the C echo\n',
    );
    return 0;
  }
  const b: Bench = { settings, load, pins: pinning(), work, self: await selfCommand(CLI) };
  const { measured, generators } = await measureAll(b, contenders(b.self, settings, echo));
  print(b, measured, generators);
  return verdict(measured);
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof UsageError ? error.message : errorText(error, 'stack')}\n`,
    );
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
