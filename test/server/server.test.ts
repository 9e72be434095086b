// The echo server over real loopback sockets: headers, policies, trust, q/Q, limits, health
// checks, backpressure, drain and many clients at once.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ACCEPT_SOCKETS } from '../../src/server/accepting.ts';
import { createEchoServer } from '../../src/server/server.ts';
import { TestClient } from '../helpers/socket.ts';
import {
  ENGINE,
  eventually,
  startEcho,
  v1,
  v2,
  v2Local,
  watchedEngine,
  withEcho,
} from './harness.ts';

const EXPLAIN = /^elb-proxy-echo: .+; closing\.\r\n$/;

const headers = suite('headers');

headers('v1: the real client is logged at open and close, and lines are echoed', () =>
  withEcho({}, async ({ echo, port, logged }) => {
    const client = await TestClient.connect(port);
    const localPort = client.socket.localPort;
    client.write(Buffer.concat([v1(), Buffer.from('hello\r\n')])); // payload in the header's packet
    assert.is((await client.readBytes(7)).toString(), 'hello\r\n');
    client.write('second line\n');
    await client.readBytes(19);
    client.write('q\r\n');
    assert.is((await client.waitClose()).toString(), 'hello\r\nsecond line\n');
    await eventually(() => logged('close').length === 1, 'close log');
    const [open] = logged('open', 'info');
    assert.is(open.client, '54.222.152.163:45418');
    assert.is(open.via, `127.0.0.1:${localPort}`);
    assert.is(open.to, '10.0.11.239:5000');
    assert.is(open.header, 'v1');
    const [close] = logged('close', 'info');
    assert.equal(
      [close.client, close.lines, close.bytes, close.reason],
      ['54.222.152.163:45418', 2, 19, 'quit'],
    );
    assert.is(echo.metrics.headers.v1, 1);
  }),
);

headers('v2 over IPv6 with CRC32C: the client is logged in brackets', () =>
  withEcho({}, async ({ echo, port, logged }) => {
    const client = await TestClient.connect(port);
    client.write(v2('2001:db8::1', 443));
    client.write('ping\n');
    assert.is((await client.readBytes(5)).toString(), 'ping\n');
    const [open] = logged('open');
    assert.equal(
      [open.client, open.to, open.header],
      ['[2001:db8::1]:443', '[2001:db8::ffff]:5000', 'v2'],
    );
    client.destroy();
  }),
);

headers('v2 LOCAL (a balancer health check) is logged as such and served', () =>
  withEcho({}, async ({ echo, port, logged }) => {
    const client = await TestClient.connect(port);
    client.write(Buffer.concat([v2Local(), Buffer.from('x\n')]));
    assert.is((await client.readBytes(2)).toString(), 'x\n');
    const [check] = logged('health check (v2 LOCAL)', 'info');
    assert.is(check.client, `127.0.0.1:${client.socket.localPort}`);
    assert.is(check.header, 'v2-local');
    assert.is(echo.metrics.headers['v2-local'], 1);
    client.destroy();
  }),
);

headers.run();

const policies = suite('policies');

policies('require: a client without a header gets one line of explanation, then the close', () =>
  withEcho({ proxyProtocol: 'require' }, async ({ echo, port, logged }) => {
    const client = await TestClient.connect(port);
    const localPort = client.socket.localPort;
    client.write('hello\r\n');
    const said = (await client.waitClose()).toString();
    assert.match(said, EXPLAIN);
    assert.match(said, /expects a PROXY protocol header/);
    await eventually(() => logged('reject').length === 1, 'reject log');
    const [reject] = logged('reject', 'warn');
    assert.is(reject.reason, 'bad-header');
    assert.is(reject.code, 'not-proxy');
    assert.is(reject.peer, `127.0.0.1:${localPort}`);
    assert.match(String(reject.detail), /first byte 'h'/);
    assert.is(echo.metrics.rejects['bad-header'], 1);
    assert.is(echo.metrics.codes['bad-header not-proxy'], 1);
    assert.is(logged('open').length, 0);
  }),
);

