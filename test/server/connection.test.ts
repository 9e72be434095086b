// One connection's life without a socket: bytes fed to `Connection` through a fake transport,
// a clock moved by hand and the sweep called directly; then what was written, logged, counted,
// and the phase it ended in.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { REFUSALS, type RefusalKey } from '../../src/server/refusals.ts';
import {
  AWAIT_HEADER,
  CLOSING,
  ECHO,
  FIRST_LINE,
  HTTP,
  HTTP_HEAD,
  TLS_HANDSHAKE,
} from '../../src/server/phase.ts';
import {
  type FakeOptions,
  type FakeServer,
  type FakeTransport,
  fakeServer,
} from './fake-transport.ts';
import { v1, v2, v2Local, v2PrivateLink } from './harness.ts';

const b = (text: string) => Buffer.from(text, 'latin1');
const V1 = v1('203.0.113.7', 51000); // PROXY TCP4 203.0.113.7 10.0.11.239 51000 5000
const OPEN_V1 =
  'info open client=203.0.113.7:51000 via=10.0.0.5:40000 to=10.0.11.239:5000 header=v1';
/** The start of a TLS record carrying a ClientHello: what a TLS client sends first. */
const CLIENT_HELLO_START = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01]);
const told = (why: string) => `elb-proxy-echo: ${why}; closing.\r\n`;
const GREETING =
  'elb-proxy-echo on test-host: you are 203.0.113.7:51000 (PROXY v1 from 10.0.0.5:40000); lines come back, q quits\r\n';

/** Everything one connection did, for comparing runs. */
interface Outcome {
  written: string;
  logs: string[];
  state: number;
  rejects: Record<string, number>;
  handedOver: string | null;
}

/** Feeds `chunks` to a new connection (from `peer`, default 10.0.0.5) of a fresh server. */
function run(options: FakeOptions, chunks: readonly Buffer[], peer?: string): Outcome {
  const server = fakeServer(options);
  const { transport, conn } = server.connect(peer);
  for (const chunk of chunks) if (transport.events !== null) transport.send(chunk);
  return {
    written: transport.output(),
    logs: server.logs(),
    state: conn.state,
    rejects: { ...server.metrics.rejects },
    handedOver: transport.unread,
  };
}

// ---------------------------------------------------------------------------------------------

const opening = suite('opening: policy × trust × what comes first');

const TRUSTED = '10.0.0.5';
const STRANGER = '192.0.2.66';

const NOT_PROXY =
  "this port expects a PROXY protocol header from a load balancer first (not a PROXY protocol header: first byte 'h' (0x68))";

// [policy, peer, what comes first] → what the client gets: its echo, or a refusal (reason, words).
type Opening = { echo: string } | { reason: string; told: string };
const OPENINGS: ReadonlyArray<
  readonly [FakeOptions['policy'], string, 'header' | 'plain', Opening]
> = [
  ['require', TRUSTED, 'header', { echo: 'hi\r\n' }],
  ['require', TRUSTED, 'plain', { reason: 'bad-header', told: NOT_PROXY }],
  [
    'require',
    STRANGER,
    'header',
    { reason: 'untrusted', told: `${STRANGER}:40000 is not a trusted load balancer address` },
  ],
  [
    'require',
    STRANGER,
    'plain',
    { reason: 'untrusted', told: `${STRANGER}:40000 is not a trusted load balancer address` },
  ],
  ['optional', TRUSTED, 'header', { echo: 'hi\r\n' }],
  ['optional', TRUSTED, 'plain', { echo: 'hi\r\n' }],
  [
    'optional',
    STRANGER,
    'header',
    { reason: 'untrusted', told: `${STRANGER}:40000 may not send a PROXY header` },
  ],
  ['optional', STRANGER, 'plain', { echo: 'hi\r\n' }],
  ['off', TRUSTED, 'header', { echo: `${V1.toString('latin1')}hi\r\n` }],
  ['off', STRANGER, 'header', { echo: `${V1.toString('latin1')}hi\r\n` }],
  ['off', STRANGER, 'plain', { echo: 'hi\r\n' }],
];

