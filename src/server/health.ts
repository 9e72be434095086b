// Whether this server asks for new traffic. HTTP answers on the echo port and the metrics
// port's health paths say 503 while it does not, so a balancer's HTTP health check takes it
// out of service before it stops accepting.
// - ok: healthy;
// - failing: switched by hand (POST /health/fail on the metrics port), until switched back;
// - draining: SIGTERM came (its --drain-delay runs, then the drain); final.

export const HEALTH_STATES = ['ok', 'failing', 'draining'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

/** What the answers read. */
export interface HealthView {
  readonly state: HealthState;
}

export class Health implements HealthView {
  #state: HealthState = 'ok';

  get state(): HealthState {
    return this.#state;
  }

  /** Moves to `state`; false when refused (draining is final: nothing leaves it). */
  set(state: HealthState): boolean {
    if (this.#state === 'draining') return state === 'draining';
    this.#state = state;
    return true;
  }
}
