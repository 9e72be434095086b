// The suite's table: surface × attack × bound. Every row runs on both engines; rows with a
// `fast` scale run in `npm test`, every row at its `heavy` scale in `npm run test:hostile`.
// A new surface is done when it has its rows here (see docs/development.md).
import {
  type Attack,
  endless,
  halfClose,
  pipelining,
  random,
  resets,
  type Scale,
  silent,
  slowloris,
  stalled,
} from './attacks.ts';
import { type Bound, DEFAULT_BOUND } from './bounds.ts';
import {
  greetingThenHttp,
  helloFlood,
  loudLogs,
  secondServer,
  smuggling,
  switchFlood,
  tlsNotReading,
} from './special.ts';
import { SURFACES, type Surface } from './surfaces.ts';

export interface Case {
  readonly surface: Surface;
  readonly attack: Attack;
  readonly scale: { readonly fast?: Scale; readonly heavy: Scale };
  readonly bound: Bound;
  /** Server flags of this case (after the surface's). */
  readonly args: readonly string[];
}

const { header, echo, http, greeting, metrics, health, tls } = SURFACES;
const MiB = 1024 * 1024;
const DEBUG = ['--log-level', 'debug'];
const n = (connections: number, seconds?: number): Scale => ({ connections, seconds });

/** One row: the bound is the default one with `bound`'s changes. */
function row(
  surface: Surface,
  attack: Attack,
  scale: Case['scale'],
  bound: Partial<Bound> = {},
  args: readonly string[] = [],
): Case {
  return {
    surface,
    attack,
    scale,
    bound: { ...DEFAULT_BOUND, ...bound },
    args: [...surface.args, ...args],
  };
}

// Timeouts in play (target.ts): header 1 s, idle 10 s unless a row says; the sweep runs every
// 200 ms; node:http checks its header timeout every 200 ms; the metrics port's lifetime is 5 s.
const HEADER_CUT = 1000 + 600;
const METRICS_LIFE = 5000 + 600;
const NO_HEADER =
  /^elb-proxy-echo: (this port expects a PROXY protocol header|no PROXY protocol header within)/;
const NOTHING = /^$/;
const status = (code: number) => new RegExp(`^HTTP/1\\.1 ${code} `);
/** Every attacking connection is closed within `ms`, told `reply`. */
const closes = (ms: number, reply?: RegExp): Partial<Bound> => ({ closedWithinMs: ms, reply });
const heavy = (connections: number, seconds?: number) => ({ heavy: n(connections, seconds) });
const both = (fast: Scale, heavyScale: Scale) => ({ fast, heavy: heavyScale });
const LINE_64K = ['--max-line', '64k'];
const IDLE_1S = ['--idle-timeout', '1s'];
/** Long enough that a close at the length limit is told apart from one at the timeout. */
const HEADER_5S = ['--header-timeout', '5s'];
const NOT_READ = { queuedBytes: 48 * MiB };
/** The others' echo as prompt as on an idle server. */
const PROMPT = { controlMedianMs: 5 };

