// The Node the docs ask for is the Node the dependencies ask for: the highest minimum any
// package in package-lock.json declares in `engines.node` (npm warns EBADENGINE below it).
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');

/**
 * The lowest major version a range accepts: the least over its `||` alternatives of the first
 * number in each (`>=16 || 14 >=14.17` → 14, `^12.20.0 || >=14` → 12, `*` → 0).
 */
function lowestMajor(range: string): number {
  return Math.min(
    ...range.split('||').map((alternative) => Number(/\d+/.exec(alternative)?.[0] ?? 0)),
  );
}

/** The highest of those minimums over every package of the lock file, and who declares it. */
function lockMinimum(): { major: number; packages: string[] } {
  const lock = JSON.parse(read('package-lock.json')) as {
    packages: Record<string, { engines?: { node?: string } }>;
  };
  let major = 0;
  let packages: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    const range = entry.engines?.node;
    if (range === undefined) continue;
    const lowest = lowestMajor(range);
    if (lowest > major) [major, packages] = [lowest, []];
    if (lowest === major) packages.push(path.replace(/^.*node_modules\//, ''));
  }
  return { major, packages };
}

test('lowestMajor reads the range forms the lock file holds', () => {
  for (const [range, major] of [
    ['>=22.0.0', 22],
    ['>= 22', 22],
    ['>=16 || 14 >=14.17', 14],
    ['^12.20.0 || >=14', 12],
    ['6.* || 8.* || >= 10.*', 6],
    ['*', 0],
  ] as const)
    assert.is(lowestMajor(range), major, range);
});

test('README.md, README.zh-CN.md and docs/development.md ask for the Node the lock file needs', () => {
  const { major, packages } = lockMinimum();
  assert.ok(major >= 18, `${major}`);
  for (const doc of ['README.md', 'README.zh-CN.md', 'docs/development.md']) {
    const claims = [...read(doc).matchAll(/Node ≥ (\d+)/g)].map((m) => Number(m[1]));
    assert.ok(claims.length > 0, `${doc} names no minimum Node`);
    for (const claim of claims)
      assert.is(claim, major, `${doc} says Node ≥ ${claim}; ${packages.join(', ')} need ${major}`);
  }
});

test.run();
