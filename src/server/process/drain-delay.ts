// The first step of a stop. The health goes to draining at once (HTTP health checks get 503);
// with --drain-delay the process goes on accepting and serving for that long, so the balancer
// sees the checks fail and stops sending new clients before the port closes (connections it
// sends meanwhile are served, not refused).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Health } from '../health.ts';

/** `say` logs the step when there is a delay (null: a cluster worker, whose primary says it). */
export async function drainDelay(
  health: Health,
  delayMs: number,
  say: (() => void) | null,
): Promise<void> {
  health.set('draining');
  if (delayMs === 0) return;
  say?.();
  await sleep(delayMs);
}
