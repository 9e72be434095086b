// How long systemd waits for the service to stop before SIGKILL (TimeoutStopSec=): long enough
// for the drain delay and the drain timeout the service was given, and a margin (the primary of
// --workers kills a worker 5 s past both; the log lines still go out). Never shorter than the
// unit's own. Written as a drop-in, so the unit file stays as shipped. The container manifests
// in deploy/ give the same budget (terminationGracePeriodSeconds, stopTimeout).
import { OWNED_MARKER } from './files.ts';

/** The unit's own TimeoutStopSec=, in seconds (systemd/elb-proxy-echo.service). */
export const UNIT_STOP_TIMEOUT_S = 90;
/** Seconds on top of the drain delay and the drain timeout. */
export const STOP_MARGIN_S = 15;

export interface StopTimes {
  readonly drainDelayMs: number;
  readonly drainTimeoutMs: number;
}

/** Seconds a stop may take: the drain delay, the drain timeout and the margin. */
export function stopBudgetSec({ drainDelayMs, drainTimeoutMs }: StopTimes): number {
  return Math.ceil((drainDelayMs + drainTimeoutMs) / 1000) + STOP_MARGIN_S;
}

export function stopTimeoutSec(times: StopTimes): number {
  return Math.max(UNIT_STOP_TIMEOUT_S, stopBudgetSec(times));
}

/** The service's drop-in that sets TimeoutStopSec= for `times`. */
export function stopDropInText(times: StopTimes): string {
  return [
    `# ${OWNED_MARKER} (written by \`elb-proxy-echo install\`; uninstall removes it)`,
    `# --drain-delay ${times.drainDelayMs / 1000}s + --drain-timeout ${times.drainTimeoutMs / 1000}s + ${STOP_MARGIN_S}s, at least ${UNIT_STOP_TIMEOUT_S}s`,
    '[Service]',
    `TimeoutStopSec=${stopTimeoutSec(times)}s`,
    '',
  ].join('\n');
}
