// An address as text beside a port: IPv6 in brackets (`[::1]:5000`), anything else as is.

/** `::1` → `[::1]`; `127.0.0.1` and names unchanged. */
export function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function hostPortText(host: string, port: number): string {
  return `${bracketed(host)}:${port}`;
}

/** `::ffff:10.0.0.5` (an IPv4 client on a dual-stack socket) → `10.0.0.5`. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.indexOf('.') !== -1 ? address.slice(7) : address;
}

/** `1.2.3.4:80`, `[2001:db8::1]:80`, or `unix:PATH` for a UNIX socket (which has no port). */
export function formatEndpoint(address: string, port: number, unix = false): string {
  return unix ? `unix:${address}` : hostPortText(address, port);
}
