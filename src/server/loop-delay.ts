// The event-loop delay each serving process reports in its metrics.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LoopDelay } from './metrics.ts';

export interface LoopDelayMonitor {
  read(): LoopDelay;
  stop(): void;
}

/** Samples this process's event-loop delay (figures since the last read, in seconds). */
export function startLoopDelayMonitor(): LoopDelayMonitor {
  const resolutionMs = 20;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  return {
    read() {
      // The samples are the sampling timer's whole period: the delay is what exceeds it.
      const s = (ns: number) =>
        Number.isFinite(ns) ? Math.max(0, ns / 1e6 - resolutionMs) / 1000 : 0;
      const figures = {
        p50: s(histogram.percentile(50)),
        p99: s(histogram.percentile(99)),
        max: s(histogram.max),
      };
      histogram.reset();
      return figures;
    },
    stop: () => histogram.disable(),
  };
}
