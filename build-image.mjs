#!/usr/bin/env node
// Builds one OCI image archive per architecture from the executables `npm run build` made:
//   dist/elb-proxy-echo-linux-x64.oci.tar and dist/elb-proxy-echo-linux-arm64.oci.tar
// (`--out-dir DIR` writes them elsewhere).
//
// Each image starts from scratch and holds only the executable (/elb-proxy-echo, the
// entrypoint), the shared libraries its ELF asks for (read with readelf, followed through the
// libraries' own needs), an /etc/passwd and /etc/group naming the user 10001 it runs as, and
// empty /proc, /dev, /sys and /tmp to mount over. buildah assembles it offline (it is installed
// from Debian's packages when missing); nothing is pulled. Two builds of one commit give the
// same bytes: every time stamp is SOURCE_DATE_EPOCH (default: the commit's time) and the archive
// is written with sorted names and fixed owners.
//
// Layers are left uncompressed: a registry push compresses them, and this keeps the archive
// byte-stable across builds.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

const root = import.meta.dirname;
const dist = join(root, 'dist');
const outDirFlag = process.argv.indexOf('--out-dir');
const outDir = outDirFlag === -1 ? dist : process.argv[outDirFlag + 1];
const pkgJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Where each architecture's libraries live on this (Debian x86-64) build machine. */
const ARCHES = [
  {
    arch: 'x64',
    ociArch: 'amd64',
    hostLibDir: '/lib/x86_64-linux-gnu',
    imageLibDir: '/lib/x86_64-linux-gnu',
  },
  {
    arch: 'arm64',
    ociArch: 'arm64',
    hostLibDir: '/usr/aarch64-linux-gnu/lib',
    imageLibDir: '/lib/aarch64-linux-gnu',
  },
];
const USER_ID = 10001;
const PORT = 5000;
/** What the build runs or reads (a command, or a file), and the Debian package that brings it. */
const PACKAGES = {
  buildah: 'buildah',
  readelf: 'binutils',
  '/usr/aarch64-linux-gnu/lib/libstdc++.so.6': 'libstdc++6-arm64-cross',
  '/usr/aarch64-linux-gnu/lib/libc.so.6': 'libc6-arm64-cross',
};

function log(line) {
  process.stdout.write(`build-image: ${line}\n`);
}

function fail(message) {
  process.stderr.write(`build-image: ${message}\n`);
  process.exit(1);
}

