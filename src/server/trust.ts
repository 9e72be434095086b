// Which peers may send a PROXY header: a list of IPv4/IPv6 CIDR ranges, parsed once at start-up.
//
// Matching uses Node's `net.BlockList`, which also matches an IPv4-mapped IPv6 peer
// (`::ffff:10.0.0.5`, what a dual-stack `::` listener reports for IPv4 clients) against IPv4
// ranges. A bare address means that one address (/32 or /128).
import net from 'node:net';
import { ServerConfigError } from './errors.ts';

export interface TrustList {
  /** The ranges as given (normalised text), for logs and --help. */
  readonly ranges: readonly string[];
  /** Is this socket peer address (as `socket.remoteAddress` reports it) inside a range? */
  allows(address: string): boolean;
}

/** Parses `10.0.0.0/16,2001:db8::/32,192.0.2.7`; throws ServerConfigError naming the bad entry. */
export function parseTrustList(raw: string): TrustList {
  const entries = raw.split(',').map((s) => s.trim());
  if (entries.some((s) => s === ''))
    throw new ServerConfigError(`"${raw}" has an empty entry (expected CIDR[,CIDR…])`);
  return trustListOf(entries);
}

export function trustListOf(entries: readonly string[]): TrustList {
  const list = new net.BlockList();
  const ranges: string[] = [];
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    // A zone id (`fe80::1%eth0`) passes net.isIPv6 but names an interface, not a range: refused.
    const family = net.isIPv4(address)
      ? 'ipv4'
      : net.isIPv6(address) && !address.includes('%')
        ? 'ipv6'
        : null;
    if (family === null)
      throw new ServerConfigError(`"${entry}" is not an IPv4 or IPv6 address or CIDR range`);
    const bits = family === 'ipv4' ? 32 : 128;
    const prefixText = slash === -1 ? String(bits) : entry.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
      throw new ServerConfigError(`"${entry}": the prefix length must be 0..${bits}`);
    }
    list.addSubnet(address, Number(prefixText), family);
    ranges.push(`${address}/${prefixText}`);
  }
  return Object.freeze({
    ranges: Object.freeze(ranges),
    allows(peer: string): boolean {
      if (net.isIPv4(peer)) return list.check(peer, 'ipv4');
      return net.isIPv6(peer) && list.check(peer, 'ipv6');
    },
  });
}
