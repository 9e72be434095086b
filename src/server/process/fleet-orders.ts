// What the primary tells every worker: the health switch, and on SIGTERM/SIGINT the drain.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../../log.ts';
import type { Health, HealthState } from '../health.ts';
import type { ServeConfig } from './config.ts';
import { drainDelay } from './drain-delay.ts';
import { liveWorkers } from './fleet.ts';
import { HEALTH, type HealthMessage, LISTENING } from './messages.ts';

/** Every worker answers health checks as the primary's switch says. */
export function tellWorkers(state: HealthState): void {
  const message: HealthMessage = { type: HEALTH, state };
  for (const worker of liveWorkers()) if (worker.isConnected()) worker.send(message);
}

/** A worker started after a switch (one that replaces a dead one) learns it once it listens. */
export function keepNewWorkersInStep(health: Health): void {
  cluster.on('message', (worker: Worker, message: { type?: string }) => {
    if (message?.type === LISTENING && health.state !== 'ok')
      worker.send({ type: HEALTH, state: health.state } satisfies HealthMessage);
  });
}

/**
 * SIGTERM to every worker at once: each runs the drain delay itself (systemd and a terminal's
 * Ctrl-C signal every process of the service, not only the primary), then drains for the drain
 * time, and is killed 5 s past both. The primary logs the steps for all of them.
 */
export async function drainWorkers(
  config: ServeConfig,
  logger: Logger,
  signal: string,
  health: Health,
): Promise<void> {
  const workers = liveWorkers();
  const killAfter = config.drainDelayMs + config.drainTimeoutMs + 5000;
  const exited = Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once('exit', () => resolve());
          worker.process.kill('SIGTERM');
          setTimeout(() => worker.process.kill('SIGKILL'), killAfter).unref();
        }),
    ),
  );
  await drainDelay(health, config.drainDelayMs, () =>
    logger.notice(`${signal}: failing health checks before draining`, {
      workers: workers.length,
      delay: `${config.drainDelayMs / 1000}s`,
    }),
  );
  logger.notice(`${signal}: draining`, {
    workers: workers.length,
    timeout: `${config.drainTimeoutMs / 1000}s`,
  });
  await exited;
}
