// Text from the network shown to a person (the greeting, the text/plain HTTP answer): every
// character that a terminal acts on or that breaks or reorders a line is written as an escape,
// so what a balancer or client sent can neither fake a second line nor recolour the screen.

/**
 * C0 controls, DEL and C1 controls, the Unicode line and paragraph separators, the bidi
 * marks, embeddings, overrides and isolates, and the backslash itself (so an escape is never
 * ambiguous).
 */
function unsafe(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x5c ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/** `text` with every unsafe character as `\uXXXX` (a backslash as `\\`). */
export function printable(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!unsafe(code)) continue;
    out +=
      text.slice(from, i) + (code === 0x5c ? '\\\\' : `\\u${code.toString(16).padStart(4, '0')}`);
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}
