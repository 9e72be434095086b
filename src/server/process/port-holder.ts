// Who holds a TCP port: the listening sockets /proc/net/tcp and tcp6 list on it, then the
// processes whose descriptors point at those sockets (/proc/PID/fd/N → `socket:[INODE]`). Read
// only when a bind has just failed, so plain synchronous reads are fine. What /proc hides (other
// users' processes under hidepid or ProtectProc=, another network namespace) is simply not found.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { endianness } from 'node:os';
import { escapeText } from '../../log-escape.ts';
import { parseIPv6 } from '../../protocol/ipv6.ts';

/** A listening socket as /proc/net/tcp{,6} lists it. */
export interface Listener {
  /** 4 bytes (IPv4) or 16 (IPv6), in network order. */
  readonly address: Uint8Array;
  readonly port: number;
  readonly uid: number;
  readonly inode: number;
}

/** A process holding one of those sockets, and its command line (arguments joined by spaces). */
export interface Holder {
  readonly pid: number;
  readonly command: string;
}

const TCP_LISTEN = '0A';
/** `ADDRESS:PORT` in hex: 8 digits for IPv4, 32 for IPv6, then 4. */
const LOCAL_ADDRESS = /^([0-9A-F]{8}|[0-9A-F]{32}):([0-9A-F]{4})$/;
const DECIMAL = /^\d+$/;

/**
 * The LISTEN sockets in the text of /proc/net/tcp or tcp6. Each row: `sl local rem st queues
 * timer retransmits uid timeout inode …`; an address is hex 32-bit words each printed in the
 * machine's byte order, the port hex in plain order.
 */
export function parseListeners(text: string, littleEndian = endianness() === 'LE'): Listener[] {
  const listeners: Listener[] = [];
  for (const row of text.split('\n')) {
    const fields = row.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== TCP_LISTEN) continue;
    const local = LOCAL_ADDRESS.exec(fields[1]);
    if (local === null || !DECIMAL.test(fields[7]) || !DECIMAL.test(fields[9])) continue;
    const address = Buffer.from(local[1], 'hex');
    if (littleEndian) address.swap32();
    listeners.push({
      address,
      port: Number.parseInt(local[2], 16),
      uid: Number(fields[7]),
      inode: Number(fields[9]),
    });
  }
  return listeners;
}

/** `host` as 4 or 16 bytes; null for a name (or a scoped `fe80::1%eth0`), which matches anything. */
export function addressBytes(host: string): Uint8Array | null {
  if (net.isIPv4(host)) return Uint8Array.from(host.split('.'), Number);
  const text = Buffer.from(host, 'latin1');
  const bytes = new Uint8Array(16);
  return parseIPv6(text, 0, text.length, bytes) === text.length ? bytes : null;
}

/**
 * Could sockets bound to `a` and `b` (same port) take the same connections? As Linux decides a
 * bind conflict: the same family overlaps on equal addresses or a wildcard; across families only
 * the IPv6 wildcard does (dual-stack: a v6-only `::` cannot be told apart here, and counts too).
 * An IPv4-mapped IPv6 address counts as its IPv4 address.
 */
export function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  const x = unmapped(a);
  const y = unmapped(b);
  if (x.length === y.length) return isWildcard(x) || isWildcard(y) || Buffer.compare(x, y) === 0;
  return isWildcard(x.length === 16 ? x : y);
}

function unmapped(address: Uint8Array): Uint8Array {
  if (address.length !== 16) return address;
  for (let i = 0; i < 10; i++) if (address[i] !== 0) return address;
  return address[10] === 0xff && address[11] === 0xff ? address.subarray(12) : address;
}

function isWildcard(address: Uint8Array): boolean {
  for (const byte of address) if (byte !== 0) return false;
  return true;
}

/** The sockets listening on `port` where a bind to `host` would overlap them. */
export function listenersOn(host: string, port: number, proc = '/proc'): Listener[] {
  const ours = addressBytes(host);
  const found: Listener[] = [];
  for (const table of ['net/tcp', 'net/tcp6']) {
    for (const listener of parseListeners(readOr(`${proc}/${table}`, ''))) {
      if (listener.port === port && (ours === null || overlaps(ours, listener.address)))
        found.push(listener);
    }
  }
  return found;
}

/** The processes with a descriptor on one of `inodes`, by pid. */
export function holdersOf(inodes: ReadonlySet<number>, proc = '/proc'): Holder[] {
  const holders: Holder[] = [];
  if (inodes.size === 0) return holders;
  const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  for (const entry of readdirOr(proc)) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const fds = `${proc}/${entry}/fd`;
    if (readdirOr(fds).some((fd) => wanted.has(readlinkOr(`${fds}/${fd}`)))) {
      // Escaped: an argument may hold a line feed, and this goes into a one-line message.
      const command = escapeText(
        readOr(`${proc}/${entry}/cmdline`, '').replaceAll('\0', ' ').trim(),
      );
      holders.push({ pid, command });
    }
  }
  return holders.sort((a, b) => a.pid - b.pid);
}

/**
 * Who holds `port` where `host` would bind, in words for a one-line error: `pid 1234 (node
 * src/cli.ts --port 5000)`, `pids 1234, 1240 (…)` for several (a server's workers), `another
 * process (uid 998)` when the socket is listed but not its process, else `another process`.
 */
export function describeHolder(host: string, port: number, proc = '/proc'): string {
  const listeners = listenersOn(host, port, proc);
  const holders = holdersOf(new Set(listeners.map((l) => l.inode)), proc);
  if (holders.length > 0) {
    const pids = holders.map((h) => h.pid).join(', ');
    const command = holders[0].command;
    return `${holders.length === 1 ? 'pid' : 'pids'} ${pids}${command === '' ? '' : ` (${command})`}`;
  }
  return listeners.length > 0 ? `another process (uid ${listeners[0].uid})` : 'another process';
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function readdirOr(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function readlinkOr(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}
