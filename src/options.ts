// Command-line and environment options, parsed once at the edge.
//
// Every subcommand describes its options as a table of `Option`s; `parseOptions` turns argv
// (and, for options that have one, an environment variable) into a frozen object of typed
// values. Bad input is a configuration error: it throws `UsageError`, which the CLI turns into
// a one-line reason and exit status 2 before anything starts.
import { closest } from './closest.ts';
import { ServerConfigError } from './server/errors.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** A bad setting, from the options or from the server below them: exit status 2. */
export function isSettingError(error: unknown): error is Error {
  return error instanceof UsageError || error instanceof ServerConfigError;
}

export interface Option<T> {
  /** Long flag without dashes, e.g. `port` for `--port`. */
  readonly flag: string;
  /** One-letter alias without the dash, e.g. `p`. */
  readonly short?: string;
  /** Environment variable read when the flag is absent (flags win). */
  readonly env?: string;
  /** Placeholder shown in --help, e.g. `N`; absent for switches that take no value. */
  readonly value?: string;
  readonly help: string;
  readonly default: T;
  /** Turns the raw text into a value; throws UsageError with a reason (without the flag name). */
  readonly parse: (raw: string) => T;
}

export type OptionTable = Readonly<Record<string, Option<unknown>>>;
export type OptionValues<S extends OptionTable> = {
  readonly [K in keyof S]: S[K] extends Option<infer T> ? T : never;
};

export interface Parsed<S extends OptionTable> {
  readonly values: OptionValues<S>;
  readonly positionals: readonly string[];
}

const ENV_PREFIX = 'ELB_PROXY_ECHO_';

/** Name of the environment variable for a flag: `--max-line` → `ELB_PROXY_ECHO_MAX_LINE`. */
export function envName(flag: string): string {
  return `${ENV_PREFIX}${flag.toUpperCase().replaceAll('-', '_')}`;
}

/**
 * `table` parsed from `argv`, then from `env` for options not given. `command` (`bench`,
 * `bench merge`, …; '' for serve) is what an unknown option's reason sends the user to the help of.
 */
