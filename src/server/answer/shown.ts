// Every value a peer chose (TLV text, and in the answers the request's parts) is shown cut to
// MAX_SHOWN characters with its full length said (`shown`), and lists to MAX_LISTED entries: a
// view, and so an answer or a greeting, stays small whatever the header carried.
import { cutAt } from '../../log-escape.ts';

/** Longest value shown as received; a longer one is cut and its length said. */
export const MAX_SHOWN = 256;
/** Most entries of a list shown (TLV types, request headers); the rest are counted. */
export const MAX_LISTED = 32;

/**
 * `value` as shown to a client: as is up to MAX_SHOWN characters, else its start and how many
 * characters were left out, marked as the log marks a value it cuts. (Not yet escaped: each rendering escapes in its own way, at most 6 characters each.)
 */
export function shown(value: string): string {
  if (value.length <= MAX_SHOWN) return value;
  // Never half of a surrogate pair at the cut.
  const cut = isHighSurrogate(value.charCodeAt(MAX_SHOWN - 1)) ? MAX_SHOWN - 1 : MAX_SHOWN;
  return cutAt(value, cut);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** The first MAX_LISTED of `items`, and how many more there were. */
export function listed<T>(items: readonly T[]): {
  readonly head: readonly T[];
  readonly more: number;
} {
  return items.length <= MAX_LISTED
    ? { head: items, more: 0 }
    : { head: items.slice(0, MAX_LISTED), more: items.length - MAX_LISTED };
}
