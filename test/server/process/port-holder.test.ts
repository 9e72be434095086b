// Who holds a port: /proc/net/tcp{,6} rows, address overlap as the kernel decides it, the
// processes behind a socket (a made-up /proc tree and the real one).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  addressBytes,
  describeHolder,
  holdersOf,
  type Listener,
  overlaps,
  parseListeners,
} from '../../../src/server/process/port-holder.ts';
import { Random, runSeed } from '../../protocol/random.ts';

const TCP_HEAD =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

/** A /proc/net/tcp{,6} row as a little-endian machine prints it. */
function row(address: Uint8Array, port: number, state: string, uid: number, inode: number): string {
  const words = Buffer.from(address);
  words.swap32();
  const local = `${words.toString('hex').toUpperCase()}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const remote = `${'0'.repeat(address.length * 2)}:0000`;
  return `   0: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000 ${String(uid).padStart(5)}        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
}

/** Listeners with plain arrays for addresses, as uvu compares those. */
function plain(listeners: readonly Listener[]) {
  return listeners.map((l) => ({ ...l, address: [...l.address] }));
}

const parsing = suite('parseListeners');

parsing(
  'the LISTEN rows of tcp and tcp6, addresses in network order; other states left out',
  () => {
    const v4 =
      TCP_HEAD +
      '   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 000000001e322667 100 0 0 10 0\n' +
      '   1: 0100007F:D3C6 0100007F:8DF1 06 00000000:00000000 03:000015FF 00000000     0        0 0 3 00000000aa1c10c9\n' +
      '   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0 100 0 0 10 0\n';
    assert.equal(plain(parseListeners(v4, true)), [
      { address: [127, 0, 0, 1], port: 5000, uid: 1000, inode: 4242 },
      { address: [0, 0, 0, 0], port: 80, uid: 0, inode: 77 },
    ]);
    const v6 = `${TCP_HEAD}   0: 00000000000000000000000001000000:1388 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 9001 1 0 100 0 0 10 0\n`;
    assert.equal(plain(parseListeners(v6, true)), [
      { address: [...addressBytes('::1')!], port: 5000, uid: 998, inode: 9001 },
    ]);
    // A big-endian machine prints the words as they are.
    const bigEndian = parseListeners(v4.replace('0100007F:1388', '7F000001:1388'), false);
    assert.equal([...bigEndian[0].address], [127, 0, 0, 1]);
  },
);

parsing('rows that are not a table row (cut short, odd address lengths, junk) are skipped', () => {
  for (const text of [
    '',
    TCP_HEAD,
    '   0: 0100007F:1388 00000000:0000 0A\n',
    '   0: 0100007F 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n',
    '   0: 0100007:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n',
    '   0: 0100007G:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n',
    '   0: 000000000000000000000000:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n',
  ])
    assert.equal(parseListeners(text, true), [], JSON.stringify(text));
});

parsing(
  'property: random rows round-trip; junk and damaged tables never throw and give only whole rows',
  () => {
    const seed = runSeed();
    const random = new Random(seed);
    for (let i = 0; i < 500; i++) {
      const listeners: Listener[] = [];
      let text = TCP_HEAD;
      for (let n = random.int(5); n > 0; n--) {
        const address = random.bytes(random.pick([4, 16]));
        const port = random.int(65536);
        const uid = random.int(70000);
        const inode = 1 + random.int(2 ** 31);
        const listening = random.int(3) > 0;
        text += row(address, port, listening ? '0A' : random.pick(['01', '06', '08']), uid, inode);
        if (listening) listeners.push({ address, port, uid, inode });
      }
      assert.equal(plain(parseListeners(text, true)), plain(listeners), `seed ${seed}`);
      // Junk before a cut-off table, and the table with random characters overwritten.
      const junk = Buffer.from(random.bytes(random.int(300))).toString('latin1');
      const damaged = [...text];
      for (let n = random.int(8); n > 0; n--)
        damaged[random.int(damaged.length)] = String.fromCharCode(random.int(128));
      const texts = [junk + text.slice(random.int(text.length)), damaged.join('')];
      for (const listener of texts.flatMap((t) => parseListeners(t, true)))
        assert.ok(
          [listener.port, listener.uid, listener.inode].every(Number.isSafeInteger) &&
            listener.port < 65536 &&
            (listener.address.length === 4 || listener.address.length === 16),
          `seed ${seed}`,
        );
    }
  },
);

parsing.run();

const overlap = suite('overlaps');

const HOSTS = ['0.0.0.0', '::', '127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1'];

overlap('addressBytes: IPv4 and IPv6 literals; a name or a scoped address is null', () => {
  assert.equal([...addressBytes('127.0.0.1')!], [127, 0, 0, 1]);
  assert.equal([...addressBytes('::1')!], [...Array(15).fill(0), 1]);
  assert.is(addressBytes('localhost'), null);
  assert.is(addressBytes('fe80::1%eth0'), null);
  assert.is(addressBytes(''), null);
});

overlap('a table: wildcards take their family, the IPv6 wildcard both, mapped is IPv4', () => {
  const rows: Array<[string, string, boolean]> = [
    ['0.0.0.0', '127.0.0.1', true],
    ['0.0.0.0', '::', true],
    ['0.0.0.0', '::1', false],
    ['::', '127.0.0.2', true],
    ['::', '::1', true],
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['127.0.0.1', '::1', false],
    ['::1', '::1', true],
    ['::ffff:127.0.0.1', '127.0.0.1', true],
    ['::ffff:127.0.0.1', '0.0.0.0', true],
    ['::ffff:127.0.0.1', '127.0.0.2', false],
  ];
  for (const [a, b, expected] of rows) {
    assert.is(overlaps(addressBytes(a)!, addressBytes(b)!), expected, `${a} ${b}`);
    assert.is(overlaps(addressBytes(b)!, addressBytes(a)!), expected, `${b} ${a}`);
  }
});

