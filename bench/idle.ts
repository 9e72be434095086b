// Memory per idle connection: the server's RSS with half the clients held, then with all of them,
// each generator holding its half (two C generators, so each stays well under the descriptor
// limit). The growth from half to all, per connection added, leaves out what a fresh process
// pays once (code compiled, buffers pooled, the heap grown) and counts what a connection keeps.
import type { ServerHandle } from '../src/loadgen/for-benchmarks.ts';
import { type LoadReport, startLoad } from './load.ts';

export interface IdleResult {
  readonly held: number;
  readonly halfBytes: number;
  readonly allBytes: number;
  readonly perConnectionBytes: number | null;
  readonly reports: readonly LoadReport[];
}

/** Bounds the hold: the generators are stopped as soon as the second sample is taken. */
const HOLD_LIMIT_MS = 120_000;
const SETTLE_MS = 1000;

export async function idleMemory(
  binary: string,
  server: ServerHandle,
  clients: number,
  cpus: string | undefined,
): Promise<IdleResult | null> {
  const half = Math.floor(clients / 2);
  const hold = (firstIndex: number, count: number) =>
    startLoad(
      binary,
      {
        scenario: 'hold',
        clients: count,
        durationMs: HOLD_LIMIT_MS,
        lineBytes: 16,
        firstIndex,
        cpus,
      },
      server,
    );
  const first = hold(0, half);
  await first.measuring;
  const halfBytes = await settledPeak(server);
  const second = hold(half, clients - half);
  await second.measuring;
  const allBytes = await settledPeak(server);
  first.stop();
  second.stop();
  const reports = await Promise.all([first.done, second.done]);
  if (halfBytes === null || allBytes === null) return null;
  const added = reports[1].up;
  return {
    held: reports[0].up + reports[1].up,
    halfBytes,
    allBytes,
    perConnectionBytes: added > 0 ? (allBytes - halfBytes) / added : null,
    reports,
  };
}

/** The highest RSS seen over a short settle, sampled every 100 ms. */
async function settledPeak(server: ServerHandle): Promise<number | null> {
  let highest: number | null = null;
  for (let waited = 0; waited < SETTLE_MS; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = server.rss();
    if (now !== null && (highest === null || now > highest)) highest = now;
  }
  return highest;
}