for (const [policy, peer, input, expected] of OPENINGS) {
  opening(`${policy}, ${peer === TRUSTED ? 'trusted' : 'untrusted'} peer, ${input}`, () => {
    const data = input === 'header' ? Buffer.concat([V1, b('hi\r\n')]) : b('hi\r\n');
    const out = run({ policy, trust: ['10.0.0.0/24'] }, [data], peer);
    if ('echo' in expected) {
      assert.is(out.written, expected.echo);
      assert.is(out.state, ECHO);
      assert.equal(out.rejects, {});
      const header = policy !== 'off' && input === 'header' ? 'v1' : 'none';
      assert.match(out.logs[0], new RegExp(`^info open client=.* header=${header}$`));
    } else {
      assert.is(out.written, told(expected.told));
      assert.equal(out.rejects, { [expected.reason]: 1 });
      assert.is(out.state, CLOSING);
      assert.ok(
        out.logs.some((l) => l.startsWith(`warn reject peer=${peer}:40000`)),
        out.logs.join('\n'),
      );
    }
  });
}

opening('a v1 header, lines, then q: one open and one close line, the lines echoed', () => {
  const out = run({}, [Buffer.concat([V1, b('hi\r\nthere\nq\r\nnot echoed\n')])]);
  assert.is(out.written, 'hi\r\nthere\n');
  assert.equal(out.logs, [
    OPEN_V1,
    'debug data client=203.0.113.7:51000 line=hi',
    'debug data client=203.0.113.7:51000 line=there',
  ]);
  assert.is(out.state, CLOSING);
});

opening('v2 over IPv6 and v2 LOCAL: the client in brackets; a health check logged as such', () => {
  const six = run({}, [Buffer.concat([v2(), b('x\n')])]);
  assert.is(
    six.logs[0],
    'info open client=[2001:db8::1]:443 via=10.0.0.5:40000 to=[2001:db8::ffff]:5000 header=v2',
  );
  const local = run({}, [Buffer.concat([v2Local(), b('x\n')])]);
  assert.is(local.logs[0], 'info health check (v2 LOCAL) client=10.0.0.5:40000 header=v2-local');
  assert.is(local.written, 'x\n');
});

opening('a header sent twice: the second one is data', () => {
  const second = v1('1.2.3.4', 1);
  const out = run({}, [Buffer.concat([V1, second])]);
  assert.is(out.written, second.toString('latin1'));
  assert.is(out.logs[0], OPEN_V1);
});

opening('a connection that closes without a byte is a quiet TCP health check', () => {
  const server = fakeServer();
  const { transport } = server.connect();
  transport.destroy();
  assert.equal(server.logs(), ['debug health check (closed without data) peer=10.0.0.5:40000']);
  assert.is(server.metrics.silentCloses, 1);
  assert.is(server.metrics.connectionsOpen, 0);
});

opening('a peer that goes in the middle of its header: logged with the bytes it sent', () => {
  const server = fakeServer();
  const { transport } = server.connect();
  transport.send(V1.subarray(0, 10));
  transport.destroy();
  assert.equal(server.logs(), [
    'info closed before a complete header peer=10.0.0.5:40000 bytes=10',
  ]);
});

opening.run();

// ---------------------------------------------------------------------------------------------

const refusals = suite('refusals: one row per reason in the table');

/** How each refusal comes about, and the words it must give (the client's and the log's). */
const TRIGGERS: Record<
  RefusalKey,
  {
    options?: FakeOptions;
    peer?: string;
    act: (s: FakeServer, send: (x: Buffer) => void) => void;
    tell: string;
    detail: string;
    code?: string;
    http?: string;
  }
