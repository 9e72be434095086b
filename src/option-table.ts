// How a command describes its options: one `Option` per flag in a table, with its environment
// variable, its default and the parser of its text.
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

export const ENV_PREFIX = 'ELB_PROXY_ECHO_';

/** Name of the environment variable for a flag: `--max-line` → `ELB_PROXY_ECHO_MAX_LINE`. */
export function envName(flag: string): string {
  return `${ENV_PREFIX}${flag.toUpperCase().replaceAll('-', '_')}`;
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
