// The server's certificate and key (and the CA for client certificates) as files the
// administrator owns: read at start, where a bad file stops the server with one line, and read
// again on SIGHUP, where a bad file is logged and the credentials in use stay.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { ServerConfigError } from '../errors.ts';

export interface TlsFiles {
  /** PEM certificate (chain) presented to clients. */
  readonly cert: string;
  /** PEM private key of `cert`. */
  readonly key: string;
  /** PEM CA certificates: client certificates are asked for and checked against them; null: not asked. */
  readonly clientCa: string | null;
}

/** The oldest version offered: TLS 1.0 and 1.1 are refused in the handshake. */
export const TLS_MIN_VERSION = 'TLSv1.2';

/**
 * A secure context from the files as they are now; throws a ServerConfigError naming the file
 * at fault (at start: one line and exit status 2).
 */
export function loadSecureContext(files: TlsFiles): tls.SecureContext {
  const cert = readPem(files.cert, '--tls-cert');
  const key = readPem(files.key, '--tls-key');
  const ca = files.clientCa === null ? undefined : readPem(files.clientCa, '--tls-client-ca');
  try {
    return tls.createSecureContext({ cert, key, ca, minVersion: TLS_MIN_VERSION });
  } catch (error) {
    const reason = (error as { reason?: string }).reason ?? (error as Error).message;
    throw new ServerConfigError(`--tls-cert ${files.cert} with --tls-key ${files.key}: ${reason}`);
  }
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ServerConfigError(
      `${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
}
