import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServerConfigError } from '../../src/server/errors.ts';
import { parseTrustList } from '../../src/server/trust.ts';

test('IPv4 and IPv6 ranges match the peers inside them only', () => {
  const trust = parseTrustList('10.0.0.0/16, 2001:db8::/32,192.0.2.7');
  assert.equal(trust.ranges, ['10.0.0.0/16', '2001:db8::/32', '192.0.2.7/32']);
  for (const inside of ['10.0.0.1', '10.0.255.254', '2001:db8::1', '2001:db8:ffff::', '192.0.2.7'])
    assert.ok(trust.allows(inside), inside);
  for (const outside of ['10.1.0.1', '2001:db9::1', '192.0.2.8', '::1', 'not-an-address', ''])
    assert.not.ok(trust.allows(outside), outside);
});

test('an IPv4-mapped IPv6 peer (dual-stack listener) matches IPv4 ranges', () => {
  const trust = parseTrustList('172.31.0.0/16');
  assert.ok(trust.allows('::ffff:172.31.1.237'));
  assert.not.ok(trust.allows('::ffff:172.32.1.237'));
});

test('/0 trusts a whole family', () => {
  const trust = parseTrustList('0.0.0.0/0');
  assert.ok(trust.allows('203.0.113.9'));
  assert.not.ok(trust.allows('2001:db8::1'));
});

test('bad entries are usage errors naming the entry', () => {
  for (const [raw, reason] of [
    ['10.0.0.0/33', /"10\.0\.0\.0\/33": the prefix length must be 0\.\.32/],
    ['2001:db8::/129', /0\.\.128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/-1', /prefix length/],
    ['10.0.0.256/8', /"10\.0\.0\.256\/8" is not an IPv4 or IPv6 address/],
    ['lb.example.com', /is not an IPv4 or IPv6/],
    ['fe80::1%eth0/64', /"fe80::1%eth0\/64" is not an IPv4 or IPv6 address/],
    ['10.0.0.0/8,,10.1.0.0/16', /empty entry/],
    ['', /empty entry/],
  ] as const) {
    assert.throws(
      () => parseTrustList(raw),
      (error: Error) => error instanceof ServerConfigError && reason.test(error.message),
      raw,
    );
  }
});

test.run();
