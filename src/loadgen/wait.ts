// Waiting inside a run: a plain sleep, and polling a condition every tick up to a limit.

/** How often a run polls its generators and samples the server. */
export const TICK_MS = 100;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` every tick until it holds (true) or `limitMs` passed (false). */
export async function waitFor(done: () => boolean, limitMs: number): Promise<boolean> {
  const end = performance.now() + limitMs;
  while (!done()) {
    if (performance.now() > end) return false;
    await sleep(TICK_MS);
  }
  return true;
}
