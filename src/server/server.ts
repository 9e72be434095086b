// TCP echo server: each connection's lines are echoed back until a line `q`/`Q`.
import net from 'node:net';
import { LineSplitter } from './lines.ts';

export interface EchoServerOptions {
  readonly port: number;
  readonly host?: string;
}

export function createEchoServer(): net.Server {
  return net.createServer((socket) => {
    const lines = new LineSplitter();
    socket.on('data', (chunk) => {
      const { echo, quit } = lines.feed(chunk);
      if (echo !== null) socket.write(echo);
      if (quit) socket.end();
    });
    socket.on('error', () => socket.destroy());
  });
}
