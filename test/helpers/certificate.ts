// Keys and certificates made at run time by openssl (node cannot make X.509 certificates): for
// the TLS tests and benchmarks only. Without openssl they fail, saying so: nothing is skipped.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Certificate {
  readonly key: string;
  readonly cert: string;
}

/** The same, as files in a directory of their own (what `serve --tls-cert` reads). */
export interface CertificateFiles {
  readonly key: string;
  readonly cert: string;
  readonly dir: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: readonly string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT')
      throw new Error('openssl is not installed: the TLS tests make their certificates with it');
    throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

/** A key and a self-signed certificate for 127.0.0.1 and localhost (CN=`name`), as files in `dir`. */
export function selfSignedFiles(dir: string, name = 'localhost'): CertificateFiles {
  const key = join(dir, `${name}.key.pem`);
  const cert = join(dir, `${name}.cert.pem`);
  openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  return { key, cert, dir };
}

/** A client certificate (CN=`name`) signed by `ca`, as files in `ca.dir`. */
export function signedBy(ca: CertificateFiles, name: string): CertificateFiles {
  const key = join(ca.dir, `${name}.key.pem`);
  const csr = join(ca.dir, `${name}.csr`);
  const cert = join(ca.dir, `${name}.cert.pem`);
  openssl(['req', '-new', ...EC_KEY, '-keyout', key, '-out', csr, '-subj', `/CN=${name}/O=Tests`]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-out',
    cert,
    '-days',
    '1',
  ]);
  return { key, cert, dir: ca.dir };
}

/** A fresh temporary directory for certificate files; `rmSync(dir, {recursive: true})` after. */
export function certificateDir(): string {
  return mkdtempSync(join(tmpdir(), 'tls-cert-'));
}

/** A key and a self-signed certificate for 127.0.0.1 and localhost, made by openssl now. */
export function selfSigned(): Certificate {
  const dir = certificateDir();
  try {
    const files = selfSignedFiles(dir);
    return { key: readFileSync(files.key, 'utf8'), cert: readFileSync(files.cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
