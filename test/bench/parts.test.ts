// The bench's pure parts: latency percentiles, the balancer's headers, the chart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clientEndpoint, headerFor, sourceAddress } from '../../src/bench/addresses.ts';
import { barChart } from '../../src/bench/chart.ts';
import { Histogram } from '../../src/bench/histogram.ts';
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
    }
    seen.add(clientEndpoint(i).address);
  }
  assert.is(seen.size, 2000, 'every connection has its own client address');
  assert.is(headerFor('none', 1), null);
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
