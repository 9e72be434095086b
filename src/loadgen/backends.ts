// Which backend served each connection, as its greeting line says, and whether that backend saw
// the generator as the client. A run through a load balancer then shows how the connections
// spread over its targets, and proves, connection by connection, that every target saw the
// real client.
//
// The greeting (src/server/answer/greeting.ts) reads
//   elb-proxy-echo on HOST: you are CLIENT (PROXY v1 from VIA); lines come back, q quits
// The text between `on ` and the first `:` names the backend: its first word is the host, and
// whatever follows it (fields a newer server adds, such as `[i-0abc… us-east-1a]`) is kept as
// opaque text. Everything here is bounded, whatever a target sends: MAX_BACKENDS names, a few
// example clients and mismatches each.
import { formatIPv6, parseIPv6 } from '../protocol/ipv6.ts';
import { formatEndpoint, plainAddress } from '../server/address-text.ts';
import { Histogram, type HistogramData } from './histogram.ts';
import { type Latency, latencyOf } from './latency.ts';

/** Backends told apart per generator; connections to any more are counted under OTHER_BACKENDS. */
const MAX_BACKENDS = 64;
export const OTHER_BACKENDS = '(more backends)';
/** The name connections are counted under when no greeting named their backend. */
export const UNNAMED = '';
/** Example clients and mismatches kept per backend. */
const EXAMPLES = 3;

export interface Greeting {
  /** All of the text between `on ` and `:`, the key backends are counted by. */
  readonly backend: string;
  /** The client the backend saw, as it wrote it (`203.0.113.7:51000`, `[2001:db8::1]:1024`), or null. */
  readonly client: string | null;
}

const GREETING_LINE = /^elb-proxy-echo on ([^:]+):(?: you are (\S+))?/;

/** What a greeting line (without its CR LF) says, or null for a line that is no greeting of ours. */
export function readGreeting(line: string): Greeting | null {
  const m = GREETING_LINE.exec(line);
  if (m === null || m[1].trim() === '') return null;
  return { backend: m[1].trim(), client: m[2] ?? null };
}

