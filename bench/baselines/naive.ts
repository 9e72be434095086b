// Baseline: the Node echo server most people would write first. Text in, buffered in a string,
// split on newlines, one write per line, `q` closes.
import net from 'node:net';
import { afterHeader, listen } from './common.ts';

listen(
  net.createServer((socket) => {
    afterHeader(socket, (rest) => {
      let pending = '';
      const onText = (text: string) => {
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          if (line.trim().toLowerCase() === 'q') return void socket.end();
          socket.write(`${line}\n`);
        }
      };
      onText(rest.toString());
      socket.setEncoding('utf8');
      socket.on('data', onText);
    });
  }),
);