policies('require: a malformed header is rejected with the parser reason', () =>
  withEcho({}, async ({ echo, port, logged }) => {
    const client = await TestClient.connect(port);
    client.write('PROXY TCP4 1.2.3.4 5.6.7.8 65536 80\r\nhi\n');
    const said = (await client.waitClose()).toString();
    assert.match(said, EXPLAIN);
    assert.match(said, /\(v1: port 65536 out of range\); closing/);
    await eventually(() => logged('reject').length === 1, 'reject log');
    assert.equal(
      [logged('reject')[0].reason, logged('reject')[0].code, logged('reject')[0].detail],
      ['bad-header', 'bad-port', 'v1: port 65536 out of range'],
    );
  }),
);

policies('optional: a header is used when present, plain lines are echoed otherwise', () =>
  withEcho({ proxyProtocol: 'optional' }, async ({ echo, port, logged }) => {
    const plain = await TestClient.connect(port);
    plain.write('PRO');
    plain.write('XIMITY\n'); // starts like "PROXY " but is not a header
    assert.is((await plain.readBytes(10)).toString(), 'PROXIMITY\n');
    const proxied = await TestClient.connect(port);
    proxied.write(Buffer.concat([v1('198.51.100.22', 35646), Buffer.from('x\n')]));
    assert.is((await proxied.readBytes(2)).toString(), 'x\n');
    const opens = logged('open');
    assert.equal(
      opens.map((o) => [o.client, o.header]),
      [
        [`127.0.0.1:${plain.socket.localPort}`, 'none'],
        ['198.51.100.22:35646', 'v1'],
      ],
    );
    plain.destroy();
    proxied.destroy();
  }),
);

policies.run();

const trust = suite('trust');

trust('require: a trusted source is served, an untrusted one is refused with a reason', () =>
  withEcho({ trust: ['127.0.0.2/32'] }, async ({ echo, port, logged }) => {
    const trusted = await TestClient.connect(port, '127.0.0.1', '127.0.0.2');
    trusted.write(Buffer.concat([v1(), Buffer.from('ok\n')]));
    assert.is((await trusted.readBytes(3)).toString(), 'ok\n');
    const untrusted = await TestClient.connect(port, '127.0.0.1', '127.0.0.3');
    untrusted.write(Buffer.concat([v1(), Buffer.from('spoof\n')]));
    const said = (await untrusted.waitClose()).toString();
    assert.match(said, EXPLAIN);
    assert.match(said, /127\.0\.0\.3:\d+ is not a trusted load balancer address/);
    await eventually(() => logged('reject').length === 1, 'reject log');
    assert.is(logged('reject')[0].reason, 'untrusted');
    assert.is(echo.metrics.rejects.untrusted, 1);
    trusted.destroy();
  }),
);

trust('a dual-stack listener matches IPv4-mapped peers against IPv4 ranges', () =>
  withEcho(
    { trust: ['127.0.0.2', '2001:db8::/32'] },
    async ({ echo, port, logged }) => {
      const trusted = await TestClient.connect(port, '127.0.0.1', '127.0.0.2');
      trusted.write(Buffer.concat([v1(), Buffer.from('ok\n')]));
      assert.is((await trusted.readBytes(3)).toString(), 'ok\n');
      assert.is(logged('open')[0].via, `127.0.0.2:${trusted.socket.localPort}`);
      const untrusted = await TestClient.connect(port, '::1');
      untrusted.write(v1());
      assert.match((await untrusted.waitClose()).toString(), /\[::1\]:\d+ is not a trusted/);
      trusted.destroy();
    },
    '::',
  ),
);

