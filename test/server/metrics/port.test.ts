// The metrics port under clients that misbehave: silent, dribbling, pipelining, too many. Each
// case has a bound on time and count, checked from the client's side.
import diagnostics from 'node:diagnostics_channel';
import { connect as netConnect, type default as net } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Health } from '../../../src/server/health.ts';
import { Metrics } from '../../../src/server/metrics/metrics.ts';
import {
  type HealthSwitch,
  type ProcessReport,
  startMetricsServer,
} from '../../../src/server/metrics/port.ts';
import { METRICS_LIMITS, type MetricsLimits } from '../../../src/server/metrics/limits.ts';
import { TestClient } from '../../helpers/socket.ts';

const LIMITS: MetricsLimits = {
  connections: 4,
  lifetimeMs: 300,
  headBytes: 1024,
  lingerMs: 200,
  lingerBytes: 1024 * 1024,
};
const REPORT: ProcessReport = {
  snapshot: new Metrics().snapshot(),
  loopDelay: { p50: 0, p99: 0, max: 0, sum: 0, count: 0 },
};

/** A switch over `health` that notes who asked for what. */
function switchOver(health: Health, asked: string[]): HealthSwitch {
  return {
    get state() {
      return health.state;
    },
    switchTo(state, by) {
      asked.push(`${state} by ${by}`);
      return health.set(state);
    },
  };
}

