// The metrics port under clients that misbehave: silent, dribbling, pipelining, too many. Each
// case has a bound on time and count, checked from the client's side.
import type net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Metrics } from '../../src/server/metrics.ts';
import { type ProcessReport, startMetricsServer } from '../../src/server/metrics-http.ts';
import { METRICS_LIMITS, type MetricsLimits } from '../../src/server/metrics-limits.ts';
import { TestClient } from '../helpers/socket.ts';

const LIMITS: MetricsLimits = { connections: 4, lifetimeMs: 300, headBytes: 1024 };
const REPORT: ProcessReport = {
  snapshot: new Metrics().snapshot(),
  loopDelay: { p50: 0, p99: 0, max: 0, sum: 0, count: 0 },
};

async function withServer(
  run: (port: number, scrapes: () => number) => Promise<void>,
  limits = LIMITS,
  gather: () => Promise<ProcessReport[]> = async () => [REPORT],
): Promise<void> {
  let scrapes = 0;
  const collect = () => {
    scrapes++;
    return gather();
  };
  const server = await startMetricsServer(0, '127.0.0.1', collect, limits);
  try {
    await run((server.address() as net.AddressInfo).port, () => scrapes);
  } finally {
    server.close();
  }
}

/** Milliseconds until the server closes this client. */
async function closedAfter(client: TestClient): Promise<number> {
  const start = Date.now();
  await client.waitClose();
  return Date.now() - start;
}

test('the defaults are small: a handful of connections, a few seconds each', () => {
  assert.ok(METRICS_LIMITS.connections <= 16);
  assert.ok(METRICS_LIMITS.lifetimeMs <= 10_000);
});

test('a scrape is answered once, then the connection closes', async () => {
  await withServer(async (port, scrapes) => {
    const client = await TestClient.connect(port);
    client.write('GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n');
    await client.waitClose();
    const text = client.received.toString();
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nconnection: close\r\n/);
    assert.match(text, /\nelb_proxy_echo_connections_total 0\n/);
    assert.is(scrapes(), 1);
  });
});

test('/healthz, HEAD, an unknown path, a bad method and a request that is not HTTP', async () => {
  await withServer(async (port) => {
    const ask = async (request: string) => {
      const client = await TestClient.connect(port);
      client.write(request);
      await client.waitClose();
      return client.received.toString();
    };
    assert.match(
      await ask('GET /healthz HTTP/1.1\r\n\r\n'),
      /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok\n$/,
    );
    assert.match(
      await ask('HEAD /metrics HTTP/1.0\r\n\r\n'),
      /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n$/,
    );
    assert.match(await ask('GET /x HTTP/1.1\r\n\r\n'), /^HTTP\/1\.1 404 /);
    assert.match(await ask('POST /metrics HTTP/1.1\r\n\r\n'), /^HTTP\/1\.1 405 /);
    assert.match(await ask('hello\n\n'), /^HTTP\/1\.1 400 /);
  });
});

test('a silent connection is closed at the lifetime, not later', async () => {
  await withServer(async (port) => {
    const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(port)));
    const times = await Promise.all(clients.map(closedAfter));
    for (const ms of times) assert.ok(ms >= 250 && ms < 1500, `closed after ${ms} ms`);
  });
});

test('a request dribbled a byte at a time is cut off at the lifetime', async () => {
  await withServer(async (port, scrapes) => {
    const client = await TestClient.connect(port);
    const timer = setInterval(() => client.write('x'), 20);
    try {
      const ms = await closedAfter(client);
      assert.ok(ms < 1500, `closed after ${ms} ms`);
      assert.is(scrapes(), 0);
    } finally {
      clearInterval(timer);
    }
  });
});

test('a well-formed head dribbled a byte at a time is cut off at the lifetime', async () => {
  await withServer(async (port, scrapes) => {
    const client = await TestClient.connect(port);
    const head = `GET /metrics HTTP/1.1\r\nx: ${'a'.repeat(500)}`;
    let sent = 0;
    const timer = setInterval(() => client.write(head[sent++ % head.length]), 10);
    try {
      const ms = await closedAfter(client);
      assert.ok(ms >= 250 && ms < 1500, `closed after ${ms} ms`);
      assert.ok(sent < head.length, 'the head never completed');
      assert.is(scrapes(), 0);
    } finally {
      clearInterval(timer);
    }
  });
});