> = {
  'untrusted-peer': {
    options: { trust: ['10.0.0.0/24'] },
    peer: STRANGER,
    act: () => {},
    tell: `${STRANGER}:40000 is not a trusted load balancer address`,
    detail: `${STRANGER}:40000 is not in --trust`,
  },
  'untrusted-header': {
    options: { policy: 'optional', trust: ['10.0.0.0/24'] },
    peer: STRANGER,
    act: (_, send) => send(V1),
    tell: `${STRANGER}:40000 may not send a PROXY header`,
    detail: `PROXY header from ${STRANGER}:40000, which is not in --trust`,
  },
  'bad-header': {
    act: (_, send) => send(b('hi\r\n')),
    tell: "this port expects a PROXY protocol header from a load balancer first (not a PROXY protocol header: first byte 'h' (0x68))",
    detail: "not a PROXY protocol header: first byte 'h' (0x68)",
    code: 'not-proxy',
  },
  'header-timeout': {
    options: { headerTimeoutMs: 5000 },
    act: (s, send) => {
      send(V1.subarray(0, 8));
      s.advance(5000);
    },
    tell: 'no PROXY protocol header within 5 s',
    detail: 'no complete PROXY header within 5s',
  },
  'line-too-long': {
    options: { maxLine: 4 },
    act: (_, send) => send(Buffer.concat([V1, b('abcde\n')])),
    tell: 'line longer than 4 bytes',
    detail: 'a line is longer than 4 bytes',
  },
  'idle-timeout': {
    options: { idleTimeoutMs: 60_000 },
    act: (s, send) => {
      send(Buffer.concat([V1, b('hi\n')]));
      s.advance(60_000);
    },
    tell: 'idle for 60 s',
    detail: 'no data for 60s',
  },
  silent: {
    options: { idleTimeoutMs: 60_000 },
    act: (s) => s.advance(60_000),
    tell: 'nothing received for 60 s',
    detail: 'nothing received for 60s (no PROXY header, no data)',
  },
  'http-timeout': {
    act: (s, send) => {
      send(Buffer.concat([V1, b('GET / HTTP/1.1\r\nHost: a\r\n')]));
      s.advance(5000);
    },
    tell: 'no complete HTTP request within 5 s',
    detail: 'no complete HTTP request head within 5s',
    http: 'HTTP/1.1 408 Request Timeout',
  },
  'tls-handshake': {
    options: { tls: 'auto' },
    act: (s, send) => {
      send(Buffer.concat([V1, CLIENT_HELLO_START]));
      s.tlsTakes[0]!.owner.onTlsFailure('wrong version number', 'wrong-version-number');
    },
    tell: 'wrong version number',
    detail: 'wrong version number',
    code: 'wrong-version-number',
  },
  'tls-handshake-timeout': {
    options: { tls: 'auto', headerTimeoutMs: 5000 },
    act: (s, send) => {
      send(Buffer.concat([V1, CLIENT_HELLO_START]));
      s.advance(5000);
    },
    tell: 'no complete TLS handshake within 5 s',
    detail: 'no complete TLS handshake within 5s',
  },
  'tls-required': {
    options: { tls: 'require' },
    act: (_, send) => send(Buffer.concat([V1, b('hi\n')])),
    tell: 'this port expects TLS after the PROXY header',
    detail: 'the connection did not begin TLS after its header (--tls require)',
  },
};

refusals('every refusal in the table has a row here', () => {
  assert.equal(Object.keys(TRIGGERS).sort(), Object.keys(REFUSALS).sort());
});

for (const [key, row] of Object.entries(TRIGGERS) as Array<
  [RefusalKey, (typeof TRIGGERS)[RefusalKey]]
>) {
  refusals(`${key}: told, logged and counted as ${REFUSALS[key].reason}`, () => {
    const server = fakeServer(row.options);
    const { transport, conn } = server.connect(row.peer);
    row.act(server, (bytes) => transport.send(bytes));
    // (The connection's transport now: the TLS one for a refusal in or after the handshake.)
    const last = conn.transport as FakeTransport;
    const line = told(row.tell);
    if (row.http === undefined) assert.is(last.output().slice(-line.length), line);
    else {
      const answer = last.writes.at(-1)!;
      assert.ok(answer.startsWith(`${row.http}\r\n`), answer);
      assert.ok(answer.endsWith(`\r\n\r\n${line}`), answer);
      assert.match(answer, `Content-Length: ${line.length}\r\n`);
    }
    const reason = REFUSALS[key].reason;
    const warn = server.logs().find((l) => l.startsWith('warn reject'));
    const peer = `${row.peer ?? '10.0.0.5'}:40000`;
    const client = conn.client === null ? '' : ` client=${conn.client}`;
    const code = row.code === undefined ? '' : ` code=${row.code}`;
    assert.is(
      warn,
      `warn reject peer=${peer}${client} reason=${reason}${code} detail=${row.detail}`,
    );
    assert.equal(server.metrics.rejects, { [reason]: 1 });
    if (row.code !== undefined)
      assert.equal(server.metrics.codes, { [`${reason} ${row.code}`]: 1 });
    assert.is(conn.state, CLOSING);
    assert.ok(last.ended, 'FIN after the words');
    assert.is(conn.reason, reason);
  });
}

refusals('policy off: silence is "no data", not "no PROXY header"', () => {
  const server = fakeServer({ policy: 'off', idleTimeoutMs: 1000 });
  server.connect();
  server.advance(1000);
  assert.ok(server.logs().some((l) => l.endsWith('detail=nothing received for 1s (no data)')));
});

refusals('a request line where the header should be: the refusal as an HTTP 400', () => {
  const out = run({}, [b('GET / HTTP/1.1\r\nHost: a\r\n\r\n')]);
  const line = told(
    "this port expects a PROXY protocol header from a load balancer first (not a PROXY protocol header: first byte 'G' (0x47))",
  );
  assert.is(
    out.written,
    `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${line.length}\r\nConnection: close\r\n\r\n${line}`,
  );
});

