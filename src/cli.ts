#!/usr/bin/env node
// Entry point: picks the subcommand, turns configuration errors into exit status 2.
//
// Each subcommand's module is loaded only when it runs (a dynamic import(), which works under
// Node's type stripping and in the esbuild CommonJS bundle alike), so `serve` does not carry
// the benchmark or the installer in its memory, and --version loads nothing else.
import type { Cluster } from 'node:cluster';
import { isSea } from 'node:sea';
import { isSettingError, UsageError } from './options.ts';
import { versionLine } from './version.ts';
import { closest } from './closest.ts';
import { errorText } from './error-text.ts';

const COMMANDS = `
Commands:
  serve           run the echo server (the default; its options are below)
  install         (root) install this executable as a systemd service and start it
  uninstall       (root) stop and remove everything install put in place
  bench           many telnet-like clients against our server or a --target
  bench merge     one report from the --json results of several bench machines
  health          fail, ok or status: switch a running server's health checks (its metrics port)
  COMMAND --help  that command's own help
`;

const OTHER = `Other:
  -h, --help      show this help
  -v, --version   show the version, Node version and CPU architecture`;

/** The help a command line asks for, or null when it asks for none (bench answers its own). */
async function helpFor(argv: readonly string[]): Promise<string | null> {
  const [first] = argv;
  if (first === 'bench') return null;
  if (first !== 'help' && !argv.includes('--help') && !argv.includes('-h')) return null;
  if (first === 'health') return (await import('./health-command.ts')).HEALTH_HELP;
  if (first === 'install' || first === 'uninstall')
    return (await import('./install/command.ts')).installHelp(first);
  const { serveHelp } = await import('./serve-help.ts');
  if (first === 'serve') return serveHelp('Usage: elb-proxy-echo [serve] [options]');
  return `${serveHelp('Usage: elb-proxy-echo [COMMAND] [options]', COMMANDS)}\n\n${OTHER}`;
}

export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number | undefined> {
  const [first, ...rest] = argv;
  // `serve --help`, `--port 80 --help`, `install -h`: that command's help.
  const help = await helpFor(argv);
  if (help !== null) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${versionLine()}\n`);
    return 0;
  }
  try {
    if (first === undefined || first.startsWith('-'))
      await (await import('./serve.ts')).serve(argv, env);
    else if (first === 'serve') await (await import('./serve.ts')).serve(rest, env);
    else if (first === 'install')
      return await (await import('./install/command.ts')).installCommand(rest, env);
    else if (first === 'uninstall')
      return await (await import('./install/command.ts')).uninstallCommand(rest, env);
    else if (first === 'bench') return await (await import('./loadgen/index.ts')).bench(rest, env);
    else if (first === 'health')
      return await (await import('./health-command.ts')).healthCommand(rest, env);
    else throw new UsageError(unknownCommand(first));
  } catch (error) {
    if (!isSettingError(error)) throw error;
    process.stderr.write(`elb-proxy-echo: ${error.message}\n`);
    // Exit now, not when the event loop empties: a setting can fail after something already
    // listens (--metrics-port taken once the echo port is bound, with or without workers), and
    // that must not go on serving half configured. (stderr writes are synchronous here.)
    process.exit(2);
  }
  return undefined;
}

function unknownCommand(name: string): string {
  const near = closest(name, ['serve', 'install', 'uninstall', 'bench', 'health', 'help']);
  return near === null
    ? `unknown command "${name}" (see elb-proxy-echo --help)`
    : `unknown command "${name}"; did you mean ${near}?`;
}

// node:cluster starts a worker as `execPath <script> ARGS`, with <script> = the primary's
// argv[1]. In the single executable that is the executable's own path, and the executable
// passes every argument on to us, so a worker would read it as the command: drop it.
function cliArguments(): string[] {
  const args = process.argv.slice(2);
  if (
    isSea() &&
    args[0] === process.execPath &&
    (process.getBuiltinModule('node:cluster') as unknown as Cluster).isWorker
  )
    args.shift();
  return args;
}

// No top-level await: the executable runs this file bundled as CommonJS.
main(cliArguments(), process.env).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`elb-proxy-echo: ${errorText(error, 'stack')}\n`);
    // At once, as for a usage error: a bug at start-up may come after the port is bound.
    process.exit(1);
  },
);