test('a head longer than the limit gets 431 and a close, without a scrape', async () => {
  await withServer(async (port, scrapes) => {
    const client = await TestClient.connect(port);
    client.write(`GET /metrics HTTP/1.1\r\nx: ${'a'.repeat(2000)}\r\n\r\n`);
    await client.waitClose();
    assert.match(client.received.toString(), /^HTTP\/1\.1 431 /);
    assert.is(scrapes(), 0);
  });
});

test('1000 pipelined scrapes from a client that does not read run the handler once, then it is closed', async () => {
  await withServer(async (port, scrapes) => {
    const client = await TestClient.connect(port);
    client.socket.pause();
    client.write('GET /metrics HTTP/1.1\r\n\r\n'.repeat(1000));
    await new Promise((r) => setTimeout(r, 2 * LIMITS.lifetimeMs));
    assert.is(scrapes(), 1);
    // Reading again, it finds one answer and the close.
    client.socket.resume();
    await client.waitClose(1000);
    assert.is(client.received.toString().match(/HTTP\/1\.1 200/g)?.length ?? 0, 1);
  });
});

test('pipelined HTTP/1.0 keep-alive scrapes, sent while the first is still collecting, run the handler once', async () => {
  const slow = () => new Promise<ProcessReport[]>((r) => setTimeout(() => r([REPORT]), 100));
  await withServer(
    async (port, scrapes) => {
      const client = await TestClient.connect(port);
      const scrape = 'GET /metrics HTTP/1.0\r\nconnection: keep-alive\r\n\r\n';
      for (let i = 0; i < 5; i++) {
        client.write(scrape.repeat(200));
        await new Promise((r) => setTimeout(r, 10));
      }
      await client.waitClose(1000);
      assert.is(scrapes(), 1);
      assert.match(client.received.toString(), /^HTTP\/1\.1 200 OK\r\n/);
      assert.is(client.received.toString().match(/HTTP\/1\.1 /g)?.length, 1);
    },
    LIMITS,
    slow,
  );
});

test('a scrape whose collection fails gets 500 with the reason, then a close', async () => {
  const failing = () => Promise.reject(new Error('worker 2 did not answer'));
  await withServer(
    async (port) => {
      const client = await TestClient.connect(port);
      client.write('GET /metrics HTTP/1.1\r\n\r\n');
      await client.waitClose();
      const text = client.received.toString();
      assert.match(text, /^HTTP\/1\.1 500 /);
      assert.match(text, /\r\n\r\nmetrics unavailable: worker 2 did not answer\n$/);
    },
    LIMITS,
    failing,
  );
});

test('a scrape whose collection never ends is closed at the lifetime, unanswered', async () => {
  const never = () => new Promise<ProcessReport[]>(() => {});
  await withServer(
    async (port, scrapes) => {
      const client = await TestClient.connect(port);
      client.write('GET /metrics HTTP/1.1\r\n\r\n');
      const ms = await closedAfter(client);
      assert.ok(ms >= 250 && ms < 1500, `closed after ${ms} ms`);
      assert.is(scrapes(), 1);
      assert.is(client.received.length, 0);
    },
    LIMITS,
    never,
  );
});

test('beyond the connection cap, connections are closed at once', async () => {
  await withServer(
    async (port) => {
      const clients: TestClient[] = [];
      for (let i = 0; i < 12; i++) clients.push(await TestClient.connect(port));
      const open = () => clients.filter((c) => !c.closed).length;
      // The refused ones close as soon as the server accepts them, long before the lifetime.
      const until = Date.now() + 2000;
      while (open() > LIMITS.connections && Date.now() < until)
        await new Promise((r) => setTimeout(r, 10));
      assert.is(open(), LIMITS.connections);
      for (const c of clients) c.destroy();
    },
    { ...LIMITS, lifetimeMs: 5000 },
  );
});

test.run();
