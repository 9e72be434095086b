// `--max-connections auto`: as many connections as this process's file descriptors allow.
//
// A process out of descriptors cannot accept: libuv then takes the connection with a spare
// descriptor and closes it at once, and Node never tells the server, so nothing is counted or
// logged. A connection limit below the descriptor limit turns those into refusals the server
// sees ('drop'), counts and logs.
import { readdirSync, readFileSync } from 'node:fs';
import { ServerConfigError } from '../errors.ts';
import { ACCEPT_SOCKETS } from '../accepting.ts';

/**
 * Descriptors the server opens after start-up besides connections: the listening sockets
 * (ACCEPT_SOCKETS of them, and the IPv4 one when `::` is refused), the signal pipe, DNS look-ups
 * of --host, the cluster channel; with a margin. The metrics port's are counted apart (`extra`),
 * by its own cap.
 */
export const HEADROOM = 16 + ACCEPT_SOCKETS;

export interface ConnectionBudget {
  readonly maxConnections: number;
  /** The soft open-file limit; null: none found (unlimited, or no /proc). */
  readonly limit: number | null;
  /** Descriptors kept for the server itself: those open at start, HEADROOM and `extra`. */
  readonly reserved: number;
  /** The most `auto` gives, whatever the limit. */
  readonly cap: number;
}

/** The soft "Max open files" in the text of /proc/PID/limits; null when absent or unlimited. */
export function openFilesLimit(limits: string): number | null {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
  return match === null || match[1] === 'unlimited' ? null : Number(match[1]);
}

/** The connection limit for `limit` descriptors when `openAtStart` are already in use. */
export function connectionBudget(
  limit: number | null,
  openAtStart: number,
  cap: number,
  extra = 0,
): ConnectionBudget {
  const reserved = openAtStart + HEADROOM + extra;
  if (limit === null) return { maxConnections: cap, limit, reserved, cap };
  if (limit <= reserved) {
    throw new ServerConfigError(
      `the open-file limit (${limit}) leaves no descriptor for connections (the server keeps ${reserved} for itself); raise it (LimitNOFILE=)`,
    );
  }
  return { maxConnections: Math.min(cap, limit - reserved), limit, reserved, cap };
}

/**
 * This process's budget, read once at start; `extra`: descriptors other listeners may hold
 * (the metrics port and its connections). Node has raised its soft limit to the hard one by
 * now, so this is the limit the server really has.
 */
export function readConnectionBudget(cap: number, extra = 0): ConnectionBudget {
  let limits = '';
  let open = 0;
  try {
    limits = readFileSync('/proc/self/limits', 'utf8');
    open = readdirSync('/proc/self/fd').length - 1; // less the one reading the directory
  } catch {
    // No /proc: no figure to go by; the cap applies.
  }
  return connectionBudget(openFilesLimit(limits), open, cap, extra);
}
