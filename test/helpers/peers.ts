// Real PROXY-protocol peers for end-to-end tests: HAProxy and nginx (configs written to a temp
// dir `io-<peer>-*`, run in the foreground inside a test network namespace) and our own server
// run the same way. Each is a `Running` process: its output so far, and `stop()`.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './cli.ts';
import { waitListening, type Netns } from './netns.ts';

export interface Running {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves once `pattern` appears in the output; rejects after `timeoutMs` or on exit. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (null if killed by a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Wraps a started child: collects its output and knows how to stop it. */
export function track(child: ChildProcess, cleanup: () => void = () => {}): Running {
  let out = '';
  let exited: number | null | undefined;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  child.stdout?.setEncoding('utf8').on('data', (s: string) => ((out += s), wake()));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => ((out += s), wake()));
  const closed = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exited = code;
      cleanup();
      wake();
      resolve(code);
    }),
  );
  return {
    child,
    exited: closed,
    output: () => out,
    waitFor(pattern, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const done = (error?: Error, match?: RegExpMatchArray) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(match!);
        };
        const check = () => {
          const match = out.match(pattern);
          if (match) done(undefined, match);
          else if (exited !== undefined)
            done(
              new Error(
                `${describe(child)} exited with ${exited} before ${pattern}; output:\n${out}`,
              ),
            );
        };
        const timer = setTimeout(
          () =>
            done(
              new Error(
                `no ${pattern} from ${describe(child)} within ${timeoutMs} ms; output:\n${out}`,
              ),
            ),
          timeoutMs,
        );
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 3000) {
      if (exited !== undefined) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await closed;
      clearTimeout(timer);
      return code;
    },
  };
}

function describe(child: ChildProcess): string {
  return child.spawnargs
    .filter((a) => !a.startsWith('/tmp/'))
    .slice(0, 6)
    .join(' ');
}

const tempDirs = new Set<string>();
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A temp dir `io-<name>-*`, removed when the peer stops (or at exit, if it never did). */
function tempDir(name: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `io-${name}-`));
  tempDirs.add(path);
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      tempDirs.delete(path);
    },
  };
}

// ---- our server ------------------------------------------------------------------------------

/**
 * Starts `elb-proxy-echo serve ARGS` inside `ns` and waits for it to listen on `port`: from src/
 * on this Node, or `executable` (e.g. the built dist/elb-proxy-echo-linux-x64) when given.
 */
export async function startServer(
  ns: Netns,
  port: number,
  args: readonly string[],
  executable?: string,
): Promise<Running> {
  const serveArgs = ['serve', '--port', String(port), ...args];
  const server = track(
    executable === undefined
      ? ns.spawn(process.execPath, [CLI, ...serveArgs])
      : ns.spawn(executable, serveArgs),
  );
  await readyOrExit(ns, server, [port]);
  return server;
}

// ---- HAProxy ---------------------------------------------------------------------------------

export interface HaproxyListener {
  /** `address:port` HAProxy listens on. */
  readonly bind: string;
  /** Expect a PROXY header from whoever connects here (`accept-proxy`). */
  readonly acceptProxy?: boolean;
  /** `address:port` of the server it forwards to. */
  readonly server: string;
  /**
   * Header HAProxy sends to the server: `send-proxy` (v1), `send-proxy-v2`, or
   * `send-proxy-v2-ssl` (v2 with the SSL TLV: the client's TLS at HAProxy); none if absent.
   */
  readonly send?: 'v1' | 'v2' | 'v2-ssl';
  /** HAProxy ends the client's TLS here, with this PEM file (certificate and key together). */
  readonly tlsCertificate?: string;
  /** HAProxy speaks TLS to the server (its certificate not verified: a test's own). */
  readonly tlsToServer?: boolean;
  /** `proxy-v2-options`, e.g. `['unique-id', 'authority', 'crc32c']`. */
  readonly v2Options?: readonly string[];
  /** One log line per connection on HAProxy's stdout, in HAProxy's log-format language. */
  readonly logFormat?: string;
  /**
   * Health checks every 200 ms (with send-proxy-v2 they carry a LOCAL header): send `send`, expect
   * the reply to contain `expect`. HAProxy logs `Server beN/sN is DOWN` when one fails.
   */
  readonly check?: { readonly send: string; readonly expect: string };
  /**
   * HTTP health checks every 200 ms (`option httpchk`): `GET path`, expecting `status`. With
   * send-proxy-v2 they carry a LOCAL header, as an NLB's HTTP health checks do.
   */
  readonly httpCheck?: { readonly path: string; readonly status: number };
}

const SEND = { v1: 'send-proxy', v2: 'send-proxy-v2', 'v2-ssl': 'send-proxy-v2-ssl' } as const;

