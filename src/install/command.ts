// `elb-proxy-echo install [options]` and `elb-proxy-echo uninstall`: the CLI edge. Parses the
// options once, checks that this is root running the built executable, then hands a request
// to install.ts with the real paths and the real systemctl.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { isSea } from 'node:sea';
import {
  flag,
  formatOptions,
  type Option,
  type OptionTable,
  parseOptions,
  text,
  UsageError,
} from '../options.ts';
import { toConfig } from '../serve-config.ts';
import { serveOptions } from '../serve-options.ts';
import { connectionBudget } from '../server/process/descriptors.ts';
import { ECHO_DEFAULTS } from '../server/server-options.ts';
import { type Host, install, type SocketListen, SYSTEM_PATHS, uninstall } from './install.ts';
import { errorText } from '../error-text.ts';

export const installOptions = {
  socket: {
    flag: 'socket',
    help: 'use socket activation (elb-proxy-echo.socket listens on --host and --port with --backlog; needed for a port below 1024)',
    default: false,
    parse: flag,
  },
} satisfies OptionTable;

const INSTALL_HELP = `Usage: elb-proxy-echo install [options]      (as root, from the built executable)

Copies this executable to /usr/local/bin/elb-proxy-echo, installs the hardened systemd unit,
writes the options given to /etc/default/elb-proxy-echo (as their variables), then enables and
starts the service. systemd's stop timeout (TimeoutStopSec=, in a drop-in) covers --drain-delay
and --drain-timeout with a margin. Run it again with a new executable to upgrade; without
options the options file, the way of listening and the stop timeout stay as they are. The
installer's own environment is not read.

Options: every option of serve (elb-proxy-echo serve --help), and:
${formatOptions(installOptions)}

Exit status: 0 installed and started; 1 a step failed (the line says which); 2 a bad option,
not root, not the built executable, or no systemd.`;

const UNINSTALL_HELP = `Usage: elb-proxy-echo uninstall      (as root)

Stops and disables the service (and its socket), removes the units, the options file
/etc/default/elb-proxy-echo and /usr/local/bin/elb-proxy-echo, and reloads systemd. A file at
those paths that install did not write is kept, with a line saying so.

Exit status: 0 removed; 1 something could not be removed (each such line says why); 2 an
argument given, not root, or no systemd.`;

export function installHelp(command: 'install' | 'uninstall'): string {
  return command === 'install' ? INSTALL_HELP : UNINSTALL_HELP;
}

type Env = Readonly<Record<string, string | undefined>>;

export async function installCommand(argv: readonly string[], _env: Env): Promise<number> {
  // The installer's own environment must not leak into the service's configuration: only the
  // flags given here count, validated exactly as `serve` would validate them.
  const table = { ...serveOptions, ...installOptions };
  const { values, positionals } = parseOptions(table, argv, {}, 'install');
  if (positionals.length > 0)
    throw new UsageError(`install takes options only, not "${positionals[0]}"`);
  const variables = givenAsVariables(serveOptions, argv);
  // The same cross-checks as serve (--metrics-port equal to --port…), before anything is
  // written: the service would otherwise fail at every start. The descriptor budget is the
  // service's business (its LimitNOFILE=), not this process's.
  const config = toConfig(values, 1, (extra) =>
    connectionBudget(null, 0, ECHO_DEFAULTS.maxConnections, extra),
  );
  requireBindablePort(values.port, values.socket, unprivilegedPortStart());
  const listen = values.socket ? socketListen(values.host, values.port, values.backlog) : null;
  const source = builtExecutable('install');
  // No arguments at all is an upgrade: the options file and the way of listening stay as they are.
  const activation = argv.length === 0 ? null : { socket: listen };
  const stop = argv.length === 0 ? null : config;
  return runOnHost((host) => install({ source, variables, activation, stop }, host));
}

export async function uninstallCommand(argv: readonly string[], _env: Env): Promise<number> {
  const { positionals } = parseOptions({}, argv, {}, 'uninstall');
  if (positionals.length > 0)
    throw new UsageError(`uninstall takes no arguments, not "${positionals[0]}"`);
  requireRoot('uninstall');
  requireSystemd('uninstall');
  return runOnHost(uninstall);
}

/** The serve options given on the command line, as the variables the unit reads, raw text. */
export function givenAsVariables(table: OptionTable, argv: readonly string[]): Map<string, string> {
  // Same flags, but every value kept as typed (already validated by the caller's parse).
  const asText: Record<string, Option<string | undefined>> = {};
  for (const [key, option] of Object.entries(table))
    asText[key] = { ...option, default: undefined, parse: text };
  const { values } = parseOptions({ ...asText, ...installOptions }, argv, {});
  const variables = new Map<string, string>();
  for (const [key, option] of Object.entries(table)) {
    const raw = (values as Record<string, unknown>)[key];
    if (typeof raw !== 'string') continue;
    if (option.env === undefined)
      throw new UsageError(
        `--${option.flag} has no environment variable, so the service cannot be given it`,
      );
    variables.set(option.env, raw);
  }
  return variables;
}

/**
 * The service has no capabilities, so it cannot listen on a port below the kernel's
 * ip_unprivileged_port_start (1024 by default) itself: it would be enabled, then fail at every
 * start. systemd can listen for it (--socket).
 */
export function requireBindablePort(
  port: number,
  socket: boolean,
  unprivilegedStart: number,
): void {
  if (!socket && port !== 0 && port < unprivilegedStart) {
    throw new UsageError(
      `--port ${port}: the service has no privileges to listen below port ${unprivilegedStart}; add --socket to let systemd listen for it`,
    );
  }
}

/**
 * Where systemd listens for --socket: ListenStream= takes an IP address, not a name, and a
 * fixed port (the service's --port 0 would mean a port nobody knows).
 */
export function socketListen(host: string, port: number, backlog: number): SocketListen {
  // A zone id (fe80::1%eth0) names an interface; ListenStream= spells that differently.
  if (net.isIP(host) === 0 || host.includes('%'))
    throw new UsageError(
      `--socket needs --host to be an IP address without a zone (systemd listens on it), not "${host}"`,
    );
  if (port === 0) throw new UsageError('--socket needs a --port other than 0');
  return { host, port, backlog };
}

function unprivilegedPortStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
  } catch {
    return 1024; // the kernel's default
  }
}

function requireRoot(command: string): void {
  if (process.getuid?.() !== 0)
    throw new UsageError(`${command} changes /usr/local/bin and /etc: run it as root (sudo)`);
}

// The same test as systemd's sd_booted(): this directory exists only when systemd is PID 1.
function requireSystemd(command: string): void {
  if (!existsSync('/run/systemd/system'))
    throw new UsageError(
      `${command} needs a machine running systemd (there is no /run/systemd/system); without it, run \`elb-proxy-echo serve\` yourself`,
    );
}

function builtExecutable(command: string): string {
  requireRoot(command);
  if (!isSea())
    throw new UsageError(
      `${command} copies the running executable: run it from the built file (dist/elb-proxy-echo-linux-x64 or -arm64), not from src/`,
    );
  requireSystemd(command);
  return process.execPath;
}

function runOnHost(work: (host: Host) => void): number {
  const host: Host = {
    paths: SYSTEM_PATHS,
    systemctl(args) {
      execFileSync('systemctl', args, { stdio: ['ignore', 'inherit', 'inherit'] });
    },
    say(line) {
      process.stdout.write(`${line}\n`);
    },
  };
  try {
    work(host);
    return 0;
  } catch (error) {
    process.stderr.write(`elb-proxy-echo: ${errorText(error).split('\n')[0]}\n`);
    return 1;
  }
}
