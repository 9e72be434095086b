// A real ClientHello as bytes, for raw sockets that begin a TLS handshake they never finish.
import { Duplex } from 'node:stream';
import tls from 'node:tls';

/** The first flight of a default node:tls client: one record holding its ClientHello. */
export const CLIENT_HELLO: Buffer = await new Promise((resolve) => {
  const capture = new Duplex({
    write(chunk: Buffer, _encoding, done) {
      resolve(Buffer.from(chunk));
      done();
      capture.destroy();
    },
    read() {},
  });
  tls.connect({ socket: capture, rejectUnauthorized: false }).on('error', () => {});
});
