// The JSON of a run as a record a merge can read back: a run's result plus what names it
// (format and its version, the program's version, the generator's label), and the checks that
// tell a bench record from anything else a user may hand to `bench merge`.
import { VERSION } from '../version.ts';
import type { Counters } from './counters.ts';
import { isHistogramData } from './histogram.ts';
import type { RunResult } from './result.ts';

export const FORMAT = 'elb-proxy-echo-bench';
/** Raised when a field a merge reads changes meaning or goes away. */
export const FORMAT_VERSION = 1;

export interface BenchRecord extends RunResult {
  readonly format: typeof FORMAT;
  readonly formatVersion: number;
  readonly version: string;
  readonly label: string;
  readonly setup: readonly string[];
}

export function toRecord(result: RunResult, label: string, setup: readonly string[]): BenchRecord {
  return {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    version: VERSION,
    label,
    ...result,
    setup,
  };
}

/** A parsed JSON value as a record, or the reason it is not one (for the user, without the file name). */
export function asRecord(value: unknown): BenchRecord | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'not a JSON object';
  const v = value as Record<string, unknown>;
  if (v.format === undefined)
    return 'scenario' in v && 'latencyMs' in v
      ? 'an older bench format (no format version, no latency histogram to merge): run that bench again with this version'
      : `not an elb-proxy-echo bench result (no "format": "${FORMAT}")`;
  if (v.format !== FORMAT)
    return `not an elb-proxy-echo bench result (format ${JSON.stringify(v.format)})`;
  if (typeof v.formatVersion !== 'number') return 'no formatVersion number';
  if (v.formatVersion < FORMAT_VERSION)
    return `an older bench format (${v.formatVersion}; this version reads ${FORMAT_VERSION}): run that bench again with this version`;
  if (v.formatVersion > FORMAT_VERSION)
    return `a newer bench format (${v.formatVersion}; this version reads ${FORMAT_VERSION}): merge with the version that wrote it (${String(v.version)})`;
  const damaged = missingField(v);
  if (damaged !== null) return `a damaged result: ${damaged}`;
  // Records written before backends were counted have none: they merge as runs without greetings.
  return { ...(value as BenchRecord), backends: (v.backends as BenchRecord['backends']) ?? [] };
}

/** The first field a merge needs that is absent or of the wrong kind, or null. */
function missingField(v: Record<string, unknown>): string | null {
  for (const key of ['scenario', 'label', 'version', 'server', 'header'])
    if (typeof v[key] !== 'string') return `"${key}" is not text`;
  for (const key of ['clients', 'procs', 'lineBytes', 'seconds', 'up', 'wrongEchoes'])
    if (typeof v[key] !== 'number') return `"${key}" is not a number`;
  const window = v.window as Record<string, unknown> | null;
  if (typeof window?.start !== 'number' || typeof window.end !== 'number')
    return '"window" has no start and end';
  if (!isCounters(v.windowCounts)) return '"windowCounts" are not counts';
  if (!isCounters(v.totals)) return '"totals" are not counts';
  if (!isHistogramData(v.latencyHistogram)) return '"latencyHistogram" is not a histogram';
  if (!Array.isArray(v.generatorBusy) || !v.generatorBusy.every((b) => typeof b === 'number'))
    return '"generatorBusy" is not a list of numbers';
  if (!Array.isArray(v.notes) || !Array.isArray(v.setup)) return '"notes" or "setup" is not a list';
  if (v.backends !== undefined && !(Array.isArray(v.backends) && v.backends.every(isBackend)))
    return '"backends" is not a list of backends';
  return null;
}

function isBackend(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const b = value as Record<string, unknown>;
  return (
    typeof b.backend === 'string' &&
    ['connections', 'sawGenerator', 'mismatched'].every((key) => typeof b[key] === 'number') &&
    Array.isArray(b.mismatches) &&
    Array.isArray(b.clients) &&
    isHistogramData(b.latencyHistogram)
  );
}

function isCounters(value: unknown): value is Counters {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  const numbers = [
    'up',
    'connected',
    'answered',
    'linesSent',
    'echoesVerified',
    'bytesVerified',
    'completed',
  ];
  if (!numbers.every((key) => typeof c[key] === 'number')) return false;
  const errors = c.errors;
  return (
    typeof errors === 'object' &&
    errors !== null &&
    Object.values(errors).every((n) => typeof n === 'number')
  );
}

/**
 * The JSON values in `text`: one, several one after the other (a stream of `--json` outputs,
 * newline-separated or not), or an error naming where the text stops being JSON.
 */
export function jsonValues(text: string): { values: unknown[] } | { error: string } {
  if (text.trim() === '') return { error: 'empty: no JSON in it' };
  const values: unknown[] = [];
  for (const piece of topLevelPieces(text)) {
    try {
      values.push(JSON.parse(piece.text));
    } catch (error) {
      const where = values.length === 0 && piece.last ? '' : `value ${values.length + 1}: `;
      return { error: `${where}not JSON (${(error as Error).message})` };
    }
  }
  return { values };
}

/** Splits text at the ends of top-level objects/arrays (strings and escapes respected). */
function topLevelPieces(text: string): { text: string; last: boolean }[] {
  const pieces: { text: string; last: boolean }[] = [];
  let depth = 0;
  let inString = false;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if ((ch === '}' || ch === ']') && --depth === 0) {
      pieces.push({ text: text.slice(from, i + 1), last: false });
      from = i + 1;
    }
  }
  const rest = text.slice(from);
  if (rest.trim() !== '') pieces.push({ text: rest, last: true });
  if (pieces.length > 0) pieces[pieces.length - 1].last = true;
  return pieces;
}