trust('optional: an untrusted source may talk without a header but not send one', () =>
  withEcho(
    { proxyProtocol: 'optional', trust: ['127.0.0.2/32'] },
    async ({ echo, port, logged }) => {
      const plain = await TestClient.connect(port, '127.0.0.1', '127.0.0.3');
      plain.write('hi\n');
      assert.is((await plain.readBytes(3)).toString(), 'hi\n');
      const spoofer = await TestClient.connect(port, '127.0.0.1', '127.0.0.3');
      spoofer.write(v1('8.8.8.8', 53));
      assert.match((await spoofer.waitClose()).toString(), /may not send a PROXY header/);
      await eventually(() => logged('reject').length === 1, 'reject log');
      assert.not.ok(logged('open').some((o) => o.client === '8.8.8.8:53'));
      plain.destroy();
    },
  ),
);

trust.run();

const echoing = suite('echo');

const watch = watchedEngine();
echoing('a chunk of many lines comes back in one write, byte for byte (binary too)', () =>
  // Count the server's reads and writes on this connection.
  withEcho({ engine: watch.engine }, async ({ echo, port }) => {
    const client = await TestClient.connect(port);
    const lines = Buffer.concat(
      Array.from({ length: 200 }, (_, i) => Buffer.from([i === 0x0a ? 0 : i, 0, 0xff, 0x0d, 0x0a])),
    );
    client.write(Buffer.concat([v1(), lines]));
    assert.equal(await client.readBytes(lines.length), lines);
    // One write per read (of one or two parts, when a line straddles reads), not one per line.
    const { reads, writes } = watch.side;
    assert.ok(writes >= 1 && writes <= reads, `${writes} writes for ${reads} reads of 200 lines`);
    assert.is(echo.metrics.lines, 200);
    assert.is(echo.metrics.bytes, lines.length);
    client.destroy();
  }),
);

echoing(
  'a line of exactly --max-line bytes arriving over many reads (its CR and LF apart) is echoed whole; one byte more is cut',
  () =>
    withEcho({ maxLine: 5000 }, async ({ port }) => {
      const pause = () => new Promise((r) => setTimeout(r, 2)); // separate reads
      const body = Buffer.alloc(5000);
      for (let i = 0; i < body.length; i++) body[i] = 0x61 + (i % 26);
      const client = await TestClient.connect(port);
      client.socket.setNoDelay(true);
      client.write(v1());
      for (const piece of [body.subarray(0, 1), body.subarray(1, 2)])
        client.write(piece), await pause();
      for (let i = 2; i < body.length; i += 333)
        client.write(body.subarray(i, i + 333)), await pause();
      client.write('\r');
      await pause();
      client.write('\n');
      assert.equal(await client.readBytes(5002), Buffer.concat([body, Buffer.from('\r\n')]));
      for (let i = 0; i < body.length; i += 1000)
        client.write(body.subarray(i, i + 1000)), await pause();
      client.write('zz'); // 5002 bytes and no CR: too long
      assert.match(
        (await client.waitClose()).subarray(5002).toString(),
        /^elb-proxy-echo: line longer than 5000 bytes; closing\.\r\n$/,
      );
    }),
);

echoing(
  'data lines are logged at debug only, one per line echoed (empty ones too, LF or CR LF)',
  async () => {
    for (const level of ['debug', 'info'] as const) {
      const { echo, port, logged } = await startEcho({}, '127.0.0.1', level);
      try {
        const client = await TestClient.connect(port);
        client.write(Buffer.concat([v1(), Buffer.from('secret\r\n\n\r\nlast\nq\r\n')]));
        await client.waitClose();
        await eventually(() => logged('close').length === 1, 'close log');
        assert.equal(
          logged('data').map((l) => l.line),
          level === 'debug' ? ['secret', '', '', 'last'] : [],
        );
      } finally {
        await echo.close(0);
      }
    }
  },
);

echoing.run();

const limits = suite('limits');

