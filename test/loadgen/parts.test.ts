// The bench's pure parts: latency percentiles, the balancer's headers, the chart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clientEndpoint, headerFor, sourceAddress } from '../../src/loadgen/addresses.ts';
import { barChart } from '../../src/loadgen/chart.ts';
import { Histogram } from '../../src/loadgen/histogram.ts';
import { parseProxyHeader } from '../../src/protocol/index.ts';

test('histogram: exact below 128 µs, within 2% above, and merges across processes', () => {
  const h = new Histogram();
  for (let v = 1; v <= 100; v++) h.record(v);
  assert.is(h.percentile(0.5), 50);
  assert.is(h.percentile(0.99), 99);
  assert.is(h.max, 100);
  const wide = new Histogram();
  for (let i = 0; i < 1000; i++) wide.record(10_000 + i * 10); // 10 ms .. 20 ms
  const p90 = wide.percentile(0.9);
  assert.ok(Math.abs(p90 - 19_000) / 19_000 < 0.02, `p90 ${p90}`);
  const merged = new Histogram();
  merged.add(h.toData());
  merged.add(wide.toData());
  assert.is(merged.count, 1100);
  assert.is(merged.max, wide.max);
  assert.is(merged.percentile(0.05), 55);
});

test('headers: v1 and v2 parse back with distinct clients, IPv4 and IPv6 alternating', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    for (const kind of ['v1', 'v2'] as const) {
      const bytes = headerFor(kind, i)!;
      const parsed = parseProxyHeader(bytes);
      assert.is(parsed.status, 'ok', `${kind} #${i}`);
      if (parsed.status !== 'ok') return;
      assert.is(parsed.length, bytes.length);
      assert.is(parsed.header.protocol, i % 2 === 1 ? 'TCP6' : 'TCP4');
      assert.is(parsed.header.source!.address, clientEndpoint(i).address);
      assert.is(parsed.header.source!.port, clientEndpoint(i).port);
    }
    seen.add(clientEndpoint(i).address);
  }
  // 762 documentation IPv4 addresses, then they come round again (with other ports).
  assert.is(
    seen.size,
    1000 + 762,
    'every IPv6 client and the first 762 IPv4 ones have their own address',
  );
  assert.is(headerFor('none', 1), null);
});

/** Whether `address` is in 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 or 2001:db8::/32. */
function isDocumentation(address: string): boolean {
  return (
    /^(?:192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$/.test(address) || /^2001:db8:/.test(address)
  );
}

test('made-up clients name only documentation addresses (RFC 5737, RFC 3849), never a real host', () => {
  const indexes = [...Array.from({ length: 3000 }, (_, i) => i), 49_000_000, 2 ** 31 - 1];
  for (const index of indexes) {
    const { address, port } = clientEndpoint(index);
    assert.ok(isDocumentation(address), `#${index}: ${address}`);
    assert.not.match(address, /\.(?:0|255)$/, `#${index}: a network or broadcast address`);
    assert.ok(port >= 1024 && port <= 65_534, `#${index}: port ${port}`);
  }
});

test('no two of the first 300,000 clients share an address and port', () => {
  const endpoints = new Set<string>();
  for (let i = 0; i < 300_000; i++) {
    const { address, port } = clientEndpoint(i);
    endpoints.add(`${address} ${port}`);
  }
  assert.is(endpoints.size, 300_000);
});

test('source addresses: none chosen while the ports of 127.0.0.1 suffice, then 5,000 clients each on 127.0.0.2, .3, …', () => {
  assert.is(sourceAddress('127.0.0.1', 0, 1000), undefined);
  assert.is(sourceAddress('127.0.0.1', 0, 50_000), '127.0.0.2');
  assert.is(sourceAddress('127.0.0.1', 4_999, 50_000), '127.0.0.2');
  assert.is(sourceAddress('127.0.0.1', 5_000, 50_000), '127.0.0.3');
  assert.is(sourceAddress('127.0.0.1', 49_999, 50_000), '127.0.0.11');
  assert.is(
    sourceAddress('my-lb-1234.elb.us-east-1.amazonaws.com', 30_000, 50_000),
    undefined,
    'never for a remote target',
  );
  assert.is(sourceAddress('10.0.0.5', 30_000, 50_000), undefined);
});

test('chart: one bar per server, longest for the largest value, labels escaped', () => {
  const svg = barChart('a <b>', [
    {
      title: 'lines/s',
      bars: [
        { label: 'ours', value: 200 },
        { label: 'raw & co', value: 100 },
      ],
    },
  ]);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.match(svg, /a &lt;b&gt;/);
  assert.match(svg, /raw &amp; co/);
  const widths = [...svg.matchAll(/<rect x="\d+" y="\d+" width="([\d.]+)"/g)].map((m) =>
    Number(m[1]),
  );
  assert.equal(widths, [440, 220]);
});

test.run();