/** A backend name split into its host and the extra fields after it (`ip-10-0-1-5`, `[i-0abc us-east-1a]`). */
export function backendParts(backend: string): { host: string; detail: string } {
  const m = /^([^\s[]+)\s*(.*)$/.exec(backend);
  return m === null ? { host: backend, detail: '' } : { host: m[1], detail: m[2] };
}

/** Who the backend should name as the client of one connection. */
export interface ExpectedClient {
  readonly address: string;
  /** null: any port (an address given with --expect-client, which a NAT may have rewritten the port of). */
  readonly port: number | null;
}

/** True when the endpoint a backend wrote (`1.2.3.4:80`, `[::1]:80`) is the expected client. */
export function isExpectedClient(reported: string, expected: ExpectedClient): boolean {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(reported);
  if (m === null) return false;
  return (
    canonicalAddress(m[1]) === canonicalAddress(expected.address) &&
    (expected.port === null || Number(m[2]) === expected.port)
  );
}

/** An address in one spelling: IPv6 as RFC 5952 text, an IPv4-mapped IPv6 address as IPv4. */
export function canonicalAddress(address: string): string {
  const plain = plainAddress(address);
  if (!plain.includes(':')) return plain;
  const bytes = new Uint8Array(16);
  const text = Buffer.from(plain, 'latin1');
  return parseIPv6(text, 0, text.length, bytes) === text.length
    ? plainAddress(formatIPv6(bytes, 0))
    : plain;
}

export function expectedText(expected: ExpectedClient): string {
  return expected.port === null
    ? canonicalAddress(expected.address)
    : formatEndpoint(canonicalAddress(expected.address), expected.port);
}

/** One backend's share of a run, as generators report it and records carry it (plain JSON). */
export interface BackendCounts {
  /** The backend's name from its greeting; UNNAMED or OTHER_BACKENDS for the rest. */
  readonly backend: string;
  readonly connections: number;
  /** Connections where the backend named the generator (or the client it sent) as the client. */
  readonly sawGenerator: number;
  /** Connections where it named someone else. */
  readonly mismatched: number;
  /** The first few mismatches, as the expected and the reported client. */
  readonly mismatches: readonly { readonly expected: string; readonly reported: string }[];
  /** The first few clients it named. */
  readonly clients: readonly string[];
  /** Echo latency on its connections over the measured window, in microseconds. */
  readonly latencyHistogram: HistogramData;
}

export interface BackendResult extends BackendCounts {
  readonly latencyMs: Latency;
}

/** One backend's running tally inside a generator. */
export class BackendTally {
  readonly backend: string;
  readonly latency = new Histogram();
  connections = 0;
  sawGenerator = 0;
  mismatched = 0;
  readonly mismatches: { expected: string; reported: string }[] = [];
  readonly clients: string[] = [];

  constructor(backend: string) {
    this.backend = backend;
  }

  /** A connection it served, the client it named and the one it should have (null: none to check). */
  served(reported: string | null, expected: ExpectedClient | null): void {
    this.connections++;
    if (reported === null || expected === null) return;
    if (this.clients.length < EXAMPLES && !this.clients.includes(reported))
      this.clients.push(reported);
    if (isExpectedClient(reported, expected)) this.sawGenerator++;
    else {
      this.mismatched++;
      if (this.mismatches.length < EXAMPLES)
        this.mismatches.push({ expected: expectedText(expected), reported });
    }
  }

  toCounts(): BackendCounts {
    return {
      backend: this.backend,
      connections: this.connections,
      sawGenerator: this.sawGenerator,
      mismatched: this.mismatched,
      mismatches: [...this.mismatches],
      clients: [...this.clients],
      latencyHistogram: this.latency.toData(),
    };
  }
}

/** A generator's tallies by backend name, at most MAX_BACKENDS of them plus OTHER_BACKENDS. */
export class BackendTallies {
  readonly #byName = new Map<string, BackendTally>();

  of(backend: string): BackendTally {
    let tally = this.#byName.get(backend);
    if (tally === undefined) {
      const name = this.#byName.size < MAX_BACKENDS ? backend : OTHER_BACKENDS;
      tally = this.#byName.get(name) ?? new BackendTally(name);
      this.#byName.set(name, tally);
    }
    return tally;
  }

  /** The measured window starts: latency counts from here, as the run's own does. */
  resetLatency(): void {
    for (const tally of this.#byName.values()) tally.latency.reset();
  }

  toCounts(): BackendCounts[] {
    return [...this.#byName.values()].map((tally) => tally.toCounts());
  }
}

/**
 * Several generators' (or records') backends as one list, summed by name, sorted by name; empty
 * when no connection had a greeting naming its backend (nothing to show, nothing checked).
 */
export function sumBackends(lists: readonly (readonly BackendCounts[])[]): BackendResult[] {
  if (lists.every((list) => list.every((b) => b.backend === UNNAMED))) return [];
  const byName = new Map<string, { counts: BackendCounts; latency: Histogram }>();
  for (const list of lists)
    for (const b of list) {
      const seen = byName.get(b.backend);
      if (seen === undefined) {
        const latency = new Histogram();
        latency.add(b.latencyHistogram);
        byName.set(b.backend, { counts: b, latency });
        continue;
      }
      seen.latency.add(b.latencyHistogram);
      const a = seen.counts;
      seen.counts = {
        backend: a.backend,
        connections: a.connections + b.connections,
        sawGenerator: a.sawGenerator + b.sawGenerator,
        mismatched: a.mismatched + b.mismatched,
        mismatches: [...a.mismatches, ...b.mismatches].slice(0, EXAMPLES),
        clients: [...new Set([...a.clients, ...b.clients])].slice(0, EXAMPLES),
        latencyHistogram: a.latencyHistogram,
      };
    }
  return [...byName.values()]
    .map(({ counts, latency }) => ({
      ...counts,
      latencyHistogram: latency.toData(),
      latencyMs: latencyOf(latency),
    }))
    .sort((a, b) => a.backend.localeCompare(b.backend));
}

/** Whether every backend named the generator as the client, in one sentence. */
export function clientCheckText(backends: readonly BackendCounts[]): string {
  const named = backends.filter((b) => b.backend !== UNNAMED);
  if (named.length === 0)
    return 'not checked: no backend sent a greeting (start the servers with --greeting)';
  const wrong = named.filter((b) => b.mismatched > 0);
  const unread = named.reduce((n, b) => n + b.connections - b.sawGenerator - b.mismatched, 0);
  const unreadText =
    unread === 0 ? '' : ` (${unread} connection${unread === 1 ? '' : 's'} named no client)`;
  if (wrong.length === 0) return `every backend saw the generator as the client${unreadText}`;
  const mismatched = wrong.reduce((n, b) => n + b.mismatched, 0);
  return `MISMATCH: ${mismatched} connection${mismatched === 1 ? '' : 's'} on ${wrong.length} of ${named.length} backends named another client${unreadText}`;
}