export function parseOptions<S extends OptionTable>(
  table: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
  command = '',
): Parsed<S> {
  const byFlag = new Map<string, [string, Option<unknown>]>();
  for (const [key, option] of Object.entries(table)) {
    byFlag.set(`--${option.flag}`, [key, option]);
    if (option.short !== undefined) byFlag.set(`-${option.short}`, [key, option]);
  }
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const entry = byFlag.get(name);
    if (entry === undefined) throw new UsageError(unknownOption(name, byFlag.keys(), command));
    const [key, option] = entry;
    let raw: string;
    if (option.value === undefined) {
      if (eq !== -1) throw new UsageError(`${name} takes no value`);
      raw = 'true';
    } else if (eq !== -1) {
      raw = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value (${option.value})`);
      raw = argv[++i];
    }
    values[key] = parseOne(option, raw, name);
  }
  for (const [key, option] of Object.entries(table)) {
    if (key in values) continue;
    const fromEnv = option.env === undefined ? undefined : env[option.env];
    values[key] =
      fromEnv === undefined || fromEnv === ''
        ? option.default
        : parseOne(option, fromEnv, option.env!);
  }
  return {
    values: Object.freeze(values) as OptionValues<S>,
    positionals: Object.freeze(positionals),
  };
}

/** `unknown option --greetin; did you mean --greeting?`, or where the options are listed. */
function unknownOption(name: string, known: Iterable<string>, command: string): string {
  const longNames = [...known].filter((f) => f.startsWith('--')).map((f) => f.slice(2));
  const near = name.startsWith('--') ? closest(name.slice(2), longNames) : null;
  if (near !== null) return `unknown option ${name}; did you mean --${near}?`;
  return `unknown option ${name} (see elb-proxy-echo${command === '' ? '' : ` ${command}`} --help)`;
}

/**
 * One line per `ELB_PROXY_ECHO_*` variable in `env` that is neither an option's nor in `internal`
 * (a typo in an options file would otherwise be ignored without a word), naming the closest
 * known variable when one is near.
 */
export function unknownVariables(
  table: OptionTable,
  env: Readonly<Record<string, string | undefined>>,
  internal: readonly string[] = [],
): string[] {
  const variables = Object.values(table).flatMap((option) => option.env ?? []);
  const known = new Set([...variables, ...internal]);
  // Only an option's variable is suggested: the internal ones are not for people to set.
  const suffixes = variables.map((name) => name.slice(ENV_PREFIX.length));
  const lines: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith(ENV_PREFIX) || known.has(name)) continue;
    const near = closest(name.slice(ENV_PREFIX.length), suffixes);
    lines.push(
      near === null
        ? `unknown variable ${name} ignored (elb-proxy-echo --help lists the variables)`
        : `unknown variable ${name} ignored; did you mean ${ENV_PREFIX}${near}?`,
    );
  }
  return lines;
}

function parseOne(option: Option<unknown>, raw: string, where: string): unknown {
  try {
    return option.parse(raw);
  } catch (error) {
    // A value parser from below (the server's --trust) throws its own kind: same treatment.
    if (error instanceof UsageError || error instanceof ServerConfigError)
      throw new UsageError(`${where}: ${error.message}`);
    throw error;
  }
}

/** An option that takes a value (`--flag VALUE`), without an environment variable. */
export function option<T>(
  flag: string,
  value: string,
  help: string,
  defaultValue: T,
  parse: (raw: string) => T,
) {
  return { flag, value, help, default: defaultValue, parse } as const;
}

/** The same table, each option also read from its environment variable (`envName`). */
export function withEnv<S extends OptionTable>(table: S): S {
  const out: Record<string, Option<unknown>> = {};
  for (const [key, entry] of Object.entries(table))
    out[key] = { ...entry, env: envName(entry.flag) };
  return out as S;
}

/** Widest line of --help: descriptions wrap under themselves (a hanging indent) to fit. */
export const HELP_WIDTH = 100;
const FLAG_COLUMN = 30;

/** Help text for a table: one entry per option with its variable and default. */
export function formatOptions(table: OptionTable): string {
  const rows: string[] = [];
  for (const option of Object.values(table)) {
    const flag =
      (option.short ? `-${option.short}, ` : '    ') +
      `--${option.flag}` +
      (option.value ? ` ${option.value}` : '');
    const extra = option.env === undefined ? [] : [`env ${option.env}`];
    extra.push(`default ${defaultText(option)}`);
    // The bracket is one word: it moves to the next line whole rather than break.
    rows.push(
      hangingRow(`  ${flag.padEnd(FLAG_COLUMN)} `, [
        ...option.help.split(' '),
        `[${extra.join(', ')}]`,
      ]),
    );
  }
  return rows.join('\n');
}

/**
 * `head` then `words` wrapped so no line passes HELP_WIDTH, each continuation indented to where
 * the text starts. A word longer than the room left stands alone on its line; a flag wider than
 * its column puts the text on the next line instead of pushing it right.
 */
function hangingRow(head: string, words: readonly string[]): string {
  const indent = ' '.repeat(FLAG_COLUMN + 3);
  const lines: string[] = [];
  let line = head;
  if (head.length > indent.length) {
    lines.push(head.trimEnd());
    line = indent;
  }
  let empty = true;
  for (const word of words) {
    if (!empty && line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = indent;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines.join('\n');
}

/** An option's default as --help and the docs show it: `5000`, `5s`, `none`; a switch's `off`. */
export function defaultText(option: Option<unknown>): string {
  const value = option.default;
  if (option.value === undefined) return value === true ? 'on' : 'off';
  if (value === undefined || value === null || value === '') return 'none';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(',');
  return String(value);
}

// ---- value parsers -------------------------------------------------------------------------

export function integer(min: number, max: number): (raw: string) => number {
  return (raw) => {
    if (!/^\d+$/.test(raw)) throw new UsageError(`"${raw}" is not a whole number`);
    const n = Number(raw);
    if (n < min || n > max) throw new UsageError(`${raw} is outside ${min}..${max}`);
    return n;
  };
}

/** What a TIME is, said once in every --help that has one. */
export const TIME_SYNTAX =
  'TIME is a number of seconds (5) or a number with its unit: 500ms, 5s, 2m, 1h.';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3600_000 };

/** A duration such as `500ms`, `3s`, `2m`, `1h` or a bare number of seconds; returns milliseconds. */
export function duration(maxMs: number): (raw: string) => number {
  return (raw) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw);
    if (m === null) throw new UsageError(`"${raw}" is not a duration (e.g. 500ms, 5s, 2m, 1h)`);
    const ms = Number(m[1]) * UNIT_MS[m[2] ?? 's'];
    if (ms > maxMs) throw new UsageError(`${raw} is longer than ${maxMs / 1000}s`);
    return Math.round(ms);
  };
}

/** A size such as `4096`, `64k` or `16m` (binary units); returns bytes. */
export function size(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const m = /^(\d+)([kKmM])?$/.exec(raw);
    if (m === null) throw new UsageError(`"${raw}" is not a size (e.g. 8192, 64k, 1m)`);
    const n = Number(m[1]) * (m[2] === undefined ? 1 : /k/i.test(m[2]) ? 1024 : 1024 * 1024);
    if (n < min || n > max) throw new UsageError(`${raw} is outside ${min}..${max} bytes`);
    return n;
  };
}

/** Milliseconds as a TIME in the largest unit that says them exactly: 5000 → `5s`, 300000 → `5m`. */
export function timeText(ms: number): string {
  for (const unit of ['h', 'm', 's'])
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  return `${ms}ms`;
}

/**
 * A duration kept as written (so --help shows `5s`, not milliseconds), checked against `maxMs`.
 * Zero is refused unless `allowZero`: a zero timeout would end everything at once, while a zero
 * pause or drain time is a real choice.
 */
export function durationText(maxMs: number, allowZero: boolean): (raw: string) => string {
  const check = duration(maxMs);
  return (raw) => {
    if (check(raw) === 0 && !allowZero)
      throw new UsageError(`${raw} is zero; give a time such as 5s`);
    return raw;
  };
}

export function oneOf<const T extends string>(choices: readonly T[]): (raw: string) => T {
  return (raw) => {
    if (!(choices as readonly string[]).includes(raw))
      throw new UsageError(`"${raw}" is not one of ${choices.join(', ')}`);
    return raw as T;
  };
}

export function text(raw: string): string {
  return raw;
}

const SWITCH_WORDS: ReadonlyMap<string, boolean> = new Map([
  ['true', true],
  ['yes', true],
  ['on', true],
  ['1', true],
  ['false', false],
  ['no', false],
  ['off', false],
  ['0', false],
]);

/** A switch's value from a variable: true/false, yes/no, on/off or 1/0. */
export function flag(raw: string): boolean {
  const value = SWITCH_WORDS.get(raw);
  if (value === undefined)
    throw new UsageError(`"${raw}" is not one of true, false, yes, no, on, off, 1, 0`);
  return value;
}