refusals('a method and a space where the header should be are enough for the HTTP 400', () => {
  const out = run({}, [b('GE'), b('T /')]);
  assert.ok(out.written.startsWith('HTTP/1.1 400 Bad Request\r\n'), out.written);
  assert.is(out.state, CLOSING);
});

refusals('capitals that could still be a method: no answer until the header timeout', () => {
  const server = fakeServer({});
  const { transport } = server.connect();
  transport.send(b('GE'));
  assert.is(transport.output(), '');
  server.advance(5000);
  assert.is(transport.output(), told('no PROXY protocol header within 5 s'));
});

refusals('no method and space where the header should be: the plain line', () => {
  for (const text of ['HELLO\r\n', 'GET\t/', 'ABCDEFGHIJKLMNOPQRSTU / HTTP/1.1\r\n', ' GET /']) {
    const out = run({}, [b(text)]);
    assert.ok(out.written.startsWith('elb-proxy-echo: this port expects'), JSON.stringify(text));
  }
  const bad = run({}, [b('PROXY GET / HTTP/1.1\r\n')]);
  assert.ok(bad.written.startsWith('elb-proxy-echo: this port expects'), bad.written);
});

refusals.run();

// ---------------------------------------------------------------------------------------------

const echo = suite('echo: q, --max-line, upper case, backpressure');

const QUITS: ReadonlyArray<readonly [string, string]> = [
  ['q\r\n', ''],
  ['Q\n', ''],
  ['a\nq\nb\n', 'a\n'],
  ['qq\nq\n', 'qq\n'],
  [' q\nq\n', ' q\n'],
  ['q \nq\n', 'q \n'],
  ['\r\nq\n', '\r\n'],
];

for (const [lines, written] of QUITS) {
  echo(`${JSON.stringify(lines)} → ${JSON.stringify(written)}, then closed by q`, () => {
    const out = run({}, [Buffer.concat([V1, b(lines)])]);
    assert.is(out.written, written);
    assert.is(out.state, CLOSING);
    assert.equal(out.rejects, {});
  });
}

// --max-line 5: a line of 5 (CR LF not counted) is echoed; 6 is refused, even unfinished.
const LIMITS: ReadonlyArray<readonly [string[], string, boolean]> = [
  [['abcde\r\n'], 'abcde\r\n', false],
  [['abcde\n'], 'abcde\n', false],
  [['abcdef\n'], '', true],
  [['abc', 'de\r\n'], 'abcde\r\n', false],
  [['abc', 'def\n'], '', true],
  [['abcdef'], '', false], // one byte of slack: a CR may follow
  [['abcdefg'], '', true],
  [['abcde\r'], '', false],
  [['ok\nabcdefgh\n'], 'ok\n', true],
];

for (const [chunks, written, refused] of LIMITS) {
  echo(`--max-line 5: ${JSON.stringify(chunks)} ${refused ? 'refused' : 'kept'}`, () => {
    const out = run({ maxLine: 5 }, [V1, ...chunks.map(b)]);
    assert.is(out.written.startsWith(written), true, out.written);
    if (refused) {
      assert.is(out.written.slice(written.length), told('line longer than 5 bytes'));
      assert.equal(out.rejects, { 'line-too-long': 1 });
    } else {
      assert.is(out.written, written);
      assert.is.not(out.state, CLOSING);
    }
  });
}

echo('--transform upper echoes ASCII letters in upper case, a carried line too', () => {
  const out = run({ upper: true }, [V1, b('hé'), b('llo\r\nq\n')]);
  assert.is(out.written, 'HéLLO\r\n');
});

echo('a client that does not read its echo is paused until the echo drains', () => {
  const server = fakeServer();
  const { transport, conn } = server.connect();
  transport.send(Buffer.concat([V1, b('a\n')]));
  transport.accepts = false;
  transport.send(b('b\n'));
  assert.ok(transport.paused);
  server.advance(100);
  transport.events!.onDrain();
  assert.not.ok(transport.paused);
  assert.is(conn.active, server.ctx.now, 'the drain counts as progress');
});

echo('closing: bytes after q are dropped and do not delay the linger', () => {
  const server = fakeServer({ lingerMs: 2000 });
  const { transport } = server.connect();
  transport.send(Buffer.concat([V1, b('q\n')]));
  server.advance(1500);
  transport.send(b('more\n'));
  assert.is(transport.output(), '');
  server.advance(500);
  assert.ok(transport.destroyed);
  assert.is(
    server.logs().at(-1),
    'info close client=203.0.113.7:51000 lines=0 bytes=0 reason=quit',
  );
});

