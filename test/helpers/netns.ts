// Network namespaces and veth links for end-to-end tests (needs root and iproute2; socat for
// `exchange`).
//
// A test builds its own small network on this machine, so that clients, load balancers and our
// server each have their own addresses and ports without touching the host's network:
//
//   const client = Netns.create('io-cl');           // a namespace with loopback up
//   const balancer = Netns.create('io-lb');
//   link(client, '10.0.1.2/24', balancer, '10.0.1.1/24');   // a veth pair between them
//   const haproxy = balancer.spawn('haproxy', ['-db', '-f', cfg]);
//   const reply = await exchange(client, { host: '10.0.1.1', port: 80, input: 'hello\r\n' });
//   removeAll();                                      // in a finally/after hook
//
// Names: every namespace is `<prefix>-<pid>-<n>`, so several test runs (and several engineers)
// never collide; choose a prefix of your own (e.g. `io-`, `sd-`). Veth ends are created directly
// inside their namespaces, so their short names (`veth<n>`) only need to be unique there and
// nothing is ever added to the host's own network. Deleting a namespace deletes the veth ends in
// it (and so the pair). `remove()` first kills (SIGKILL) whatever `spawn()` started in it and is
// still running, since those processes would keep the namespace alive. `removeAll()` runs on
// process exit, and SIGINT/SIGTERM exit the process, so a test that crashes or is interrupted
// leaves nothing behind (stop your processes gracefully yourself when their exit matters).
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const created = new Set<Netns>();
let counter = 0;

export class Netns {
  readonly name: string;
  readonly #children = new Set<ChildProcess>();

  private constructor(name: string) {
    this.name = name;
  }

  /** Adds a namespace `<prefix>-<pid>-<n>` with its loopback up (127.0.0.0/8 and ::1 inside). */
  static create(prefix: string): Netns {
    const ns = new Netns(`${prefix}-${process.pid}-${++counter}`);
    ip(['netns', 'add', ns.name]);
    created.add(ns);
    ns.ip(['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs `ip ARGS` inside the namespace (synchronously; throws with ip's message on failure). */
  ip(args: readonly string[]): string {
    return ip(['-n', this.name, ...args]);
  }

  /** Argument vector that runs `command args` inside the namespace. */
  wrap(command: string, args: readonly string[] = []): string[] {
    return ['ip', 'netns', 'exec', this.name, command, ...args];
  }

  /** Starts `command args` inside the namespace (killed by `remove()` if still running then). */
  spawn(command: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
    const [ipBin, ...rest] = this.wrap(command, args);
    const child = spawn(ipBin, rest, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.#children.add(child);
    child.on('exit', () => this.#children.delete(child));
    return child;
  }

  /** Runs `command args` inside the namespace to completion and returns its stdout. */
  run(command: string, args: readonly string[] = []): string {
    return ip(['netns', 'exec', this.name, command, ...args]);
  }

  /** Kills what `spawn()` started here and still runs, then deletes the namespace. Safe to call twice. */
  remove(): void {
    if (!created.delete(this)) return;
    for (const child of this.#children) child.kill('SIGKILL');
    try {
      ip(['netns', 'del', this.name]);
    } catch {
      // Already gone (e.g. removed by hand): nothing left to clean.
    }
  }
}

/**
 * Joins two namespaces with a veth pair and gives each end an address (CIDR, e.g.
 * `10.0.1.2/24`; IPv6 works too). Returns the names of the two ends (`a` side, `b` side).
 */
export function link(
  a: Netns,
  aAddress: string,
  b: Netns,
  bAddress: string,
): { a: string; b: string } {
  const n = ++counter;
  const ends = { a: `veth${n}a`, b: `veth${n}b` };
  ip([
    'link',
    'add',
    ends.a,
    'netns',
    a.name,
    'type',
    'veth',
    'peer',
    'name',
    ends.b,
    'netns',
    b.name,
  ]);
  for (const [ns, dev, address] of [
    [a, ends.a, aAddress],
    [b, ends.b, bAddress],
  ] as const) {
    // nodad: an IPv6 address is usable at once instead of after duplicate address detection.
    ns.ip(['addr', 'add', address, 'dev', dev, ...(address.includes(':') ? ['nodad'] : [])]);
    ns.ip(['link', 'set', dev, 'up']);
  }
  return ends;
}

/** Removes every namespace this process created (also runs on exit). */
export function removeAll(): void {
  for (const ns of [...created]) ns.remove();
}

process.on('exit', removeAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** Resolves once something listens on TCP `port` inside `ns`; rejects after `timeoutMs`. */
export async function waitListening(ns: Netns, port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = ns.run('ss', ['-Hltn', `sport = :${port}`]);
    if (out.trim() !== '') return;
    if (Date.now() > deadline)
      throw new Error(`nothing listens on port ${port} in ${ns.name} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Exchange {
  readonly host: string;
  readonly port: number;
  /** Bytes to send; after them the client shuts its write side (half-close). */
  readonly input: string | Uint8Array;
  /** Local port to connect from, so a test knows which port a log must name. */
  readonly sourcePort?: number;
  /** Local address to connect from (one of the namespace's addresses). */
  readonly sourceAddress?: string;
  /** Upper bound for the whole exchange. Default 5000 ms. */
  readonly timeoutMs?: number;
}

/**
 * One TCP client connection from inside `ns` (socat): sends `input`, half-closes, and returns
 * every byte received until the peer closes (or `timeoutMs` passes, then what came so far).
 */
export function exchange(ns: Netns, options: Exchange): Promise<Buffer> {
  const timeoutMs = options.timeoutMs ?? 5000;
  let target = `TCP:${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
  if (options.sourcePort !== undefined) target += `,sourceport=${options.sourcePort},reuseaddr`;
  if (options.sourceAddress !== undefined) target += `,bind=${options.sourceAddress}`;
  // -t: after our EOF, how long to wait for the peer's data before giving up.
  const child = ns.spawn('socat', ['-t', String(timeoutMs / 1000), '-', target], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return collect(child, options.input, timeoutMs);
}

/** Feeds `input` to a child's stdin and resolves with its stdout when it exits (killed at `timeoutMs`). */
export function collect(
  child: ChildProcess,
  input: string | Uint8Array | null,
  timeoutMs: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 1000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && out.length === 0)
        reject(
          new Error(`${child.spawnargs.join(' ')} exited with ${code ?? signal}: ${err.trim()}`),
        );
      else resolve(Buffer.concat(out));
    });
    if (input !== null) child.stdin!.end(input);
  });
}

function ip(args: readonly string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`ip ${args.join(' ')} failed: ${stderr.trim() || String(error)}`);
  }
}
