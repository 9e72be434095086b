// --greeting over real sockets: one line before any echo, never in front of an HTTP answer.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hostname } from 'node:os';
import { TestClient } from '../../helpers/socket.ts';
import { v1, v2PrivateLink, withEcho } from '../harness.ts';

const b = (s: string) => Buffer.from(s, 'latin1');
const V1_GREETING = `elb-proxy-echo on ${hostname()}: you are 54.222.152.163:45418 (PROXY v1 from 127.0.0.1:`;

const greeting = suite('greeting');

greeting('header and first line together: the greeting, then the echo', () =>
  withEcho({ greeting: true }, async ({ port }) => {
    const client = await TestClient.connect(port);
    client.write(Buffer.concat([v1(), b('hello\r\n')]));
    const text = await client.readUntil(/hello\r\n$/);
    const [line, rest] = text.split(/(?<=\r\n)/);
    assert.ok(line.startsWith(V1_GREETING), line);
    assert.match(line, /\); lines come back, q quits\r\n$/);
    assert.is(rest, 'hello\r\n');
    client.destroy();
  }),
);

greeting('a header alone (Classic ELB at connect): the greeting follows a short silence', () =>
  withEcho({ greeting: true, idleTimeoutMs: 60_000, headerTimeoutMs: 1000 }, async ({ port }) => {
    const client = await TestClient.connect(port);
    client.write(v1());
    const line = await client.readUntil(/\r\n$/, 2000);
    assert.ok(line.startsWith(V1_GREETING), line);
    client.write('typed later\r\n');
    assert.is((await client.readUntil(/later\r\n$/)).slice(line.length), 'typed later\r\n');
    client.destroy();
  }),
);

greeting('--http off: the greeting goes at once, and a request line is echoed after it', () =>
  withEcho({ greeting: true, http: 'off' }, async ({ port }) => {
    const client = await TestClient.connect(port);
    client.write(v1());
    const line = await client.readUntil(/\r\n$/, 500);
    assert.ok(line.startsWith(V1_GREETING), line);
    client.write('GET / HTTP/1.1\r\n');
    assert.is((await client.readUntil(/HTTP\/1\.1\r\n$/)).slice(line.length), 'GET / HTTP/1.1\r\n');
    client.destroy();
  }),
);

greeting('v2 with TLVs names the VPC endpoint, authority and ALPN', () =>
  withEcho({ greeting: true }, async ({ port }) => {
    const header = v2PrivateLink();
    const client = await TestClient.connect(port);
    client.write(Buffer.concat([header, b('x\n')]));
    const text = await client.readUntil(/x\n$/);
    assert.match(
      text,
      /: you are 203\.0\.113\.9:50000 \(PROXY v2 from 127\.0\.0\.1:\d+, VPC endpoint vpce-08d2bf15fefb1a2fa, authority echo\.example\.com, ALPN h2\); /,
    );
    client.destroy();
  }),
);

greeting('no header (policy off): it says so; upper case is announced', () =>
  withEcho({ greeting: true, proxyProtocol: 'off', transform: 'upper' }, async ({ port }) => {
    const client = await TestClient.connect(port);
    client.write('abc\n');
    const text = await client.readUntil(/ABC\n$/);
    assert.match(
      text,
      /: you are 127\.0\.0\.1:\d+ \(no PROXY header\); lines come back in upper case, q quits\r\nABC\n$/,
    );
    client.destroy();
  }),
);

greeting('an HTTP client gets no greeting in front of its answer', () =>
  withEcho({ greeting: true }, async ({ port }) => {
    const client = await TestClient.connect(port);
    client.write(Buffer.concat([v1(), b('GET / HTTP/1.0\r\n\r\n')]));
    const text = (await client.waitClose()).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  }),
);

greeting('once greeted, a request line later is echoed: no HTTP answer after the greeting', () =>
  withEcho({ greeting: true, idleTimeoutMs: 60_000 }, async ({ echo, port }) => {
    const client = await TestClient.connect(port);
    client.write(v1());
    // A browser's pre-opened connection: the request comes after the greeting's silence.
    const line = await client.readUntil(/\r\n$/, 2000);
    assert.ok(line.startsWith(V1_GREETING), line);
    client.write('GET / HTTP/1.1\r\nHost: lb\r\n\r\n');
    const text = await client.readUntil(/Host: lb\r\n\r\n$/);
    assert.is(text.slice(line.length), 'GET / HTTP/1.1\r\nHost: lb\r\n\r\n');
    assert.equal(echo.metrics.http, {});
    client.destroy();
  }),
);

greeting('q as the first line: the greeting, then the close', () =>
  withEcho({ greeting: true }, async ({ port }) => {
    const client = await TestClient.connect(port);
    client.write(Buffer.concat([v1(), b('q\r\n')]));
    const text = (await client.waitClose()).toString('latin1');
    assert.ok(text.startsWith(V1_GREETING), text);
    assert.is(text.indexOf('\n'), text.length - 1, 'nothing after the greeting');
  }),
);

greeting('off by default: the echo is byte for byte', () =>
  withEcho({}, async ({ port }) => {
    const client = await TestClient.connect(port);
    client.write(v1());
    await new Promise((r) => setTimeout(r, 600));
    client.write('hello\r\nq\r\n');
    assert.is((await client.waitClose()).toString(), 'hello\r\n');
  }),
);

greeting.run();
