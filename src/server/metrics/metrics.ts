// Counters of one server process, their sum over workers, and the Prometheus text format.
//
// A `Metrics` object is plain numbers the connection code bumps; a snapshot is its JSON-able
// copy (what a worker sends to the primary), and `renderMetrics` prints snapshots in the
// Prometheus exposition format (text/plain; version=0.0.4).

export interface MetricsSnapshot {
  readonly connectionsOpen: number;
  readonly connectionsTotal: number;
  /** Connections that closed without sending a byte (TCP health checks). */
  readonly silentCloses: number;
  /** Accepted headers by kind: v1, v2, v2-local, none (policy off or optional without one). */
  readonly headers: Readonly<Record<string, number>>;
  /** Closed connections by rejection reason. */
  readonly rejects: Readonly<Record<string, number>>;
  /**
   * The rejects that carry a code (a bad header's parser code, a failed TLS handshake's), keyed
   * `reason code`.
   */
  readonly codes: Readonly<Record<string, number>>;
  readonly lines: number;
  readonly bytes: number;
  /** HTTP requests answered on the echo port, by status code. */
  readonly http: Readonly<Record<string, number>>;
}

export class Metrics {
  connectionsOpen = 0;
  connectionsTotal = 0;
  silentCloses = 0;
  lines = 0;
  bytes = 0;
  readonly headers: Record<string, number> = { v1: 0, v2: 0, 'v2-local': 0, none: 0 };
  readonly rejects: Record<string, number> = {};
  readonly codes: Record<string, number> = {};
  readonly http: Record<string, number> = {};

  /** Counts a reject; `code` says more (a bad header's parser code, a TLS handshake's). */
  reject(reason: string, code?: string): void {
    this.rejects[reason] = (this.rejects[reason] ?? 0) + 1;
    if (code === undefined) return;
    const key = `${reason} ${code}`;
    this.codes[key] = (this.codes[key] ?? 0) + 1;
  }

  httpRequest(status: number): void {
    this.http[status] = (this.http[status] ?? 0) + 1;
  }

  snapshot(): MetricsSnapshot {
    return sumSnapshots([this]);
  }
}

export function sumSnapshots(list: readonly MetricsSnapshot[]): MetricsSnapshot {
  const headers: Record<string, number> = {};
  const rejects: Record<string, number> = {};
  const codes: Record<string, number> = {};
  const http: Record<string, number> = {};
  let connectionsOpen = 0;
  let connectionsTotal = 0;
  let silentCloses = 0;
  let lines = 0;
  let bytes = 0;
  for (const s of list) {
    connectionsOpen += s.connectionsOpen;
    connectionsTotal += s.connectionsTotal;
    silentCloses += s.silentCloses;
    lines += s.lines;
    bytes += s.bytes;
    addInto(headers, s.headers);
    addInto(rejects, s.rejects);
    addInto(codes, s.codes);
    addInto(http, s.http);
  }
  return {
    connectionsOpen,
    connectionsTotal,
    silentCloses,
    headers,
    rejects,
    codes,
    lines,
    bytes,
    http,
  };
}

function addInto(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const key in from) into[key] = (into[key] ?? 0) + from[key];
}

/** One row per reject reason, split by code for the reasons that carry one. */
function rejectRows(s: MetricsSnapshot): Array<[string, number]> {
  const rows: Array<[string, number]> = [];
  const keys = Object.keys(s.codes).sort();
  for (const reason of Object.keys(s.rejects).sort()) {
    const coded = keys.filter((key) => key.startsWith(`${reason} `));
    if (coded.length === 0) rows.push([`{reason="${reason}"}`, s.rejects[reason]]);
    for (const key of coded)
      rows.push([`{reason="${reason}",code="${key.slice(reason.length + 1)}"}`, s.codes[key]]);
  }
  return rows;
}

/**
 * Event-loop delay of one process since it started, in seconds (from
 * perf_hooks.monitorEventLoopDelay): cumulative, so a scrape reads without resetting anything.
 */
