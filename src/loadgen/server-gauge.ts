// What a run reads of the server's resource use: its CPU time and its RSS, sampled while the
// clients run, or nothing when the server shares the clients' process.
import type { ServerHandle } from './servers.ts';
import { sleep, TICK_MS } from './wait.ts';

/** What the run reads of the server's resource use. */
export type Gauge = Pick<ServerHandle, 'rss' | 'cpuMicros'>;
const UNMEASURED: Gauge = { rss: () => null, cpuMicros: () => null };

/**
 * An in-process server with the clients on the same event loop: its CPU and memory are theirs
 * too, and cannot be told apart, so they are not reported rather than reported wrong.
 */
export function gaugeFor(procs: number, server: ServerHandle, notes: string[]): Gauge {
  if (procs !== 0 || server.pid !== process.pid) return server;
  notes.push(
    'server and clients share this process (--procs 0): server CPU and memory are not measured',
  );
  return UNMEASURED;
}

/** Samples the server's RSS every tick from now; the function returned stops and gives the highest seen. */
export function watchRss(server: Gauge): () => number | null {
  let highest = server.rss();
  const timer = setInterval(() => {
    const now = server.rss();
    if (now !== null && (highest === null || now > highest)) highest = now;
  }, TICK_MS);
  return () => {
    clearInterval(timer);
    return highest;
  };
}

/** The server's RSS once it stops moving (a just-started server, its workers still warming up), bounded to a few seconds. */
export async function settledRss(server: Gauge): Promise<number | null> {
  let previous = server.rss();
  for (let i = 0; i < 12 && previous !== null; i++) {
    await sleep(250);
    const now = server.rss();
    if (now === null || Math.abs(now - previous) < 256 * 1024) return now;
    previous = now;
  }
  return previous;
}
