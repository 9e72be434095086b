// The npm libraries the benchmarks compare against, pinned in bench/package.json and installed
// on first use into bench/node_modules (git-ignored): never dependencies of elb-proxy-echo.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const benchDir = import.meta.dirname;

/**
 * A require() that loads from bench/node_modules, after installing bench/package.json there
 * when any of `names` is missing (from the npm registry npm is configured with). Exits with a
 * message saying so when npm cannot install them.
 */
export function benchLibraries(who: string, names: readonly string[]): NodeJS.Require {
  if (names.some((name) => !existsSync(join(benchDir, 'node_modules', name, 'package.json')))) {
    process.stdout.write(`${who}: installing the comparison libraries into bench/node_modules\n`);
    try {
      execFileSync(
        'npm',
        ['install', '--prefix', benchDir, '--no-audit', '--no-fund', '--silent'],
        {
          stdio: 'inherit',
          timeout: 300_000,
        },
      );
    } catch (error) {
      process.stderr.write(
        `${who}: npm could not install ${names.join(', ')} from bench/package.json (${(error as Error).message}); is the npm registry reachable?\n`,
      );
      process.exit(1);
    }
  }
  return createRequire(join(benchDir, 'package.json'));
}
