// The body of an HTTP answer: what the backend saw, as text for a terminal or a browser, or as
// JSON for scripts (`Accept: application/json` or `?format=json`). Both escape the same code
// points (log-escape.ts) and show the request's parts as the view shows TLVs: each value cut to
// MAX_SHOWN characters, at most MAX_LISTED headers, so an answer's size is bounded.
import type { BackendView } from './backend-view.ts';
import { MAX_LISTED, shown } from './shown.ts';
import { certificatePhrase, type TlsView } from './tls-view.ts';
import type { SslView, TlvView } from './tlv-view.ts';
import { identityPhrase } from './identity.ts';
import { escapeText, jsonText } from '../../log-escape.ts';

/** The request as node:http received it: request line parts and the headers in order. */
export interface RequestSeen {
  readonly method: string;
  readonly target: string;
  /** `1.1`, `1.0`. */
  readonly version: string;
  /** Names and values alternating, as received (node:http's rawHeaders). */
  readonly rawHeaders: readonly string[];
}

/** True when the client asked for JSON. */
export function wantsJson(target: string, accept: string | undefined): boolean {
  const query = target.indexOf('?');
  if (query !== -1 && new URLSearchParams(target.slice(query + 1)).get('format') === 'json')
    return true;
  return accept?.toLowerCase().includes('application/json') === true;
}

export function renderJson(view: BackendView, request: RequestSeen): string {
  const { head, more } = headersShown(request);
  const seen: Record<string, unknown> = {
    line: shown(requestLine(request)),
    method: shown(request.method),
    target: shown(request.target),
    version: shown(request.version),
    headers: head,
  };
  if (more > 0) seen.headersNotShown = more;
  return `${jsonText({ ...view, request: seen })}\n`;
}

/** The request's first MAX_LISTED headers as [name, value], each part cut; how many more. */
function headersShown(request: RequestSeen): { head: Array<[string, string]>; more: number } {
  const raw = request.rawHeaders;
  const pairs = raw.length >> 1;
  const count = Math.min(pairs, MAX_LISTED);
  const head: Array<[string, string]> = [];
  for (let i = 0; i < count; i++) head.push([shown(raw[2 * i]), shown(raw[2 * i + 1])]);
  return { head, more: pairs - count };
}

/** The text answer's part about the connection (not the request), escaped; see textTop. */
export interface TextTop {
  readonly text: string;
  /** Width of the key column. */
  readonly width: number;
}

/**
 * What the text answer says of the connection: the same for every request on it, so made once
 * per connection and not escaped again for each of its requests.
 */
export function textTop(view: BackendView): TextTop {
  const rows: Array<[string, string]> = [
    ['client', view.client],
    ['via', view.proxy === null ? `${view.via} (no PROXY header)` : view.via],
    ['destination', view.destination ?? 'unknown'],
  ];
  const proxy = view.proxy;
  if (proxy === null) rows.push(['proxy', 'none']);
  else {
    rows.push(['proxy', `v${proxy.version} ${proxy.command.toUpperCase()} ${proxy.protocol}`]);
    rows.push(...tlvRows(proxy.tlvs));
  }
  if (view.tls !== undefined) rows.push(...tlsRows(view.tls));
  // (Wide enough for the request row too: `destination` is longer than `request`.)
  const width = Math.max(...rows.map(([key]) => key.length)) + 2;
  const lines = [`elb-proxy-echo on ${identityPhrase(view.server)} saw:`];
  for (const [key, value] of rows) lines.push(`${`${key}:`.padEnd(width)}${value}`);
  return { text: `${lines.map(escapeText).join('\n')}\n`, width };
}

export function renderText(view: BackendView, request: RequestSeen, top = textTop(view)): string {
  const lines = [`${'request:'.padEnd(top.width)}${shown(requestLine(request))}`, 'headers:'];
  const { head, more } = headersShown(request);
  for (const [name, value] of head) lines.push(`  ${name}: ${value}`);
  if (more > 0) lines.push(`  ... ${more} more not shown`);
  return `${top.text}${lines.map(escapeText).join('\n')}\n`;
}

/** Reasons of the refusals the echo path answers itself (node:http is not loaded for them). */
const REFUSAL_REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
};

/**
 * A refusal `text` (one line, ASCII) as an HTTP/1.1 answer with `status` that ends the
 * connection: an HTTP client shows the reason instead of taking the bare line for HTTP/0.9.
 */
export function httpRefusal(status: number, text: string): string {
  const reason = REFUSAL_REASONS[status] ?? 'Bad Request';
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${text.length}\r\nConnection: close\r\n\r\n${text}`
  );
}

function requestLine(request: RequestSeen): string {
  return `${request.method} ${request.target} HTTP/${request.version}`;
}

function tlvRows(tlvs: TlvView): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  if (tlvs.vpcEndpointId !== undefined) rows.push(['vpc-endpoint', tlvs.vpcEndpointId]);
  if (tlvs.authority !== undefined) rows.push(['authority', tlvs.authority]);
  if (tlvs.alpn !== undefined) rows.push(['alpn', tlvs.alpn]);
  if (tlvs.uniqueId !== undefined) rows.push(['unique-id', tlvs.uniqueId]);
  if (tlvs.netns !== undefined) rows.push(['netns', tlvs.netns]);
  if (tlvs.ssl !== undefined) rows.push(['ssl', sslText(tlvs.ssl)]);
  if (tlvs.azureLinkId !== undefined) rows.push(['azure-link-id', String(tlvs.azureLinkId)]);
  if (tlvs.gcpPscConnectionId !== undefined) rows.push(['gcp-psc-id', tlvs.gcpPscConnectionId]);
  if (tlvs.crc32c) rows.push(['crc32c', 'present, checked']);
  for (const tlv of tlvs.other ?? [])
    rows.push([`tlv ${tlv.type}`, `${tlv.hex} (${tlv.length} bytes)`]);
  if (tlvs.otherNotShown !== undefined)
    rows.push(['tlvs', `... ${tlvs.otherNotShown} more not shown`]);
  return rows;
}

/** Our own hop's TLS (the header's `ssl` row is the client's TLS at the sender). */
function tlsRows(tls: TlsView): Array<[string, string]> {
  const rows: Array<[string, string]> = [['tls', `${tls.version} ${tls.cipher}`]];
  if (tls.sni !== undefined) rows.push(['tls-sni', tls.sni]);
  if (tls.alpn !== undefined) rows.push(['tls-alpn', tls.alpn]);
  if (tls.clientCertificate !== undefined)
    rows.push(['tls-client', certificatePhrase(tls.clientCertificate)]);
  return rows;
}

function sslText(ssl: SslView): string {
  const parts = [ssl.client.length === 0 ? 'no TLS' : ssl.client.join('+')];
  if (ssl.version !== undefined) parts.push(ssl.version);
  if (ssl.cipher !== undefined) parts.push(ssl.cipher);
  if (ssl.commonName !== undefined) parts.push(`CN=${ssl.commonName}`);
  if (ssl.client.includes('cert-conn') || ssl.client.includes('cert-sess'))
    parts.push(ssl.verified ? 'certificate verified' : 'certificate not verified');
  return parts.join(', ');
}