/** Installs from apt what is missing, or stops with what to install by hand. */
function ensureTools() {
  const missing = Object.entries(PACKAGES)
    .filter(([need]) =>
      need.startsWith('/')
        ? !existsSync(need)
        : spawnSync('sh', ['-c', `command -v ${need}`], { stdio: 'ignore' }).status !== 0,
    )
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  const line = `apt-get install --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0)
    fail(`missing ${missing.join(', ')}; as root on Debian/Ubuntu: ${line}`);
  log(`installing ${missing.join(' ')} from apt`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...args) => spawnSync('apt-get', ['-qq', ...args], { stdio: 'inherit', env }).status;
  const status = apt('update') || apt('install', '-y', '--no-install-recommends', ...missing);
  if (status !== 0) fail(`${line} failed (status ${status}); run it by hand`);
}

/** The ELF's program interpreter and its NEEDED entries, as readelf prints them. */
function elfNeeds(file) {
  const out = execFileSync('readelf', ['--wide', '--program-headers', '--dynamic', file], {
    encoding: 'utf8',
  });
  const interpreter = /Requesting program interpreter: ([^\]]+)\]/.exec(out)?.[1];
  const needed = [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  return { interpreter, needed };
}

/**
 * Every file the executable needs at run time beyond itself: the interpreter and each NEEDED
 * library, followed through the libraries' own NEEDED. Paths are those inside the image, each
 * with the host file to copy.
 */
function sharedLibraries(executable, { hostLibDir, imageLibDir }) {
  const { interpreter, needed } = elfNeeds(executable);
  if (!interpreter) throw new Error(`${executable} names no program interpreter`);
  const files = new Map([[interpreter, join(hostLibDir, basename(interpreter))]]);
  // A NEEDED naming the interpreter is the loader itself, already in memory: no second copy.
  const loader = basename(interpreter);
  const queue = [...needed];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const inImage = join(imageLibDir, name);
    if (name === loader || files.has(inImage)) continue;
    const host = join(hostLibDir, name);
    if (!existsSync(host))
      throw new Error(`${name} (needed by ${executable}) not in ${hostLibDir}`);
    files.set(inImage, host);
    queue.push(...elfNeeds(host).needed);
  }
  return files;
}

/** The root file system in `dir`: what the image holds. */
function rootFileSystem(dir, executable, arch) {
  const place = (inImage, host) => {
    mkdirSync(join(dir, dirname(inImage)), { recursive: true });
    copyFileSync(host, join(dir, inImage)); // follows links: each becomes a file
    chmodSync(join(dir, inImage), 0o755);
  };
  place('/elb-proxy-echo', executable);
  for (const [inImage, host] of sharedLibraries(executable, arch)) place(inImage, host);
  mkdirSync(join(dir, 'etc'));
  const name = 'elb-proxy-echo';
  writeFileSync(
    join(dir, 'etc/passwd'),
    `${name}:x:${USER_ID}:${USER_ID}:${name}:/:/sbin/nologin\n`,
  );
  writeFileSync(join(dir, 'etc/group'), `${name}:x:${USER_ID}:\n`);
  for (const mountPoint of ['proc', 'dev', 'sys']) mkdirSync(join(dir, mountPoint));
  mkdirSync(join(dir, 'tmp'));
  chmodSync(join(dir, 'tmp'), 0o1777);
}

function git(...args) {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

function ociLabels() {
  const source = process.env.IMAGE_SOURCE || git('config', '--get', 'remote.origin.url');
  if (!source) log('no source label: the clone has no origin remote (set IMAGE_SOURCE)');
  const entries = {
    'org.opencontainers.image.title': pkgJson.name,
    'org.opencontainers.image.description': pkgJson.description,
    'org.opencontainers.image.version': pkgJson.version,
    'org.opencontainers.image.revision': git('rev-parse', 'HEAD'),
    'org.opencontainers.image.licenses': pkgJson.license,
  };
  if (source) entries['org.opencontainers.image.source'] = source;
  return entries;
}

function epoch() {
  const value = process.env.SOURCE_DATE_EPOCH || git('log', '-1', '--format=%ct');
  if (!/^\d+$/.test(value)) fail(`SOURCE_DATE_EPOCH must be seconds since 1970, not "${value}"`);
  return value;
}

/** buildah, with a private store under `work` (removed with it): no trace in the machine's store. */
function buildahIn(work) {
  const store = ['--root', join(work, 'storage'), '--runroot', join(work, 'run')];
  return (...args) =>
    execFileSync('buildah', [...store, '--storage-driver', 'vfs', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
}

/** The image of `rootfs` as an OCI layout in `layout`, every time stamp `when`. */
function commitImage(buildah, rootfs, ociArch, when, labels, layout) {
  const container = buildah('from', '--quiet', '--name', `elb-proxy-echo-${ociArch}`, 'scratch');
  buildah('copy', '--quiet', container, `${rootfs}/`, '/');
  const config = ['--os', 'linux', '--arch', ociArch, '--user', `${USER_ID}:${USER_ID}`];
  config.push('--port', `${PORT}/tcp`, '--workingdir', '/', '--stop-signal', 'SIGTERM');
  config.push('--entrypoint', JSON.stringify(['/elb-proxy-echo']));
  config.push('--created-by', 'build-image.mjs');
  for (const [key, value] of Object.entries(labels)) config.push('--label', `${key}=${value}`);
  buildah('config', ...config, container);
  const target = `oci:${layout}:elb-proxy-echo:${pkgJson.version}`;
  buildah('commit', '--quiet', '--format=oci', `--timestamp=${when}`, container, target);
}

/** The layout as one tar file, written so that the same layout gives the same bytes. */
function archiveLayout(layout, archive, when) {
  const stable = ['--sort=name', `--mtime=@${when}`, '--owner=0', '--group=0', '--numeric-owner'];
  const pax = '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime';
  execFileSync('tar', [
    '--create',
    `--file=${archive}`,
    `--directory=${layout}`,
    ...stable,
    '--format=posix',
    pax,
    '.',
  ]);
}

function buildImage(arch, work, when, labels) {
  const executable = join(dist, `elb-proxy-echo-linux-${arch.arch}`);
  if (!existsSync(executable)) fail(`${executable} is missing: run npm run build first`);
  const rootfs = join(work, `rootfs-${arch.arch}`);
  rootFileSystem(rootfs, executable, arch);
  const layout = join(work, `layout-${arch.arch}`);
  commitImage(buildahIn(work), rootfs, arch.ociArch, when, labels, layout);
  const archive = join(outDir, `elb-proxy-echo-linux-${arch.arch}.oci.tar`);
  archiveLayout(layout, archive, when);
  return archive;
}

function rel(path) {
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

function main() {
  if (!outDir) fail('--out-dir needs a directory');
  ensureTools();
  const when = epoch();
  const labels = ociLabels();
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'elb-proxy-echo-image-'));
  try {
    for (const arch of ARCHES) {
      const archive = buildImage(arch, work, when, labels);
      const size = statSync(archive).size;
      const extra = size - statSync(join(dist, `elb-proxy-echo-linux-${arch.arch}`)).size;
      log(
        `${rel(archive)}  ${(size / 1e6).toFixed(1)} MB (the executable + ${(extra / 1e6).toFixed(1)} MB)`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
