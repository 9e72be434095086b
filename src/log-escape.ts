// Making data safe to put in a log line: no value can end the line, forge another line or field,
// or change how a terminal shows the rest of the line.
//
// Escaped, as \uXXXX (or \n, \r, \t, \", \\), in text and JSON alike — every code point of:
// - Cc, the controls: C0 (U+0000-U+001F), DEL (U+007F) and C1 (U+0080-U+009F; U+0085 is a line
//   break to some readers, U+009B starts a terminal control sequence);
// - Zl and Zp, the line and paragraph separators U+2028 and U+2029 (line ends to JavaScript and
//   to many viewers);
// - Cf, the invisible format characters: the bidirectional controls that reorder what follows
//   (U+061C, U+200E/F, U+202A-U+202E, U+2066-U+2069), zero-width characters, the byte order
//   mark U+FEFF, soft hyphen, interlinear annotation and tag characters;
// - Cs, a lone surrogate (UTF-16 half of a pair with no other half: not a character at all, and
//   not valid UTF-8 on the way out);
// - Cn, unassigned code points and the noncharacters (U+FFFE, U+FFFF, …): nothing shows them.
// Everything else (letters, marks, symbols, spaces, private use) is printable and passes as is.
// JSON.parse of the escaped text gives back the original string exactly, lone surrogates included.
//
// In log lines `<` is escaped too (\u003c): journald reads a `<N>` at the start of a line as its
// priority, so with no raw `<` in a message or value, no piece of a line (should anything ever
// split one) can set a priority. And every value and message is capped (`capped` below), so a
// line never comes near journald's line limit (48 KiB) and is never split in the first place.

const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Cn}]/u;
const UNSAFE_ALL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Cn}]/gu;
const LOG_UNSAFE = /[<\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Cn}]/u;
const LOG_UNSAFE_ALL = /[<\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Cn}]/gu;
const LOG_UNSAFE_OR_QUOTE = /["\\<\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Cn}]/gu;
/** Sticky: is the code point at `lastIndex` one of the unsafe ones (the `<` aside)? */
const UNSAFE_AT = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Cn}]/uy;

const SHORT: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/** `\uXXXX` for each UTF-16 unit of one code point (a pair for one above U+FFFF). */
function escapeCodePoint(c: string): string {
  const short = SHORT[c];
  if (short !== undefined) return short;
  let out = '';
  for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/**
 * True when `value` is printable ASCII (U+0020-U+007E) with no `"`, `\` or `<`: the common case,
 * which needs no escaping and is checked with a plain loop, no regular expression.
 */
function plainAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c || c === 0x3c) return false;
  }
  return true;
}

/** A JSON string literal for `value` (quotes included) with every unsafe code point and `<` escaped. */
export function quote(value: string): string {
  if (plainAscii(value)) return `"${value}"`;
  return `"${value.replace(LOG_UNSAFE_OR_QUOTE, escapeCodePoint)}"`;
}

// JSON.rawJSON (Node 21+) lets a replacer write a string's literal itself; not yet in TS's lib.
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * JSON text of `value` indented by two spaces, every string in it written by `quote` (plain
 * JSON.stringify leaves C1 controls, U+2028 and the bidirectional controls as they are). Object
 * keys are left to JSON.stringify: they are the caller's own names, not data.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'string' ? rawJson(quote(v)) : v), 2);
}

/**
 * `value` with its unsafe code points escaped but no quotes added, for free text a person reads
 * (the greeting, the HTTP answer). (`"`, `\` and `<` stay as they are: the text is not parsed back.)
 */
export function escapeText(value: string): string {
  if (plainAscii(value)) return value;
  return UNSAFE.test(value) ? value.replace(UNSAFE_ALL, escapeCodePoint) : value;
}

/** A text log line's message: as `escapeText`, and `<` escaped too. */
export function logText(value: string): string {
  if (plainAscii(value)) return value;
  return LOG_UNSAFE.test(value) ? value.replace(LOG_UNSAFE_ALL, escapeCodePoint) : value;
}

/**
 * A text line's field value: a bare word when it is printable ASCII with no space, quote, `=` or
 * `<` (so `key=value` splits unambiguously), else the JSON string literal.
 */