async function withServer(
  run: (port: number, scrapes: () => number) => Promise<void>,
  limits = LIMITS,
  gather: () => Promise<ProcessReport[]> = async () => [REPORT],
  health: HealthSwitch = switchOver(new Health(), []),
): Promise<void> {
  let scrapes = 0;
  const collect = () => {
    scrapes++;
    return gather();
  };
  const server = await startMetricsServer(0, '127.0.0.1', collect, health, limits);
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

test('the health switch: POST /health/fail and /health/ok, GET /health and /healthz say the state', async () => {
  const health = new Health();
  const asked: string[] = [];
  await withServer(
    async (port) => {
      const rows: Array<[request: string, status: number, body: string, state: string]> = [
        ['GET /health HTTP/1.1\r\n\r\n', 200, 'ok\n', 'ok'],
        ['POST /health/fail HTTP/1.1\r\n\r\n', 200, 'failing\n', 'failing'],
        ['GET /health HTTP/1.1\r\n\r\n', 503, 'failing\n', 'failing'],
        ['GET /healthz HTTP/1.1\r\n\r\n', 503, 'failing\n', 'failing'],
        ['POST /health/fail HTTP/1.1\r\n\r\n', 200, 'failing\n', 'failing'],
        ['GET /health/ok HTTP/1.1\r\n\r\n', 405, 'method not allowed: POST\n', 'failing'],
        ['POST /health HTTP/1.1\r\n\r\n', 405, 'method not allowed\n', 'failing'],
        ['POST /health/ok HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello', 200, 'ok\n', 'ok'],
        ['GET /healthz HTTP/1.1\r\n\r\n', 200, 'ok\n', 'ok'],
      ];
      for (const [request, status, body, state] of rows) {
        const client = await TestClient.connect(port);
        client.write(request);
        const text = (await client.waitClose()).toString();
        assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `), request);
        assert.ok(text.endsWith(`\r\n\r\n${body}`), `${request}: ${text}`);
        if (status === 405) assert.match(text, /\r\nallow: /);
        assert.is(health.state, state, request);
      }
      assert.equal(
        asked.map((line) => line.replace(/:\d+$/, '')),
        ['failing by 127.0.0.1', 'failing by 127.0.0.1', 'ok by 127.0.0.1'],
        'each switch names its peer',
      );
      health.set('draining');
      const client = await TestClient.connect(port);
      client.write('POST /health/ok HTTP/1.1\r\n\r\n');
      assert.match(
        (await client.waitClose()).toString(),
        /^HTTP\/1\.1 409 [\s\S]*\r\n\r\ndraining\n$/,
      );
      assert.is(health.state, 'draining');
    },
    LIMITS,
    undefined,
    switchOver(health, asked),
  );
});

test('a scrape carries the health gauge', async () => {
  const health = new Health();
  await withServer(
    async (port) => {
      const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(await scrape(), /^elb_proxy_echo_health 1$/m);
      health.set('failing');
      assert.match(await scrape(), /^elb_proxy_echo_health 0$/m);
    },
    LIMITS,
    undefined,
    switchOver(health, []),
  );
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
    client.write(`GET /metrics HTTP/1.1\r\nx: ${'a'.repeat(5000)}\r\n\r\n`);
    await client.waitClose();
    assert.match(client.received.toString(), /^HTTP\/1\.1 431 /);
    assert.is(scrapes(), 0);
  });
});

test('a client still writing when refused gets its 431, then a FIN, not a reset', async () => {
  await withServer(async (port) => {
    for (let round = 0; round < 10; round++) {
      const socket = netConnect(port, '127.0.0.1');
      let received = '';
      let error: string | null = null;
      socket.setEncoding('latin1').on('data', (s: string) => (received += s));
      socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
      const closed = new Promise((r) => socket.once('close', r));
      socket.write('GET /metrics HTTP/1.1\r\nx: ');
      const filler = Buffer.alloc(16 * 1024, 'a');
      // An endless header (bounded here: 512 KiB), written until the server's answer ends it.
      for (
        let sent = 0;
        sent < 512 * 1024 && socket.writable && received === '';
        sent += filler.length
      )
        if (!socket.write(filler)) await new Promise((r) => setTimeout(r, 1));
      await closed;
      assert.match(received, /^HTTP\/1\.1 431 /, `round ${round}`);
      assert.is(error, null, `round ${round}`);
    }
  });
});

test('a refused client that neither closes nor stops writing is closed after the linger', async () => {
  await withServer(
    async (port) => {
      // Half-open: it keeps writing after the server's FIN.
      const socket = netConnect({ port, host: '127.0.0.1', allowHalfOpen: true });
      let received = '';
      socket.setEncoding('latin1').on('data', (s: string) => (received += s));
      socket.on('error', () => {});
      const start = Date.now();
      const closed = new Promise((r) => socket.once('close', r));
      socket.write(`GET /metrics HTTP/1.1\r\nx: ${'a'.repeat(2000)}`);
      const dribble = setInterval(() => socket.writable && socket.write('a'), 20);
      try {
        await closed;
        const took = Date.now() - start;
        assert.match(received, /^HTTP\/1\.1 431 /);
        assert.ok(took >= LIMITS.lingerMs - 20 && took < 1000, `closed after ${took} ms`);
      } finally {
        clearInterval(dribble);
        socket.destroy();
      }
    },
    { ...LIMITS, lifetimeMs: 5000 },
  );
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

/** The heap the process holds (used and reserved) after a full collection. */
function heapAfterGc(): number {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapTotal;
}

test('8 clients pipelining 5000 scrapes each without reading cost 8 requests, not thousands', async () => {
  // node:http announces every request it parses here, answered or not.
  let parsed = 0;
  const count = () => void parsed++;
  diagnostics.subscribe('http.server.request.start', count);
  await withServer(
    async (port, scrapes) => {
      const before = heapAfterGc();
      const clients = await Promise.all(Array.from({ length: 8 }, () => TestClient.connect(port)));
      for (const client of clients) {
        client.socket.pause();
        client.write('GET /metrics HTTP/1.1\r\n\r\n'.repeat(5000));
      }
      // Until every first scrape is answered (a loaded machine may take seconds, well within the
      // 5 s lifetime), then a little longer for the server to read and parse whatever it will.
      for (let waited = 0; scrapes() < 8 && waited < 4000; waited += 50)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 200));
      const grown = heapAfterGc() - before;
      assert.ok(
        clients.every((c) => !c.closed),
        'all still connected while measured',
      );
      assert.is(scrapes(), 8);
      assert.is(parsed, 8);
      assert.ok(grown < 16 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MB`);
      for (const client of clients) client.destroy();
    },
    { ...LIMITS, connections: 8, lifetimeMs: 5000 },
  ).finally(() => diagnostics.unsubscribe('http.server.request.start', count));
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

test('a scrape split at every byte, with more pipelined behind it, is answered once', async () => {
  const scrape = 'GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n';
  const bytes = scrape + scrape.repeat(3);
  await withServer(
    async (port, scrapes) => {
      for (let cut = 1; cut < scrape.length + 2; cut++) {
        const client = await TestClient.connect(port);
        client.write(bytes.slice(0, cut));
        await new Promise((r) => setTimeout(r, 2));
        client.write(bytes.slice(cut));
        await client.waitClose(1000);
        const text = client.received.toString();
        assert.is(text.match(/HTTP\/1\.1 /g)?.length, 1, `cut at ${cut}`);
        assert.match(text, /^HTTP\/1\.1 200 OK\r\n/, `cut at ${cut}`);
        assert.is(scrapes(), cut, `cut at ${cut}`);
      }
    },
    { ...LIMITS, lifetimeMs: 2000 },
  );
});

test('random bytes before a line feed get 400 or a close, never a scrape', async () => {
  await withServer(async (port, scrapes) => {
    for (let i = 0; i < 20; i++) {
      const client = await TestClient.connect(port);
      const noise = Buffer.from(Array.from({ length: 64 }, () => Math.floor(Math.random() * 256)));
      // A leading space is never valid in a request line: node:http must refuse the head.
      client.write(Buffer.concat([Buffer.from(' '), noise, Buffer.from('\r\n\r\n')]));
      await client.waitClose(1000);
      assert.match(client.received.toString('latin1'), /^(HTTP\/1\.1 400 |$)/);
    }
    assert.is(scrapes(), 0);
  });
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
