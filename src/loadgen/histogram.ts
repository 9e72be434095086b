// Latency histogram in microseconds: log-linear buckets (about 1.6% precision), fixed size, so
// recording is one index computation and an increment, and histograms from several generator
// processes merge by adding counts.

/** Values below this are recorded exactly (one bucket per microsecond). */
const LINEAR = 128;
/** Sub-buckets per power of two above LINEAR. */
const SUB = 64;
/** Powers of two covered above LINEAR: 128 µs << 26 ≈ 2.4 hours, far past any timeout. */
const OCTAVES = 26;
const SIZE = LINEAR + OCTAVES * SUB;

export interface HistogramData {
  /** Bucket counts, only the non-zero ones: [index, count] pairs flattened. */
  readonly buckets: readonly number[];
  readonly max: number;
}

export class Histogram {
  readonly #counts = new Float64Array(SIZE);
  #count = 0;
  #max = 0;

  record(micros: number): void {
    const v = micros < 0 ? 0 : Math.round(micros);
    this.#counts[bucketOf(v)]++;
    this.#count++;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#count;
  }

  get max(): number {
    return this.#max;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#max = 0;
  }

  /** The smallest recorded value v such that at least `q` (0..1) of the values are <= v (upper bucket edge). */
  percentile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return Math.min(upperEdge(i), this.#max);
    }
    return this.#max;
  }

  toData(): HistogramData {
    const buckets: number[] = [];
    for (let i = 0; i < SIZE; i++) if (this.#counts[i] !== 0) buckets.push(i, this.#counts[i]);
    return { buckets, max: this.#max };
  }

  add(data: HistogramData): void {
    for (let i = 0; i < data.buckets.length; i += 2) {
      this.#counts[data.buckets[i]] += data.buckets[i + 1];
      this.#count += data.buckets[i + 1];
    }
    if (data.max > this.#max) this.#max = data.max;
  }
}

/** Whether `data` (read from a file, say) is histogram data this build can add: bucket indexes and counts in range. */
export function isHistogramData(data: unknown): data is HistogramData {
  if (typeof data !== 'object' || data === null) return false;
  const { buckets, max } = data as Record<string, unknown>;
  if (!Array.isArray(buckets) || buckets.length % 2 !== 0) return false;
  if (typeof max !== 'number' || !(max >= 0)) return false;
  for (let i = 0; i < buckets.length; i += 2) {
    const index: unknown = buckets[i];
    const count: unknown = buckets[i + 1];
    if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= SIZE)
      return false;
    if (typeof count !== 'number' || !(count >= 0) || !Number.isFinite(count)) return false;
  }
  return true;
}

function bucketOf(v: number): number {
  if (v < LINEAR) return v;
  // v >= 128: octave k means 128·2^k <= v < 128·2^(k+1); 31 - clz32 is floor(log2 v).
  const octave = 31 - Math.clz32(v) - 7;
  if (octave >= OCTAVES) return SIZE - 1;
  const sub = Math.floor(((v >>> octave) - LINEAR) / (LINEAR / SUB));
  return LINEAR + octave * SUB + sub;
}

function upperEdge(index: number): number {
  if (index < LINEAR) return index;
  const octave = Math.floor((index - LINEAR) / SUB);
  const sub = (index - LINEAR) % SUB;
  return ((LINEAR + (sub + 1) * (LINEAR / SUB)) << octave) - 1;
}
