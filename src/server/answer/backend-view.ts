// What the backend saw of one connection: who the client is, which balancer node it came
// through, what it connected to, and what the PROXY header said. A plain object of strings,
// made once from the parsed header (whose lazy fields read the received bytes), so it can
// outlive those bytes; the greeting and the HTTP answers render it.
//
// Values a peer chose are cut (shown.ts); the TLVs (tlv-view.ts) and this hop's TLS
// (tls-view.ts) have views of their own.
import type { ProxyHeader } from '../../protocol/types.ts';
import { formatEndpoint } from '../address-text.ts';
import type { ServerIdentity } from './identity.ts';
import type { TlsView } from './tls-view.ts';
import { type TlvView, tlvView } from './tlv-view.ts';

export interface ProxyView {
  readonly version: 1 | 2;
  readonly command: 'proxy' | 'local';
  readonly protocol: string;
  readonly tlvs: TlvView;
}

export interface BackendView {
  /** Which backend answered. */
  readonly server: ServerIdentity;
  /** The real client: the header's source, else the TCP peer. */
  readonly client: string;
  /** The TCP peer (the balancer node when a header is used). */
  readonly via: string;
  /** What the client connected to: the header's destination, else this socket's own address. */
  readonly destination: string | null;
  /** null: the connection had no PROXY header. */
  readonly proxy: ProxyView | null;
  /** The TLS of this connection's own hop, when it is served over TLS. */
  readonly tls?: TlsView;
}

export interface ViewInput {
  readonly server: ServerIdentity;
  readonly header: ProxyHeader | null;
  /** The TCP peer as text. */
  readonly peer: string;
  /** This socket's local address as text, when known. */
  readonly local: string | null;
  /** Our own hop's TLS; null: in clear. */
  readonly tls?: TlsView | null;
}

export function backendView({ server, header, peer, local, tls }: ViewInput): BackendView {
  const source = header?.source ?? null;
  const destination = header?.destination ?? null;
  const unix = header?.protocol.startsWith('UNIX') === true;
  return {
    server,
    client: source === null ? peer : formatEndpoint(source.address, source.port, unix),
    via: peer,
    destination:
      destination === null ? local : formatEndpoint(destination.address, destination.port, unix),
    proxy:
      header === null
        ? null
        : {
            version: header.version,
            command: header.command,
            protocol: header.protocol,
            tlvs: tlvView(header),
          },
    ...(tls == null ? {} : { tls }),
  };
}