export function textValue(value: string): string {
  if (value === '') return '""';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // `c >> 1 === 0x1e`: `<` or `=` in one comparison (a third one here costs 10% of a line).
    if (c <= 0x20 || c > 0x7e || c === 0x22 || c === 0x5c || c >> 1 === 0x1e) return quote(value);
  }
  return value;
}

/** Most UTF-8 bytes a log line's message or one field's value takes, escaped, quotes included. */
export const VALUE_BYTES = 1024;

/** A JSON line's message or field value: `quote`, cut to `VALUE_BYTES` (see `cut`). */
export function jsonValue(value: string): string {
  return value.length <= ALWAYS_FITS ? quote(value) : capped(value, quote, QUOTED);
}

/** A text line's field value: `textValue`, cut to `VALUE_BYTES` (then always quoted). */
export function textFieldValue(value: string): string {
  return value.length <= ALWAYS_FITS ? textValue(value) : capped(value, textValue, QUOTED);
}

/** A text line's message: `logText`, cut to `VALUE_BYTES`. */
export function textMessage(value: string): string {
  return value.length <= ALWAYS_FITS ? logText(value) : capped(value, logText, BARE);
}

/** A value this short fits whatever it holds: a UTF-16 unit escapes to 6 bytes at most. */
const ALWAYS_FITS = Math.floor((VALUE_BYTES - 2) / 6);
const QUOTED = true;
const BARE = false;

/**
 * What `render` escapes `value` to when it fits in `VALUE_BYTES`, else `value` cut. A value
 * longer than that many UTF-16 units cannot fit (each unit is a byte at least), so it is cut
 * without being escaped whole.
 */
function capped(value: string, render: (value: string) => string, quoted: boolean): string {
  if (value.length <= VALUE_BYTES) {
    const escaped = render(value);
    if (Buffer.byteLength(escaped) <= VALUE_BYTES) return escaped;
  }
  return cut(value, quoted);
}

/**
 * As much of `value` as fits in `VALUE_BYTES` of UTF-8 once escaped, then `...(+N chars)`: N is the
 * number of code points left out. The cut falls between whole code points of `value`, so it
 * never splits an escape or a surrogate pair. Quoted: a JSON string literal (`quote`); else as
 * `logText`.
 */
function cut(value: string, quoted: boolean): string {
  const room = VALUE_BYTES - Buffer.byteLength(cutMark(value.length)) - (quoted ? 2 : 0);
  const end = fittingPrefix(value, room, quoted);
  const mark = cutMark(codePoints(value, end));
  const shown = value.slice(0, end);
  return quoted ? `${quote(shown).slice(0, -1)}${mark}"` : logText(shown) + mark;
}

/** What stands after a value cut short, in logs and answers alike: how much was left out. */
function cutMark(left: number): string {
  return `...(+${left} chars)`;
}

/** `value`'s first `end` UTF-16 units and the mark saying how many characters were left out. */
export function cutAt(value: string, end: number): string {
  return value.slice(0, end) + cutMark(codePoints(value, end));
}

/**
 * How many UTF-16 units at the start of `value` (whole code points) escape to at most `maxBytes`
 * bytes of UTF-8: each code point counted as `quote` (quoted) or `logText` escape it.
 */
function fittingPrefix(value: string, maxBytes: number, quoted: boolean): number {
  let bytes = 0;
  let i = 0;
  while (i < value.length) {
    const c = value.codePointAt(i) as number;
    const units = c > 0xffff ? 2 : 1;
    let width: number;
    if (c === 0x3c) width = 6;
    else if (c === 0x22 || c === 0x5c) width = quoted ? 2 : 1;
    else if (c >= 0x20 && c < 0x7f) width = 1;
    else if (c === 0x0a || c === 0x0d || c === 0x09) width = 2;
    else {
      UNSAFE_AT.lastIndex = i;
      if (UNSAFE_AT.test(value)) width = 6 * units;
      else width = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    }
    if (bytes + width > maxBytes) break;
    bytes += width;
    i += units;
  }
  return i;
}

/** Code points in `value` from `start` (a lone surrogate counts as one). */
function codePoints(value: string, start: number): number {
  let count = 0;
  for (let i = start; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // The low half of a pair was counted with its high half.
    if (c >= 0xdc00 && c <= 0xdfff && i > start) {
      const before = value.charCodeAt(i - 1);
      if (before >= 0xd800 && before <= 0xdbff) continue;
    }
    count++;
  }
  return count;
}