/** Listens on host:port (SO_REUSEPORT when asked); resolves with the server, or the error code. */
function listen(host: string, port: number, reusePort: boolean): Promise<net.Server | string> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
    server.listen({ host, port, reusePort }, () => resolve(server));
  });
}

overlap(
  'agrees with the kernel: a plain bind fails exactly where a held port overlaps',
  async () => {
    for (const held of HOSTS) {
      for (const probe of HOSTS) {
        const holder = await listen(held, 0, true);
        assert.type(holder, 'object', `${held}: ${holder}`);
        const port = ((holder as net.Server).address() as net.AddressInfo).port;
        const second = await listen(probe, port, false);
        const conflict = second === 'EADDRINUSE';
        if (typeof second === 'object') second.close();
        (holder as net.Server).close();
        assert.is(
          overlaps(addressBytes(held)!, addressBytes(probe)!),
          conflict,
          `${held} held, ${probe}: ${conflict ? 'conflict' : 'no conflict'} in the kernel`,
        );
      }
    }
  },
);

overlap.run();

const holders = suite('holders');

/** A made-up /proc: net/tcp and tcp6, and processes with their descriptors and command lines. */
function fakeProc(
  tcp: string,
  tcp6: string,
  processes: Record<number, { fds: string[]; cmdline: string }>,
): string {
  const root = mkdtempSync(join(tmpdir(), 'port-holder-'));
  mkdirSync(join(root, 'net'));
  writeFileSync(join(root, 'net/tcp'), TCP_HEAD + tcp);
  writeFileSync(join(root, 'net/tcp6'), TCP_HEAD + tcp6);
  mkdirSync(join(root, 'self'));
  for (const [pid, { fds, cmdline }] of Object.entries(processes)) {
    mkdirSync(join(root, pid, 'fd'), { recursive: true });
    writeFileSync(join(root, pid, 'cmdline'), cmdline);
    fds.forEach((target, fd) => symlinkSync(target, join(root, pid, 'fd', String(fd))));
  }
  return root;
}

holders('the processes with a descriptor on the socket, by pid, with their command lines', () => {
  const proc = fakeProc(
    row(addressBytes('127.0.0.1')!, 5000, '0A', 1000, 111) +
      row(addressBytes('127.0.0.2')!, 5000, '0A', 1000, 222),
    row(addressBytes('::')!, 6000, '0A', 998, 333),
    {
      41: { fds: ['/dev/null', 'socket:[222]'], cmdline: 'other\0' },
      40: { fds: ['socket:[111]'], cmdline: 'node\0src/cli.ts\0--port\x005000\0' },
      7: { fds: ['pipe:[111]', 'socket:[1111]'], cmdline: 'decoy\0' },
      42: { fds: ['/dev/null', 'socket:[111]'], cmdline: 'node\0src/cli.ts\0serve\0' },
      50: { fds: ['socket:[333]'], cmdline: 'elb-proxy-echo\0--greeting\nforged line\0' },
    },
  );
  try {
    assert.equal(holdersOf(new Set([111]), proc), [
      { pid: 40, command: 'node src/cli.ts --port 5000' },
      { pid: 42, command: 'node src/cli.ts serve' },
    ]);
    assert.equal(holdersOf(new Set(), proc), []);
    // Only the listener that overlaps the address asked for is followed.
    assert.is(describeHolder('127.0.0.1', 5000, proc), 'pids 40, 42 (node src/cli.ts --port 5000)');
    assert.is(describeHolder('127.0.0.2', 5000, proc), 'pid 41 (other)');
    assert.is(
      describeHolder('0.0.0.0', 5000, proc),
      'pids 40, 41, 42 (node src/cli.ts --port 5000)',
    );
    // A command line stays on one line.
    assert.is(
      describeHolder('127.0.0.9', 6000, proc),
      'pid 50 (elb-proxy-echo --greeting\\nforged line)',
    );
    // Listed, but no process visible: its uid; not even listed: nothing more to say.
    assert.is(describeHolder('::1', 5000, proc), 'another process');
    assert.is(describeHolder('127.0.0.1', 7000, proc), 'another process');
  } finally {
    rmSync(proc, { recursive: true });
  }
  const hidden = fakeProc(row(addressBytes('0.0.0.0')!, 5000, '0A', 998, 555), '', {});
  try {
    assert.is(describeHolder('::', 5000, hidden), 'another process (uid 998)');
  } finally {
    rmSync(hidden, { recursive: true });
  }
});

holders(
  'on the real /proc: names the process listening on a port and its command line',
  async () => {
    const script =
      "require('node:net').createServer().listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port)); })";
    const child = spawn(process.execPath, ['-e', script, '--', 'marker-argument'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.setEncoding('utf8').once('data', (s: string) => resolve(Number(s)));
        child.once('exit', () => reject(new Error('the listener exited')));
      });
      const description = describeHolder('::', port);
      assert.ok(description.startsWith(`pid ${child.pid} (${process.execPath} -e `), description);
      assert.ok(description.endsWith(' -- marker-argument)'), description);
    } finally {
      child.kill('SIGKILL');
    }
  },
);

holders.run();
