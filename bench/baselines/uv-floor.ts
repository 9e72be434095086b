// Floor: the least a Node server on the runtime's libuv handles does per connection, to measure
// ours against. Accept, read, skip the first line (a PROXY v1 header, not parsed), echo the rest
// from one shared read buffer, shut down after a `q` line, close at the peer's FIN. No limits, no
// deadlines, no metrics. With `--log`, two short lines per connection (open with the peer's
// address, close), batched into one write(2) a millisecond: the least info logging can cost.
import { writeSync } from 'node:fs';

interface Handle {
  onread: (this: Handle) => void;
  onconnection: (status: number, client: Handle) => void;
  bind(host: string, port: number): number;
  listen(backlog: number): number;
  getsockname(out: { port?: number }): number;
  getpeername(out: { address?: string; port?: number }): number;
  setNoDelay(on: boolean): number;
  useUserBuffer(buffer: Uint8Array): void;
  readStart(): number;
  writeLatin1String(req: object, text: string): number;
  shutdown(req: object): number;
  close(callback: () => void): void;
  started: boolean;
  peer: string;
}
type Binding = Record<string, never>;
const binding = (process as unknown as { binding(name: string): Binding }).binding;
const { TCP, constants } = binding('tcp_wrap') as unknown as {
  TCP: new (type: number) => Handle;
  constants: { SERVER: number };
};
const stream = binding('stream_wrap') as unknown as {
  WriteWrap: new () => { handle?: Handle; oncomplete?: () => void };
  ShutdownWrap: new () => { handle?: Handle; oncomplete?: () => void };
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
};
const { UV_EOF } = binding('uv') as unknown as { UV_EOF: number };

const log = process.argv.includes('--log');
const portAt = process.argv.indexOf('--port');
const shared = Buffer.allocUnsafeSlow(64 * 1024);
const peer: { address?: string; port?: number } = {};
const noop = () => {};
let pending = '';

function line(text: string): void {
  if (pending === '') setTimeout(flush, 1);
  pending += `${new Date().toISOString()} ${text}\n`;
}

function flush(): void {
  writeSync(1, pending);
  pending = '';
}

function request<T extends { handle?: Handle; oncomplete?: () => void }>(r: T, h: Handle): T {
  r.handle = h;
  r.oncomplete = noop;
  return r;
}

function onread(this: Handle): void {
  const n = stream.streamBaseState[stream.kReadBytesOrError];
  if (n < 0) {
    if (log && n === UV_EOF) line(`close client=${this.peer}`);
    this.close(noop);
    return;
  }
  let from = 0;
  if (!this.started) {
    from = shared.indexOf(10) + 1;
    this.started = true;
    if (log) line(`open client=${this.peer}`);
  }
  if (from >= n) return;
  this.writeLatin1String(request(new stream.WriteWrap(), this), shared.latin1Slice(from, n));
  if (shared[from] === 0x71 && shared[from + 1] === 0x0d)
    this.shutdown(request(new stream.ShutdownWrap(), this));
}

const server = new TCP(constants.SERVER);
server.onconnection = (status, client) => {
  if (status < 0) return;
  client.setNoDelay(true);
  client.started = false;
  client.peer = '';
  if (log && client.getpeername(peer) === 0) client.peer = `${peer.address}:${peer.port}`;
  client.onread = onread;
  client.useUserBuffer(shared);
  client.readStart();
};
server.bind('127.0.0.1', portAt === -1 ? 0 : Number(process.argv[portAt + 1]));
server.listen(511);
const local: { port?: number } = {};
server.getsockname(local);
process.stdout.write(`listening on port ${local.port}\n`);
