// A real systemd to test the unit under: a minimal Debian (debootstrap, cached between runs)
// booted with systemd-nspawn in a network namespace made for it, joined to the test's own
// namespace by a veth pair. Traffic goes only between the two ends of that pair.
//
// Names start with `sd-e2e-<pid>` so a later run can find and remove what a killed run left.
import {
  execFileSync,
  spawn,
  spawnSync,
  type ChildProcess,
  type SpawnSyncReturns,
} from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

export const CACHE_DIR = '/var/cache/elb-proxy-echo-ci';
const SUITE = 'bookworm';
const INCLUDE = 'systemd,systemd-sysv,dbus';
const PREFIX = 'sd-e2e-';
const NETNS_DIR = '/run/netns';

/**
 * The Debian mirror apt uses here (deb822 `URIs:` or a one-line `deb` source), for debootstrap.
 * Read from the machine's apt configuration only: no host is named here.
 */
export function aptMirror(): string {
  const files = ['/etc/apt/sources.list'];
  for (const dir of ['/etc/apt/sources.list.d']) {
    if (existsSync(dir)) files.push(...readdirSync(dir).map((name) => join(dir, name)));
  }
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    // Only a source that carries the suite we bootstrap.
    const stanzas = file.endsWith('.sources') ? text.split(/\n\s*\n/) : text.split('\n');
    for (const stanza of stanzas) {
      if (!new RegExp(`\\b${SUITE}\\b`).test(stanza) || /security/.test(stanza)) continue;
      const m = /^URIs:\s*(\S+)/m.exec(stanza) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+/m.exec(stanza);
      if (m && /debian/.test(m[1])) return m[1];
    }
  }
  throw new Error(
    `no apt source for Debian ${SUITE} in /etc/apt/sources.list or /etc/apt/sources.list.d: debootstrap needs the mirror apt uses`,
  );
}

/**
 * The cached root file system (made on first use, ~35 s). Its folder name carries a hash of
 * what debootstrap was asked for, so a change of packages makes a new one.
 */
export function rootFileSystem(log: (line: string) => void): string {
  const mirror = aptMirror();
  const key = createHash('sha256')
    .update(`${SUITE} minbase ${INCLUDE} ${mirror}`)
    .digest('hex')
    .slice(0, 10);
  const dir = join(CACHE_DIR, `${SUITE}-systemd-${key}`);
  if (existsSync(join(dir, '.complete'))) return dir;
  mkdirSync(CACHE_DIR, { recursive: true });
  const building = `${dir}.${PREFIX}${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  log(`debootstrap ${SUITE} from ${mirror} into ${building} (first run only)`);
  try {
    execFileSync(
      'debootstrap',
      ['--variant=minbase', `--include=${INCLUDE}`, SUITE, building, mirror],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 },
    );
    writeFileSync(join(building, '.complete'), `${new Date().toISOString()}\n`);
    // A run that finished first may already boot from `dir`: keep that one, drop ours.
    if (!existsSync(join(dir, '.complete'))) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(building, dir);
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}

function run(cmd: string, args: readonly string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

// A killed process whose parent has not reaped it yet (a zombie) counts as gone.
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Removes containers, namespaces and cgroups of earlier runs whose test process is gone. */
export function removeLeftovers(): void {
  const names = new Set<string>();
  if (existsSync(NETNS_DIR))
    for (const name of readdirSync(NETNS_DIR)) if (name.startsWith(PREFIX)) names.add(name);
  for (const root of cgroupRoots())
    for (const name of readdirSync(root)) if (name.startsWith(PREFIX)) names.add(name);
  for (const name of names) {
    const owner = Number(name.slice(PREFIX.length));
    if (!alive(owner)) removeRun(owner);
  }
}

/** Kills every process of a run's container and removes its network and cgroups. */
function removeRun(owner: number): void {
  const name = `${PREFIX}${owner}`;
  const netns = join(NETNS_DIR, name);
  // The container's systemd outlives a killed systemd-nspawn: find all of them by namespace.
  const pids = [...supervisorsOf(netns), ...processesIn(netns)];
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  waitUntilGone(pids, 5000);
  spawnSync('ip', ['link', 'del', vethName('h', owner)], { stdio: 'ignore' });
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  for (const root of cgroupRoots()) removeTree(join(root, name));
}

function waitUntilGone(pids: readonly number[], timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (pids.some(alive) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 50);
}

function pidsOnHost(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

// The systemd-nspawn processes started with that namespace path.
function supervisorsOf(netnsPath: string): number[] {
  return pidsOnHost().filter((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return (
        cmdline.startsWith('systemd-nspawn\0') &&
        cmdline.includes(`--network-namespace-path=${netnsPath}\0`)
      );
    } catch {
      return false; // gone meanwhile
    }
  });
}

// Every process inside that network namespace: the container's systemd and all it started.
function processesIn(netnsPath: string): number[] {
  if (!existsSync(netnsPath)) return [];
  const wanted = `net:[${statSync(netnsPath).ino}]`;
  return pidsOnHost().filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/net`) === wanted;
    } catch {
      return false;
    }
  });
}