limits('a line longer than --max-line gets an error line and the close', () =>
  withEcho({ maxLine: 10 }, async ({ echo, port, logged }) => {
    const ok = await TestClient.connect(port);
    ok.write(Buffer.concat([v1(), Buffer.from('0123456789\r\n01234567890\nnever\n')]));
    const said = (await ok.waitClose()).toString();
    assert.ok(said.startsWith('0123456789\r\n'), said);
    assert.match(said.slice(12), /^elb-proxy-echo: line longer than 10 bytes; closing\.\r\n$/);
    // A line that never ends is cut off too: memory stays bounded.
    const endless = await TestClient.connect(port);
    endless.write(v1());
    for (let i = 0; i < 5; i++) endless.write('xxxx');
    assert.match((await endless.waitClose()).toString(), /line longer than 10 bytes/);
    await eventually(() => logged('reject').length === 2, 'two rejects');
    assert.equal(
      logged('reject').map((r) => r.reason),
      ['line-too-long', 'line-too-long'],
    );
  }),
);

limits('the header timeout closes a connection that sends no complete header', () =>
  withEcho({ headerTimeoutMs: 150 }, async ({ echo, port, logged }) => {
    const client = await TestClient.connect(port);
    client.write('PROXY TCP4 1.2.3.4'); // a valid prefix, never finished (slowloris)
    assert.match((await client.waitClose()).toString(), /no PROXY protocol header within 0\.15 s/);
    await eventually(() => logged('reject').length === 1, 'reject log');
    assert.is(logged('reject')[0].reason, 'header-timeout');
  }),
);

limits(
  'a connection that has sent nothing is held to the idle timeout, not the header timeout (an NLB sends its header with the first bytes)',
  () =>
    withEcho({ headerTimeoutMs: 100, idleTimeoutMs: 800 }, async ({ echo, port, logged }) => {
      // A person on telnet through an NLB, thinking before typing: no header yet.
      const typist = await TestClient.connect(port);
      const silent = await TestClient.connect(port);
      const silentPort = silent.socket.localPort;
      await new Promise((r) => setTimeout(r, 400)); // four header timeouts
      assert.not.ok(typist.closed, 'a connection that sent nothing was cut at the header timeout');
      typist.write(Buffer.concat([v2('2001:db8::5', 2345), Buffer.from('late\n')]));
      assert.is((await typist.readBytes(5)).toString(), 'late\n');
      // The one that never sends a byte goes at the idle timeout, told why.
      assert.match(
        (await silent.waitClose()).toString(),
        /^elb-proxy-echo: nothing received for 0\.8 s; closing\.\r\n$/,
      );
      await eventually(() => logged('reject').length === 1, 'reject log');
      const [reject] = logged('reject', 'warn');
      assert.equal(
        [reject.peer, reject.reason, reject.detail],
        [
          `127.0.0.1:${silentPort}`,
          'idle-timeout',
          'nothing received for 0.8s (no PROXY header, no data)',
        ],
      );
      assert.is(echo.metrics.rejects['header-timeout'], undefined);
      typist.destroy();
    }),
);

limits('the idle timeout closes a quiet connection after its header', () =>
  withEcho({ idleTimeoutMs: 150 }, async ({ echo, port, logged }) => {
    const client = await TestClient.connect(port);
    client.write(Buffer.concat([v1(), Buffer.from('hi\n')]));
    assert.match(
      (await client.waitClose()).toString(),
      /^hi\nelb-proxy-echo: idle for 0\.15 s; closing\.\r\n$/,
    );
    await eventually(() => logged('close').length === 1, 'close log');
    assert.is(logged('close')[0].reason, 'idle-timeout');
  }),
);

limits('over --max-connections new connections are refused and the server goes on', () =>
  withEcho({ maxConnections: 2 }, async ({ echo, port }) => {
    const a = await TestClient.connect(port);
    const b = await TestClient.connect(port);
    await eventually(() => echo.connectionCount === 2, 'two connections');
    const refused = await TestClient.connect(port);
    await refused.waitClose();
    assert.is(echo.metrics.rejects['max-connections'], 1);
    a.write(Buffer.concat([v1(), Buffer.from('still here\n')]));
    assert.is((await a.readBytes(11)).toString(), 'still here\n');
    a.destroy();
    await eventually(() => echo.connectionCount === 1, 'a slot is free');
    const c = await TestClient.connect(port);
    c.write(Buffer.concat([v1(), Buffer.from('in\n')]));
    assert.is((await c.readBytes(3)).toString(), 'in\n');
    b.destroy();
    c.destroy();
  }),
);

