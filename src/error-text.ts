// What a caught value says about itself, for a log field or a line on stderr.

/**
 * `error`'s message (anything thrown that is not an Error: its text). `stack`: the stack trace
 * instead, where one exists, for failures that are bugs and must be traced to a line.
 */
export function errorText(error: unknown, stack: 'stack' | 'message' = 'message'): string {
  if (!(error instanceof Error)) return String(error);
  return stack === 'stack' ? (error.stack ?? error.message) : error.message;
}
