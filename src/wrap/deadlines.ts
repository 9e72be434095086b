// The header timeout of every connection of one wrapped server, checked by one timer, as the
// echo server's sweep does (src/server/sweep.ts): no timer is made or cancelled per connection.
import { checkPeriod } from '../server/check-period.ts';

/** What the sweep needs of a connection waiting for its header. */
export interface Waiting {
  /** The sweep's count when the connection began waiting. */
  since: number;
  /** The connection closed before its header came (nothing left to refuse). */
  readonly gone: boolean;
}

export class Deadlines<W extends Waiting> {
  readonly #waiting = new Set<W>();
  readonly #period: number;
  /** Sweeps a connection waits past the one it began in: never less than the timeout. */
  readonly #sweeps: number;
  readonly #expire: (waiting: W) => void;
  #count = 0;
  #timer: NodeJS.Timeout | null = null;

  /** `expire` is called once for each connection still waiting `timeoutMs` after it began. */
  constructor(timeoutMs: number, expire: (waiting: W) => void) {
    this.#period = checkPeriod(timeoutMs);
    this.#sweeps = Math.ceil(timeoutMs / this.#period);
    this.#expire = expire;
  }

  /** `waiting` begins to wait now; the timer runs (unref'd) while anyone waits. */
  add(waiting: W): void {
    waiting.since = this.#count;
    this.#waiting.add(waiting);
    this.#timer ??= setInterval(sweep, this.#period, this).unref();
  }

  /** `waiting` is done waiting (its header came, or it was refused). */
  delete(waiting: W): void {
    this.#waiting.delete(waiting);
  }

  /** The timer's work: the connections gone or out of time leave the set. */
  sweep(): void {
    const now = ++this.#count;
    for (const waiting of this.#waiting) {
      if (waiting.gone) this.#waiting.delete(waiting);
      else if (now - waiting.since > this.#sweeps) {
        this.#waiting.delete(waiting);
        this.#expire(waiting);
      }
    }
    if (this.#waiting.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}

function sweep(deadlines: { sweep(): void }): void {
  deadlines.sweep();
}