limits(
  'refusals in the second before close() are still logged, not lost with the window',
  async () => {
    const { echo, port, logged } = await startEcho({ maxConnections: 1 });
    const held = await TestClient.connect(port);
    try {
      await eventually(() => echo.connectionCount === 1, 'one connection');
      await (await TestClient.connect(port)).waitClose();
      await eventually(() => echo.metrics.rejects['max-connections'] === 1, 'the refusal');
    } finally {
      held.destroy();
      await echo.close(0);
    }
    const [refused, ...more] = logged('refused connections: --max-connections reached', 'warn');
    assert.equal([refused?.limit, refused?.count, more.length], [1, 1, 0]);
    assert.match(String(refused.window), /^0(\.\d)?s$/); // the part of a second it covered
  },
);

limits(
  'an echo the client is slow to take stays its own while other clients are read',
  async () => {
    // The uv engine reads every connection into one buffer: an echo still waiting for the slow
    // client must not be overwritten by the next read of another.
    const { engine, side } = watchedEngine();
    const { echo, port } = await startEcho({ engine });
    const slow = await TestClient.connect(port);
    const other = await TestClient.connect(port);
    try {
      slow.socket.pause();
      // Small writes (so the server's reads, and its writes from the read buffer, are small)
      // until the kernel's buffers are full both ways and the server holds an unfinished write.
      const line = `${'abcdefghijklmnopqrstuvwxyz'.repeat(2)}0123456789+\n`;
      const piece = Buffer.alloc(4096, line);
      slow.write(v1());
      let sent = 0;
      while (!side.paused && sent < 256 * 1024 * 1024) {
        slow.write(piece);
        sent += piece.length;
        if (sent % (64 * 1024) === 0) await new Promise((r) => setImmediate(r));
      }
      assert.ok(side.paused, 'the server never stopped reading the slow client');
      other.write(v1());
      // Reads as large as the read buffer, so that all of it is overwritten.
      const block = 64 * 1024;
      for (let i = 0; i < 20; i++) {
        const lines = Buffer.alloc(block, `${String(i % 10).repeat(63)}\n`);
        other.write(lines);
        const got = (await other.readBytes(block * (i + 1))).subarray(block * i);
        assert.ok(got.equals(lines), `echo ${i} of the other client`);
      }
      // The slow client's echo, compared as it comes (TestClient would keep all of it).
      const expected = Buffer.alloc(1024 * 1024, line);
      let at = 0;
      let same = true;
      const done = new Promise<void>((resolve) =>
        slow.socket.on('data', (chunk: Buffer) => {
          const from = at % line.length;
          same &&= chunk.equals(expected.subarray(from, from + chunk.length));
          at += chunk.length;
          if (at >= sent) resolve();
        }),
      );
      slow.socket.resume();
      await done;
      assert.ok(same, 'the slow echo changed');
    } finally {
      slow.destroy();
      other.destroy();
      await echo.close(0);
    }
  },
);

limits('a client that sends but never reads is not buffered without bound', async () => {
  const { engine, side } = watchedEngine();
  const { echo, port } = await startEcho({ engine });
  const client = await TestClient.connect(port);
  try {
    client.socket.pause(); // never read the echo
    client.write(v1());
    const line = Buffer.alloc(1024, 0x61);
    line[1023] = 0x0a;
    const total = 64 * 1024 * 1024;
    for (let sent = 0; sent < total; sent += line.length) client.socket.write(line);
    // Wait until the server stops taking bytes (it paused reading), then look at what it holds.
    let last = -1;
    await eventually(
      () => {
        const now = side.bytesRead;
        const still = now === last;
        last = now;
        return still && side.paused;
      },
      'the server to stop reading',
      10_000,
    );
    const held = side.transport!.queuedBytes();
    assert.ok(side.bytesRead < total / 2, `server read ${side.bytesRead} of ${total} bytes`);
    assert.ok(held <= 256 * 1024, `server buffered ${held} bytes of echo`);
  } finally {
    client.destroy();
    await echo.close(0);
  }
});

