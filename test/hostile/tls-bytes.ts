// What the `tls` surface is made of: a certificate for the server under attack (made by openssl
// for the run), and how to count the ServerHellos it answers (the ClientHello: helpers/client-hello.ts).
import { rmSync } from 'node:fs';
import { certificateDir, selfSignedFiles } from '../helpers/certificate.ts';

const dir = certificateDir();
const files = selfSignedFiles(dir);
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** The server flags that switch TLS on. */
export const TLS_ARGS = ['--tls-cert', files.cert, '--tls-key', files.key] as const;

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
