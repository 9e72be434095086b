// A latency histogram as the report gives it: percentiles and the worst, in milliseconds.
import type { Histogram } from './histogram.ts';

export interface Latency {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly samples: number;
}

/** The report's percentiles, in milliseconds, from a histogram in microseconds. */
export function latencyOf(latency: Histogram): Latency {
  return {
    p50: latency.percentile(0.5) / 1000,
    p90: latency.percentile(0.9) / 1000,
    p99: latency.percentile(0.99) / 1000,
    max: latency.max / 1000,
    samples: latency.count,
  };
}
