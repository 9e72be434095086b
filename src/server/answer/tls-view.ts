// TLS on this server's own hop (--tls-cert), as a backend view shows it: version, cipher, SNI,
// ALPN and a client certificate, and the phrases the text answers and the greeting say it in.

/** A client certificate presented on our own TLS hop (asked for with --tls-client-ca). */
export interface ClientCertificateView {
  readonly subject: string;
  readonly issuer: string;
  /** SHA-256 fingerprint, colon-separated hex. */
  readonly sha256: string;
  /** True when it chains to --tls-client-ca (and is in date). */
  readonly verified: boolean;
  /** Why it did not verify (OpenSSL's code), when it did not. */
  readonly problem?: string;
}

/**
 * TLS between the sender of the connection (the balancer, or the client itself) and this
 * server. Not the client's TLS at a balancer that terminated it: that is the header's `ssl` TLV.
 */
export interface TlsView {
  readonly version: string;
  readonly cipher: string;
  /** The server name the client asked for (SNI), when it sent one. */
  readonly sni?: string;
  /** The protocol agreed with ALPN, when the client offered it. */
  readonly alpn?: string;
  readonly clientCertificate?: ClientCertificateView;
}

/** Our own hop's TLS in a few words: `TLSv1.3 TLS_AES_256_GCM_SHA384, SNI localhost, …`. */
export function tlsPhrase(tls: TlsView): string {
  const parts = [`${tls.version} ${tls.cipher}`];
  if (tls.sni !== undefined) parts.push(`SNI ${tls.sni}`);
  if (tls.alpn !== undefined) parts.push(`ALPN ${tls.alpn}`);
  const cert = tls.clientCertificate;
  if (cert !== undefined) parts.push(certificatePhrase(cert));
  return parts.join(', ');
}

/** A client certificate, saying plainly whether it verified. */
export function certificatePhrase(cert: ClientCertificateView): string {
  const verdict = cert.verified ? 'verified' : `NOT verified (${cert.problem ?? 'unknown'})`;
  return `client certificate ${cert.subject} from ${cert.issuer}, sha256 ${cert.sha256}, ${verdict}`;
}