export interface LoopDelay {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Total delay over all samples, and the number of samples (a summary's _sum and _count). */
  readonly sum: number;
  readonly count: number;
}

/** Over workers: the worst worker's quantiles, and sum and count added up. */
export function worstLoopDelay(list: readonly LoopDelay[]): LoopDelay | null {
  if (list.length === 0) return null;
  let { p50, p99, max, sum, count } = list[0];
  for (const d of list.slice(1)) {
    p50 = Math.max(p50, d.p50);
    p99 = Math.max(p99, d.p99);
    max = Math.max(max, d.max);
    sum += d.sum;
    count += d.count;
  }
  return { p50, p99, max, sum, count };
}

/** One metric family in the exposition format: its rows, and any lines after them (a summary's). */
interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'summary';
  readonly help: string;
  readonly rows: ReadonlyArray<readonly [string, number]>;
  readonly after?: readonly string[];
}

/** `healthy`: the health gauge (false while failing or draining). */
export function renderMetrics(
  s: MetricsSnapshot,
  loopDelay: LoopDelay | null,
  workers = 1,
  healthy = true,
): string {
  const families = [...trafficFamilies(s), workersFamily(workers), healthFamily(healthy)];
  if (loopDelay !== null) families.push(loopDelayFamily(loopDelay));
  return families.map(formatFamily).join('');
}

function formatFamily({ name, type, help, rows, after = [] }: Family): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of rows) lines.push(`${name}${labels} ${value}`);
  return `${[...lines, ...after].join('\n')}\n`;
}

/** Rows of a counter split by one label, sorted by its value. */
function byLabel(label: string, values: Readonly<Record<string, number>>): Array<[string, number]> {
  return Object.keys(values)
    .sort()
    .map((key): [string, number] => [`{${label}="${key}"}`, values[key]]);
}

/** What the connections did: opened, closed silently, headers, rejects, lines and bytes echoed. */
function trafficFamilies(s: MetricsSnapshot): Family[] {
  const single = (name: string, type: Family['type'], help: string, value: number): Family => ({
    name: `elb_proxy_echo_${name}`,
    type,
    help,
    rows: [['', value]],
  });
  return [
    single('connections_open', 'gauge', 'Connections open now.', s.connectionsOpen),
    single('connections_total', 'counter', 'Connections accepted.', s.connectionsTotal),
    single(
      'silent_closes_total',
      'counter',
      'Connections closed without sending a byte (TCP health checks).',
      s.silentCloses,
    ),
    {
      name: 'elb_proxy_echo_headers_total',
      type: 'counter',
      help: 'Connections by PROXY header kind.',
      rows: byLabel('version', s.headers),
    },
    {
      name: 'elb_proxy_echo_rejects_total',
      type: 'counter',
      help: 'Connections closed by the server, by reason (and parser error code for bad-header).',
      rows: rejectRows(s),
    },
    {
      name: 'elb_proxy_echo_http_requests_total',
      type: 'counter',
      help: 'HTTP requests answered on the echo port, by status.',
      rows: byLabel('status', s.http),
    },
    single('lines_echoed_total', 'counter', 'Lines echoed.', s.lines),
    single('bytes_echoed_total', 'counter', 'Bytes echoed.', s.bytes),
  ];
}

function workersFamily(workers: number): Family {
  return {
    name: 'elb_proxy_echo_workers',
    type: 'gauge',
    help: 'Server processes serving connections.',
    rows: [['', workers]],
  };
}

function healthFamily(healthy: boolean): Family {
  return {
    name: 'elb_proxy_echo_health',
    type: 'gauge',
    help: 'Whether the server asks for traffic: 1 ok, 0 failing or draining (health checks get 503).',
    rows: [['', healthy ? 1 : 0]],
  };
}

function loopDelayFamily(d: LoopDelay): Family {
  const name = 'elb_proxy_echo_event_loop_delay_seconds';
  return {
    name,
    type: 'summary',
    help: 'Event-loop delay since start (quantiles: the worst worker).',
    rows: [
      ['{quantile="0.5"}', d.p50],
      ['{quantile="0.99"}', d.p99],
      ['{quantile="1"}', d.max],
    ],
    after: [`${name}_sum ${d.sum}`, `${name}_count ${d.count}`],
  };
}
