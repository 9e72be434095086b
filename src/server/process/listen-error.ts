// Why a port could not be bound, in words for the one start-up line: what is wrong and what to do.
import { readFileSync } from 'node:fs';
import { describeHolder } from './port-holder.ts';

/**
 * The reason part of `cannot listen on HOST:PORT: …` for a failed bind. `flag` is the option
 * that chose the port (`--port`, `--metrics-port`); codes without advice of their own are
 * given as they are.
 */
export function listenErrorText(error: unknown, host: string, port: number, flag: string): string {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  if (code === 'EADDRINUSE')
    return `port ${port} is already in use by ${describeHolder(host, port)}; stop it or pick another ${flag}`;
  if (code === 'EADDRNOTAVAIL')
    return `no interface of this machine has the address ${host}; use one it has (ip -brief address) or :: for all`;
  if (code !== 'EACCES') return code;
  const lowest = unprivilegedPortStart();
  if (port >= lowest)
    return 'permission denied (EACCES): a security policy of this machine forbids listening there';
  // Only the echo port can be handed over by systemd (install --socket).
  const systemd =
    flag === '--port' ? ', or let systemd listen on it (install --socket, docs/systemd.md)' : '';
  return `permission denied: ports below ${lowest} need root or CAP_NET_BIND_SERVICE; pick ${flag} ${lowest} or above${systemd}`;
}

/** The lowest port any user may bind (net.ipv4.ip_unprivileged_port_start; 1024 unless changed). */
function unprivilegedPortStart(): number {
  try {
    const value = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    return Number.isInteger(value) ? value : 1024;
  } catch {
    return 1024;
  }
}
