// Value parsers for option tables: each turns an option's text into a typed value or throws
// UsageError with a reason (without the flag name, which the caller adds).
import { UsageError } from './usage-error.ts';

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
