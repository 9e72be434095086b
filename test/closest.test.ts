// "Did you mean …?": the nearest known name, or none when nothing is near.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closest, editDistance } from '../src/closest.ts';

test('editDistance: inserts, deletes, replacements and swaps of neighbours cost one each', () => {
  for (const [a, b, d] of [
    ['greeting', 'greeting', 0],
    ['greetng', 'greeting', 1],
    ['greetinng', 'greeting', 1],
    ['greetimg', 'greeting', 1],
    ['gerreting', 'greeting', 2],
    ['prot', 'port', 1],
    ['', 'port', 4],
    ['abc', '', 3],
  ] as const) {
    assert.is(editDistance(a, b), d, `${a} ${b}`);
    assert.is(editDistance(b, a), d, `${b} ${a}`);
  }
});

test('closest: the nearest candidate within a third of its length, else null', () => {
  const flags = ['port', 'host', 'greeting', 'max-line', 'max-connections', 'trust'];
  assert.is(closest('greetng', flags), 'greeting');
  assert.is(closest('max-lines', flags), 'max-line');
  assert.is(closest('trsut', flags), 'trust');
  assert.is(closest('bogus', flags), null);
  assert.is(closest('x', flags), null);
  assert.is(closest('port', []), null);
});
test.run();
