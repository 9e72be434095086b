// Baseline: the rawest Node echo. After the header, socket.pipe(socket): no line handling at all
// (a `q` is echoed like anything else; the connection ends when the client ends its side).
import net from 'node:net';
import { afterHeader, listen } from './common.ts';

listen(
  net.createServer((socket) => {
    afterHeader(socket, (rest) => {
      if (rest.length > 0) socket.write(rest);
      socket.pipe(socket);
    });
  }),
);
