// `--max-connections auto`: the open-file limit read from /proc, less what the server keeps.
import { closeSync, openSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServerConfigError } from '../../../src/server/errors.ts';
import { parseOptions } from '../../../src/options.ts';
import { toConfig } from '../../../src/serve-config.ts';
import { serveOptions } from '../../../src/serve-options.ts';
import {
  connectionBudget,
  HEADROOM,
  openFilesLimit,
  readConnectionBudget,
} from '../../../src/server/process/descriptors.ts';
import { METRICS_LIMITS } from '../../../src/server/metrics/limits.ts';

const limits = (soft: string, hard = soft) =>
  `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63419                63419                processes \nMax open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     \n`;

test('openFilesLimit reads the soft limit; unlimited or absent is null', () => {
  assert.is(openFilesLimit(limits('1024', '4096')), 1024);
  assert.is(openFilesLimit(limits('unlimited')), null);
  assert.is(openFilesLimit('Max processes 100 100 processes\n'), null);
  assert.is(openFilesLimit(''), null);
});

test('connectionBudget: the limit less the descriptors open at start and the headroom, at most the cap', () => {
  assert.equal(connectionBudget(64, 20, 10_000), {
    maxConnections: 64 - 20 - HEADROOM,
    limit: 64,
    reserved: 20 + HEADROOM,
    cap: 10_000,
  });
  assert.is(connectionBudget(1_048_576, 20, 10_000).maxConnections, 10_000);
  assert.is(connectionBudget(null, 20, 10_000).maxConnections, 10_000);
  assert.is(connectionBudget(20 + HEADROOM + 1, 20, 10_000).maxConnections, 1);
});

test('every descriptor open at start is reserved, such as those a launcher leaves open', () => {
  const before = readConnectionBudget(10_000).reserved;
  const held = [openSync('/dev/null', 'r'), openSync('/dev/null', 'r')];
  try {
    assert.is(readConnectionBudget(10_000).reserved, before + held.length);
  } finally {
    for (const fd of held) closeSync(fd);
  }
});

test('a limit that leaves no descriptor for connections is a usage error (exit 2 at start)', () => {
  assert.throws(
    () => connectionBudget(20 + HEADROOM, 20, 10_000),
    (error: Error) =>
      error instanceof ServerConfigError &&
      error.message.startsWith(
        `the open-file limit (${20 + HEADROOM}) leaves no descriptor for connections (the server keeps ${20 + HEADROOM} for itself)`,
      ),
  );
});

test('the metrics port and its connections are reserved too when it is on', () => {
  const extras: number[] = [];
  const budget = (extra: number) => {
    extras.push(extra);
    return connectionBudget(256, 20, 10_000, extra);
  };
  const off = toConfig(parseOptions(serveOptions, []).values, 1, budget);
  const on = toConfig(parseOptions(serveOptions, ['--metrics-port', '9100']).values, 1, budget);
  assert.equal(extras, [0, 1 + METRICS_LIMITS.connections]);
  assert.is(off.echo.maxConnections! - on.echo.maxConnections!, 1 + METRICS_LIMITS.connections);
  assert.is(on.connectionBudget?.reserved, 20 + HEADROOM + 1 + METRICS_LIMITS.connections);
  assert.is(on.metricsHost, '127.0.0.1');
});

test.run();
