// What every Node baseline shares: skip the load balancer's PROXY header (v1 or v2, with our
// library's parser: a cost paid once per connection, as in our server), listen on the port
// asked for, and announce it the way our server does ("listening on port N").
import type net from 'node:net';
import { parseProxyHeader } from '../../src/protocol/index.ts';

/** Calls `then(rest)` once the header has arrived, with the bytes that followed it in the same reads. */
export function afterHeader(socket: net.Socket, then: (rest: Buffer) => void): void {
  let seen = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const result = parseProxyHeader(seen);
    if (result.status === 'incomplete') return;
    socket.off('data', onData);
    if (result.status === 'invalid') return void socket.destroy();
    then(seen.subarray(result.length));
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

export function listen(server: net.Server): void {
  const i = process.argv.indexOf('--port');
  const port = i === -1 ? 0 : Number(process.argv[i + 1]);
  server.listen({ port, host: '127.0.0.1' }, () => {
    process.stdout.write(`listening on port ${(server.address() as net.AddressInfo).port}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}