// The container gets cgroups of its own in each hierarchy that systemd uses here (cgroup v2,
// and on a hybrid host also v1's name=systemd), below the test's own: without them every
// container would share one `payload` tree, and a leftover's processes would show up in it.
function cgroupRoots(): string[] {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers'))
    return [join('/sys/fs/cgroup', ownCgroup('0::'))];
  const roots: string[] = [];
  if (existsSync('/sys/fs/cgroup/unified/cgroup.procs'))
    roots.push(join('/sys/fs/cgroup/unified', ownCgroup('0::')));
  if (existsSync('/sys/fs/cgroup/systemd/cgroup.procs'))
    roots.push(join('/sys/fs/cgroup/systemd', ownCgroup('1:name=systemd:')));
  return roots;
}

function ownCgroup(prefix: string): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(prefix) || l.replace(/^\d+:/, '1:').startsWith(prefix));
  return line === undefined ? '/' : line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
}

// A cgroup directory can only be removed empty and after its children: depth first, rmdir only.
function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true }))
    if (entry.isDirectory()) removeTree(join(dir, entry.name));
  try {
    rmdirSync(dir);
  } catch {
    // still busy: a later run removes it
  }
}

function vethName(side: 'h' | 'c', pid: number): string {
  return `sd-${side}${pid}`; // interface names are at most 15 bytes
}

export interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class Container {
  readonly name: string;
  /** The container's address, reachable from the test process. */
  readonly address: string;
  readonly #nspawn: ChildProcess;
  readonly #pid: number;
  #console = '';

  private constructor(name: string, address: string, nspawn: ChildProcess, pid: number) {
    this.name = name;
    this.address = address;
    this.#nspawn = nspawn;
    this.#pid = pid;
  }

  /** Boots the cached root file system (changes go to a tmpfs overlay and vanish) and waits for systemd. */
  static async boot(log: (line: string) => void): Promise<Container> {
    removeLeftovers();
    const root = rootFileSystem(log);
    const name = `${PREFIX}${process.pid}`;
    // 198.19.0.0/16 is reserved for network tests (RFC 2544); a /30 per run.
    const a = (process.pid >> 6) % 256;
    const b = (process.pid % 64) * 4;
    const hostAddress = `198.19.${a}.${b + 1}`;
    const address = `198.19.${a}.${b + 2}`;
    const hostIf = vethName('h', process.pid);
    const boxIf = vethName('c', process.pid);
    run('ip', ['netns', 'add', name]);
    let nspawn: ChildProcess | undefined;
    try {
      run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', boxIf]);
      run('ip', ['link', 'set', boxIf, 'netns', name]);
      run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostIf]);
      run('ip', ['link', 'set', hostIf, 'up']);
      run('ip', ['-n', name, 'addr', 'add', `${address}/30`, 'dev', boxIf]);
      run('ip', ['-n', name, 'link', 'set', boxIf, 'up']);
      run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
      const cgroups = cgroupRoots().map((root) => join(root, name));
      for (const dir of cgroups) mkdirSync(dir, { recursive: true });
      // A shell joins the run's cgroups, then becomes systemd-nspawn (which stays in them).
      const joinCgroups =
        'for dir in $SD_CGROUPS; do echo $$ > "$dir/cgroup.procs" || exit 1; done; exec "$@"';
      nspawn = spawn(
        'sh',
        [
          '-c',
          joinCgroups,
          'sh',
          'systemd-nspawn',
          '--directory',
          root,
          '--boot',
          '--register=no',
          '--keep-unit',
          '--volatile=overlay',
          '--console=passive',
          `--machine=${name}`,
          `--network-namespace-path=${join(NETNS_DIR, name)}`,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, SD_CGROUPS: cgroups.join(' ') },
        },
      );
      const pid = await containerInit(nspawn, 20_000);
      const box = new Container(name, address, nspawn, pid);
      nspawn.stdout?.on('data', (chunk: Buffer) => (box.#console += chunk.toString()));
      nspawn.stderr?.on('data', (chunk: Buffer) => (box.#console += chunk.toString()));
      await box.waitForSystemd(30_000);
      return box;
    } catch (error) {
      if (nspawn?.pid !== undefined) nspawn.kill('SIGKILL');
      removeRun(process.pid);
      throw error;
    }
  }

  /** Runs a command inside the container (all its namespaces) and returns what it printed. */
  exec(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Result {
    const r: SpawnSyncReturns<string> = spawnSync(
      'nsenter',
      ['-t', String(this.#pid), '-a', ...args],
      {
        encoding: 'utf8',
        input: options.input,
        timeout: options.timeoutMs ?? 30_000,
        env: {
          PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          LANG: 'C.UTF-8',
          SYSTEMD_PAGER: '',
          SYSTEMD_COLORS: '0',
        },
      },
    );
    return {
      status: r.status,
      stdout: r.stdout ?? '',
      stderr: (r.stderr ?? '') + (r.error ? String(r.error) : ''),
    };
  }

  /** Like exec, but throws with the output when the command fails. */
  check(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): string {
    const r = this.exec(args, options);
    if (r.status !== 0)
      throw new Error(`in container: ${args.join(' ')} → ${r.status}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** Starts a command inside the container without waiting for it. */
  spawn(args: readonly string[]): ChildProcess {
    return spawn('nsenter', ['-t', String(this.#pid), '-a', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Copies a file from the test machine into the container (as scp would). */
  copyIn(from: string, to: string, mode: number): void {
    const target = join(`/proc/${this.#pid}/root`, to);
    copyFileSync(from, target);
    chmodSync(target, mode);
  }

  writeFile(path: string, text: string): void {
    writeFileSync(join(`/proc/${this.#pid}/root`, path), text);
  }

  exists(path: string): boolean {
    return existsSync(join(`/proc/${this.#pid}/root`, path));
  }

  /** Powers the container off (SIGKILL after 15 s), then removes its network. */
  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.#nspawn.exitCode !== null || this.#nspawn.signalCode !== null) resolve();
      else this.#nspawn.once('exit', () => resolve());
    });
    this.#nspawn.kill('SIGTERM'); // nspawn asks the container's systemd to power off
    const timer = setTimeout(() => this.#nspawn.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    removeRun(process.pid); // whatever is left, then the network and the cgroups
  }

  get console(): string {
    return this.#console;
  }

  async waitForSystemd(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      // Right after boot it may say "offline" at once; running or degraded both mean booted.
      const r = this.exec(['systemctl', 'is-system-running'], { timeoutMs: 5000 });
      last = r.stdout.trim();
      if (last === 'running' || last === 'degraded') return;
      await sleep(200);
    }
    throw new Error(`the container's systemd did not finish booting (last state "${last}")`);
  }
}

// systemd-nspawn's child becomes the container's PID 1 (systemd); nsenter needs its host pid.
async function containerInit(nspawn: ChildProcess, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (nspawn.exitCode !== null) throw new Error(`systemd-nspawn exited with ${nspawn.exitCode}`);
    try {
      const children = readFileSync(`/proc/${nspawn.pid}/task/${nspawn.pid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
      for (const child of children) {
        if (readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'systemd') return child;
      }
    } catch {
      // not there yet
    }
    await sleep(100);
  }
  throw new Error('the container did not start systemd');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
