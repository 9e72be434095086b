// Which engine serves connections (transport.ts): `uv` on the runtime's libuv handles when their
// shape is as expected, else `net`. `auto` picks `uv` when it can and says why when it cannot.
import type { Logger } from '../../log.ts';
import { netEngine } from './net.ts';
import { uvEngine } from './uv.ts';
import { uvBindingsProblem } from './uv-bindings.ts';
import type { Engine, EngineName } from './transport.ts';

export const ENGINE_CHOICES = ['auto', 'uv', 'net'] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export interface PickedEngine {
  readonly engine: Engine;
  /** With `auto`, why `uv` could not be used (null: it could, or it was not asked for). */
  readonly fallback: string | null;
}

/** The one warning line when `auto` cannot use `uv`. */
export function warnFallback(logger: Logger, reason: string): void {
  logger.warn('engine uv unavailable; using net', { reason });
}

/** Throws when `uv` is asked for by name and cannot run (a bad setting for this runtime). */
export function pickEngine(choice: EngineChoice | EngineName): PickedEngine {
  if (choice === 'net') return { engine: netEngine, fallback: null };
  const problem = uvBindingsProblem();
  if (problem === null) return { engine: uvEngine, fallback: null };
  if (choice === 'uv') throw new Error(`the uv engine cannot run on this runtime: ${problem}`);
  return { engine: netEngine, fallback: problem };
}
