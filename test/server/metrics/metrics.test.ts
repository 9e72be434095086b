// What a scrape reads: the event-loop delay summary (cumulative: reading resets nothing), how
// workers' figures combine, and the primary's collection of reports from its workers.
import { EventEmitter } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startLoopDelayMonitor } from '../../../src/server/metrics/loop-delay.ts';
import type { ProcessReport } from '../../../src/server/metrics/port.ts';
import { Metrics, renderMetrics, worstLoopDelay } from '../../../src/server/metrics/metrics.ts';
import {
  reportCollector,
  type ReportingWorker,
} from '../../../src/server/process/report-collector.ts';
import { METRICS_REPLY, METRICS_REQUEST } from '../../../src/server/process/messages.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a stall stays visible to every scrape: reading does not reset the delay figures', async () => {
  const monitor = startLoopDelayMonitor();
  try {
    await sleep(60);
    const until = Date.now() + 150;
    while (Date.now() < until); // the stall
    await sleep(60);
    const first = monitor.read();
    const second = monitor.read();
    assert.ok(first.max >= 0.1, `max ${first.max}`);
    assert.ok(second.max >= first.max, 'a second read still sees the stall');
    assert.ok(second.count >= first.count && first.count > 0);
    assert.ok(second.sum >= 0.1, `sum ${second.sum}`);
  } finally {
    monitor.stop();
  }
});

test('the delay is a Prometheus summary with _sum and _count; workers: worst quantiles, sums added', () => {
  const a = { p50: 0.001, p99: 0.2, max: 0.3, sum: 1, count: 10 };
  const b = { p50: 0.002, p99: 0.1, max: 0.5, sum: 2, count: 5 };
  const both = worstLoopDelay([a, b]);
  assert.equal(both, { p50: 0.002, p99: 0.2, max: 0.5, sum: 3, count: 15 });
  assert.is(worstLoopDelay([]), null);
  const text = renderMetrics(new Metrics().snapshot(), both);
  assert.match(text, /^# TYPE elb_proxy_echo_event_loop_delay_seconds summary$/m);
  assert.match(text, /^elb_proxy_echo_event_loop_delay_seconds\{quantile="0\.99"\} 0\.2$/m);
  assert.match(text, /^elb_proxy_echo_event_loop_delay_seconds_sum 3$/m);
  assert.match(text, /^elb_proxy_echo_event_loop_delay_seconds_count 15$/m);
});

test('the health gauge: 1 while ok, 0 while failing or draining', () => {
  const snapshot = new Metrics().snapshot();
  assert.match(renderMetrics(snapshot, null), /^# TYPE elb_proxy_echo_health gauge$/m);
  assert.match(renderMetrics(snapshot, null, 1, true), /^elb_proxy_echo_health 1$/m);
  assert.match(renderMetrics(snapshot, null, 1, false), /^elb_proxy_echo_health 0$/m);
});

/** Workers that answer a metrics request on the next tick, through one shared emitter. */
function fakeWorkers(count: number, source: EventEmitter, silent: number[] = []) {
  return Array.from({ length: count }, (_, i): ReportingWorker => {
    const worker: ReportingWorker = {
      id: i + 1,
      isConnected: () => true,
      send(message: unknown) {
        const request = message as { type: string; id: number };
        assert.is(request.type, METRICS_REQUEST);
        if (silent.includes(worker.id)) return;
        const snapshot = new Metrics();
        snapshot.connectionsTotal = worker.id;
        const report: ProcessReport = {
          snapshot: snapshot.snapshot(),
          loopDelay: { p50: 0, p99: 0, max: 0, sum: 0, count: 1 },
        };
        setImmediate(() =>
          source.emit('message', worker, { type: METRICS_REPLY, id: request.id, report }),
        );
      },
    };
    return worker;
  });
}

test('50 concurrent scrapes over 4 workers: every scrape gets all 4 reports, one listener in all', async () => {
  const source = new EventEmitter();
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const workers = fakeWorkers(4, source);
    const collect = reportCollector(source, () => workers);
    const results = await Promise.all(Array.from({ length: 50 }, () => collect()));
    for (const reports of results)
      assert.equal(reports.map((r) => r.snapshot.connectionsTotal).sort(), [1, 2, 3, 4]);
    assert.is(source.listenerCount('message'), 1);
    await sleep(10);
    assert.equal(
      warnings.map((w) => w.name),
      [],
    );
  } finally {
    process.off('warning', onWarning);
  }
});

test('a worker that does not answer is left out after the wait', async () => {
  const source = new EventEmitter();
  const workers = fakeWorkers(3, source, [2]);
  const started = Date.now();
  const reports = await reportCollector(source, () => workers, 100)();
  assert.equal(reports.map((r) => r.snapshot.connectionsTotal).sort(), [1, 3]);
  assert.ok(Date.now() - started < 1000);
});

test.run();
