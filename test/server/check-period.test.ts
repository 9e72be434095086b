import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkPeriod } from '../../src/server/check-period.ts';

test('a fifth of the shortest timeout, never under 20 ms nor over 1 s', () => {
  const rows: Array<[number, number]> = [
    [0, 20],
    [50, 20],
    [100, 20],
    [150, 30],
    [1003, 200],
    [2500, 500],
    [5000, 1000],
    [300_000, 1000],
  ];
  for (const [shortest, period] of rows) assert.is(checkPeriod(shortest), period, `${shortest} ms`);
});

test.run();
