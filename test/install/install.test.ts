// install/uninstall against a temporary directory and a recorded systemctl: which files land
// where with what text, what systemctl is asked, and that a second install upgrades in place.
import {
  chmodSync,
  existsSync,
  lstatSync,
  readdirSync,
  symlinkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type Host,
  install,
  type InstallRequest,
  type SocketListen,
  socketDropInText,
  uninstall,
} from '../../src/install/install.ts';
import { OWNED_MARKER } from '../../src/install/files.ts';
import { stopDropInText } from '../../src/install/stop-timeout.ts';
import { SERVICE_UNIT, SOCKET_UNIT } from '../../src/install/units.ts';

interface Machine {
  readonly dir: string;
  readonly host: Host;
  readonly calls: string[];
  readonly said: string[];
  readonly source: string;
}

function machine(): Machine {
  const dir = mkdtempSync(join(tmpdir(), 'sd-install-'));
  const source = join(dir, 'dist-elb-proxy-echo');
  writeFileSync(source, `executable v1 ${OWNED_MARKER}`);
  chmodSync(source, 0o700);
  const calls: string[] = [];
  const said: string[] = [];
  const host: Host = {
    paths: {
      executable: join(dir, 'usr/local/bin/elb-proxy-echo'),
      unitDir: join(dir, 'etc/systemd/system'),
      envFile: join(dir, 'etc/default/elb-proxy-echo'),
    },
    systemctl: (args) => void calls.push(args.join(' ')),
    say: (line) => void said.push(line),
  };
  return { dir, host, calls, said, source };
}

function request(m: Machine, extra: Partial<InstallRequest> = {}): InstallRequest {
  return {
    source: m.source,
    variables: new Map(),
    activation: { socket: null },
    stop: null,
    ...extra,
  };
}

const read = (path: string) => readFileSync(path, 'utf8');
const listen = (port: number, host = '::', backlog = 4096): SocketListen => ({
  host,
  port,
  backlog,
});
let m: Machine;
const Install = suite('install');
Install.before.each(() => void (m = machine()));
Install.after.each(() => rmSync(m.dir, { recursive: true, force: true }));

Install(
  'copies the executable (mode 755), writes both units and the options, then enables and restarts the service',
  () => {
    install(request(m, { variables: new Map([['ELB_PROXY_ECHO_PORT', '5001']]) }), m.host);
    const { paths } = m.host;
    assert.is(read(paths.executable), `executable v1 ${OWNED_MARKER}`);
    assert.is(statSync(paths.executable).mode & 0o777, 0o755);
    assert.is(read(join(paths.unitDir, 'elb-proxy-echo.service')), SERVICE_UNIT);
    assert.is(read(join(paths.unitDir, 'elb-proxy-echo.socket')), SOCKET_UNIT);
    assert.match(read(paths.envFile), /^ELB_PROXY_ECHO_PORT=5001$/m);
    assert.equal(m.calls, [
      'daemon-reload',
      'disable --now elb-proxy-echo.socket',
      'enable elb-proxy-echo.service',
      'restart elb-proxy-echo.service',
    ]);
    assert.ok(m.said.includes('follow the log with: journalctl -u elb-proxy-echo -f'));
  },
);

Install(
  'a second install replaces the executable and keeps the options when none are given',
  () => {
    install(request(m, { variables: new Map([['ELB_PROXY_ECHO_PORT', '5001']]) }), m.host);
    writeFileSync(m.source, `executable v2 ${OWNED_MARKER}`);
    install(request(m), m.host);
    assert.is(read(m.host.paths.executable), `executable v2 ${OWNED_MARKER}`);
    assert.match(read(m.host.paths.envFile), /^ELB_PROXY_ECHO_PORT=5001$/m);
    assert.ok(m.said.some((line) => line.startsWith('kept ')));
    assert.equal(readdirSync(dirname(m.host.paths.executable)), ['elb-proxy-echo'], 'no temporary');
  },
);