echo.run();

// ---------------------------------------------------------------------------------------------

const first = suite('the first line: HTTP or echo, and the greeting');

first('an HTTP request line: the head is handed to node:http as it came, nothing written', () => {
  const request = 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n';
  const server = fakeServer();
  const { transport, conn } = server.connect();
  transport.send(Buffer.concat([V1, b(request)]));
  assert.is(conn.state, HTTP);
  assert.is(transport.unread, request);
  assert.is(transport.output(), '');
  assert.is(server.handOffs.length, 1);
  const { view, healthCheck, session } = server.handOffs[0];
  assert.is(view.client, '203.0.113.7:51000');
  assert.is(view.via, '10.0.0.5:40000');
  assert.is(view.destination, '10.0.11.239:5000');
  assert.is(view.proxy?.version, 1);
  assert.not.ok(healthCheck);
  // node:http answers two requests and the client closes: the close line counts requests.
  session.requests = 2;
  server.handOffs[0].socket.emit('close');
  assert.is(
    server.logs().at(-1),
    'info close client=203.0.113.7:51000 requests=2 reason=client-closed',
  );
  assert.is(server.metrics.connectionsOpen, 0);
});

first(
  'a head in pieces is gathered, then handed over whole; the header read before is kept',
  () => {
    const server = fakeServer();
    const { transport, conn } = server.connect();
    const pieces = ['GET / HTTP/1.1\r\n', 'Host: a\r\n', '\r', '\n'];
    transport.send(v2PrivateLink());
    for (const piece of pieces) {
      assert.is(server.handOffs.length, 0);
      transport.send(b(piece));
    }
    assert.is(conn.state, HTTP);
    assert.is(transport.unread, pieces.join(''));
    assert.is(server.handOffs[0].view.proxy?.tlvs.vpcEndpointId, 'vpce-08d2bf15fefb1a2fa');
  },
);

first('a head over 16 KiB is handed over as it is (node:http answers 431)', () => {
  const server = fakeServer();
  const { transport, conn } = server.connect();
  transport.send(Buffer.concat([V1, b('GET / HTTP/1.1\r\n')]));
  assert.is(conn.state, HTTP_HEAD);
  const big = `X-Big: ${'a'.repeat(17_000)}\r\n`;
  transport.send(b(big));
  assert.is(conn.state, HTTP);
  assert.is(transport.unread, `GET / HTTP/1.1\r\n${big}`);
});

first('a v2 LOCAL health check over HTTP is handed over as a health check', () => {
  const server = fakeServer();
  const { transport } = server.connect();
  transport.send(Buffer.concat([v2Local(), b('GET /health HTTP/1.1\r\n\r\n')]));
  assert.ok(server.handOffs[0].healthCheck);
});

first('--http off, or a first line that is not a request line: echoed', () => {
  const off = run({ http: false }, [Buffer.concat([V1, b('GET / HTTP/1.1\r\n')])]);
  assert.is(off.written, 'GET / HTTP/1.1\r\n');
  const plain = run({}, [Buffer.concat([V1, b('GET /\r\nGET / HTTP/1.1\r\n')])]);
  assert.is(plain.written, 'GET /\r\nGET / HTTP/1.1\r\n');
  assert.is(plain.handedOver, null);
});

first('a request line longer than --max-line is refused, not handed over', () => {
  const line = 'GET /0123456789 HTTP/1.1';
  for (const chunks of [[`${line}\r\n`], ['GET /0123', `456789 HTTP/1.1\r\n`]]) {
    const out = run({ maxLine: line.length - 1 }, [V1, ...chunks.map(b)]);
    assert.is(out.written, told(`line longer than ${line.length - 1} bytes`));
    assert.is(out.handedOver, null);
    const fits = run({ maxLine: line.length }, [V1, ...chunks.map(b)]);
    assert.is(fits.state, HTTP_HEAD);
  }
});

first('phases: header → first line → echo', () => {
  const server = fakeServer();
  const { transport, conn } = server.connect();
  assert.is(conn.state, AWAIT_HEADER);
  transport.send(V1);
  assert.is(conn.state, FIRST_LINE);
  transport.send(b('he'));
  assert.is(conn.state, FIRST_LINE);
  transport.send(b('llo\n'));
  assert.is(conn.state, ECHO);
  assert.is(transport.output(), 'hello\n');
});

