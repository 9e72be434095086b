// `elb-proxy-echo bench`: options → server (ours in this process, ours as a child, or a target)
// → one run → table or JSON (and a chart) → exit status (1 on any wrong echo or too many errors).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { formatOptions, parseOptions, TIME_SYNTAX, UsageError } from '../options.ts';
import { bracketed } from '../server/address-text.ts';
import type { HeaderKind } from './addresses.ts';
import { panelsFor, writeChart } from './chart.ts';
import { clockStatus } from './clock.ts';
import { autoHeader, exitOnSignals, progressWriter, selfCommand } from './harness.ts';
import { type BenchValues, benchOptions, ms } from './options.ts';
import { type BenchRecord, toRecord } from './record.ts';
import { formatRun } from './report.ts';
import { exitStatus, type RunResult } from './result.ts';
import { runBench } from './run.ts';
import type { RunPlan } from './run-plan.ts';
import { startServer } from './run-setup.ts';
import { runAsGenerator } from './spread.ts';
import { unreachableTarget } from './target-check.ts';

export { benchOptions } from './options.ts';

const USAGE = `Usage: elb-proxy-echo bench [options]
       elb-proxy-echo bench merge FILE… [--json] [--chart FILE]   (bench merge --help)

Many telnet-like clients: each connects, sends a PROXY header as a load balancer would, types
lines, checks every echo byte for byte, and ends with q. Without --target it starts our server
on a loopback port; with --target it drives that endpoint (e.g. a load balancer's DNS name).
A target started with --greeting names itself on each connection: the report then has a row
per backend (connections, share, latency) and checks that every backend named the generator
as the client.
Exit status 1 if any echo was wrong, a backend named another client, or more errors than
--max-errors; 2 for bad options or a --target that refuses or does not resolve (checked once
before the run).
For a fleet of generators: the same --start-at on each, --json to a file, then bench merge.

Options:
${formatOptions(benchOptions)}

${TIME_SYNTAX}`;

export async function bench(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  if (argv[0] === 'merge') return (await import('./merge-command.ts')).mergeCommand(argv.slice(1));
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { values, positionals } = parseOptions(benchOptions, argv, env, 'bench');
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.asGenerator) {
    await runAsGenerator();
    return 0;
  }
  const setup = values.startAt === null ? [] : startAtSetup(values.startAt, ms(values.warmUp));
  if (values.target !== null) await requireReachable(values.target, ms(values.timeout));
  exitOnSignals();
  const self = await selfCommand(process.argv[1]);
  const { server, generatorCpus, procs } = await startServer(values, self, setup);
  const plan: RunPlan = {
    scenario: values.scenario,
    clients: values.clients,
    durationMs: ms(values.duration),
    lineBytes: values.lineBytes,
    thinkMs: values.think === 'auto' ? (values.scenario === 'hold' ? 2000 : 0) : ms(values.think),
    header: values.proxyHeader === 'auto' ? autoHeader(values.target) : values.proxyHeader,
    timeoutMs: ms(values.timeout),
    tls: tlsOf(values),
    expectClient: values.expectClient,
    keepaliveMs: values.keepalive === 'off' ? 0 : ms(values.keepalive),
    procs,
    generatorCpus,
    self,
    startAt: values.startAt,
    progress: values.quiet ? undefined : progressWriter(),
  };
  if (values.target !== null) setup.push(headerSetup(plan.header));
  if (values.keepalive !== 'off')
    setup.push(`TCP keepalive on every connection after ${values.keepalive} idle`);
  let result: RunResult;
  try {
    result = await runBench(plan, server);
  } finally {
    await server.stop();
  }
  report(values, toRecord(result, values.label === '' ? hostname() : values.label, setup));
  return exitStatus(result, values.maxErrors);
}

/** --tls: TLS after the header to a --target; --tls-ca verifies it (off: a self-signed target). */
function tlsOf(values: BenchValues): RunPlan['tls'] {
  if (!values.tls) {
    if (values.tlsCa !== '') throw new UsageError('--tls-ca needs --tls');
    return null;
  }
  if (values.target === null)
    throw new UsageError(
      '--tls needs --target: a server of yours started with --tls-cert (the bench starts its own in clear)',
    );
  if (values.tlsCa === '') return { ca: null };
  try {
    return { ca: readFileSync(values.tlsCa, 'utf8') };
  } catch (error) {
    throw new UsageError(`--tls-ca ${values.tlsCa}: ${(error as NodeJS.ErrnoException).code}`);
  }
}

/**
 * --start-at: refused when already past by more than --warm-up (the window would be cut short
 * or miss the others'); otherwise setup lines with the time and what is known of the clock.
 */
export function startAtSetup(startAt: number, warmUpMs: number, now = Date.now()): string[] {
  const late = now - startAt;
  if (late > warmUpMs)
    throw new UsageError(
      `--start-at ${new Date(startAt).toISOString()} passed ${(late / 1000).toFixed(1)} s ago, more than --warm-up ${warmUpMs / 1000}s: pick a later time`,
    );
  const when =
    late > 0
      ? `${(late / 1000).toFixed(1)} s ago: measuring as soon as the clients are up`
      : `in ${(-late / 1000).toFixed(1)} s`;
  return [`window from ${new Date(startAt).toISOString()} (${when})`, clockStatus()];
}

/** A --target that refuses, or does not resolve, ends the bench before it starts (exit 2). */
async function requireReachable(target: { host: string; port: number }, timeoutMs: number) {
  const why = await unreachableTarget(target.host, target.port, timeoutMs);
  if (why !== null)
    throw new UsageError(`--target ${bracketed(target.host)}:${target.port}: ${why}`);
}

function headerSetup(header: HeaderKind): string {
  return header === 'none'
    ? 'no PROXY header sent: the load balancer in front of the target adds it'
    : `a PROXY ${header} header sent first, as a load balancer would`;
}

/** The table or the JSON record on stdout, and the chart when asked for. */
function report(values: BenchValues, record: BenchRecord): void {
  process.stdout.write(
    `${values.json ? JSON.stringify(record) : formatRun(record, record.setup)}\n`,
  );
  if (values.chart === '') return;
  writeChart(
    values.chart,
    `elb-proxy-echo bench: ${record.scenario}, ${record.clients} clients`,
    panelsFor([record]),
  );
  if (!values.json) process.stdout.write(`chart written to ${resolve(values.chart)}\n`);
}
