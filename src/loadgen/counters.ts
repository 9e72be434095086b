// What a generator counts, and the arithmetic on those counts (windows, sums over processes).

export interface Counters {
  /** Connections currently open (connected and not yet closed). */
  up: number;
  /** Connections that completed their TCP handshake. */
  connected: number;
  /** Connections whose first line came back verified (the ramp waits for every client's). */
  answered: number;
  linesSent: number;
  echoesVerified: number;
  bytesVerified: number;
  /** Connections that ended the way a user ends them: `q`, then the server closed. */
  completed: number;
  /** TLS handshakes done (`bench --tls`), and their time from the TCP connect, µs in all. */
  handshakes: number;
  handshakeMicros: number;
  /** Time from the TCP connect to the first echo, µs, over the connections that had one. */
  firstEchoMicros: number;
  /** Failures by kind: wrong-echo, timeout, refused, reset, closed-early, … */
  errors: Record<string, number>;
}

export function emptyCounters(): Counters {
  return {
    up: 0,
    connected: 0,
    answered: 0,
    linesSent: 0,
    echoesVerified: 0,
    bytesVerified: 0,
    completed: 0,
    handshakes: 0,
    handshakeMicros: 0,
    firstEchoMicros: 0,
    errors: {},
  };
}

export function copyCounters(c: Counters): Counters {
  return { ...c, errors: { ...c.errors } };
}

/** Counts since `earlier` (a copy taken from the same generator); `up` is the current value. */
export function countersSince(now: Counters, earlier: Counters): Counters {
  const errors: Record<string, number> = {};
  for (const [kind, n] of Object.entries(now.errors)) {
    const delta = n - (earlier.errors[kind] ?? 0);
    if (delta > 0) errors[kind] = delta;
  }
  return {
    up: now.up,
    connected: now.connected - earlier.connected,
    answered: now.answered - earlier.answered,
    linesSent: now.linesSent - earlier.linesSent,
    echoesVerified: now.echoesVerified - earlier.echoesVerified,
    bytesVerified: now.bytesVerified - earlier.bytesVerified,
    completed: now.completed - earlier.completed,
    handshakes: now.handshakes - earlier.handshakes,
    handshakeMicros: now.handshakeMicros - earlier.handshakeMicros,
    firstEchoMicros: now.firstEchoMicros - earlier.firstEchoMicros,
    errors,
  };
}

export function sumCounters(all: readonly Counters[]): Counters {
  const sum = emptyCounters();
  for (const c of all) {
    sum.up += c.up;
    sum.connected += c.connected;
    sum.answered += c.answered;
    sum.linesSent += c.linesSent;
    sum.echoesVerified += c.echoesVerified;
    sum.bytesVerified += c.bytesVerified;
    sum.completed += c.completed;
    // (Records written before TLS was measured have none of these.)
    sum.handshakes += c.handshakes ?? 0;
    sum.handshakeMicros += c.handshakeMicros ?? 0;
    sum.firstEchoMicros += c.firstEchoMicros ?? 0;
    for (const [kind, n] of Object.entries(c.errors))
      sum.errors[kind] = (sum.errors[kind] ?? 0) + n;
  }
  return sum;
}

export function errorCount(c: Counters): number {
  let n = 0;
  for (const kind in c.errors) n += c.errors[kind];
  return n;
}
