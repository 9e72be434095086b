// TCP keepalive on accepted connections, read back from the kernel: `ss` shows the timer of the
// server's side of a loopback connection (Node has no getsockopt).
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createEchoServer } from '../../../src/index.ts';
import { TestClient } from '../../helpers/socket.ts';
import { ENGINE, v1 } from '../harness.ts';

/**
 * The timer `ss` shows for the server's end of the connection from `clientPort`: its kind and
 * the seconds left, or null when it has none.
 */
function serverTimer(port: number, clientPort: number): { kind: string; seconds: number } | null {
  const filter = `( sport = :${port} and dport = :${clientPort} )`;
  const row = execFileSync('ss', ['-tnoH', 'state', 'established', filter], {
    encoding: 'utf8',
  }).trim();
  assert.ok(row !== '', `no row for :${port} <-> :${clientPort}`);
  const timer = /timer:\((\w+),([^,]+),/.exec(row);
  return timer === null ? null : { kind: timer[1], seconds: ssSeconds(timer[2]) };
}

/** ss's time left: `1min`, `59sec`, `4.832ms` (4.832 s), `832ms`. */
function ssSeconds(text: string): number {
  const m = /^(?:(\d+)min)?(?:(\d+)(?:sec|\.))?(?:(\d+)ms)?$/.exec(text);
  assert.ok(m !== null, `ss timer ${text}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) + Number(m[3] ?? 0) / 1000;
}

assert.is(ssSeconds('1min'), 60);
assert.is(ssSeconds('59sec'), 59);
assert.is(ssSeconds('4.832ms'), 4.832);
assert.is(ssSeconds('832ms'), 0.832);

for (const [name, keepAliveMs, expected] of [
  ['the default: the first probe after a minute idle', undefined, 60],
  ['--keepalive 5s', 5000, 5],
  ['--keepalive off: no timer', 0, null],
] as const)
  test(`${ENGINE}: ${name}`, async () => {
    const echo = createEchoServer({ engine: ENGINE, keepAliveMs });
    const { port } = await echo.listen({ port: 0, host: '127.0.0.1' });
    try {
      const client = await TestClient.connect(port);
      client.write(Buffer.concat([v1(), Buffer.from('hi\r\n')]));
      assert.is((await client.readBytes(4)).toString(), 'hi\r\n');
      const timer = serverTimer(port, client.socket.localPort!);
      if (expected === null) assert.is(timer, null);
      else {
        assert.is(timer?.kind, 'keepalive');
        assert.ok(
          timer!.seconds > expected - 2 && timer!.seconds <= expected,
          `${timer!.seconds}s`,
        );
      }
      client.destroy();
    } finally {
      await echo.close(0);
    }
  });

test.run();
