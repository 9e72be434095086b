// src/serve.ts in-process: which socket systemd's activation variables give the server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../src/options.ts';
import { activatedFd } from '../src/serve.ts';

test('activatedFd: fd 3 when LISTEN_PID is this process and LISTEN_FDS=1', () => {
  assert.is(activatedFd({ LISTEN_PID: '42', LISTEN_FDS: '1' }, 42), 3);
  assert.is(activatedFd({ LISTEN_PID: '41', LISTEN_FDS: '1' }, 42), null, "another process's");
  assert.is(activatedFd({ LISTEN_FDS: '1' }, 42), null);
  assert.is(activatedFd({ LISTEN_PID: '42', LISTEN_FDS: '0' }, 42), null);
  assert.is(activatedFd({ LISTEN_PID: '42', LISTEN_FDS: 'x' }, 42), null);
});

test('activatedFd: LISTEN_FDS=2 is refused with one line saying what to change', () => {
  assert.throws(
    () => activatedFd({ LISTEN_PID: '42', LISTEN_FDS: '2' }, 42),
    (error: Error) =>
      error instanceof UsageError &&
      /^systemd passed 2 listening sockets \(LISTEN_FDS=2\); elb-proxy-echo serves one: give its socket unit a single ListenStream=/.test(
        error.message,
      ) &&
      !error.message.includes('\n'),
  );
  // Not ours to judge when the variables name another process.
  assert.is(activatedFd({ LISTEN_PID: '41', LISTEN_FDS: '2' }, 42), null);
});

test.run();
