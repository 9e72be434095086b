// The event-loop delay each serving process reports in its metrics.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LoopDelay } from './metrics.ts';

export interface LoopDelayMonitor {
  read(): LoopDelay;
  stop(): void;
}

/**
 * Samples this process's event-loop delay. Reading never resets: figures cover the whole run,
 * as Prometheus summaries do, so one scraper cannot hide a stall from another.
 */
export function startLoopDelayMonitor(): LoopDelayMonitor {
  const resolutionMs = 20;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  // The samples are the sampling timer's whole period: the delay is what exceeds it.
  const seconds = (ns: number) =>
    Number.isFinite(ns) ? Math.max(0, ns / 1e6 - resolutionMs) / 1000 : 0;
  return {
    read() {
      const count = histogram.count;
      return {
        p50: seconds(histogram.percentile(50)),
        p99: seconds(histogram.percentile(99)),
        max: seconds(histogram.max),
        sum: count === 0 ? 0 : seconds(histogram.mean) * count,
        count,
      };
    },
    stop: () => histogram.disable(),
  };
}
