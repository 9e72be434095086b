// TLS on the echo port, after the PROXY header: a connection whose first byte after the header
// is a TLS handshake record is handed to node:tls (the bytes already read go first), and the
// connection goes on over the decrypted stream as a transport (engine/net.ts over the
// TLSSocket): the greeting, the echo and HTTP are the clear connection's own code.
//
// Each connection gets the secure context current when it arrives: SIGHUP makes a new one from
// the files (tls-credentials.ts) and connections already open keep theirs. TLS 1.2 at least,
// no renegotiation, ALPN `http/1.1` only: a client that offers ALPN without it (h2 alone) is
// refused in the handshake (no_application_protocol), as it could not be answered; a client
// that offers no ALPN is served (echo, or HTTP/1.1 if its first line is a request).
import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../log.ts';
import { socketTransport } from '../engine/net.ts';
import type { Transport } from '../engine/transport.ts';
import { shown } from './shown.ts';
import type { ClientCertificateView, TlsView } from './tls-view.ts';
import { loadSecureContext, type TlsFiles } from './tls-credentials.ts';

export interface TlsOptions {
  readonly files: TlsFiles;
  /** true: a connection that does not begin TLS after its header is refused. */
  readonly require: boolean;
}

/** What a connection switching to TLS is told, once. */
export interface TlsOwner {
  /** The handshake is done: `view` is what it settled. */
  onSecure(view: TlsView): void;
  /** The handshake failed: OpenSSL's reason, and a short stable code for the metrics label. */
  onTlsFailure(reason: string, code: string): void;
}

export interface TlsHandoff {
  readonly required: boolean;
  /**
   * Starts the server side of the handshake on `socket` (a transport's detached socket, the
   * bytes already read in front) and returns the transport over the decrypted stream; `owner`
   * hears how the handshake ends.
   */
  take(socket: net.Socket, owner: TlsOwner): Transport;
  /** Reads the files again. null: new connections get them; else why not (the old ones stay). */
  reload(): string | null;
}

/** The first byte of a TLS record that carries a handshake message (a ClientHello, first). */
export const TLS_HANDSHAKE_RECORD = 0x16;

const ALPN = ['http/1.1'];
const kOwner = Symbol('tls owner');
/** The socket's internals that tls.Server reads to verify a client certificate, as we do. */
interface Verifiable {
  _requestCert?: boolean;
  _handle?: { verifyError(): (Error & { code?: string }) | null } | null;
}
type Owned = tls.TLSSocket & Verifiable & { [kOwner]: TlsOwner | null };

/** Reads the files now: a bad one throws (at start, a bad setting). */
export function createTlsHandoff(options: TlsOptions, logger: Logger): TlsHandoff {
  const { files } = options;
  let context = loadSecureContext(files);
  const requestCert = files.clientCa !== null;
  return {
    required: options.require,
    take(socket, owner) {
      // node:tls copies this from the socket it wraps. Half-open, a client that hangs up (in the
      // handshake or after it) would leave its TLS state held until a timeout; closed instead,
      // its FIN ends the connection as it ends a clear one.
      socket.allowHalfOpen = false;
      const secure = new tls.TLSSocket(socket, {
        isServer: true,
        secureContext: context,
        ALPNProtocols: ALPN,
        // Asked for, shown, and said plainly whether it verified: never a reason to refuse.
        requestCert,
        rejectUnauthorized: false,
      }) as Owned;
      secure[kOwner] = owner;
      secure.once('secure', onSecure);
      secure.on('error', onHandshakeError);
      return socketTransport(secure);
    },
    reload() {
      try {
        context = loadSecureContext(files);
        logger.info('TLS certificate reloaded', { cert: files.cert });
        return null;
      } catch (error) {
        const reason = (error as Error).message;
        logger.warn('TLS certificate not reloaded; the previous one stays in use', { reason });
        return reason;
      }
    },
  };
}

function onSecure(this: Owned): void {
  this.off('error', onHandshakeError);
  const owner = this[kOwner];
  this[kOwner] = null;
  this.disableRenegotiation();
  if (this._requestCert) checkClientCertificate(this);
  owner?.onSecure(tlsView(this));
}

/**
 * What tls.Server does for its own sockets when they become secure (it sets `authorized` and
 * `authorizationError`), which a socket made without a server must do itself.
 */
function checkClientCertificate(socket: Owned): void {
  const error = socket._handle?.verifyError() ?? null;
  if (error === null) socket.authorized = true;
  else socket.authorizationError = error;
}

/**
 * A failed handshake: node:tls destroys the socket after this; the owner hears why first. A
 * client that went away (reset) is not a refusal: its close line says so.
 */
function onHandshakeError(this: Owned, error: NodeJS.ErrnoException & { reason?: string }): void {
  this.off('error', onHandshakeError);
  const owner = this[kOwner];
  this[kOwner] = null;
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return;
  owner?.onTlsFailure(error.reason ?? error.message, tlsErrorCode(error.code));
}

/**
 * A short label for rejects_total: `ERR_SSL_WRONG_VERSION_NUMBER` → `wrong-version-number`,
 * a socket error's code in lower case (`econnreset`); node's codes are a fixed set.
 */
export function tlsErrorCode(code: string | undefined): string {
  if (code === undefined) return 'unknown';
  return code
    .replace(/^ERR_SSL_/, '')
    .toLowerCase()
    .replaceAll('_', '-');
}

function tlsView(socket: tls.TLSSocket): TlsView {
  const view: { -readonly [K in keyof TlsView]: TlsView[K] } = {
    version: socket.getProtocol() ?? 'unknown',
    cipher: socket.getCipher()?.name ?? 'unknown',
  };
  // `servername` is false without SNI; a name the client chose is shown cut.
  const sni = (socket as { servername?: string | false }).servername;
  if (typeof sni === 'string') view.sni = shown(sni);
  if (typeof socket.alpnProtocol === 'string') view.alpn = socket.alpnProtocol;
  const certificate = socket.getPeerCertificate();
  if (certificate !== null && Object.keys(certificate).length > 0)
    view.clientCertificate = certificateView(socket, certificate);
  return view;
}

function certificateView(
  socket: tls.TLSSocket,
  certificate: tls.PeerCertificate,
): ClientCertificateView {
  const problem = socket.authorizationError;
  return {
    subject: shown(distinguishedName(certificate.subject)),
    issuer: shown(distinguishedName(certificate.issuer)),
    sha256: certificate.fingerprint256,
    verified: socket.authorized,
    ...(problem == null
      ? {}
      : { problem: (problem as Error & { code?: string }).code ?? String(problem) }),
  };
}

/** `CN=alice, O=Example`: a certificate name's parts in the order given. */
function distinguishedName(name: tls.Certificate | undefined): string {
  if (name === undefined) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(name))
    for (const one of Array.isArray(value) ? value : [value]) parts.push(`${key}=${one}`);
  return parts.join(', ');
}
