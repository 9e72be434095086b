// The body of an HTTP answer: what the backend saw, as text for a terminal or a browser, or as
// JSON for scripts (`Accept: application/json` or `?format=json`).
import type { BackendView, SslView, TlvView } from './backend-view.ts';
import { escapeText } from '../log-escape.ts';

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
  const headers: Array<[string, string]> = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2)
    headers.push([request.rawHeaders[i], request.rawHeaders[i + 1]]);
  return `${JSON.stringify(
    {
      ...view,
      request: {
        line: requestLine(request),
        method: request.method,
        target: request.target,
        version: request.version,
        headers,
      },
    },
    null,
    2,
  )}\n`;
}

export function renderText(view: BackendView, request: RequestSeen): string {
  const rows: Array<[string, string]> = [
    ['client', view.client],
    ['via', view.proxy === null ? `${view.peer} (no PROXY header)` : view.peer],
    ['destination', view.destination ?? 'unknown'],
  ];
  const proxy = view.proxy;
  if (proxy === null) rows.push(['proxy', 'none']);
  else {
    rows.push(['proxy', `v${proxy.version} ${proxy.command.toUpperCase()} ${proxy.protocol}`]);
    rows.push(...tlvRows(proxy.tlvs));
  }
  rows.push(['request', requestLine(request)]);
  const width = Math.max(...rows.map(([key]) => key.length)) + 2;
  const lines = [`elb-proxy-echo on ${view.server} saw:`];
  for (const [key, value] of rows) lines.push(`${`${key}:`.padEnd(width)}${value}`);
  lines.push('headers:');
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2)
    lines.push(`  ${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
  return `${lines.map(escapeText).join('\n')}\n`;
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
  if (tlvs.crc32c) rows.push(['crc32c', 'present, checked']);
  if (tlvs.other !== undefined) rows.push(['other-tlvs', tlvs.other.join(' ')]);
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
