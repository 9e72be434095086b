// Playing the load balancer: the PROXY header for connection number `index`, naming a made-up
// client of its own (addresses from the ranges reserved for documentation, every other one
// IPv6), and, past the ephemeral port range of one source address, which loopback address each
// client binds to.
import { buildProxyHeader } from '../protocol/index.ts';
import type { ProxyHeaderInit } from '../protocol/index.ts';

export type HeaderKind = 'v1' | 'v2' | 'none';

/**
 * Clients per loopback source address. bind(port 0) searches the odd half of the ephemeral range
 * (about 14,000 ports here) for a free port, and the search slows down as the half fills up:
 * 50,000 clients took ~35 s to connect at 10,000 per address, ~8 s at 5,000.
 */
const CLIENTS_PER_SOURCE = 5_000;
/** Up to this many clients, connect() picks ports from the whole range of 127.0.0.1 itself. */
const SINGLE_SOURCE_LIMIT = 20_000;

// The balancer's own (listener-side) addresses, as a Classic ELB or NLB in a VPC would report.
const BALANCER_V4 = '10.0.11.239';
const BALANCER_V6 = 'fd00:ec2:0:11::239';
const LISTENER_PORT = 5000;

/**
 * The IPv4 networks reserved for documentation (RFC 5737): made-up clients never name a real
 * host, whatever logs or dashboards their headers end up in. Hosts .1 to .254 of each.
 */
const DOCUMENTATION_V4 = ['192.0.2', '198.51.100', '203.0.113'];
const HOSTS_PER_NETWORK = 254;
const DOCUMENTATION_V4_HOSTS = DOCUMENTATION_V4.length * HOSTS_PER_NETWORK;
/** Client ports are 1024..65534: 64,511 of them (31 × 2081). */
const PORTS = 64_511;

/**
 * Made-up client for connection `index`, every other one IPv6. No two of the first 49 million
 * IPv4 clients share an address and port (762 addresses, each with its own walk through the
 * ports), and the IPv6 ones (in 2001:db8::/32, RFC 3849) each have an address of their own:
 * a server's log then shows as many clients as there were connections.
 */
export function clientEndpoint(index: number): { address: string; port: number; ipv6: boolean } {
  const n = Math.floor(index / 2);
  if (index % 2 === 1) {
    const mixed = Math.imul(n + 1, 0x9e3779b1) & 0xffffff; // 24 scrambled bits, a bijection
    const hi = (mixed >>> 12).toString(16);
    const lo = (mixed & 0xfff).toString(16);
    return {
      address: `2001:db8:${(n >>> 24).toString(16)}:a${hi}::${lo}:1`,
      port: 1024 + ((index * 7919) % PORTS),
      ipv6: true,
    };
  }
  const host = n % DOCUMENTATION_V4_HOSTS;
  const round = Math.floor(n / DOCUMENTATION_V4_HOSTS);
  // 7919 is prime to PORTS, so one address never sees a port twice within PORTS rounds.
  const port = 1024 + ((round * 7919 + host * 131) % PORTS);
  const network = DOCUMENTATION_V4[Math.floor(host / HOSTS_PER_NETWORK)];
  return { address: `${network}.${1 + (host % HOSTS_PER_NETWORK)}`, port, ipv6: false };
}

/** The header a load balancer would send first on connection `index`, or null for `none`. */
export function headerFor(kind: HeaderKind, index: number): Uint8Array | null {
  if (kind === 'none') return null;
  const client = clientEndpoint(index);
  const header: ProxyHeaderInit = {
    version: kind === 'v1' ? 1 : 2,
    command: 'proxy',
    protocol: client.ipv6 ? 'TCP6' : 'TCP4',
    source: { address: client.address, port: client.port },
    destination: { address: client.ipv6 ? BALANCER_V6 : BALANCER_V4, port: LISTENER_PORT },
  };
  return buildProxyHeader(header);
}

/**
 * Loopback source address for client `index` of `total` connecting to `host`, or undefined to let
 * the kernel choose: while one address has ports enough, and for any host but an IPv4 loopback
 * literal (only loopback has 127.0.0.0/8 to spread over; a remote target needs more client machines).
 */
export function sourceAddress(host: string, index: number, total: number): string | undefined {
  if (total <= SINGLE_SOURCE_LIMIT || !/^127\.\d+\.\d+\.\d+$/.test(host)) return undefined;
  return `127.0.0.${2 + Math.floor(index / CLIENTS_PER_SOURCE)}`;
}
