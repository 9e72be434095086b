// How a run's clients are dealt to its generator processes.

/** Generator `i`'s share of the clients: a range of them, the sizes within one of each other. */
export function share(clients: number, procs: number, i: number): { first: number; count: number } {
  const first = Math.floor((clients * i) / procs);
  return { first, count: Math.floor((clients * (i + 1)) / procs) - first };
}

/** Clients in the first wave of a staged start: half of each generator's share. */
export function firstWave(clients: number, procs: number): number {
  let total = 0;
  for (let i = 0; i < Math.max(procs, 1); i++)
    total += Math.floor(share(clients, Math.max(procs, 1), i).count / 2);
  return total;
}
