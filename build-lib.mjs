#!/usr/bin/env node
// Builds the library that `import … from 'elb-proxy-echo'` loads: dist/lib/**/*.js and .d.ts,
// compiled by tsc from src/index.ts and what it imports (tsconfig.lib.json). Node does not strip
// types under node_modules, so the published package needs JavaScript. Run by `npm pack` and
// `npm publish` (prepack); `npm run build:lib` runs it by hand.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = import.meta.dirname;
const out = join(root, 'dist', 'lib');

rmSync(out, { recursive: true, force: true });
execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'tsconfig.lib.json')], { stdio: 'inherit' });

// tsc rewrites `./x.ts` to `./x.js` in the JavaScript it emits but not in declarations; older
// TypeScript versions of our users resolve only the `.js` form there, so rewrite it too.
let files = 0;
for (const entry of readdirSync(out, { recursive: true })) {
  const path = join(out, String(entry));
  if (!path.endsWith('.d.ts')) continue;
  const text = readFileSync(path, 'utf8');
  writeFileSync(path, text.replace(/((?:from\s+|import\()['"]\.{1,2}\/[^'"]*)\.ts(['"])/g, '$1.js$2'));
  files++;
}
process.stdout.write(`build-lib: dist/lib (${files} declaration files)\n`);
