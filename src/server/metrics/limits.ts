// The metrics port's bounds, apart from its server so that `serve` can count them in the
// descriptor reserve without loading node:http when there is no metrics port.

export interface MetricsLimits {
  /** Open metrics connections at most; they count in the descriptor reserve. */
  readonly connections: number;
  /** From accept to close, ms: time to send the request and to take the answer. */
  readonly lifetimeMs: number;
  /** Longest request head (request line and headers), bytes. */
  readonly headBytes: number;
  /** After a refusal, how long (ms) and how many bytes the peer's rest is read and dropped. */
  readonly lingerMs: number;
  readonly lingerBytes: number;
}

export const METRICS_LIMITS: MetricsLimits = Object.freeze({
  connections: 8,
  lifetimeMs: 5000,
  headBytes: 8192,
  lingerMs: 1000,
  lingerBytes: 16 * 1024 * 1024,
});
