// An address as text beside a port: IPv6 in brackets (`[::1]:5000`), anything else as is.

/** `::1` → `[::1]`; `127.0.0.1` and names unchanged. */
export function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function hostPortText(host: string, port: number): string {
  return `${bracketed(host)}:${port}`;
}
