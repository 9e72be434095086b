// A small seeded generator, so a failing property test can be replayed from its seed.

export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  /** 0 <= n < limit (xorshift32). */
  int(limit: number): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state % limit;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }
}

/** The seed of this run: SEED=n replays one, otherwise it changes with the time. */
export function runSeed(): number {
  const given = Number(process.env.SEED);
  return Number.isInteger(given) && given > 0 ? given : Date.now() % 0x7fffffff;
}
