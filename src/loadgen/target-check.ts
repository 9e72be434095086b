// Before a run against --target: one connection, opened and closed at once. A target nothing
// listens on, or a name that does not resolve, is then one line and exit status 2 within a
// moment, instead of a whole run of failed connects ending in a table of zeros.
import net from 'node:net';
import { timeText } from '../options.ts';

/** What the errors a connect can end in mean to someone who typed a --target. */
const REASONS: ReadonlyMap<string, string> = new Map([
  ['ECONNREFUSED', 'connection refused (nothing listens on that port)'],
  ['ENOTFOUND', 'no such host'],
  ['EAI_AGAIN', 'the name could not be looked up (no answer from DNS)'],
  ['EHOSTUNREACH', 'host unreachable'],
  ['ENETUNREACH', 'network unreachable'],
  ['ECONNRESET', 'connection reset'],
]);

/**
 * Null when `host:port` accepts a TCP connection within `timeoutMs`; otherwise why not, in
 * words. `lookup` replaces the system resolver (tests).
 */
export function unreachableTarget(
  host: string,
  port: number,
  timeoutMs: number,
  lookup?: net.LookupFunction,
): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect(lookup === undefined ? { host, port } : { host, port, lookup });
    const done = (why: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(`no answer within ${timeText(timeoutMs)}`), timeoutMs);
    socket.once('connect', () => done(null));
    socket.once('error', (error: NodeJS.ErrnoException) => done(reasonOf(error)));
  });
}

function reasonOf(error: NodeJS.ErrnoException): string {
  // With both an IPv6 and an IPv4 address, every attempt failed: the first says why.
  const cause = error instanceof AggregateError ? (error.errors[0] ?? error) : error;
  const code = (cause as NodeJS.ErrnoException).code ?? '';
  return REASONS.get(code) ?? (code || cause.message);
}
