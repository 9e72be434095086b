// What `install` and `uninstall` do to a machine: files in place, then systemctl. The paths and
// the way systemctl runs come in as a Host, so tests can point them at a temporary directory.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { envFileText } from './env-file.ts';
import { SERVICE_UNIT, SOCKET_UNIT } from './units.ts';

const SERVICE = 'elb-proxy-echo.service';
const SOCKET = 'elb-proxy-echo.socket';
const SOCKET_PORT_FILE = 'port.conf';

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

export interface InstallRequest {
  /** The executable to copy (the one running `install`). */
  readonly source: string;
  /** ELB_PROXY_ECHO_* variables from the options given; none given keeps an existing file. */
  readonly variables: ReadonlyMap<string, string>;
  /**
   * socket: systemd listens on `port` and starts the service on demand (socket activation);
   * otherwise the service listens itself. null keeps what is installed (an upgrade).
   */
  readonly activation: { readonly socket: boolean; readonly port: number } | null;
}

export function install(request: InstallRequest, host: Host): void {
  const { paths } = host;
  placeExecutable(request.source, paths.executable, host);
  mkdirSync(paths.unitDir, { recursive: true });
  writeFile(join(paths.unitDir, SERVICE), SERVICE_UNIT, host);
  writeFile(join(paths.unitDir, SOCKET), SOCKET_UNIT, host);
  // The socket's port follows --port through a drop-in, so the unit file stays as shipped; its
  // presence is also how a later upgrade knows that socket activation is in use. Only that file
  // is ours: an administrator's own drop-ins beside it (`systemctl edit`) are left alone.
  const dropIn = socketDropInDir(paths);
  const portFile = join(dropIn, SOCKET_PORT_FILE);
  const { activation } = request;
  const socket = activation === null ? existsSync(portFile) : activation.socket;
  if (activation !== null) {
    if (activation.socket) {
      mkdirSync(dropIn, { recursive: true });
      writeFile(portFile, `[Socket]\nListenStream=\nListenStream=${activation.port}\n`, host);
    } else {
      removePortDropIn(paths);
    }
  }
  if (request.variables.size > 0 || !existsSync(paths.envFile)) {
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

export function uninstall(host: Host): void {
  const { paths } = host;
  const units = [SOCKET, SERVICE].filter((unit) => existsSync(join(paths.unitDir, unit)));
  if (units.length > 0) host.systemctl(['disable', '--now', ...units]);
  for (const path of [
    join(paths.unitDir, SERVICE),
    join(paths.unitDir, SOCKET),
    join(socketDropInDir(paths), SOCKET_PORT_FILE),
    paths.envFile,
    paths.executable,
  ]) {
    if (!existsSync(path)) continue;
    rmSync(path, { force: true });
    host.say(`removed ${path}`);
  }
  removePortDropIn(paths);
  if (units.length > 0) host.systemctl(['daemon-reload']);
  host.say('elb-proxy-echo is uninstalled');
}

function socketDropInDir(paths: InstallPaths): string {
  return join(paths.unitDir, `${SOCKET}.d`);
}

/** Removes our port drop-in, and its folder if nothing else is in it. */
function removePortDropIn(paths: InstallPaths): void {
  const dropIn = socketDropInDir(paths);
  rmSync(join(dropIn, SOCKET_PORT_FILE), { force: true });
  try {
    rmdirSync(dropIn);
  } catch {
    // Missing, or holding an administrator's own drop-ins: either way, left as it is.
  }
}

// Copy beside the target, then rename over it: a running executable is replaced, not rewritten
// (writing into it would fail with ETXTBSY).
function placeExecutable(source: string, target: string, host: Host): void {
  if (existsSync(target) && realpathSync(source) === realpathSync(target)) {
    host.say(`${target} is the running executable: kept`);
    return;
  }
  mkdirSync(join(target, '..'), { recursive: true });
  const temporary = `${target}.new`;
  try {
    copyFileSync(source, temporary);
    chmodSync(temporary, 0o755);
    renameSync(temporary, target);
  } catch (error) {
    // A failed copy (a full disk) must not leave a partial executable of ~100 MB behind.
    rmSync(temporary, { force: true });
    throw error;
  }
  host.say(`installed ${target}`);
}

function writeFile(path: string, text: string, host: Host): void {
  writeFileSync(path, text, { mode: 0o644 });
  host.say(`wrote ${path}`);
}