first('greeting, HTTP possible: sent after 250 ms of silence after the header, not before', () => {
  const server = fakeServer({ greeting: true });
  const { transport, conn } = server.connect();
  transport.send(V1);
  server.advance(249);
  assert.is(transport.output(), '');
  server.advance(1);
  assert.is(transport.output(), GREETING);
  assert.is(conn.state, ECHO);
  // Greeted: a request line is an echo line now.
  transport.send(b('GET / HTTP/1.1\r\n'));
  assert.is(transport.output(), `${GREETING}GET / HTTP/1.1\r\n`);
  assert.is(server.handOffs.length, 0);
});

first('greeting: a first line begun waits for its end; the greeting goes before its echo', () => {
  const server = fakeServer({ greeting: true });
  const { transport } = server.connect();
  transport.send(Buffer.concat([V1, b('hel')]));
  server.advance(1000);
  assert.is(transport.output(), '');
  transport.send(b('lo\n'));
  assert.equal(transport.writes, [GREETING, 'hello\n']);
});

first('greeting: an HTTP client never sees it; with --http off it goes out at once', () => {
  const http = run({ greeting: true }, [V1, b('GET / HTTP/1.1\r\n\r\n')]);
  assert.is(http.written, '');
  assert.is(http.state, HTTP);
  const server = fakeServer({ greeting: true, http: false, upper: true });
  const { transport } = server.connect();
  transport.send(V1);
  assert.is(
    transport.output(),
    GREETING.replace('lines come back', 'lines come back in upper case'),
  );
});

first('greeting: before the refusal of an over-long first line, not before q', () => {
  const long = run({ greeting: true, maxLine: 3 }, [Buffer.concat([V1, b('abcd\n')])]);
  assert.is(long.written, `${GREETING}${told('line longer than 3 bytes')}`);
  const quit = run({ greeting: true }, [Buffer.concat([V1, b('q\n')])]);
  assert.is(quit.written, GREETING);
});

first.run();

// ---------------------------------------------------------------------------------------------

const tlsFirst = suite('TLS after the header: the first byte decides');

