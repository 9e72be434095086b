// --help for an option table: one row per option, its description wrapped under itself, with
// its variable and default.
import type { Option, OptionTable } from './option-table.ts';

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
