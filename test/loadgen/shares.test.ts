// How a run deals its clients to generator processes: every client to exactly one, evenly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { firstWave, share } from '../../src/loadgen/shares.ts';

test('share: small runs, contiguous ranges in order', () => {
  const rows: [clients: number, procs: number, shares: [number, number][]][] = [
    [10, 1, [[0, 10]]],
    [
      10,
      3,
      [
        [0, 3],
        [3, 3],
        [6, 4],
      ],
    ],
    [
      2,
      4,
      [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ],
    ],
  ];
  for (const [clients, procs, expected] of rows) {
    const got = Array.from({ length: procs }, (_, i) => share(clients, procs, i));
    assert.equal(
      got.map(({ first, count }) => [first, count]),
      expected,
      `${clients} clients over ${procs}`,
    );
  }
});

test('share: every client to exactly one generator, shares within one of each other', () => {
  for (let procs = 1; procs <= 17; procs++)
    for (let clients = 0; clients <= 200; clients += 7) {
      let next = 0;
      const counts: number[] = [];
      for (let i = 0; i < procs; i++) {
        const { first, count } = share(clients, procs, i);
        assert.is(first, next, `${clients}/${procs}: generator ${i} starts where the last ended`);
        next = first + count;
        counts.push(count);
      }
      assert.is(next, clients, `${clients}/${procs}: all clients dealt`);
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${clients}/${procs}: even`);
    }
});

test('firstWave: half of each share, rounded down; no processes counts as one', () => {
  assert.is(firstWave(10, 3), 1 + 1 + 2);
  assert.is(firstWave(10, 0), 5);
  assert.is(firstWave(1, 1), 0);
  assert.is(firstWave(7, 2), 1 + 2);
});

test.run();
