// `--max-connections auto`: the open-file limit read from /proc, less what the server keeps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServerConfigError } from '../../src/server/errors.ts';
import { connectionBudget, HEADROOM, openFilesLimit } from '../../src/server/descriptors.ts';

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

test.run();
