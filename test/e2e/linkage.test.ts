// Both executables must start on a minimal Amazon Linux 2023 / RHEL 8 / Debian 10: no glibc
// symbol newer than 2.28, no libstdc++ symbol newer than GCC 8's (GLIBCXX_3.4.25, CXXABI_1.3.11),
// and no shared library outside glibc, libstdc++ and libgcc_s (objdump reads both architectures).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ALLOWED_LIBRARIES = new Set([
  'libc.so.6',
  'libm.so.6',
  'libdl.so.2',
  'libpthread.so.0',
  'librt.so.1',
  'ld-linux-x86-64.so.2',
  'ld-linux-aarch64.so.1',
  'libstdc++.so.6',
  'libgcc_s.so.1',
]);
const NEWEST = { GLIBC: '2.28', GLIBCXX: '3.4.25', CXXABI: '1.3.11' } as const;

/** Libraries in `needed` that a minimal image may lack. */
function unexpectedLibraries(needed: readonly string[]): string[] {
  return needed.filter((name) => !ALLOWED_LIBRARIES.has(name));
}

/** Symbol versions (GLIBC_2.29, GLIBCXX_3.4.26, …) newer than NEWEST allows. */
function tooNewVersions(versions: readonly string[]): string[] {
  return versions.filter((tag) => {
    const m = /^(GLIBCXX|GLIBC|CXXABI)_([\d.]+)$/.exec(tag);
    return m !== null && compareVersions(m[2], NEWEST[m[1] as keyof typeof NEWEST]) > 0;
  });
}

function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function objdump(flag: string, file: string): string {
  const r = spawnSync('objdump', [flag, file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.is(r.status, 0, `objdump ${flag} ${file}: ${r.stderr}`);
  return r.stdout;
}

test('the checks reject what Node 26 or a newer glibc would bring', () => {
  assert.equal(unexpectedLibraries(['libc.so.6', 'libatomic.so.1', 'libstdc++.so.6']), [
    'libatomic.so.1',
  ]);
  assert.equal(
    tooNewVersions([
      'GLIBC_2.28',
      'GLIBC_2.34',
      'GLIBCXX_3.4.25',
      'GLIBCXX_3.4.30',
      'CXXABI_1.3.13',
      'GLIBC_PRIVATE',
    ]),
    ['GLIBC_2.34', 'GLIBCXX_3.4.30', 'CXXABI_1.3.13'],
  );
});

for (const arch of ['x64', 'arm64']) {
  const exe = fileURLToPath(new URL(`../../dist/elb-proxy-echo-linux-${arch}`, import.meta.url));

  test(`${arch}: needs only glibc, libstdc++ and libgcc_s`, () => {
    assert.ok(existsSync(exe), `${exe} is missing (npm run build)`);
    const needed = [...objdump('-p', exe).matchAll(/^\s*NEEDED\s+(\S+)$/gm)].map((m) => m[1]);
    assert.ok(needed.includes('libc.so.6'), `NEEDED: ${needed.join(' ')}`);
    assert.equal(unexpectedLibraries(needed), []);
  });

  test(`${arch}: no symbol newer than GLIBC_${NEWEST.GLIBC} / GLIBCXX_${NEWEST.GLIBCXX} / CXXABI_${NEWEST.CXXABI}`, () => {
    const versions = [
      ...new Set(objdump('-T', exe).match(/\b(?:GLIBCXX|GLIBC|CXXABI)_[\d.]+\b/g) ?? []),
    ];
    assert.ok(
      versions.some((tag) => tag.startsWith('GLIBC_2.')),
      `versions found: ${versions.join(' ')}`,
    );
    assert.equal(tooNewVersions(versions), []);
  });
}

test.run();