const TLS_VIEW = { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', sni: 'localhost' };
const CLEAR = b('hi\n');

// [what comes after the header, --tls, handed to TLS, the phase after, what the client got]
const DECISIONS: ReadonlyArray<readonly [string, 'auto' | 'require', boolean, number, string]> = [
  ['a ClientHello, --tls auto', 'auto', true, TLS_HANDSHAKE, ''],
  ['a ClientHello, --tls require', 'require', true, TLS_HANDSHAKE, ''],
  ['a clear line, --tls auto', 'auto', false, ECHO, 'hi\n'],
  [
    'a clear line, --tls require',
    'require',
    false,
    CLOSING,
    told('this port expects TLS after the PROXY header'),
  ],
];

for (const [what, mode, taken, phase, written] of DECISIONS) {
  const first = what.startsWith('a ClientHello') ? CLIENT_HELLO_START : CLEAR;
  for (const together of [true, false]) {
    tlsFirst(`${what}, ${together ? "in the header's read" : 'in a read of its own'}`, () => {
      const server = fakeServer({ tls: mode });
      const { transport, conn } = server.connect();
      if (together) transport.send(Buffer.concat([V1, first]));
      else {
        transport.send(V1);
        transport.send(first);
      }
      assert.is(conn.state, phase);
      assert.is(transport.output(), written);
      assert.is(server.tlsTakes.length, taken ? 1 : 0);
      if (!taken) return;
      // The bytes go to node:tls as they came (a copy: the read's memory is reused), the
      // connection leaves the clear transport for the TLS one.
      assert.is(server.tlsTakes[0]!.unread, first.toString('latin1'));
      assert.is(transport.events, null);
      assert.is(conn.transport, server.tlsTakes[0]!.transport);
      assert.equal(server.metrics.rejects, {});
    });
  }
}

tlsFirst('after the handshake: the first line again, over TLS; a 0x16 now is data', () => {
  const server = fakeServer({ tls: 'require', http: false });
  const { transport, conn } = server.connect();
  transport.send(Buffer.concat([V1, CLIENT_HELLO_START]));
  const take = server.tlsTakes[0]!;
  take.owner.onSecure(TLS_VIEW);
  assert.is(conn.state, FIRST_LINE);
  assert.ok(
    server
      .logs()
      .includes(
        'info tls client=203.0.113.7:51000 version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 sni=localhost',
      ),
    server.logs().join('\n'),
  );
  take.transport.send(Buffer.from([0x16, 0x0a]));
  assert.is(conn.state, ECHO);
  assert.is(take.transport.output(), '\x16\n');
  assert.is(server.tlsTakes.length, 1);
});

tlsFirst(
  'after the handshake: the greeting and the HTTP answer show the TLS, the header kept',
  () => {
    const greeted = fakeServer({ tls: 'auto', greeting: true });
    const one = greeted.connect();
    one.transport.send(V1);
    one.transport.send(CLIENT_HELLO_START);
    greeted.tlsTakes[0]!.owner.onSecure(TLS_VIEW);
    greeted.advance(250);
    assert.is(
      greeted.tlsTakes[0]!.transport.output(),
      GREETING.replace(
        '; lines come back',
        ' over TLSv1.3 TLS_AES_256_GCM_SHA384, SNI localhost; lines come back',
      ),
    );
    assert.is(one.transport.output(), '', 'nothing in clear');

    const asked = fakeServer({ tls: 'auto' });
    const two = asked.connect();
    two.transport.send(Buffer.concat([V1, CLIENT_HELLO_START]));
    asked.tlsTakes[0]!.owner.onSecure(TLS_VIEW);
    asked.tlsTakes[0]!.transport.send(b('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    assert.is(two.conn.state, HTTP);
    const { view } = asked.handOffs[0]!;
    assert.equal(view.tls, TLS_VIEW);
    assert.is(view.client, '203.0.113.7:51000');
    assert.is(view.proxy?.version, 1);
  },
);

tlsFirst('a greeting sent on silence does not decide: the first byte after it still does', () => {
  for (const [first, taken] of [
    [CLIENT_HELLO_START, 1],
    [CLEAR, 0],
  ] as const) {
    const server = fakeServer({ tls: 'auto', greeting: true });
    const { transport, conn } = server.connect();
    transport.send(V1);
    server.advance(250);
    assert.is(transport.output(), GREETING);
    transport.send(first);
    (conn.transport as FakeTransport).send(CLIENT_HELLO_START); // never a second decision
    assert.is(server.tlsTakes.length, taken);
    assert.is(conn.state, taken === 1 ? TLS_HANDSHAKE : ECHO);
  }
});

tlsFirst('a handshake is held to the header timeout, then destroyed, not lingering', () => {
  const server = fakeServer({ tls: 'auto', headerTimeoutMs: 5000, idleTimeoutMs: 60_000 });
  const { transport, conn } = server.connect();
  transport.send(Buffer.concat([V1, CLIENT_HELLO_START]));
  server.advance(4999);
  assert.is(conn.state, TLS_HANDSHAKE);
  server.advance(1);
  assert.ok(server.tlsTakes[0]!.transport.destroyed);
  assert.is(server.ctx.connections.size, 0);
  assert.equal(server.metrics.rejects, { 'tls-handshake-timeout': 1 });
});

tlsFirst('a handshake that fails after it was done, or twice, is not refused again', () => {
  const server = fakeServer({ tls: 'auto' });
  const { transport, conn } = server.connect();
  transport.send(Buffer.concat([V1, CLIENT_HELLO_START]));
  const { owner } = server.tlsTakes[0]!;
  owner.onTlsFailure('bad', 'bad');
  owner.onTlsFailure('bad', 'bad');
  owner.onSecure(TLS_VIEW);
  assert.is(conn.state, CLOSING);
  assert.equal(server.metrics.rejects, { 'tls-handshake': 1 });
});

tlsFirst.run();

// ---------------------------------------------------------------------------------------------

const deadlines = suite('deadlines, on the sweep');

deadlines('the header timeout counts from the first byte, not from the connect', () => {
  const server = fakeServer({ headerTimeoutMs: 5000, idleTimeoutMs: 60_000 });
  const { transport, conn } = server.connect();
  server.advance(30_000);
  transport.send(V1.subarray(0, 5));
  server.advance(4999);
  assert.is(conn.state, AWAIT_HEADER);
  server.advance(1);
  assert.is(conn.state, CLOSING);
  assert.equal(server.metrics.rejects, { 'header-timeout': 1 });
});

// Progress puts off the idle timeout: [what, opening bytes, progress, the phase it keeps].
const PROGRESS: ReadonlyArray<readonly [string, string, (t: FakeTransport) => void, number]> = [
  ['an echoed line', 'a\n', (t) => t.send(b('b\n')), ECHO],
  ['a drained echo', 'a\n', (t) => t.events!.onDrain(), ECHO],
  ['a first line coming in pieces', 'GET', (t) => t.send(b(' / HT')), FIRST_LINE],
];

for (const [what, opening, progress, phase] of PROGRESS) {
  deadlines(`${what} puts off the idle timeout`, () => {
    const server = fakeServer({ idleTimeoutMs: 10_000 });
    const { transport, conn } = server.connect();
    transport.send(Buffer.concat([V1, b(opening)]));
    server.advance(9000);
    progress(transport);
    server.advance(9000);
    assert.is(conn.state, phase);
    server.advance(1000);
    assert.is(conn.state, CLOSING);
    assert.equal(server.metrics.rejects, { 'idle-timeout': 1 });
  });
}

deadlines('a refused connection that lingers is destroyed after --linger', () => {
  const server = fakeServer({ lingerMs: 2000 });
  const { transport } = server.connect();
  transport.send(b('nope\n'));
  server.advance(1999);
  assert.not.ok(transport.destroyed);
  server.advance(1);
  assert.ok(transport.destroyed);
  assert.match(server.logs().at(-1)!, /^warn reject /);
});

deadlines.run();

// ---------------------------------------------------------------------------------------------

const splits = suite('any split of the same bytes: the same writes, logs and counts');

/** A deterministic PRNG (mulberry32), so a failure names a seed that reproduces it. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const randomBytes = (next: () => number, n: number) =>
  Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256)));

/** Named byte streams and the server each goes to. */
const SCRIPTS: ReadonlyArray<readonly [string, FakeOptions, Buffer]> = [
  ['v1, lines, q', {}, Buffer.concat([V1, b('hi\r\nthere\n\r\nq\r\nafter\n')])],
  [
    'v2 with TLVs, HTTP request',
    {},
    Buffer.concat([v2PrivateLink(), b('GET / HTTP/1.1\r\nHost: a\r\n\r\n')]),
  ],
  ['v2 over IPv6, lines', {}, Buffer.concat([v2(), b('one\ntwo\r\nq\r\n')])],
  ['greeting, then lines', { greeting: true }, Buffer.concat([V1, b('hello\r\nq\n')])],
  ['greeting, HTTP request', { greeting: true }, Buffer.concat([V1, b('HEAD / HTTP/1.0\n\n')])],
  ['--max-line 4', { maxLine: 4 }, Buffer.concat([V1, b('abcd\r\nabcde\r\n')])],
  ['upper case', { upper: true }, Buffer.concat([V1, b('MiXeD\nq\n')])],
  ['optional, a header', { policy: 'optional' }, Buffer.concat([V1, b('x\n')])],
  ['optional, PROXIMITY is data', { policy: 'optional' }, b('PROXIMITY\r\nPRO\nq\n')],
  ['off', { policy: 'off' }, Buffer.concat([V1, b('y\n')])],
  ['a bad header', {}, b('PROXY TCP4 1.2.3.4 nonsense\r\n')],
  ['no header, an HTTP request', {}, b('GET / HTTP/1.1\r\nHost: a\r\n\r\n')],
  ['no header, a POST', {}, b('POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nx')],
  ['no header, capitals and no space', {}, b('ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n')],
  ['random bytes as the header', {}, randomBytes(random(1), 64)],
  [
    'random bytes after the header',
    { maxLine: 40 },
    Buffer.concat([V1, randomBytes(random(2), 300)]),
  ],
  ['random bytes, policy off', { policy: 'off', maxLine: 40 }, randomBytes(random(3), 300)],
];

/** The same bytes cut at `cuts` (ascending offsets). */
function cutAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(from, cut));
    from = cut;
  }
  return chunks.filter((chunk) => chunk.length > 0);
}

for (const [name, options, bytes] of SCRIPTS) {
  splits(name, () => {
    const whole = run(options, [bytes]);
    assert.is(whole.rejects['internal-error'], undefined);
    for (let cut = 1; cut < bytes.length; cut++)
      assert.equal(run(options, cutAt(bytes, [cut])), whole, `cut at ${cut}`);
    const next = random(bytes.length);
    for (let round = 0; round < 100; round++) {
      const cuts = [
        ...new Set(
          Array.from(
            { length: 1 + Math.floor(next() * 8) },
            () => 1 + Math.floor(next() * (bytes.length - 1)),
          ),
        ),
      ].sort((x, y) => x - y);
      assert.equal(run(options, cutAt(bytes, cuts)), whole, `cut at ${cuts.join(', ')}`);
    }
    // One byte per read: the slowest client.
    assert.equal(
      run(
        options,
        cutAt(
          bytes,
          Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
        ),
      ),
      whole,
    );
  });
}

splits.run();
