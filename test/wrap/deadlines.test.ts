// One timer for every header deadline of a wrapped server: never early, at most a period late,
// nothing for a connection that is done or gone, and no timer left once nobody waits.
import { createHook } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkPeriod } from '../../src/server/check-period.ts';
import { Deadlines, type Waiting } from '../../src/wrap/deadlines.ts';

class Conn implements Waiting {
  since = 0;
  gone = false;
  readonly added = performance.now();
  expiredAfter: number | null = null;
}

function deadlines(timeoutMs: number) {
  const expired: Conn[] = [];
  const d = new Deadlines<Conn>(timeoutMs, (conn) => {
    conn.expiredAfter = performance.now() - conn.added;
    expired.push(conn);
  });
  return { d, expired };
}

/** Timers alive now, ref'd or not (Node's list of active resources leaves unref'd ones out). */
const live = new Set<number>();
createHook({
  init: (id, type) => void (type === 'Timeout' && live.add(id)),
  destroy: (id) => void live.delete(id),
}).enable();
const refd = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

const test = suite('deadlines');

test('each connection expires once, between its timeout and one period later', async () => {
  for (const timeoutMs of [1, 60, 150]) {
    const { d, expired } = deadlines(timeoutMs);
    const first = new Conn();
    d.add(first);
    await sleep(timeoutMs / 2);
    const second = new Conn(); // begins between two sweeps
    d.add(second);
    const late = timeoutMs + 2 * checkPeriod(timeoutMs) + 50;
    await sleep(late);
    assert.equal(expired, [first, second], `timeout ${timeoutMs} ms`);
    for (const conn of expired) {
      // setInterval may fire a millisecond early by performance.now()'s clock.
      assert.ok(conn.expiredAfter! >= timeoutMs - 1, `${conn.expiredAfter} ms`);
      assert.ok(conn.expiredAfter! <= late, `${conn.expiredAfter} ms`);
    }
  }
});

test('a connection done or gone before its deadline never expires', async () => {
  const { d, expired } = deadlines(40);
  const done = new Conn();
  const gone = new Conn();
  const waits = new Conn();
  for (const conn of [done, gone, waits]) d.add(conn);
  d.delete(done);
  gone.gone = true;
  await sleep(200);
  assert.equal(expired, [waits]);
});

test('the timer runs only while a connection waits, and holds no process open', async () => {
  const before = new Set(live);
  const refdBefore = refd();
  const { d } = deadlines(40);
  const conns = Array.from({ length: 50 }, () => new Conn());
  for (const conn of conns) d.add(conn);
  const made = [...live].filter((id) => !before.has(id));
  assert.is(made.length, 1, 'one timer for 50 connections');
  assert.is(refd(), refdBefore, 'unref: it keeps no process alive');
  for (const conn of conns) d.delete(conn);
  await sleep(60);
  assert.not.ok(live.has(made[0]), 'gone once nobody waits');
});

test.run();
