#!/usr/bin/env node
// Entry point: picks the subcommand, turns configuration errors into exit status 2.
//
// Each subcommand's module is loaded only when it runs (a dynamic import(), which works under
// Node's type stripping and in the esbuild CommonJS bundle alike), so `serve` does not carry
// the benchmark or the installer in its memory, and --version loads nothing else.
import type { Cluster } from 'node:cluster';
import { isSea } from 'node:sea';
import { formatOptions, isSettingError, UsageError } from './options.ts';
import { versionLine } from './version.ts';
import { errorText } from './error-text.ts';

/** The help text: it lists the options of serve and install, so it loads those two tables. */
async function usage(): Promise<string> {
  const [{ serveOptions }, { installOptions }] = await Promise.all([
    import('./serve.ts'),
    import('./install/command.ts'),
  ]);
  return `Usage: elb-proxy-echo [serve] [options]

A TCP echo server for the backends of AWS load balancers: it reads the PROXY protocol
header (v1 from Classic ELB, v2 from NLB), logs the real client, then echoes every line
until a line "q" or "Q". A first line that is an HTTP request (curl, a browser, an HTTP
health check) is answered over HTTP with what the server saw; --greeting tells a telnet
client the same in one line before the echo.

Commands:
  serve           run the echo server (the default)
  install         (root) copy this executable to /usr/local/bin, install the systemd unit,
                  write the options given to /etc/default/elb-proxy-echo, enable and start;
                  takes the options of serve, and:
${formatOptions(installOptions)}
  uninstall       (root) stop and remove everything install put in place
  bench           many telnet-like clients against our server or a --target (bench --help)

Options of serve:
${formatOptions(serveOptions)}

Other:
  -h, --help      show this help
  -v, --version   show the version, Node version and CPU architecture`;
}

export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number | undefined> {
  const [first, ...rest] = argv;
  // `serve --help`, `--port 80 --help`, `install -h`: the one help (bench has its own).
  if (first === 'help' || (first !== 'bench' && (argv.includes('--help') || argv.includes('-h')))) {
    process.stdout.write(`${await usage()}\n`);
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
    else if (first === 'bench') return await (await import('./bench/index.ts')).bench(rest, env);
    else throw new UsageError(`unknown command "${first}" (try --help)`);
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
