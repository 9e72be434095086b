// How `elb-proxy-echo bench` places our server before a run: a child process with enough
// workers when one process cannot hold every client's socket, and each change said in a setup line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { benchOptions } from '../../src/loadgen/index.ts';
import { serverPlan } from '../../src/loadgen/run-setup.ts';
import { parseOptions } from '../../src/options.ts';

const values = (...argv: string[]) => parseOptions(benchOptions, argv, {}).values;

test('clients that fit one process: the in-process server stays, with one worker', () => {
  const setup: string[] = [];
  const plan = serverPlan(values('--clients', '500', '--workers', '4'), 1000, setup);
  assert.equal(plan, { kind: 'in-process', workers: 1 });
  assert.equal(setup, []);
});

test('more clients than one process holds: a child with room for them all, each change said', () => {
  const setup: string[] = [];
  // 3,000 clients plus 10% room over workers of 1,000 sockets each: 4 workers.
  const plan = serverPlan(values('--clients', '3000', '--workers', '2'), 1000, setup);
  assert.equal(plan, { kind: 'src', workers: 4 });
  assert.is(setup.length, 2);
  assert.match(setup[0], /child process with workers: one process cannot hold 3000 connections/);
  assert.match(setup[1], /server workers raised to 4/);
});

test('a child with workers enough, or a remote target, is left as asked', () => {
  const setup: string[] = [];
  const args = ['--clients', '3000', '--server', 'dist', '--workers', '6'];
  assert.equal(serverPlan(values(...args), 1000, setup), { kind: 'dist', workers: 6 });
  const target = values('--clients', '3000', '--workers', '1', '--target', '127.0.0.1:9');
  assert.equal(serverPlan(target, 1000, setup), { kind: 'in-process', workers: 1 });
  assert.equal(setup, []);
});

test.run();
