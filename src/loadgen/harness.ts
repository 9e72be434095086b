// What a bench run needs around it, shared by `elb-proxy-echo bench` and `npm run bench`: how to
// start this program again, where to pin, how to start our server for a run, the header to send,
// progress on stderr, and leaving nothing behind when interrupted.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { ECHO_DEFAULTS } from '../server/server-options.ts';
import type { HeaderKind } from './addresses.ts';
import type { SelfCommand } from './spread.ts';

/** This program again, as a child: the executable itself, or Node with the CLI script. */
export async function selfCommand(cliScript: string): Promise<SelfCommand> {
  const { isSea } = await import('node:sea');
  if (isSea()) return { file: process.execPath, args: [] };
  return { file: process.execPath, args: [...process.execArgv, cliScript] };
}

/** CPU lists for pinning the server and the generators apart, or null when that is not possible. */
export function pinning(): { server: string; generators: string } | null {
  const cpus = availableParallelism();
  if (cpus < 2 || spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status !== 0) return null;
  return { server: '0', generators: cpus === 2 ? '1' : `1-${cpus - 1}` };
}

/** Our server's limits raised where a run needs it: room for every client, lines as long as the run's. */
export function serverLimits(
  workers: number,
  clients: number,
  lineBytes: number,
): { maxConnections: number; maxLine: number } {
  const perWorker = Math.ceil((clients * 1.1) / workers) + 100; // workers get connections by hash, not evenly
  return {
    maxConnections: Math.max(perWorker, ECHO_DEFAULTS.maxConnections),
    maxLine: Math.max(lineBytes, ECHO_DEFAULTS.maxLine),
  };
}

/** Arguments for our server as a child process of the bench: quiet (warnings only) unless asked, with serverLimits. */
export function serverArgs(
  workers: number,
  clients: number,
  lineBytes: number,
  logLevel: 'warn' | 'info' = 'warn',
): string[] {
  const { maxConnections, maxLine } = serverLimits(workers, clients, lineBytes);
  return [
    'serve',
    '--host',
    '127.0.0.1',
    '--log-level',
    logLevel,
    '--workers',
    String(workers),
    '--max-connections',
    String(maxConnections),
    '--max-line',
    String(maxLine),
  ];
}

/** Progress on stderr: one rewritten line on a terminal, a line every five seconds otherwise. */
export function progressWriter(): (line: string, final: boolean) => void {
  let calls = 0;
  return (line, final) => {
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    else if (final || ++calls % 5 === 0) process.stderr.write(`${line}\n`);
  };
}

/**
 * The header when none is asked for: v2 for our own server or a target on this machine (nothing
 * stands in between to add one), none for a remote target (its load balancer adds it).
 */
export function autoHeader(target: { host: string } | null): HeaderKind {
  return target === null || /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(target.host)
    ? 'v2'
    : 'none';
}

/**
 * Interrupted (SIGINT, SIGTERM): exit at once with 130; the exit hook in servers.ts ends the
 * servers started, and the generator processes end when their IPC channel closes.
 */
export function exitOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => process.exit(130));
}
