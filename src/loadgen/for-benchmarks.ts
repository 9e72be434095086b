// The surface our own benchmarks (the top-level bench/ folder, and test/bench/) use of the load
// generator: start a server process, run the product's generator against it, print figures the
// way `bench` does. bench/ imports from here or from the package entry (src/index.ts) only, so
// the rest of src/loadgen/ may change shape without breaking a benchmark script.
export {
  exitOnSignals,
  pinning,
  progressWriter,
  selfCommand,
  serverArgs,
} from './harness.ts';
export { errorsText, kib, num, percent, table } from './report.ts';
export type { RunResult } from './result.ts';
export { runBench } from './run.ts';
export type { RunPlan } from './run-plan.ts';
export { type ServerHandle, startCommand } from './servers.ts';
export type { SelfCommand } from './spread.ts';
