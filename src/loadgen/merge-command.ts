// `elb-proxy-echo bench merge FILE…`: the JSON of several generators' runs (files, or `-` for a
// stream on standard input) → one report as a run prints it, plus a row per generator → exit
// status 1 on any wrong echo (or more errors than --max-errors), 2 for unusable input.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatOptions, parseOptions, UsageError } from '../options.ts';
import { panelsFor, writeChart } from './chart.ts';
import { merge, type Merged } from './merge.ts';
import { benchOptions } from './options.ts';
import { type BenchRecord, asRecord, jsonValues, toRecord } from './record.ts';
import { formatGenerators, formatRun } from './report.ts';
import { exitStatus } from './result.ts';

const mergeOptions = {
  json: benchOptions.json,
  chart: benchOptions.chart,
  maxErrors: benchOptions.maxErrors,
};

const USAGE = `Usage: elb-proxy-echo bench merge FILE… (or - to read a stream of JSON objects)

Combines the --json output of bench runs on several machines (each with its own --label,
started with one --start-at) into one report: totals and rates added up, percentiles from the
merged latency histograms, one row per generator. Warns when the measured windows do not
overlap or the versions differ. Exit status 1 if any input saw a wrong echo (or more errors
than --max-errors), 2 for an input that is not a bench result of this format.

Options:
${formatOptions(mergeOptions)}`;

export function mergeCommand(argv: readonly string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { values, positionals } = parseOptions(mergeOptions, argv, {}, 'bench merge');
  if (positionals.length === 0)
    throw new UsageError('bench merge needs one or more FILEs (or - for standard input)');
  const merged = merge(positionals.flatMap(readRecords));
  for (const warning of merged.warnings) process.stderr.write(`warning: ${warning}\n`);
  const setup = [
    `merged from ${merged.generators.length} generator${merged.generators.length === 1 ? '' : 's'}`,
  ];
  process.stdout.write(`${values.json ? mergedJson(merged, setup) : mergedTable(merged, setup)}\n`);
  if (values.chart !== '') {
    const rows = chartRows(merged);
    writeChart(
      values.chart,
      chartTitle(merged),
      panelsFor(rows, (r) => r === rows[0]),
    );
    if (!values.json) process.stdout.write(`chart written to ${resolve(values.chart)}\n`);
  }
  return exitStatus(merged.result, values.maxErrors);
}

/** Every record in one input; a clear error naming the input for anything else. */
function readRecords(name: string): BenchRecord[] {
  let text: string;
  try {
    text = readFileSync(name === '-' ? 0 : name, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${name}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
  const parsed = jsonValues(text);
  if ('error' in parsed) throw new UsageError(`${name}: ${parsed.error}`);
  return parsed.values.map((value, i) => {
    const record = asRecord(value);
    if (typeof record === 'string')
      throw new UsageError(
        `${name}${parsed.values.length > 1 ? ` (object ${i + 1})` : ''}: ${record}`,
      );
    return record;
  });
}

function mergedTable(merged: Merged, setup: readonly string[]): string {
  return `${formatRun(merged.result, setup)}\n\n${formatGenerators(merged.generators)}`;
}

/** A record itself (label "merged"), so a merge of merges works, plus the generators' rows. */
function mergedJson(merged: Merged, setup: readonly string[]): string {
  const generators = merged.generators.map((r) => ({
    label: r.label,
    version: r.version,
    clients: r.clients,
    window: r.window,
    linesPerSecond: r.linesPerSecond,
    connectionsPerSecond: r.connectionsPerSecond,
    latencyMs: r.latencyMs,
    generatorBusy: r.generatorBusy,
    errors: r.errors,
  }));
  return JSON.stringify({
    ...toRecord(merged.result, 'merged', setup),
    overlapSeconds: merged.overlapSeconds,
    generators,
  });
}

function chartTitle(merged: Merged): string {
  const r = merged.result;
  return `elb-proxy-echo bench merge: ${r.scenario}, ${r.clients} clients on ${merged.generators.length} generators`;
}

/** Bars for the merged run and each generator, named by label. */
function chartRows(merged: Merged) {
  return [
    { ...merged.result, server: `all ${merged.generators.length}` },
    ...merged.generators.map((r) => ({ ...r, server: r.label })),
  ];
}
