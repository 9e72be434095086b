// The container images `npm run build:image` writes (dist/*.oci.tar), read as a registry or
// `podman load` would: index, manifest, config, layer. The x64 image then runs the way a
// runtime would start it, by the route these machines allow (`podman run` fails here on
// setrlimit): its layer unpacked, then `unshare --mount --pid --fork`, the root bound read-only,
// /proc and /dev mounted, and `chroot --userspec=10001:10001` into it. The process is PID 1 of
// its PID namespace, as in a container, and shares the host's loopback.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pkg from '../../package.json' with { type: 'json' };
import { childPids, until } from '../helpers/resilience.ts';
import { TestClient } from '../helpers/socket.ts';
import { assertProxyEcho, openProxyConnection, proxyHeader } from './proxy-echo.ts';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const BUILD = fileURLToPath(new URL('../../build-image.mjs', import.meta.url));
const DRAIN_S = 2;
const DELAY_S = 2;

/** What each image holds, and nothing else (directories end in /). */
const FILES = {
  x64: [
    'dev/',
    'elb-proxy-echo',
    'etc/',
    'etc/group',
    'etc/passwd',
    'lib/',
    'lib/x86_64-linux-gnu/',
    'lib/x86_64-linux-gnu/libc.so.6',
    'lib/x86_64-linux-gnu/libdl.so.2',
    'lib/x86_64-linux-gnu/libgcc_s.so.1',
    'lib/x86_64-linux-gnu/libm.so.6',
    'lib/x86_64-linux-gnu/libpthread.so.0',
    'lib/x86_64-linux-gnu/libstdc++.so.6',
    'lib64/',
    'lib64/ld-linux-x86-64.so.2',
    'proc/',
    'sys/',
    'tmp/',
  ],
  arm64: [
    'dev/',
    'elb-proxy-echo',
    'etc/',
    'etc/group',
    'etc/passwd',
    'lib/',
    'lib/aarch64-linux-gnu/',
    'lib/aarch64-linux-gnu/libc.so.6',
    'lib/aarch64-linux-gnu/libdl.so.2',
    'lib/aarch64-linux-gnu/libgcc_s.so.1',
    'lib/aarch64-linux-gnu/libm.so.6',
    'lib/aarch64-linux-gnu/libpthread.so.0',
    'lib/aarch64-linux-gnu/libstdc++.so.6',
    'lib/ld-linux-aarch64.so.1',
    'proc/',
    'sys/',
    'tmp/',
  ],
} as const;

type Arch = keyof typeof FILES;

interface Image {
  readonly archive: string;
  readonly config: {
    architecture: string;
    os: string;
    config: {
      User?: string;
      Entrypoint?: string[];
      Cmd?: string[];
      ExposedPorts?: Record<string, unknown>;
      Labels?: Record<string, string>;
    };
  };
  readonly layer: string;
}

const work = mkdtempSync(join(tmpdir(), 'image-e2e-'));

/** The archive unpacked: its one manifest's config and its one layer's path. */
function openImage(arch: Arch): Image {
  const archive = join(DIST, `elb-proxy-echo-linux-${arch}.oci.tar`);
  const dir = join(work, `layout-${arch}`);
  if (!existsSync(dir)) {
    mkdirSync(dir);
    spawnSync('tar', ['-xf', archive, '-C', dir], { stdio: 'inherit' });
  }
  const blob = (digest: string) => join(dir, 'blobs', ...digest.split(':'));
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  assert.is(index.manifests.length, 1, 'one image in the archive');
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8'));
  assert.is(manifest.layers.length, 1, 'one layer');
  return {
    archive,
    config: JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')),
    layer: blob(manifest.layers[0].digest),
  };
}

