// What the `tls` surface is made of: a certificate for the server under attack (made by openssl
// for the run), and a real ClientHello as bytes, so that raw attacking sockets can send it.
import { rmSync } from 'node:fs';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { certificateDir, selfSignedFiles } from '../helpers/certificate.ts';

const dir = certificateDir();
const files = selfSignedFiles(dir);
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** The server flags that switch TLS on. */
export const TLS_ARGS = ['--tls-cert', files.cert, '--tls-key', files.key] as const;

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

/** How many ServerHello records (TLS 1.2 record version, handshake type 2) `text` holds. */
export function serverHellos(text: string): number {
  let count = 0;
  for (
    let at = text.indexOf(SERVER_HELLO_RECORD);
    at !== -1;
    at = text.indexOf(SERVER_HELLO_RECORD, at + 1)
  )
    if (text.charCodeAt(at + 5) === 0x02) count++;
  return count;
}

/** A handshake record of TLS 1.2's record version, as latin1 text. */
const SERVER_HELLO_RECORD = String.fromCharCode(0x16, 0x03, 0x03);