limits(
  'a client that goes on sending after q cannot hold the connection past the linger time',
  () =>
    withEcho({ lingerMs: 200 }, async ({ port }) => {
      // allowHalfOpen: this client does not close when the server's FIN comes; it keeps talking.
      const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      socket.on('error', () => {});
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString()));
      socket.write(Buffer.concat([v1(), Buffer.from('bye\nq\n')]));
      const sender = setInterval(() => socket.writable && socket.write('still talking\n'), 20);
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error('the server let the connection linger')),
            2000,
          );
          socket.on('close', () => (clearTimeout(timer), resolve()));
        });
        assert.is(received, 'bye\n');
      } finally {
        clearInterval(sender);
        socket.destroy();
      }
    }),
);

limits.run();

const lifecycle = suite('lifecycle');

lifecycle('a connection that closes without a byte is counted, and logged only at debug', () =>
  withEcho({ trust: ['127.0.0.0/8'] }, async ({ echo, port, logs }) => {
    const client = await TestClient.connect(port);
    client.socket.end();
    await client.waitClose();
    await eventually(() => echo.metrics.silentCloses === 1, 'the silent close');
    assert.equal(
      logs().map((l) => [l.level, l.msg]),
      [['debug', 'health check (closed without data)']],
    );
  }),
);

lifecycle('a peer that leaves in the middle of its header gets one info line', () =>
  withEcho({}, async ({ echo, port, logged }) => {
    const client = await TestClient.connect(port);
    const localPort = client.socket.localPort;
    client.write('PROXY TCP4 1.2.3.4 ');
    await eventually(() => echo.connectionCount === 1, 'the connection');
    await new Promise((r) => setTimeout(r, 50));
    client.socket.end();
    await client.waitClose();
    await eventually(() => logged('closed before a complete header').length === 1, 'the log line');
    assert.equal(logged('closed before a complete header', 'info')[0], {
      ...logged('closed before a complete header')[0],
      peer: `127.0.0.1:${localPort}`,
      bytes: 19,
    });
    assert.is(echo.metrics.silentCloses, 0);
  }),
);

lifecycle('an exception while serving one connection closes only that connection', async () => {
  const errors: string[] = [];
  const noop = () => {};
  // A logger that throws on data lines stands in for a bug on the data path.
  const logger = {
    debugEnabled: true,
    infoEnabled: true,
    debug: (msg: string) => {
      if (msg === 'data') throw new Error('boom');
    },
    info: noop,
    warn: noop,
    notice: noop,
    error: (msg: string) => errors.push(msg),
  };
  const echo = createEchoServer({ logger, proxyProtocol: 'off' });
  const { port } = await echo.listen({ port: 0, host: '127.0.0.1' });
  try {
    const bystander = await TestClient.connect(port);
    const victim = await TestClient.connect(port);
    victim.write('this line trips the bug\n');
    assert.is((await victim.waitClose()).length, 0);
    assert.equal(errors, ['internal error; connection closed']);
    assert.is(echo.metrics.rejects['internal-error'], 1);
    bystander.write('no newline, so no data line');
    await new Promise((r) => setTimeout(r, 50));
    assert.not.ok(bystander.closed);
    bystander.destroy();
  } finally {
    await echo.close(0);
  }
});

lifecycle('close() stops accepting, lets open connections finish, then resolves', async () => {
  const { echo, port } = await startEcho();
  const client = await TestClient.connect(port);
  client.write(v1());
  await eventually(() => echo.connectionCount === 1, 'the connection');
  let closed = false;
  const closing = echo.close(5000).then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 50));
  await TestClient.connect(port).then(
    () => assert.unreachable('a new connection was accepted while draining'),
    (error: NodeJS.ErrnoException) => assert.is(error.code, 'ECONNREFUSED'),
  );
  client.write('still echoing\n');
  assert.is((await client.readBytes(14)).toString(), 'still echoing\n');
  assert.is(closed, false);
  client.write('q\n');
  await client.waitClose();
  await closing;
  assert.ok(closed);
});

