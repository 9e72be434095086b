// The one line `--greeting` sends a client once its PROXY header is read, before any echo:
// the proof a person on telnet can see without the server's journal.
//
//   elb-proxy-echo on ip-10-0-11-239 (i-0f1e2d3c4b5a69788, us-east-1a, us-east-1): you are 54.222.152.163:45418 (PROXY v1 from 10.0.11.239:36921); lines come back, q quits
import type { BackendView } from './backend-view.ts';
import { tlsPhrase } from './tls-view.ts';
import { tlvPhrases } from './tlv-view.ts';
import { identityPhrase } from './identity.ts';
import { escapeText } from '../../log-escape.ts';

export function greetingLine(view: BackendView, upper = false): string {
  const echo = upper ? 'lines come back in upper case' : 'lines come back';
  const tls = view.tls === undefined ? '' : ` over ${tlsPhrase(view.tls)}`;
  const line = `elb-proxy-echo on ${identityPhrase(view.server)}: you are ${view.client} (${proxyPhrase(view)})${tls}; ${echo}, q quits`;
  return `${asciiOnly(escapeText(line))}\r\n`;
}

/**
 * Anything beyond ASCII as `\uXXXX` as well: the line goes out as one-byte text (Transport's
 * writeText), and a TLV may carry any UTF-8.
 */
function asciiOnly(text: string): string {
  return text.replace(/[^ -~]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** What the header said, in a few words. */
function proxyPhrase(view: BackendView): string {
  const proxy = view.proxy;
  if (proxy === null) return 'no PROXY header';
  const from = `PROXY v${proxy.version}`;
  if (proxy.command === 'local')
    return `${from} LOCAL from ${view.via}: the balancer's own connection, such as a health check`;
  if (proxy.protocol === 'UNKNOWN')
    return `${from} ${proxy.protocol} from ${view.via}: the balancer did not name the client`;
  return [`${from} from ${view.via}`, ...tlvPhrases(proxy.tlvs)].join(', ');
}
