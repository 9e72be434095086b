// What `install` and `uninstall` do to a machine: files in place, then systemctl. The paths and
// the way systemctl runs come in as a Host, so tests can point them at a temporary directory.
// Every file goes through files.ts: written new and renamed into place, removed only if ours.
import { mkdirSync, realpathSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostPortText } from '../server/address-text.ts';
import { envFileText } from './env-file.ts';
import {
  copyNewFile,
  InstallFileError,
  lstatOrNull,
  notOurs,
  OWNED_MARKER,
  removeIfOurs,
  writeNewFile,
} from './files.ts';
import { type StopTimes, stopDropInText } from './stop-timeout.ts';
import { SERVICE_UNIT, SOCKET_UNIT } from './units.ts';
import { errorText } from '../error-text.ts';

const SERVICE = 'elb-proxy-echo.service';
const SOCKET = 'elb-proxy-echo.socket';
const SOCKET_PORT_FILE = 'port.conf';
const SERVICE_STOP_FILE = 'stop.conf';
const TEXT_MODE = 0o644;
const EXECUTABLE_MODE = 0o755;

export interface InstallPaths {
  /** Where the unit's ExecStart= expects the executable. */
  readonly executable: string;
  /** Where administrators' unit files live (/etc/systemd/system). */
  readonly unitDir: string;
  /** The unit's EnvironmentFile=. */
  readonly envFile: string;
}

export const SYSTEM_PATHS: InstallPaths = {
  executable: '/usr/local/bin/elb-proxy-echo',
  unitDir: '/etc/systemd/system',
  envFile: '/etc/default/elb-proxy-echo',
};

export interface Host {
  readonly paths: InstallPaths;
  /** Runs `systemctl ARGS`; throws when it fails. */
  systemctl(args: readonly string[]): void;
  /** One line of progress for the user. */
  say(line: string): void;
}

/** Where systemd listens for the service with socket activation (--host, --port, --backlog). */
export interface SocketListen {
  /** An IP address (IPv6 without brackets); `::` is every address, IPv6 and IPv4. */
  readonly host: string;
  readonly port: number;
  readonly backlog: number;
}

export interface InstallRequest {
  /** The executable to copy (the one running `install`). */
  readonly source: string;
  /** ELB_PROXY_ECHO_* variables from the options given; none given keeps an existing file. */
  readonly variables: ReadonlyMap<string, string>;
  /**
   * socket: systemd listens where `listen` says and starts the service on demand (socket
   * activation); null: the service listens itself. The whole field null keeps what is
   * installed (an upgrade).
   */
  readonly activation: { readonly socket: SocketListen | null } | null;
  /** The drain times the service gets, for its TimeoutStopSec=; null keeps what is installed. */
  readonly stop: StopTimes | null;
}

/** The socket unit's drop-in: its one listening address replaces the unit's, with the backlog. */
export function socketDropInText(listen: SocketListen): string {
  return [
    `# ${OWNED_MARKER} (written by \`elb-proxy-echo install --socket\`; uninstall removes it)`,
    '[Socket]',
    'ListenStream=',
    // `::` is every address, as with serve; a bare port says the same to systemd, and also
    // works where IPv6 is switched off (systemd then listens on IPv4 only).
    `ListenStream=${listen.host === '::' ? listen.port : hostPortText(listen.host, listen.port)}`,
    `Backlog=${listen.backlog}`,
    '',
  ].join('\n');
}

export function install(request: InstallRequest, host: Host): void {
  const { paths } = host;
  placeExecutable(request.source, paths.executable, host);
  mkdirSync(paths.unitDir, { recursive: true });
  writeFile(join(paths.unitDir, SERVICE), SERVICE_UNIT, host);
  writeFile(join(paths.unitDir, SOCKET), SOCKET_UNIT, host);
  const socket = writeActivation(request.activation, paths, host);
  if (request.stop !== null) {
    mkdirSync(dropInDir(paths, SERVICE), { recursive: true });
    writeFile(
      join(dropInDir(paths, SERVICE), SERVICE_STOP_FILE),
      stopDropInText(request.stop),
      host,
    );
  }
  if (request.variables.size > 0 || lstatOrNull(paths.envFile) === null) {
    mkdirSync(join(paths.envFile, '..'), { recursive: true });
    writeFile(paths.envFile, envFileText(request.variables), host);
  } else {
    host.say(`kept ${paths.envFile} (no options given)`);
  }
  host.systemctl(['daemon-reload']);
  if (socket) {
    // The service must let go of the port before the socket unit can take it.
    host.systemctl(['disable', '--now', SERVICE]);
    host.systemctl(['enable', SOCKET]);
    host.systemctl(['restart', SOCKET]);
  } else {
    host.systemctl(['disable', '--now', SOCKET]);
    host.systemctl(['enable', SERVICE]);
    // restart, not start: a second install is an upgrade and must run the new executable.
    host.systemctl(['restart', SERVICE]);
  }
  host.say(
    `enabled and started ${socket ? `${SOCKET} (the service starts on the first connection)` : SERVICE}`,
  );
  host.say('follow the log with: journalctl -u elb-proxy-echo -f');
}

