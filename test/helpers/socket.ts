// A scripted TCP client for tests: write bytes, read until a condition, see the close.
import net from 'node:net';

export class TestClient {
  readonly socket: net.Socket;
  #received: Buffer[] = [];
  #closed = false;
  #waiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#received.push(chunk);
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, localAddress });
      socket.once('connect', () => resolve(new TestClient(socket)));
      socket.once('error', reject);
    });
  }

  get received(): Buffer {
    return Buffer.concat(this.#received);
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(bytes: string | Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Resolves once `received` has at least `n` bytes; rejects after `timeoutMs`. */
  readBytes(n: number, timeoutMs = 5000): Promise<Buffer> {
    return this.#until(() => this.received.length >= n, timeoutMs, `${n} bytes`).then(
      () => this.received,
    );
  }

  /** Resolves once the text received (latin1) matches `pattern`; rejects after `timeoutMs`. */
  readUntil(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const text = () => this.received.toString('latin1');
    return this.#until(() => pattern.test(text()), timeoutMs, String(pattern)).then(text);
  }

  /** Resolves once the server has closed the connection; rejects after `timeoutMs`. */
  waitClose(timeoutMs = 5000): Promise<Buffer> {
    return this.#until(() => this.#closed, timeoutMs, 'close').then(() => this.received);
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  #until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out waiting for ${what}; got ${JSON.stringify(this.received.toString('latin1'))}`,
            ),
          ),
        timeoutMs,
      );
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else if (this.#closed) {
          clearTimeout(timer);
          reject(
            new Error(
              `connection closed while waiting for ${what}; got ${JSON.stringify(this.received.toString('latin1'))}`,
            ),
          );
        } else this.#waiters.push(check);
      };
      check();
    });
  }
}

/** One Classic ELB session as a person on telnet has it: header, a line echoed, `q`, closed. */
export async function classicElbSession(port: number, host = '127.0.0.1'): Promise<void> {
  const client = await TestClient.connect(port, host);
  client.write('PROXY TCP4 54.222.152.163 10.0.11.239 45418 5000\r\nhello\r\n');
  const echoed = (await client.readBytes(7)).toString();
  if (echoed !== 'hello\r\n')
    throw new Error(`expected the echo of hello, got ${JSON.stringify(echoed)}`);
  client.write('q\r\n');
  const all = (await client.waitClose()).toString();
  if (all !== 'hello\r\n')
    throw new Error(`expected nothing after the echo and q, got ${JSON.stringify(all)}`);
}

export interface LoopbackServer {
  readonly port: number;
  /** Stops listening and destroys every connection still open. */
  close(): void;
}

/** A net server on a loopback port the kernel picks, each connection given to `onConnection`. */
export async function loopbackServer(
  onConnection: (socket: net.Socket) => void,
): Promise<LoopbackServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}