Install('a second install with options replaces them', () => {
  install(request(m, { variables: new Map([['ELB_PROXY_ECHO_PORT', '5001']]) }), m.host);
  install(request(m, { variables: new Map([['ELB_PROXY_ECHO_PORT', '5002']]) }), m.host);
  assert.not.match(read(m.host.paths.envFile), /5001/);
  assert.match(read(m.host.paths.envFile), /^ELB_PROXY_ECHO_PORT=5002$/m);
});

Install(
  'a failed copy leaves neither a temporary file nor a unit behind, and asks systemctl nothing',
  () => {
    // The copy fails after the temporary file is made: the source cannot be read (a directory).
    assert.throws(() => install(request(m, { source: m.dir }), m.host), /EISDIR/);
    assert.equal(readdirSync(dirname(m.host.paths.executable)), [], 'no partial executable');
    assert.not.ok(existsSync(join(m.host.paths.unitDir, 'elb-proxy-echo.service')));
    assert.equal(m.calls, []);
  },
);

Install('installing the installed executable again keeps it', () => {
  install(request(m), m.host);
  install(request(m, { source: m.host.paths.executable }), m.host);
  assert.is(read(m.host.paths.executable), `executable v1 ${OWNED_MARKER}`);
});

Install(
  '--socket puts the port into a drop-in of the socket unit and enables the socket, not the service',
  () => {
    install(request(m, { activation: { socket: listen(8080) } }), m.host);
    const dropIn = join(m.host.paths.unitDir, 'elb-proxy-echo.socket.d/port.conf');
    assert.is(read(dropIn), socketDropInText(listen(8080)));
    assert.match(read(dropIn), /^ListenStream=8080\nBacklog=4096\n$/m);
    assert.equal(m.calls, [
      'daemon-reload',
      'disable --now elb-proxy-echo.service',
      'enable elb-proxy-echo.socket',
      'restart elb-proxy-echo.socket',
    ]);
    install(request(m), m.host);
    assert.not.ok(existsSync(dropIn), 'going back to the plain service drops the socket port');
  },
);

Install('an install without arguments keeps socket activation and its port', () => {
  install(request(m, { activation: { socket: listen(8080) } }), m.host);
  m.calls.length = 0;
  install(request(m, { activation: null }), m.host);
  assert.is(
    read(join(m.host.paths.unitDir, 'elb-proxy-echo.socket.d/port.conf')),
    socketDropInText(listen(8080)),
  );
  assert.equal(m.calls, [
    'daemon-reload',
    'disable --now elb-proxy-echo.service',
    'enable elb-proxy-echo.socket',
    'restart elb-proxy-echo.socket',
  ]);
});

Install('an install without arguments keeps the plain service', () => {
  install(request(m), m.host);
  m.calls.length = 0;
  install(request(m, { activation: null }), m.host);
  assert.equal(m.calls, [
    'daemon-reload',
    'disable --now elb-proxy-echo.socket',
    'enable elb-proxy-echo.service',
    'restart elb-proxy-echo.service',
  ]);
});

Install(
  "the service's stop timeout goes in its drop-in; an install without arguments keeps it",
  () => {
    const stopFile = join(m.host.paths.unitDir, 'elb-proxy-echo.service.d/stop.conf');
    const times = { drainDelayMs: 120_000, drainTimeoutMs: 30_000 };
    install(request(m, { stop: times }), m.host);
    assert.is(read(stopFile), stopDropInText(times));
    assert.match(read(stopFile), /^TimeoutStopSec=165s$/m);
    install(request(m, { activation: null, stop: null }), m.host);
    assert.is(read(stopFile), stopDropInText(times), 'an upgrade keeps it');
    assert.is(read(join(m.host.paths.unitDir, 'elb-proxy-echo.service')), SERVICE_UNIT);
  },
);