function tarList(file: string): string[] {
  const r = spawnSync('tar', ['-tf', file], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

for (const arch of ['x64', 'arm64'] as const) {
  test(`${arch}: the archive exists (npm run build, then npm run build:image)`, () => {
    assert.ok(existsSync(join(DIST, `elb-proxy-echo-linux-${arch}.oci.tar`)));
  });

  test(`${arch}: the image holds exactly the executable, its libraries, passwd/group and mount points`, () => {
    assert.equal(tarList(openImage(arch).layer), [...FILES[arch]]);
  });

  test(`${arch}: passwd and group name the user 10001 and nothing else`, () => {
    const etc = (name: string) => readFileSync(join(rootfs(arch), 'etc', name), 'utf8');
    assert.is(etc('passwd'), 'elb-proxy-echo:x:10001:10001:elb-proxy-echo:/:/sbin/nologin\n');
    assert.is(etc('group'), 'elb-proxy-echo:x:10001:\n');
  });

  test(`${arch}: at most the executable + 15 MB`, () => {
    const extra =
      statSync(openImage(arch).archive).size -
      statSync(join(DIST, `elb-proxy-echo-linux-${arch}`)).size;
    assert.ok(extra <= 15e6, `${extra} bytes over the executable`);
  });

  test(`${arch}: runs the executable as user 10001, port 5000, labelled with version and revision`, () => {
    const { config } = openImage(arch);
    assert.is(config.os, 'linux');
    assert.is(config.architecture, arch === 'x64' ? 'amd64' : 'arm64');
    assert.is(config.config.User, '10001:10001');
    assert.equal(config.config.Entrypoint, ['/elb-proxy-echo']);
    assert.is(config.config.Cmd, undefined, 'no command: arguments go straight to the executable');
    assert.equal(Object.keys(config.config.ExposedPorts ?? {}), ['5000/tcp']);
    const labels = config.config.Labels ?? {};
    assert.is(labels['org.opencontainers.image.version'], pkg.version);
    assert.match(labels['org.opencontainers.image.revision'] ?? '', /^[0-9a-f]{40}$/);
  });
}

test('two builds of one commit give the same bytes', () => {
  const build = (dir: string) => {
    const r = spawnSync(process.execPath, [BUILD, '--out-dir', dir], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
  };
  const [first, second] = [join(work, 'build-1'), join(work, 'build-2')];
  build(first);
  build(second);
  for (const arch of ['x64', 'arm64']) {
    const name = `elb-proxy-echo-linux-${arch}.oci.tar`;
    assert.ok(readFileSync(join(first, name)).equals(readFileSync(join(second, name))), name);
  }
  rmSync(first, { recursive: true });
  rmSync(second, { recursive: true });
});

test('x64: the libraries in the image are the ones ldd finds for the executable', () => {
  const ldd = spawnSync('ldd', [join(DIST, 'elb-proxy-echo-linux-x64')], { encoding: 'utf8' });
  const names = [...ldd.stdout.matchAll(/(\S+\.so[.\d]*) (?:=> \S+ )?\(/g)]
    .map((m) => m[1].split('/').pop())
    .filter((name) => name !== 'linux-vdso.so.1')
    .sort();
  const inImage = FILES.x64.filter((f) => f.includes('.so')).map((f) => f.split('/').pop());
  assert.equal(inImage.sort(), names);
});

/** The image's root file system, unpacked once. */
function rootfs(arch: Arch): string {
  const dir = join(work, `rootfs-${arch}`);
  if (!existsSync(dir)) {
    mkdirSync(dir);
    const r = spawnSync('tar', ['-xf', openImage(arch).layer, '-C', dir], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
  }
  return dir;
}

test('arm64: the image alone runs the Graviton executable (qemu-aarch64 with the image as its root)', () => {
  const r = spawnSync(
    'qemu-aarch64',
    ['-L', rootfs('arm64'), join(rootfs('arm64'), 'elb-proxy-echo'), '--version'],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.is(r.status, 0, `qemu-aarch64 (apt-get install qemu-user): ${r.error ?? r.stderr}`);
  assert.match(r.stdout, /linux-arm64\)$/m);
});

interface Contained {
  readonly pid: number;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; atMs: number }>;
}

/**
 * Starts the x64 image's entrypoint with `args` and only the variables `env` (and PATH), as a
 * container runtime would; resolves once it listens.
 */
async function runImage(args: readonly string[], env: Record<string, string>): Promise<Contained> {
  const root = rootfs('x64');
  const script = [
    `mount --bind -o ro ${root} ${root}`,
    `mount -t proc proc ${root}/proc`,
    `mount --rbind /dev ${root}/dev`,
    `exec chroot --userspec=10001:10001 ${root} /elb-proxy-echo "$@"`,
  ].join(' && ');
  const child = spawn(
    'unshare',
    ['--mount', '--pid', '--fork', 'sh', '-c', script, 'sh', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, ...env } },
  );
  let out = '';
  const exited = new Promise<{ code: number | null; atMs: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, atMs: Date.now() })),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening within 10 s:\n${out}`)), 10_000);
    const onData = (s: string) => {
      out += s;
      if (/metrics at http/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    exited.then(({ code }) => reject(new Error(`exited ${code} before listening:\n${out}`)));
  });
  const [pid] = childPids(child.pid as number);
  assert.ok(pid, 'unshare forked the server');
  return { pid, output: () => out, exited };
}

function port(output: string, pattern: RegExp): number {
  const m = pattern.exec(output);
  assert.ok(m, `${pattern} in:\n${output}`);
  return Number(m[1]);
}

async function httpGet(portNumber: number, request: Uint8Array): Promise<string> {
  const client = await TestClient.connect(portNumber);
  try {
    client.write(request);
    return (await client.waitClose()).toString('utf8');
  } finally {
    client.destroy();
  }
}

test('x64 image: as 10001 on a read-only root it echoes after v1 and v2, answers HTTP and the probe; on SIGTERM it fails the probe and serves through the drain delay, then exits 0 within delay and drain', async () => {
  // Options as arguments and as variables, as a pod spec gives them.
  const server = await runImage(['--port', '0', '--metrics-port', '0'], {
    ELB_PROXY_ECHO_DRAIN_DELAY: `${DELAY_S}s`,
    ELB_PROXY_ECHO_DRAIN_TIMEOUT: `${DRAIN_S}s`,
  });
  try {
    const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+10001\s+10001\s+10001\s+10001$/m, 'runs as 10001');
    assert.match(status, /^Gid:\s+10001\s/m);
    assert.match(status, /^CapEff:\s+0+$/m, 'no capabilities');
    // Its root, as the process sees it: the image, mounted read-only.
    const rootMount = readFileSync(`/proc/${server.pid}/mountinfo`, 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((fields) => fields[4] === '/')
      .pop();
    assert.ok(rootMount, 'a mount at / inside the chroot');
    assert.ok(rootMount[5].split(',').includes('ro'), `root mounted ${rootMount[5]}`);

    const echo = port(server.output(), /listening on port (\d+)/);
    const metrics = port(server.output(), /metrics at http:\/\/[^ ]*:(\d+)\/metrics/);
    await assertProxyEcho('127.0.0.1', echo, 1);
    await assertProxyEcho('127.0.0.1', echo, 2);

    const answer = await httpGet(
      echo,
      Buffer.concat([
        proxyHeader(1, echo),
        Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      ]),
    );
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.match(answer, /203\.0\.113\.7/, 'the answer names the client the header claimed');

    const probe = await httpGet(metrics, Buffer.from('GET /healthz HTTP/1.1\r\n\r\n'));
    assert.match(probe, /^HTTP\/1\.1 200 [\s\S]*\r\n\r\nok\n$/);

    // SIGTERM as the kubelet sends it when the pod is deleted. During the delay the probe says
    // 503 and new clients are still served; then the drain waits for the connection left open.
    const open = await openProxyConnection('127.0.0.1', echo, 2);
    const sentAt = Date.now();
    process.kill(server.pid, 'SIGTERM');
    await until(
      () => /SIGTERM: failing health checks before draining/.test(server.output()),
      DELAY_S * 1000,
      server.output,
    );
    const draining = await httpGet(metrics, Buffer.from('GET /healthz HTTP/1.1\r\n\r\n'));
    assert.match(draining, /^HTTP\/1\.1 503 [\s\S]*\r\n\r\ndraining\n$/);
    await assertProxyEcho('127.0.0.1', echo, 2);
    const { code, atMs } = await server.exited;
    open.destroy();
    assert.is(code, 0, server.output());
    const tookMs = atMs - sentAt;
    assert.ok(tookMs >= (DELAY_S + DRAIN_S) * 1000, `exited ${tookMs} ms after SIGTERM`);
    assert.ok(tookMs < (DELAY_S + DRAIN_S) * 1000 + 2500, `exited ${tookMs} ms after SIGTERM`);
    assert.match(
      server.output(),
      new RegExp(`SIGTERM: draining connections=1 timeout=${DRAIN_S}s`),
    );
  } finally {
    spawnSync('kill', ['-KILL', String(server.pid)]);
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
