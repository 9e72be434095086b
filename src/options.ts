// Command-line and environment options, parsed once at the edge.
//
// Every subcommand describes its options as a table of `Option`s; `parseOptions` turns argv
// (and, for options that have one, an environment variable) into a frozen object of typed
// values. Bad input is a configuration error: it throws `UsageError`, which the CLI turns into
// a one-line reason and exit status 2 before anything starts.
//
// This file is the options' one import for a command: the table's shape (option-table.ts), the
// value parsers (option-values.ts) and --help (option-help.ts) are re-exported from here.
import { closest } from './closest.ts';
import { ENV_PREFIX, type Option, type OptionTable, type OptionValues } from './option-table.ts';
import { isSettingError, UsageError } from './usage-error.ts';

export { isSettingError, UsageError } from './usage-error.ts';
export {
  envName,
  type Option,
  option,
  type OptionTable,
  type OptionValues,
  withEnv,
} from './option-table.ts';
export { defaultText, formatOptions, HELP_WIDTH } from './option-help.ts';
export {
  duration,
  durationText,
  flag,
  integer,
  oneOf,
  size,
  text,
  TIME_SYNTAX,
  timeText,
} from './option-values.ts';

export interface Parsed<S extends OptionTable> {
  readonly values: OptionValues<S>;
  readonly positionals: readonly string[];
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
    if (isSettingError(error)) throw new UsageError(`${where}: ${error.message}`);
    throw error;
  }
}