Install('uninstall stops, disables and removes everything install wrote', () => {
  install(
    request(m, {
      activation: { socket: listen(8080) },
      variables: new Map([['ELB_PROXY_ECHO_PORT', '8080']]),
      stop: { drainDelayMs: 0, drainTimeoutMs: 10_000 },
    }),
    m.host,
  );
  m.calls.length = 0;
  uninstall(m.host);
  assert.equal(m.calls, [
    'disable --now elb-proxy-echo.socket elb-proxy-echo.service',
    'daemon-reload',
  ]);
  const { paths } = m.host;
  for (const path of [
    paths.executable,
    paths.envFile,
    join(paths.unitDir, 'elb-proxy-echo.service'),
    join(paths.unitDir, 'elb-proxy-echo.socket'),
    join(paths.unitDir, 'elb-proxy-echo.socket.d'),
    join(paths.unitDir, 'elb-proxy-echo.service.d'),
  ]) {
    assert.not.ok(existsSync(path), `${path} removed`);
  }
  assert.ok(existsSync(m.source), 'the source executable is untouched');
});

Install("an administrator's own drop-in of the socket unit survives install and uninstall", () => {
  const dropIn = join(m.host.paths.unitDir, 'elb-proxy-echo.socket.d');
  mkdirSync(dropIn, { recursive: true });
  writeFileSync(join(dropIn, 'override.conf'), '[Socket]\nBacklog=8192\n');
  install(request(m, { activation: { socket: listen(8080) } }), m.host);
  install(request(m, { activation: { socket: listen(8081) } }), m.host);
  assert.is(read(join(dropIn, 'port.conf')), socketDropInText(listen(8081)));
  install(request(m), m.host);
  assert.not.ok(existsSync(join(dropIn, 'port.conf')), 'the plain service drops our port file');
  uninstall(m.host);
  assert.is(read(join(dropIn, 'override.conf')), '[Socket]\nBacklog=8192\n', 'not ours to remove');
});

Install('uninstall on a machine without the service only reloads systemd', () => {
  uninstall(m.host);
  assert.equal(m.calls, ['daemon-reload']);
});

const Hostile = suite('install and uninstall against planted files');
Hostile.before.each(() => void (m = machine()));
Hostile.after.each(() => rmSync(m.dir, { recursive: true, force: true }));

/** A file outside the install paths that links planted at them point to. */
function victim(name: string): string {
  const path = join(m.dir, name);
  writeFileSync(path, 'precious\n');
  chmodSync(path, 0o600);
  return path;
}

const targets = () => {
  const { paths } = m.host;
  return [
    paths.executable,
    `${paths.executable}.new`,
    join(paths.unitDir, 'elb-proxy-echo.service'),
    join(paths.unitDir, 'elb-proxy-echo.socket'),
    join(paths.unitDir, 'elb-proxy-echo.socket.d/port.conf'),
    paths.envFile,
  ];
};

Hostile('links planted at every path install writes are replaced, never written through', () => {
  const victims: string[] = [];
  targets().forEach((path, i) => {
    mkdirSync(dirname(path), { recursive: true });
    victims.push(victim(`victim-${i}`));
    symlinkSync(victims[i], path);
  });
  install(
    request(m, {
      activation: { socket: listen(8080) },
      variables: new Map([['ELB_PROXY_ECHO_PORT', '8080']]),
    }),
    m.host,
  );
  for (const path of victims) {
    assert.is(read(path), 'precious\n', `${path} untouched`);
    assert.is(statSync(path).mode & 0o777, 0o600, `${path} keeps its mode`);
  }
  const [executable, temporary, ...texts] = targets();
  assert.ok(lstatSync(executable).isFile());
  assert.is(read(executable), `executable v1 ${OWNED_MARKER}`);
  for (const path of texts) assert.ok(lstatSync(path).isFile(), `${path} is a file of ours now`);
  // A link at the old temporary name is nobody's business now: left as it was.
  assert.ok(lstatSync(temporary).isSymbolicLink());
});

Hostile('files with loose modes are replaced with the modes install sets', () => {
  install(request(m, { variables: new Map([['ELB_PROXY_ECHO_PORT', '5001']]) }), m.host);
  const { paths } = m.host;
  const service = join(paths.unitDir, 'elb-proxy-echo.service');
  for (const path of [paths.envFile, service, paths.executable]) chmodSync(path, 0o666);
  const umask = process.umask(0);
  try {
    writeFileSync(m.source, `executable v2 ${OWNED_MARKER}`);
    install(request(m, { variables: new Map([['ELB_PROXY_ECHO_PORT', '5002']]) }), m.host);
  } finally {
    process.umask(umask);
  }
  assert.is(statSync(paths.envFile).mode & 0o777, 0o644);
  assert.is(statSync(service).mode & 0o777, 0o644);
  assert.is(statSync(paths.executable).mode & 0o777, 0o755);
});

