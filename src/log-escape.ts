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

const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Cn}]/u;
const UNSAFE_OR_QUOTE = /["\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Cn}]/gu;
const UNSAFE_ALL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Cn}]/gu;

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
 * True when `value` is printable ASCII (U+0020-U+007E) with no `"` or `\`: the common case, which
 * needs no escaping and is checked with a plain loop, no regular expression.
 */
function plainAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** A JSON string literal for `value` (quotes included) with every unsafe code point escaped. */
export function quote(value: string): string {
  if (plainAscii(value)) return `"${value}"`;
  return `"${value.replace(UNSAFE_OR_QUOTE, escapeCodePoint)}"`;
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
 * `value` with its unsafe code points escaped but no quotes added, for free text such as a text
 * line's message. (`"` and `\` stay as they are: a message is not parsed back.)
 */
export function escapeText(value: string): string {
  if (plainAscii(value)) return value;
  return UNSAFE.test(value) ? value.replace(UNSAFE_ALL, escapeCodePoint) : value;
}

/**
 * A text line's field value: a bare word when it is printable ASCII with no space, quote or `=`
 * (so `key=value` splits unambiguously), else the JSON string literal.
 */
export function textValue(value: string): string {
  if (value === '') return '""';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c > 0x7e || c === 0x22 || c === 0x3d || c === 0x5c) return quote(value);
  }
  return value;
}