/**
 * The socket's address follows the options through a drop-in, so the unit file stays as
 * shipped; its presence is also how a later upgrade knows that socket activation is in use.
 * Only that file is ours: an administrator's own drop-ins beside it are left alone.
 * Returns whether socket activation is on.
 */
function writeActivation(
  activation: InstallRequest['activation'],
  paths: InstallPaths,
  host: Host,
): boolean {
  const portFile = join(dropInDir(paths, SOCKET), SOCKET_PORT_FILE);
  if (activation === null) return lstatOrNull(portFile) !== null;
  if (activation.socket === null) {
    removePortDropIn(paths, host);
    return false;
  }
  mkdirSync(dropInDir(paths, SOCKET), { recursive: true });
  writeFile(portFile, socketDropInText(activation.socket), host);
  return true;
}

/**
 * Stops and removes what is ours; anything else at our paths stays, with a line saying why.
 * A file that cannot be removed does not stop the rest, and systemd always reloads at the end.
 * Throws (after all that) when something failed, so the exit status says so.
 */
export function uninstall(host: Host): void {
  const { paths } = host;
  const failures: string[] = [];
  const attempt = (what: string, work: () => void) => {
    try {
      work();
    } catch (error) {
      failures.push(`${what}: ${errorText(error)}`);
      host.say(`could not ${what}: ${errorText(error)}`);
    }
  };
  const units = [SOCKET, SERVICE].filter((unit) => isOurs(join(paths.unitDir, unit)));
  if (units.length > 0)
    attempt(`disable ${units.join(' ')}`, () => host.systemctl(['disable', '--now', ...units]));
  for (const path of [
    join(paths.unitDir, SERVICE),
    join(paths.unitDir, SOCKET),
    join(dropInDir(paths, SOCKET), SOCKET_PORT_FILE),
    join(dropInDir(paths, SERVICE), SERVICE_STOP_FILE),
    paths.envFile,
    paths.executable,
  ]) {
    attempt(`remove ${path}`, () => {
      const outcome = removeIfOurs(path);
      if (outcome !== null) host.say(outcome);
    });
  }
  attempt('remove the empty drop-in folders', () => {
    removeEmptyDropInDir(paths, SOCKET);
    removeEmptyDropInDir(paths, SERVICE);
  });
  attempt('reload systemd', () => host.systemctl(['daemon-reload']));
  if (failures.length > 0)
    throw new InstallFileError(`uninstall left work undone: ${failures.join('; ')}`);
  host.say('elb-proxy-echo is uninstalled');
}

function isOurs(path: string): boolean {
  try {
    return notOurs(path) === '';
  } catch {
    return false;
  }
}

function dropInDir(paths: InstallPaths, unit: string): string {
  return join(paths.unitDir, `${unit}.d`);
}

/** Removes our port drop-in (when ours), and its folder if nothing else is in it. */
function removePortDropIn(paths: InstallPaths, host: Host): void {
  const outcome = removeIfOurs(join(dropInDir(paths, SOCKET), SOCKET_PORT_FILE));
  if (outcome !== null) host.say(outcome);
  removeEmptyDropInDir(paths, SOCKET);
}

function removeEmptyDropInDir(paths: InstallPaths, unit: string): void {
  try {
    rmdirSync(dropInDir(paths, unit));
  } catch {
    // Missing, or holding an administrator's own drop-ins: either way, left as it is.
  }
}

// A new file renamed over the target: a running executable is replaced, not rewritten (writing
// into it would fail with ETXTBSY), and nothing planted at the target is written through.
function placeExecutable(source: string, target: string, host: Host): void {
  if (lstatOrNull(target)?.isFile() && realpathSync(source) === realpathSync(target)) {
    host.say(`${target} is the running executable: kept`);
    return;
  }
  mkdirSync(join(target, '..'), { recursive: true });
  copyNewFile(source, target, EXECUTABLE_MODE);
  host.say(`installed ${target}`);
}

function writeFile(path: string, text: string, host: Host): void {
  writeNewFile(path, text, TEXT_MODE);
  host.say(`wrote ${path}`);
}