export const CASES: readonly Case[] = [
  // The headline cases: each closed a hole that another surface had reopened.
  row(http, pipelining, both(n(8, 1), n(60, 10)), PROMPT),
  row(metrics, pipelining, both(n(8, 1), n(60, 10)), PROMPT),
  row(echo, loudLogs, both(n(1), n(1)), {}, [...DEBUG, ...LINE_64K]),
  row(http, loudLogs, both(n(1), n(1)), {}, DEBUG),
  row(header, loudLogs, heavy(1), {}, DEBUG),
  row(metrics, loudLogs, heavy(1), {}, DEBUG),
  row(health, switchFlood, both(n(200), n(4000))),
  row(health, pipelining, both(n(8, 1), n(60, 10)), PROMPT),
  row(health, loudLogs, heavy(1), {}, DEBUG),
  row(greeting, greetingThenHttp, both(n(4), n(40))),
  row(echo, secondServer, both(n(10), n(100))),
  // Clients that never read: backpressure holds each to what the kernel buffers.
  row(echo, pipelining, heavy(10, 2), NOT_READ),
  row(greeting, pipelining, heavy(10, 2), NOT_READ),
  // Slowloris and silence: each surface lets go at its own deadline.
  row(header, slowloris, heavy(250), closes(HEADER_CUT, NO_HEADER)),
  row(http, slowloris, heavy(50), closes(HEADER_CUT, status(408))),
  row(metrics, slowloris, heavy(8), closes(METRICS_LIFE, NOTHING)),
  row(health, slowloris, heavy(8), closes(METRICS_LIFE, NOTHING)),
  row(header, silent, heavy(250), closes(HEADER_CUT, /nothing received for 1 s/), IDLE_1S),
  row(metrics, silent, heavy(12), closes(METRICS_LIFE, NOTHING)),
  row(header, stalled, heavy(2000), closes(HEADER_CUT + 1000, NO_HEADER)),
  // node:http writes its stalled connections' 408s in its periodic checks: 1 000 take a while.
  row(http, stalled, heavy(1000), closes(4000, status(408))),
  row(metrics, stalled, heavy(8), closes(METRICS_LIFE, NOTHING)),
  // Bytes without an end: cut at the surface's length limit, not at a timeout.
  row(header, endless, heavy(20), closes(1500, NO_HEADER), HEADER_5S),
  row(echo, endless, heavy(2), closes(1000, /line longer than 65536 bytes/), LINE_64K),
  row(http, endless, heavy(2), closes(1000, status(431))),
  row(metrics, endless, heavy(2), closes(1000, status(431))),
  row(health, endless, heavy(2), closes(1000, status(431))),
  // Garbage.
  row(header, random, heavy(100), closes(HEADER_CUT, NO_HEADER)),
  row(echo, random, heavy(50)),
  row(http, random, heavy(60), closes(1000, status(400))),
  row(metrics, random, heavy(8), closes(1000, status(400))),
  row(health, random, heavy(8), closes(1000, status(400))),
  row(http, smuggling, heavy(1), closes(1000)),
  row(metrics, smuggling, heavy(1), closes(1000)),
  // Clients that go away rudely or half way.
  row(echo, resets, heavy(2000)),
  row(http, resets, heavy(1000)),
  row(metrics, resets, heavy(200)),
  row(health, resets, heavy(200)),
  row(echo, halfClose, heavy(50), closes(2000)),
  row(greeting, halfClose, heavy(50), closes(2000)),
  row(http, halfClose, heavy(20), closes(2000)),
  row(metrics, halfClose, heavy(8), closes(2000)),
  row(health, halfClose, heavy(8), closes(2000)),
  // TLS after the header: handshakes cost CPU, and nothing reaches a client before one is done.
  // A full handshake is about a millisecond of CPU in one turn of the event loop: a round of 50
  // ClientHellos holds the others' echo for up to that many milliseconds. Their FIN closes them
  // at once, well before the header timeout: what a connection held would stay until then.
  // RSS: at a thousand handshakes a second and more, V8 grows its heap to about 150 MB for
  // node:tls's garbage (15-60 MB of it live), and a bare node:tls server grows as much
  // (bench/tls-memory.ts); a full collection gives it back.
  row(tls, helloFlood, both(n(10, 1), n(50, 10)), {
    controlMedianMs: 60,
    rssGrowthMiB: 192,
    ...closes(500),
  }),
  row(tls, tlsNotReading, heavy(10, 2), NOT_READ),
  row(tls, pipelining, heavy(60, 10)),
  row(tls, slowloris, heavy(250), closes(HEADER_CUT, NOTHING)),
  row(tls, stalled, heavy(250), closes(HEADER_CUT + 1000, NOTHING)),
  row(tls, endless, heavy(2), closes(1000)),
  row(tls, random, heavy(50), closes(1000)),
  row(tls, resets, heavy(1000)),
  row(tls, halfClose, heavy(20), closes(2000)),
  row(tls, loudLogs, heavy(1), {}, DEBUG),
];
