// How often timeouts are checked when one timer checks them all (the server's sweep, and
// node:http's check of the requests it was handed).

/**
 * A fifth of the shortest timeout, within 20 ms..1 s: a deadline is then met within a fifth of
 * itself, without a timer waking more often than 50 times a second.
 */
export function checkPeriod(shortestTimeoutMs: number): number {
  return Math.max(20, Math.min(1000, Math.floor(shortestTimeoutMs / 5)));
}
