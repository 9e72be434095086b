// The server under attack: `elb-proxy-echo serve` as a child process on loopback, ephemeral echo
// and metrics ports, JSON logs on stdout, on the engine the case names.
import { spawn } from 'node:child_process';
import * as assert from 'uvu/assert';
import { CLI } from '../helpers/cli.ts';
import { track, type Running } from '../helpers/peers.ts';
import { session } from '../helpers/resilience.ts';

export const ENGINES = ['uv', 'net'] as const;
export type EngineName = (typeof ENGINES)[number];

/**
 * Every case starts from these: short header timeout (the slowloris cases finish fast), an idle
 * timeout long enough that the attacks that stall are closed by the bound under test, not by
 * it. A case adds flags of its own (later flags win).
 */
const BASE_ARGS = [
  'serve',
  '--host',
  '127.0.0.1',
  '--log-format',
  'json',
  '--metrics-port',
  '0',
  '--header-timeout',
  '1s',
  '--idle-timeout',
  '10s',
  '--drain-timeout',
  '1s',
];

export interface Target {
  readonly engine: EngineName;
  readonly proc: Running;
  readonly pid: number;
  /** The echo port (PROXY header, echo, HTTP, greeting). */
  readonly port: number;
  readonly metricsPort: number;
  /** Started with --greeting: every echo session begins with a greeting line. */
  readonly greets: boolean;
}

const running = new Set<Running>();

/** Starts a server (`--port 0` unless `extra` names one) and resolves once it listens. */
export function launch(engine: EngineName, extra: readonly string[], port = 0): Running {
  const args = [CLI, ...BASE_ARGS, '--port', String(port), '--engine', engine, ...extra];
  const proc = track(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  running.add(proc);
  return proc;
}

/** A fresh server for one case, listening on both ports and warmed up. */
export async function startTarget(engine: EngineName, extra: readonly string[]): Promise<Target> {
  const proc = launch(engine, extra);
  const port = Number((await proc.waitFor(/listening on port (\d+)/, 10_000))[1]);
  const metricsPort = Number((await proc.waitFor(/metrics at http:\/\/[^ ]*:(\d+)\//, 5000))[1]);
  const greets = extra.includes('--greeting');
  // Warm up (JIT, buffers) so the memory baseline is the server at work, not at rest.
  for (let i = 0; i < 20; i++)
    assert.is(await session(port, undefined, undefined, { greeted: greets }), null, 'warm-up');
  return { engine, proc, pid: proc.child.pid!, port, metricsPort, greets };
}

/** Stops every server a case started (after each case, also when it failed). */
export async function stopTargets(): Promise<void> {
  for (const proc of running) await proc.stop(1000);
  running.clear();
}
