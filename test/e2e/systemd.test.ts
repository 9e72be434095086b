// The built x64 executable under a real systemd (a Debian container, see container.ts): the
// docs/systemd.md's install steps, PROXY v1/v2 connections from outside, the journal, the hardening
// score, restart after SIGKILL, draining stop (with a drain delay and its stop timeout), the
// health switch, --workers, install/uninstall, socket activation.
// Needs root (namespaces, nspawn); without it every case is reported as skipped.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Container, sleep } from './container.ts';
import { TestClient } from '../helpers/socket.ts';
import {
  assertEchoes,
  assertProxyEcho,
  CLAIMED_CLIENT,
  openProxyConnection,
  proxyHeader,
} from './proxy-echo.ts';

const EXE = fileURLToPath(new URL('../../dist/elb-proxy-echo-linux-x64', import.meta.url));
const SERVICE_FILE = fileURLToPath(
  new URL('../../systemd/elb-proxy-echo.service', import.meta.url),
);
const GUIDE = fileURLToPath(new URL('../../docs/systemd.md', import.meta.url));
const USER_DATA = fileURLToPath(new URL('../../deploy/user-data.sh', import.meta.url));
const UNIT = 'elb-proxy-echo';
const DRAIN_SECONDS = 2;

const isRoot = process.getuid?.() === 0;
const systemd = suite('systemd');
const it = isRoot ? systemd : systemd.skip;
if (!isRoot)
  console.log('systemd suite SKIPPED: it boots a container and needs root (CI runs it as root)');

let box: Container;
let bootError: unknown = null;

// uvu drops an error thrown by a `before` hook and reports the cases as neither passed nor
// failed; so a boot failure is kept and fails every case instead.
systemd.before(async () => {
  if (!isRoot) return;
  try {
    assert.ok(existsSync(EXE), `${EXE} is missing (npm run build)`);
    box = await Container.boot((line) => console.log(`  ${line}`));
  } catch (error) {
    bootError = error;
  }
});

systemd.before.each(() => {
  if (bootError !== null) throw bootError;
});

systemd.after(async () => {
  await box?.stop();
});

/** The shell block of docs/systemd.md's deploy section that installs the unit by hand. */
function guideSteps(): string {
  const guide = readFileSync(GUIDE, 'utf8');
  const section =
    /<!-- section:deploy -->([\s\S]*?)<!-- \/section:deploy -->/.exec(guide)?.[1] ?? '';
  const block = [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((m) => m[1])
    .find((b) => b.includes('systemctl enable --now'));
  assert.ok(block, 'docs/systemd.md section:deploy has a sh block with `systemctl enable --now`');
  return block;
}

function show(property: string, unit = UNIT): string {
  return box.check(['systemctl', 'show', '--value', '-p', property, unit]).trim();
}

function journal(): string {
  return box.exec(['journalctl', '-u', UNIT, '-o', 'cat', '--no-pager']).stdout;
}

async function eventually(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(100);
  }
}

/** Active now and still active a second later with the same main process (Type=exec says "active" at exec time). */
async function assertStaysActive(unit = UNIT): Promise<void> {
  await eventually(`${unit} active`, () => show('ActiveState', unit) === 'active');
  const pid = show('MainPID', unit);
  await sleep(1000);
  assert.is(show('ActiveState', unit), 'active', `${unit} still active; journal:\n${journal()}`);
  assert.is(show('MainPID', unit), pid, 'the same process, not a restart');
}

// Minimal Debian has no ps: the workers are the processes whose parent is the main one.
function workers(): number {
  const children = box.exec([
    'sh',
    '-c',
    `grep -l '^PPid:[[:space:]]*${show('MainPID')}$' /proc/[0-9]*/status`,
  ]).stdout;
  return children.split('\n').filter(Boolean).length;
}

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

function setOptions(lines: readonly string[]): void {
  box.writeFile('/etc/default/elb-proxy-echo', `${lines.join('\n')}\n`);
  // The suite restarts more often than systemd's start limit (5 in 10 s) allows a real service.
  box.check(['systemctl', 'reset-failed', UNIT]);
  box.check(['systemctl', 'restart', UNIT]);
}

