// The live progress line of a run, every second while it runs and once more at its end.
import { errorCount, sumCounters, type Counters } from './counters.ts';
import type { RunPlan } from './run-plan.ts';
import type { GeneratorHandle } from './spread.ts';

/** The live progress line every second; `show(true)` writes the final one. */
export function showProgress(
  plan: RunPlan,
  generators: readonly GeneratorHandle[],
): { show: (final: boolean) => void; stop: () => void } {
  const started = performance.now();
  let last = { at: 0, echoes: 0 };
  const show = (final: boolean) => {
    const c = sumCounters(generators.map((g) => g.counters()));
    const at = (performance.now() - started) / 1000;
    const rate = at > last.at ? (c.echoesVerified - last.echoes) / (at - last.at) : 0;
    last = { at, echoes: c.echoesVerified };
    plan.progress?.(progressLine(plan, at, c, rate), final);
  };
  const ticker = setInterval(() => show(false), 1000);
  return { show, stop: () => clearInterval(ticker) };
}

function progressLine(plan: RunPlan, seconds: number, c: Counters, linesPerSecond: number): string {
  const errors = errorCount(c);
  const churn = plan.scenario === 'connect' ? `, ${c.completed} connections done` : '';
  return `bench ${plan.scenario}: ${seconds.toFixed(0)} s, ${c.up}/${plan.clients} up, ${Math.round(linesPerSecond)} lines/s${churn}, ${errors} error${errors === 1 ? '' : 's'}`;
}
