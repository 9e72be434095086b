// What the server's log lines say about a client, as text and JSON lines would show it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildProxyHeader, createEchoServer, createLogger } from '../../src/index.ts';
import { MemorySink } from '../../src/log.ts';
import { TestClient } from '../helpers/socket.ts';
import { eventually } from './harness.ts';

/** A v2 header for a client on a UNIX socket (paths as a sender would put them). */
function unixHeader(source: string, destination: string): Buffer {
  return Buffer.from(
    buildProxyHeader({
      version: 2,
      command: 'proxy',
      protocol: 'UNIX_STREAM',
      source: { address: source, port: 0 },
      destination: { address: destination, port: 0 },
    }),
  );
}

for (const format of ['text', 'json'] as const)
  test(`${format}: a UNIX client is logged as unix:PATH, escaped; a path never reads as an IP`, async () => {
    const sink = new MemorySink();
    const echo = createEchoServer({ logger: createLogger({ format, sink }) });
    const { port } = await echo.listen({ port: 0, host: '127.0.0.1' });
    try {
      const client = await TestClient.connect(port);
      client.write(unixHeader('1.2.3.4', '/run/a\u2028b\u202ec.sock'));
      client.write('ping\n');
      assert.is((await client.readBytes(5)).toString(), 'ping\n');
      await eventually(() => sink.lines.some((l) => l.includes('open')), 'open line');
      const line = sink.lines.find((l) => l.includes('open')) ?? '';
      assert.is(line.indexOf('\n'), line.length - 1, 'exactly one line');
      assert.not.match(line, /[\u2028\u202e]/);
      if (format === 'json') {
        const open = JSON.parse(line);
        assert.is(open.client, 'unix:1.2.3.4');
        assert.is(open.to, 'unix:/run/a\u2028b\u202ec.sock');
      } else {
        assert.match(line, / open client=unix:1\.2\.3\.4 via=/);
        assert.match(line, / to="unix:\/run\/a\\u2028b\\u202ec\.sock" /);
      }
      client.destroy();
    } finally {
      await echo.close(0);
    }
  });

test.run();