function exposure(unit: string): number {
  const r = box.exec(['systemd-analyze', 'security', '--no-pager', unit]);
  const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(r.stdout + r.stderr);
  assert.ok(m, `no score: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

it("docs/systemd.md's steps install the unit, and the service starts and stays active", async () => {
  box.copyIn(EXE, '/root/elb-proxy-echo-linux-x64', 0o755);
  box.copyIn(SERVICE_FILE, '/root/elb-proxy-echo.service', 0o644);
  // As root there is no sudo in a minimal image; the function stands in for it.
  box.check(['sh', '-ec', `sudo() { "$@"; }\ncd /root\n${guideSteps()}`]);
  assert.is(show('UnitFileState'), 'enabled');
  await assertStaysActive();
});

it('a PROXY v1 and a v2 connection from outside the container are echoed', async () => {
  await assertProxyEcho(box.address, 5000, 1);
  await assertProxyEcho(box.address, 5000, 2);
});

it('the journal shows the real client address while the connection is still open', async () => {
  const client = await openProxyConnection(box.address, 5000, 2, {
    address: '203.0.113.99',
    port: 45099,
  });
  try {
    // As docs/deploy-aws.md shows it: `open client=ADDRESS:PORT via=… header=v2`.
    await eventually(
      'client=203.0.113.99:45099 in the journal',
      () => /\bopen client=203\.0\.113\.99:45099 .*header=v2\b/.test(journal()),
      2000,
    );
  } finally {
    client.destroy();
  }
  const log = journal();
  assert.ok(
    log.includes(CLAIMED_CLIENT.v1.address) && log.includes(CLAIMED_CLIENT.v2.address),
    `journal:\n${log}`,
  );
});

it('journalctl -p warning shows the rejects and not the opens; lines carry no time of their own', async () => {
  // Not a PROXY header: the server rejects it with a warning.
  const socket = net.connect({ host: box.address, port: 5000 });
  socket.on('error', () => {});
  socket.resume(); // read the server's explanation, so its close comes through
  socket.write('hello\r\n');
  await new Promise((resolve) => socket.once('close', resolve));
  const warnings = () =>
    box.exec(['journalctl', '-u', UNIT, '-p', 'warning', '-o', 'cat', '--no-pager']).stdout;
  await eventually('a reject in journalctl -p warning', () => /^warn {2}reject /m.test(warnings()));
  assert.not.match(warnings(), /\bopen client=/);
  const all = journal();
  assert.match(all, /^info {2}open client=/m);
  // journald read the <N> prefix (it is not in the message) and stamps the time itself.
  assert.not.match(all, /^<\d>/m);
  assert.not.match(all, /^\d{4}-\d\d-\d\dT/m);
});

/** The entries the service wrote on its stdout, as journald stored them. */
function stdoutEntries(): Array<{ priority: number; message: string }> {
  const out = box.check([
    'journalctl',
    `_SYSTEMD_UNIT=${UNIT}.service`,
    '_TRANSPORT=stdout',
    '-o',
    'json',
    '--output-fields=PRIORITY,MESSAGE',
    '--all', // long fields too (journalctl shows them as null otherwise)
    '--no-pager',
  ]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const { PRIORITY, MESSAGE } = JSON.parse(line);
      // A message that is not valid UTF-8 or has control bytes comes as an array of bytes.
      const message = typeof MESSAGE === 'string' ? MESSAGE : Buffer.from(MESSAGE).toString();
      return { priority: Number(PRIORITY), message };
    });
}

// journald cuts a line at LineMax (48 KiB) and reads a `<N>` priority again at the start of the
// piece after the cut. Each control byte escapes to six characters, so this line once made a
// text data line longer than that, cut just before `<0>` (with this client address): an entry
// of priority 0 with the text the client chose.
const FORGED = `${'\u0001'.repeat(8184)}AAA<0>EMERGENCY forged by a client`;

it('at debug, a client line of control bytes with a forged `<0>` is one entry, cut, at debug priority (text and JSON)', async () => {
  for (const [format, port] of [
    ['text', 46001],
    ['json', 46002],
  ] as const) {
    setOptions([
      'ELB_PROXY_ECHO_PORT=5000',
      'ELB_PROXY_ECHO_LOG_LEVEL=debug',
      `ELB_PROXY_ECHO_LOG_FORMAT=${format}`,
    ]);
    await assertStaysActive();
    const client = await openProxyConnection(box.address, 5000, 1, {
      address: '203.0.113.7',
      port,
    });
    try {
      client.write(`${FORGED}\r\nq\r\n`);
      await client.waitClose();
    } finally {
      client.destroy();
    }
    const who = `203.0.113.7:${port}`;
    const data = () =>
      stdoutEntries().filter((e) => e.message.includes(who) && e.message.includes('data'));
    await eventually(`the data line of ${who}`, () => data().length >= 2);
    await eventually(`the close line of ${who}`, () =>
      stdoutEntries().some((e) => e.message.includes(who) && e.message.includes('close')),
    );
    const shown = `${'\\u0001'.repeat(167)}...(+8051 chars)`;
    const line = data().filter((e) => e.message.includes('\\u0001'));
    assert.is(line.length, 1, `one entry for the line:\n${line.map((e) => e.message).join('\n')}`);
    assert.is(line[0].priority, 7);
    if (format === 'text') assert.is(line[0].message, `debug data client=${who} line="${shown}"`);
    else assert.ok(line[0].message.endsWith(`"client":"${who}","line":"${shown}"}`));
  }
  const entries = stdoutEntries();
  const worst = Math.min(...entries.map((e) => e.priority));
  assert.ok(worst >= 3, `an entry of priority ${worst}`);
  for (const e of entries) {
    assert.not.ok(/EMERGENCY|^AAA|^<\d/.test(e.message), `forged entry: ${e.message}`);
    assert.ok(Buffer.byteLength(e.message) <= 4096, `${Buffer.byteLength(e.message)} bytes`);
  }
  setOptions(['ELB_PROXY_ECHO_PORT=5000']);
  await assertStaysActive();
});

it('systemd-analyze security rates the running service 1.2 or lower ("OK")', () => {
  const score = exposure(UNIT);
  assert.ok(score <= 1.2, `exposure ${score}`);
});

it('SIGKILL of the server gets it restarted, and it serves again', async () => {
  const pid = show('MainPID');
  const restarts = Number(show('NRestarts'));
  box.check(['sh', '-c', `kill -KILL ${pid}`]);
  await eventually(
    'a new main process',
    () => !['0', pid].includes(show('MainPID')) && show('ActiveState') === 'active',
    6000,
  );
  assert.is(Number(show('NRestarts')), restarts + 1);
  await assertStaysActive();
  await assertProxyEcho(box.address, 5000, 1);
});

it('SIGHUP (a closed terminal, a reload habit) neither stops nor restarts it', async () => {
  const pid = show('MainPID');
  const client = await openProxyConnection(box.address, 5000, 1);
  try {
    box.check(['sh', '-c', `kill -HUP ${pid}`]);
    await assertEchoes(client, 'after SIGHUP\r\n');
  } finally {
    client.destroy();
  }
  await assertStaysActive();
  assert.is(show('MainPID'), pid);
});

it(`systemctl stop drains: open connections are served, new ones refused, and it stops within the drain timeout (${DRAIN_SECONDS}s)`, async () => {
  setOptions(['ELB_PROXY_ECHO_PORT=5000', `ELB_PROXY_ECHO_DRAIN_TIMEOUT=${DRAIN_SECONDS}s`]);
  await assertStaysActive();
  const idle = await openProxyConnection(box.address, 5000, 1);
  const busy = await openProxyConnection(box.address, 5000, 2);
  try {
    const started = Date.now();
    const stop = box.spawn(['systemctl', 'stop', UNIT]);
    const stopped = new Promise<number | null>((resolve) => stop.once('exit', resolve));
    await eventually('deactivating', () => show('ActiveState') === 'deactivating', 2000);
    assert.ok(await refused(box.address, 5000), 'a new connection is refused while draining');
    await assertEchoes(busy, 'still here while draining\r\n');
    busy.write('q\r\n');
    await busy.waitClose();
    // The idle connection is closed by the server when the drain timeout ends.
    await idle.waitClose((DRAIN_SECONDS + 3) * 1000);
    const code = await Promise.race([
      stopped,
      sleep((DRAIN_SECONDS + 5) * 1000).then(() => 'timeout'),
    ]);
    const elapsed = (Date.now() - started) / 1000;
    if (code === 'timeout') stop.kill('SIGKILL');
    assert.is(code, 0, 'systemctl stop returned');
    assert.ok(elapsed < DRAIN_SECONDS + 1.5, `stopped after ${elapsed.toFixed(1)} s`);
    assert.ok(
      elapsed >= DRAIN_SECONDS - 0.5,
      `the idle connection was given the drain time (${elapsed.toFixed(1)} s)`,
    );
    assert.is(
      show('Result'),
      'success',
      'the server exited by itself, not killed at TimeoutStopSec',
    );
  } finally {
    idle.destroy();
    busy.destroy();
  }
  box.check(['systemctl', 'start', UNIT]);
  await assertStaysActive();
});

it('--workers auto works under the unit (the cluster channel passes the sandbox)', async () => {
  setOptions(['ELB_PROXY_ECHO_PORT=5000', 'ELB_PROXY_ECHO_WORKERS=auto']);
  await assertStaysActive();
  await eventually('at least two workers under the primary', () => workers() >= 2);
  for (let i = 0; i < 4; i++) await assertProxyEcho(box.address, 5000, i % 2 === 0 ? 1 : 2);
  await assertStaysActive();
  setOptions(['ELB_PROXY_ECHO_PORT=5000']);
});

it('install (and install again: an upgrade) and uninstall, as a user runs them', async () => {
  const out = box.check(['/root/elb-proxy-echo-linux-x64', 'install', '--port', '5002']);
  assert.match(out, /journalctl -u elb-proxy-echo -f/);
  assert.is(
    box.check(['cat', '/etc/systemd/system/elb-proxy-echo.service']),
    readFileSync(SERVICE_FILE, 'utf8'),
    'the executable carries the unit of systemd/',
  );
  await assertStaysActive();
  assert.match(box.check(['cat', '/etc/default/elb-proxy-echo']), /^ELB_PROXY_ECHO_PORT=5002$/m);
  await assertProxyEcho(box.address, 5002, 1);
  assert.ok(await refused(box.address, 5000), 'the old port is closed');

  const before = show('MainPID');
  box.check(['/usr/local/bin/elb-proxy-echo', 'install']);
  await assertStaysActive();
  assert.is.not(show('MainPID'), before, 'restarted by the upgrade');
  assert.match(
    box.check(['cat', '/etc/default/elb-proxy-echo']),
    /^ELB_PROXY_ECHO_PORT=5002$/m,
    'options kept',
  );
  await assertProxyEcho(box.address, 5002, 2);

  box.check(['/usr/local/bin/elb-proxy-echo', 'uninstall']);
  assert.is(show('LoadState'), 'not-found');
  for (const path of [
    '/usr/local/bin/elb-proxy-echo',
    '/etc/systemd/system/elb-proxy-echo.service',
    '/etc/default/elb-proxy-echo',
  ]) {
    assert.not.ok(box.exists(path), `${path} removed`);
  }
  assert.ok(await refused(box.address, 5002), 'nothing listens any more');
});

it('install sets TimeoutStopSec over --drain-delay + --drain-timeout; stop with a delay fails health checks while serving, then drains; the health switch', async () => {
  box.check([
    '/root/elb-proxy-echo-linux-x64',
    'install',
    '--port',
    '5004',
    '--drain-delay',
    '3s',
    '--drain-timeout',
    '100s',
  ]);
  // 3 + 100 + a 15 s margin. (A long delay here would hold the next install's restart for it.)
  assert.is(show('TimeoutStopUSec'), '1min 58s');
  const delay = 3;
  box.check([
    '/usr/local/bin/elb-proxy-echo',
    'install',
    '--port',
    '5004',
    '--metrics-port',
    '9100',
    '--drain-delay',
    `${delay}s`,
    '--drain-timeout',
    `${DRAIN_SECONDS}s`,
  ]);
  assert.is(show('TimeoutStopUSec'), '1min 30s', "never below the unit's own");
  await assertStaysActive();
  const httpStatus = async () => {
    const http = await TestClient.connect(5004, box.address);
    http.write(Buffer.concat([proxyHeader(2, 5004), Buffer.from('GET /health HTTP/1.0\r\n\r\n')]));
    return (await http.waitClose()).toString('latin1').split(' ')[1];
  };
  const health = (action: string) => {
    const r = box.exec([
      '/usr/local/bin/elb-proxy-echo',
      'health',
      action,
      '--metrics-port',
      '9100',
    ]);
    return [r.status, r.stdout];
  };

  // The switch, from a shell on the machine.
  assert.is(await httpStatus(), '200');
  assert.equal(health('fail'), [0, 'failing\n']);
  assert.is(await httpStatus(), '503');
  await assertProxyEcho(box.address, 5004, 1);
  assert.equal(health('status'), [1, 'failing\n']);
  assert.equal(health('ok'), [0, 'ok\n']);
  assert.is(await httpStatus(), '200');
  assert.match(journal(), /health: failing was=ok by=127\.0\.0\.1:\d+/);

  // The stop: health checks fail for the delay while clients are still served, then the drain.
  const started = Date.now();
  const stop = box.spawn(['systemctl', 'stop', UNIT]);
  const stopped = new Promise<number | null>((resolve) => stop.once('exit', resolve));
  await eventually('deactivating', () => show('ActiveState') === 'deactivating', 2000);
  assert.is(await httpStatus(), '503');
  await assertProxyEcho(box.address, 5004, 2);
  assert.ok((Date.now() - started) / 1000 < delay, 'served within the delay');
  const code = await Promise.race([
    stopped,
    sleep((delay + DRAIN_SECONDS + 5) * 1000).then(() => 'timeout'),
  ]);
  const elapsed = (Date.now() - started) / 1000;
  if (code === 'timeout') stop.kill('SIGKILL');
  assert.is(code, 0, 'systemctl stop returned');
  assert.ok(elapsed >= delay - 0.5, `the delay ran (${elapsed.toFixed(1)} s)`);
  assert.ok(elapsed < delay + DRAIN_SECONDS + 1.5, `stopped after ${elapsed.toFixed(1)} s`);
  assert.is(show('Result'), 'success', 'it exited by itself, not killed at TimeoutStopSec');
  assert.match(journal(), /SIGTERM: failing health checks before draining delay=3s/);

  box.check(['/usr/local/bin/elb-proxy-echo', 'uninstall']);
  assert.not.ok(box.exists('/etc/systemd/system/elb-proxy-echo.service.d'), 'the drop-in is gone');
});

it('install --greeting: the service greets a telnet client and answers HTTP on the same port', async () => {
  box.check(['/root/elb-proxy-echo-linux-x64', 'install', '--port', '5003', '--greeting']);
  await assertStaysActive();
  assert.match(
    box.check(['cat', '/etc/default/elb-proxy-echo']),
    /^ELB_PROXY_ECHO_GREETING=true$/m,
  );
  const telnet = await TestClient.connect(5003, box.address);
  try {
    telnet.write(Buffer.concat([proxyHeader(1, 5003), Buffer.from('hi\r\n')]));
    assert.match(
      await telnet.readUntil(/hi\r\n$/),
      /^elb-proxy-echo on .+: you are 203\.0\.113\.7:40001 \(PROXY v1 from .+\r\nhi\r\n$/,
    );
  } finally {
    telnet.destroy();
  }
  const http = await TestClient.connect(5003, box.address);
  http.write(Buffer.concat([proxyHeader(2, 5003), Buffer.from('GET /health HTTP/1.0\r\n\r\n')]));
  const answer = (await http.waitClose()).toString('latin1');
  assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(answer, /\nclient: +203\.0\.113\.8:40002\n/);
  box.check(['/usr/local/bin/elb-proxy-echo', 'uninstall']);
});

it('socket activation: systemd listens on port 80, the unprivileged service (2 workers) starts on the first connection, also with PrivateNetwork=yes', async () => {
  box.check([
    '/root/elb-proxy-echo-linux-x64',
    'install',
    '--socket',
    '--port',
    '80',
    '--workers',
    '2',
  ]);
  assert.is(show('ActiveState', `${UNIT}.socket`), 'active');
  assert.is(show('ActiveState'), 'inactive', 'nothing runs before the first connection');
  await assertProxyEcho(box.address, 80, 1);
  await assertStaysActive();
  assert.is(workers(), 2, 'the workers share the socket systemd passed');
  for (let i = 0; i < 4; i++) await assertProxyEcho(box.address, 80, i % 2 === 0 ? 1 : 2);

  // With the listening socket from systemd the service needs no network of its own.
  box.check(['mkdir', '-p', '/etc/systemd/system/elb-proxy-echo.service.d']);
  box.writeFile(
    '/etc/systemd/system/elb-proxy-echo.service.d/private-network.conf',
    '[Service]\nPrivateNetwork=yes\n',
  );
  box.check(['systemctl', 'daemon-reload']);
  box.check(['systemctl', 'stop', UNIT]);
  await assertProxyEcho(box.address, 80, 2);
  await assertStaysActive();
  assert.ok(exposure(UNIT) < 1.1, 'PrivateNetwork lowers the exposure further');

  box.check(['rm', '-r', '/etc/systemd/system/elb-proxy-echo.service.d']);
  // An upgrade (install without arguments) keeps socket activation on port 80.
  box.check(['/usr/local/bin/elb-proxy-echo', 'install']);
  assert.is(show('ActiveState', `${UNIT}.socket`), 'active');
  await assertProxyEcho(box.address, 80, 1);
  box.check(['/usr/local/bin/elb-proxy-echo', 'uninstall']);
  assert.is(show('LoadState', `${UNIT}.socket`), 'not-found');
  assert.ok(await refused(box.address, 80), 'port 80 is closed again');
});

it('install --socket --host 127.0.0.1: systemd listens there only, with the --backlog given', async () => {
  box.check([
    '/root/elb-proxy-echo-linux-x64',
    'install',
    '--socket',
    '--host',
    '127.0.0.1',
    '--port',
    '81',
    '--backlog',
    '511',
  ]);
  assert.is(show('Listen', `${UNIT}.socket`), '127.0.0.1:81 (Stream)');
  assert.is(show('Backlog', `${UNIT}.socket`), '511');
  // The kernel's own list: one listener on port 81 (0x0051), on 127.0.0.1, and none on IPv6.
  const listeners = (file: string) =>
    box
      .check(['cat', file])
      .split('\n')
      .filter((row) => / [0-9A-F]+:0051 [0-9A-F]+:0000 0A /.test(row))
      .map((row) => row.trim().split(/\s+/)[1]);
  assert.equal(listeners('/proc/net/tcp'), ['0100007F:0051']);
  assert.equal(listeners('/proc/net/tcp6'), []);
  assert.ok(await refused(box.address, 81), 'not on the container address');
  // From inside, on loopback, the activated service echoes.
  const echoed = box.check([
    'bash',
    '-c',
    "exec 3<>/dev/tcp/127.0.0.1/81; printf 'PROXY TCP4 203.0.113.5 192.0.2.1 4000 81\\r\\nhello\\r\\n' >&3; timeout 5 head -c 7 <&3",
  ]);
  assert.is(echoed, 'hello\r\n');
  box.check(['/usr/local/bin/elb-proxy-echo', 'uninstall']);
  assert.is(show('LoadState', `${UNIT}.socket`), 'not-found');
});

it("the Auto Scaling user data (deploy/user-data.sh) fetches this CPU's executable, refuses a wrong sha256, installs with the group's options", async () => {
  box.copyIn(USER_DATA, '/root/user-data.sh', 0o755);
  // The fetch step pointed at a file on the instance; {arch} must become x64 here.
  const settings = (sha256: string) =>
    `EXECUTABLE_URL='/root/elb-proxy-echo-linux-{arch}' INSTALL_OPTIONS='--port 5003 --trust 198.19.0.0/16 --workers 2' EXECUTABLE_SHA256='${sha256}'`;
  const wrong = box.exec(['sh', '-c', `${settings('x64=0000 arm64=1111')} /root/user-data.sh`]);
  assert.is.not(wrong.status, 0, 'a wrong checksum fails the boot script');
  assert.match(
    wrong.stdout,
    /sha256 of \/root\/elb-proxy-echo-linux-x64 is [0-9a-f]{64}, expected 0000: not installed/,
  );
  assert.not.ok(box.exists('/usr/local/bin/elb-proxy-echo'), 'nothing installed');

  const sha = createHash('sha256').update(readFileSync(EXE)).digest('hex');
  const out = box.check(['sh', '-c', `${settings(`arm64=1111 x64=${sha}`)} /root/user-data.sh`], {
    timeoutMs: 60_000,
  });
  assert.match(
    out,
    /fetching \/root\/elb-proxy-echo-linux-x64\n.*elb-proxy-echo \d+\.\d+\.\d+ \(node v24/s,
  );
  await assertStaysActive();
  const options = box.check(['cat', '/etc/default/elb-proxy-echo']);
  assert.match(options, /^ELB_PROXY_ECHO_PORT=5003$/m);
  assert.match(options, /^ELB_PROXY_ECHO_TRUST=198\.19\.0\.0\/16$/m);
  await eventually('two workers', () => workers() === 2);
  await assertProxyEcho(box.address, 5003, 1);
  await assertProxyEcho(box.address, 5003, 2);
  assert.not.ok(
    box.exec(['sh', '-c', 'ls /tmp/elb-proxy-echo.*']).status === 0,
    'the downloaded copy is removed',
  );
  box.check(['/usr/local/bin/elb-proxy-echo', 'uninstall']);
});

systemd.run();
