// The words for a port that cannot be bound: what is wrong and what to do, per error code.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listenErrorText } from '../../../src/server/process/listen-error.ts';

const errno = (code: string) => Object.assign(new Error(code), { code });
const lowest = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));

test('a privileged port: root or CAP_NET_BIND_SERVICE, a higher port, or systemd for the echo port', () => {
  assert.ok(
    lowest > 80,
    `this test needs ports below 81 privileged (ip_unprivileged_port_start=${lowest})`,
  );
  assert.is(
    listenErrorText(errno('EACCES'), '::', 80, '--port'),
    `permission denied: ports below ${lowest} need root or CAP_NET_BIND_SERVICE; pick --port ${lowest} or above, or let systemd listen on it (install --socket, docs/systemd.md)`,
  );
  assert.is(
    listenErrorText(errno('EACCES'), '127.0.0.1', 80, '--metrics-port'),
    `permission denied: ports below ${lowest} need root or CAP_NET_BIND_SERVICE; pick --metrics-port ${lowest} or above`,
  );
  assert.is(
    listenErrorText(errno('EACCES'), '::', Math.max(lowest, 5000), '--port'),
    'permission denied (EACCES): a security policy of this machine forbids listening there',
  );
});

test('an address the machine does not have; other codes as they are', () => {
  assert.is(
    listenErrorText(errno('EADDRNOTAVAIL'), '10.9.9.9', 5000, '--port'),
    'no interface of this machine has the address 10.9.9.9; use one it has (ip -brief address) or :: for all',
  );
  assert.is(listenErrorText(errno('EINVAL'), '::', 5000, '--port'), 'EINVAL');
  assert.is(listenErrorText('not an error', '::', 5000, '--port'), 'not an error');
});

test('a port in use names what holds it and says what to do', async () => {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = busy.address() as net.AddressInfo;
    const command = readFileSync('/proc/self/cmdline', 'utf8').replaceAll('\0', ' ').trim();
    assert.is(
      listenErrorText(errno('EADDRINUSE'), '::', port, '--metrics-port'),
      `port ${port} is already in use by pid ${process.pid} (${command}); stop it or pick another --metrics-port`,
    );
  } finally {
    busy.close();
  }
});

test.run();
