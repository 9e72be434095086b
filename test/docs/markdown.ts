// What the docs tests read out of a Markdown file: the command lines in its code blocks, its
// inline code, its relative links and its heading anchors. Plain line scanning, enough for
// the fenced blocks, tables and links these docs use.

const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);
const FENCE = /^(\s*)(`{3,})\s*([\w-]*)/;
const EXAMPLE_MARK = /^\s*<!-- example: ([\w-]+) -->\s*$/;

/**
 * One fenced code block: its language (info string, '' if none), its lines, de-indented, and
 * the name of a `<!-- example: NAME -->` line just before its fence (blank lines between allowed).
 */
export type CodeBlock = { language: string; lines: string[]; example?: string };

/** A file split into its fenced code blocks and the prose around them (fences in list items too). */
export function splitFences(markdown: string): { blocks: CodeBlock[]; prose: string } {
  const blocks: CodeBlock[] = [];
  const prose: string[] = [];
  let open: (CodeBlock & { indent: number; fence: string }) | null = null;
  let example: string | undefined;
  for (const line of markdown.split('\n')) {
    const fence = FENCE.exec(line);
    if (open === null) {
      if (fence)
        open = {
          language: fence[3] ?? '',
          lines: [],
          indent: fence[1]?.length ?? 0,
          fence: fence[2] ?? '',
          example,
        };
      else {
        prose.push(line);
        if (line.trim() !== '') example = EXAMPLE_MARK.exec(line)?.[1];
      }
    } else if (fence && line.trim() === open.fence) {
      const { language, lines } = open;
      blocks.push(
        open.example === undefined
          ? { language, lines }
          : { language, lines, example: open.example },
      );
      open = null;
      example = undefined;
    } else {
      open.lines.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)));
    }
  }
  return { blocks, prose: prose.join('\n') };
}

/**
 * The command lines of one block, normalised (see `normaliseCommand`):
 * - a transcript (any line starts with `$ `): only those lines, without the `$ `; the rest is
 *   output or what a person typed into the program;
 * - otherwise a shell block (sh, bash, shell, console, zsh): every line that is not blank and
 *   not a whole-line comment, a line ending in `\` joined with the next;
 * - any other block (text, json, …) holds no commands.
 */
export function blockCommands(block: CodeBlock): string[] {
  const prompted = block.lines.filter((line) => line.startsWith('$ '));
  if (prompted.length > 0) return prompted.map((line) => normaliseCommand(line.slice(2)));
  if (!SHELL_LANGUAGES.has(block.language)) return [];
  const commands: string[] = [];
  let pending = '';
  for (const line of block.lines) {
    if (pending === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    if (line.trimEnd().endsWith('\\')) {
      pending += `${line.trimEnd().slice(0, -1)} `;
      continue;
    }
    commands.push(normaliseCommand(pending + line));
    pending = '';
  }
  if (pending !== '') commands.push(normaliseCommand(pending));
  return commands;
}

export function commandLines(markdown: string): string[] {
  return splitFences(markdown).blocks.flatMap(blockCommands);
}

/** Drops a trailing shell comment (a `#` after a blank, outside quotes) and folds blanks. */
export function normaliseCommand(line: string): string {
  let quote = '';
  let end = line.length;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) {
      end = i;
      break;
    }
  }
  return line.slice(0, end).trim().replace(/\s+/g, ' ');
}

/** Inline code spans in the prose (`like this`), normalised like commands. */
export function inlineCode(markdown: string): string[] {
  const { prose } = splitFences(markdown);
  return [...prose.matchAll(/(?<!`)`([^`\n]+)`(?!`)/g)].map((m) => normaliseCommand(m[1] ?? ''));
}

/** Link targets that are paths in this repository (no scheme, not a bare #anchor). */
export function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? '')
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'));
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, blanks to '-'. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of splitFences(markdown).prose.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)) {
    anchors.add(
      (m[1] ?? '')
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
}
