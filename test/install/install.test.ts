// install/uninstall against a temporary directory and a recorded systemctl: which files land
// where with what text, what systemctl is asked, and that a second install upgrades in place.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type Host, install, type InstallRequest, uninstall } from '../../src/install/install.ts';
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
  writeFileSync(source, 'executable v1');
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
    activation: { socket: false, port: 5000 },
    ...extra,
  };
}

const read = (path: string) => readFileSync(path, 'utf8');
let m: Machine;
const Install = suite('install');
Install.before.each(() => void (m = machine()));
Install.after.each(() => rmSync(m.dir, { recursive: true, force: true }));

Install(
  'copies the executable (mode 755), writes both units and the options, then enables and restarts the service',
  () => {
    install(request(m, { variables: new Map([['ELB_PROXY_ECHO_PORT', '5001']]) }), m.host);
    const { paths } = m.host;
    assert.is(read(paths.executable), 'executable v1');
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
    writeFileSync(m.source, 'executable v2');
    install(request(m), m.host);
    assert.is(read(m.host.paths.executable), 'executable v2');
    assert.match(read(m.host.paths.envFile), /^ELB_PROXY_ECHO_PORT=5001$/m);
    assert.ok(m.said.some((line) => line.startsWith('kept ')));
    assert.not.ok(existsSync(`${m.host.paths.executable}.new`), 'no temporary file left behind');
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
    // The target path is taken by a non-empty directory: the rename over it fails.
    mkdirSync(join(m.host.paths.executable, 'in-the-way'), { recursive: true });
    assert.throws(() => install(request(m), m.host));
    assert.not.ok(
      existsSync(`${m.host.paths.executable}.new`),
      'no partial executable left behind',
    );
    assert.not.ok(existsSync(join(m.host.paths.unitDir, 'elb-proxy-echo.service')));
    assert.equal(m.calls, []);
  },
);

Install('installing the installed executable again keeps it', () => {
  install(request(m), m.host);
  install(request(m, { source: m.host.paths.executable }), m.host);
  assert.is(read(m.host.paths.executable), 'executable v1');
});

Install(
  '--socket puts the port into a drop-in of the socket unit and enables the socket, not the service',
  () => {
    install(request(m, { activation: { socket: true, port: 8080 } }), m.host);
    const dropIn = join(m.host.paths.unitDir, 'elb-proxy-echo.socket.d/port.conf');
    assert.is(read(dropIn), '[Socket]\nListenStream=\nListenStream=8080\n');
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
  install(request(m, { activation: { socket: true, port: 8080 } }), m.host);
  m.calls.length = 0;
  install(request(m, { activation: null }), m.host);
  assert.is(
    read(join(m.host.paths.unitDir, 'elb-proxy-echo.socket.d/port.conf')),
    '[Socket]\nListenStream=\nListenStream=8080\n',
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

Install('uninstall stops, disables and removes everything install wrote', () => {
  install(
    request(m, {
      activation: { socket: true, port: 8080 },
      variables: new Map([['ELB_PROXY_ECHO_PORT', '8080']]),
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
  ]) {
    assert.not.ok(existsSync(path), `${path} removed`);
  }
  assert.ok(existsSync(m.source), 'the source executable is untouched');
});

Install("an administrator's own drop-in of the socket unit survives install and uninstall", () => {
  const dropIn = join(m.host.paths.unitDir, 'elb-proxy-echo.socket.d');
  mkdirSync(dropIn, { recursive: true });
  writeFileSync(join(dropIn, 'override.conf'), '[Socket]\nBacklog=8192\n');
  install(request(m, { activation: { socket: true, port: 8080 } }), m.host);
  install(request(m, { activation: { socket: true, port: 8081 } }), m.host);
  assert.is(read(join(dropIn, 'port.conf')), '[Socket]\nListenStream=\nListenStream=8081\n');
  install(request(m), m.host);
  assert.not.ok(existsSync(join(dropIn, 'port.conf')), 'the plain service drops our port file');
  uninstall(m.host);
  assert.is(read(join(dropIn, 'override.conf')), '[Socket]\nBacklog=8192\n', 'not ours to remove');
});

Install('uninstall on a machine without the service asks systemctl nothing', () => {
  uninstall(m.host);
  assert.equal(m.calls, []);
});

Install.run();