lifecycle('past the drain time the remaining connections are told and closed', async () => {
  const { echo, port, logged } = await startEcho();
  const client = await TestClient.connect(port);
  client.write(Buffer.concat([v1(), Buffer.from('a\n')]));
  await client.readBytes(2);
  await echo.close(100);
  await client.waitClose();
  assert.match(
    client.received.toString(),
    /^a\nelb-proxy-echo: the server is shutting down; closing\.\r\n$/,
  );
  await eventually(() => logged('close').length === 1, 'close log');
  assert.is(logged('close')[0].reason, 'shutdown');
});

lifecycle('1,000 concurrent clients are all echoed correctly', () =>
  withEcho(
    {},
    async ({ echo, port }) => {
      const clients = await Promise.all(
        Array.from({ length: 1000 }, () => TestClient.connect(port)),
      );
      await eventually(() => echo.connectionCount === 1000, '1000 connections', 10_000);
      clients.forEach((client, i) =>
        client.write(Buffer.concat([v1('192.0.2.1', i + 1), Buffer.from(`client ${i}\r\n`)])),
      );
      await Promise.all(
        clients.map((client, i) => client.readBytes(`client ${i}\r\n`.length, 10_000)),
      );
      clients.forEach((client, i) => assert.is(client.received.toString(), `client ${i}\r\n`));
      for (const client of clients) client.write('q\r\n');
      await Promise.all(clients.map((client) => client.waitClose(10_000)));
      assert.is(echo.metrics.headers.v1, 1000);
      assert.is(echo.metrics.lines, 1000);
    },
    '127.0.0.1',
    'warn',
  ),
);

lifecycle(
  'on a port of its own it accepts on several sockets, keeps the port from others, and frees it on close',
  async () => {
    const { echo, port } = await startEcho();
    const listening = () =>
      execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' })
        .trim()
        .split('\n');
    try {
      assert.is(listening().length, ACCEPT_SOCKETS);
      // A plain bind of the port (another program) still fails.
      const other = net.createServer();
      const failed = await new Promise<string>((resolve) => {
        other.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? ''));
        other.listen(port, '127.0.0.1', () => resolve('bound'));
      });
      other.close();
      assert.is(failed, 'EADDRINUSE');
      // A burst lands on all of them and every client gets its echo.
      const clients = await Promise.all(Array.from({ length: 64 }, () => TestClient.connect(port)));
      for (const client of clients) client.write(Buffer.concat([v1(), Buffer.from('burst\n')]));
      for (const client of clients) assert.is((await client.readBytes(6)).toString(), 'burst\n');
      for (const client of clients) client.destroy();
    } finally {
      await echo.close(0);
    }
    assert.equal(listening().filter(Boolean), []);
  },
);

lifecycle(
  'a port something else listens on is refused (EADDRINUSE), even a SO_REUSEPORT holder; reusePort: true joins it on purpose',
  async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) =>
      holder.listen({ port: 0, host: '127.0.0.1', reusePort: true }, resolve),
    );
    const { port } = holder.address() as net.AddressInfo;
    const second = createEchoServer({ engine: ENGINE });
    const joiner = createEchoServer({ engine: ENGINE });
    try {
      for (const host of ['127.0.0.1', '0.0.0.0', '::'])
        await second.listen({ port, host }).then(
          () => assert.unreachable(`listened on ${host}:${port} beside the holder`),
          (error: NodeJS.ErrnoException) => assert.is(error.code, 'EADDRINUSE', host),
        );
      // Nothing of the refused server stays bound: the holder alone has the port.
      const sockets = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' });
      assert.is(sockets.trim().split('\n').length, 1, sockets);
      await joiner.listen({ port, host: '127.0.0.1', reusePort: true });
      assert.is(joiner.server.listening, true);
    } finally {
      holder.close();
      await Promise.all([second.close(0), joiner.close(0)]);
    }
  },
);

lifecycle.run();