Hostile('a directory at the executable path: install refuses before any unit or systemctl', () => {
  mkdirSync(m.host.paths.executable, { recursive: true });
  assert.throws(
    () => install(request(m), m.host),
    /elb-proxy-echo is a directory; not replacing it/,
  );
  assert.equal(readdirSync(dirname(m.host.paths.executable)), ['elb-proxy-echo']);
  assert.not.ok(existsSync(join(m.host.paths.unitDir, 'elb-proxy-echo.service')));
  assert.equal(m.calls, []);
});

Hostile('uninstall removes only what carries our marker and says what it left', () => {
  install(request(m, { variables: new Map([['ELB_PROXY_ECHO_PORT', '5001']]) }), m.host);
  const { paths } = m.host;
  writeFileSync(paths.executable, "someone else's program");
  writeFileSync(paths.envFile, 'ELB_PROXY_ECHO_PORT=1\n');
  uninstall(m.host);
  assert.is(read(paths.executable), "someone else's program");
  assert.is(read(paths.envFile), 'ELB_PROXY_ECHO_PORT=1\n');
  assert.not.ok(existsSync(join(paths.unitDir, 'elb-proxy-echo.service')), 'our unit removed');
  assert.ok(
    m.said.includes(`left ${paths.executable}: not installed by elb-proxy-echo (no marker)`),
  );
  assert.equal(m.calls.slice(-2), [
    'disable --now elb-proxy-echo.socket elb-proxy-echo.service',
    'daemon-reload',
  ]);
});

Hostile('a foreign unit of the same name is neither disabled nor removed', () => {
  const unit = join(m.host.paths.unitDir, 'elb-proxy-echo.service');
  mkdirSync(dirname(unit), { recursive: true });
  writeFileSync(unit, '[Service]\nExecStart=/bin/true\n');
  uninstall(m.host);
  assert.is(read(unit), '[Service]\nExecStart=/bin/true\n');
  assert.equal(m.calls, ['daemon-reload']);
});

Hostile('a directory or a dangling link at the executable path: left, and the rest goes on', () => {
  for (const plant of ['directory', 'dangling link']) {
    install(request(m), m.host);
    const { paths } = m.host;
    rmSync(paths.executable);
    if (plant === 'directory') mkdirSync(paths.executable);
    else symlinkSync(join(m.dir, 'nowhere'), paths.executable);
    m.calls.length = 0;
    uninstall(m.host);
    assert.ok(lstatSync(paths.executable), `the ${plant} is still there`);
    assert.ok(
      m.said.some((line) => line.startsWith(`left ${paths.executable}: `)),
      plant,
    );
    assert.not.ok(existsSync(join(paths.unitDir, 'elb-proxy-echo.socket')), plant);
    assert.is(m.calls.at(-1), 'daemon-reload', plant);
    rmSync(paths.executable, { recursive: true });
  }
});

Hostile(
  'a systemctl that fails does not stop the removal; daemon-reload still runs, then the error',
  () => {
    install(request(m), m.host);
    const { paths } = m.host;
    const calls: string[] = [];
    const failing: Host = {
      ...m.host,
      systemctl(args) {
        calls.push(args.join(' '));
        if (args[0] === 'disable') throw new Error('Failed to disable unit');
      },
    };
    assert.throws(
      () => uninstall(failing),
      /uninstall left work undone: disable .*Failed to disable unit/,
    );
    assert.not.ok(existsSync(paths.executable));
    assert.not.ok(existsSync(join(paths.unitDir, 'elb-proxy-echo.service')));
    assert.is(calls.at(-1), 'daemon-reload');
  },
);

Hostile.run();

Install.run();