/** HAProxy configuration (TCP mode, logs on stdout) with one frontend/backend per listener. */
export function haproxyConfig(listeners: readonly HaproxyListener[]): string {
  const lines = [
    'global',
    '  log stdout format raw local0',
    'defaults',
    '  mode tcp',
    '  log global',
    '  timeout connect 2s',
    '  timeout client 10s',
    '  timeout server 10s',
  ];
  listeners.forEach((l, i) => {
    const bindTls = l.tlsCertificate === undefined ? '' : ` ssl crt ${l.tlsCertificate}`;
    lines.push(
      `frontend fe${i}`,
      `  bind ${l.bind}${l.acceptProxy ? ' accept-proxy' : ''}${bindTls}`,
    );
    if (l.v2Options?.includes('unique-id'))
      lines.push('  unique-id-format io-%{+X}o%ci:%cp-%Ts-%rt');
    if (l.logFormat !== undefined) lines.push(`  log-format "${l.logFormat}"`);
    const send = l.send === undefined ? '' : ` ${SEND[l.send]}`;
    const options = l.v2Options?.length ? ` proxy-v2-options ${l.v2Options.join(',')}` : '';
    lines.push(`  default_backend be${i}`, `backend be${i}`);
    if (l.check !== undefined)
      lines.push(
        '  option tcp-check',
        `  tcp-check send ${JSON.stringify(l.check.send)}`,
        `  tcp-check expect string ${l.check.expect}`,
      );
    if (l.httpCheck !== undefined)
      lines.push(
        `  option httpchk GET ${l.httpCheck.path}`,
        `  http-check expect status ${l.httpCheck.status}`,
      );
    const checked = l.check !== undefined || l.httpCheck !== undefined;
    const check = checked ? ' check inter 200ms fall 1 rise 1' : '';
    const serverTls = l.tlsToServer ? ' ssl verify none' : '';
    lines.push(`  server s${i} ${l.server}${send}${options}${serverTls}${check}`);
  });
  return `${lines.join('\n')}\n`;
}

/** Runs HAProxy in the foreground inside `ns` and waits until every listener is up. */
export async function startHaproxy(
  ns: Netns,
  listeners: readonly HaproxyListener[],
): Promise<Running> {
  const dir = tempDir('haproxy');
  const config = join(dir.path, 'haproxy.cfg');
  writeFileSync(config, haproxyConfig(listeners));
  const peer = track(ns.spawn('haproxy', ['-db', '-f', config]), dir.remove);
  await readyOrExit(
    ns,
    peer,
    listeners.map((l) => portOf(l.bind)),
  );
  return peer;
}

// ---- nginx -----------------------------------------------------------------------------------

export interface NginxListener {
  /** `address:port` nginx listens on. */
  readonly listen: string;
  /** `address:port` it forwards to with `proxy_protocol on` (PROXY v1); a client's half-close is passed on. */
  readonly upstream: string;
}

/** nginx configuration: the stream module only, errors on stderr, state in `dir`. */
export function nginxConfig(dir: string, listeners: readonly NginxListener[]): string {
  return `${[
    'load_module /usr/lib/nginx/modules/ngx_stream_module.so;',
    'daemon off;',
    // One process: nothing is left behind if it is killed (a master's workers would be).
    'master_process off;',
    `pid ${join(dir, 'nginx.pid')};`,
    'error_log stderr info;',
    'events { worker_connections 64; }',
    'stream {',
    ...listeners.map(
      (l) =>
        `  server { listen ${l.listen}; proxy_pass ${l.upstream}; proxy_protocol on; proxy_half_close on; proxy_connect_timeout 2s; }`,
    ),
    '}',
  ].join('\n')}\n`;
}

/** Runs nginx in the foreground inside `ns` and waits until every listener is up. */
export async function startNginx(ns: Netns, listeners: readonly NginxListener[]): Promise<Running> {
  const dir = tempDir('nginx');
  const config = join(dir.path, 'nginx.conf');
  writeFileSync(config, nginxConfig(dir.path, listeners));
  // -e: the error log before the config is read (the default path is not ours to write).
  const peer = track(ns.spawn('nginx', ['-p', dir.path, '-e', 'stderr', '-c', config]), dir.remove);
  await readyOrExit(
    ns,
    peer,
    listeners.map((l) => portOf(l.listen)),
  );
  return peer;
}

function portOf(hostPort: string): number {
  return Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
}

/** Waits until something listens on every port in `ns`; fails with the output if the process exits first. */
async function readyOrExit(ns: Netns, peer: Running, ports: readonly number[]): Promise<void> {
  const exitedEarly = peer.exited.then((code) => {
    throw new Error(`exited with ${code} before listening; output:\n${peer.output()}`);
  });
  try {
    await Promise.race([
      Promise.all(ports.map((port) => waitListening(ns, port, 10_000))),
      exitedEarly,
    ]);
  } catch (error) {
    await peer.stop();
    throw error;
  } finally {
    exitedEarly.catch(() => {}); // a later exit (a normal stop) is not a failure
  }
}
