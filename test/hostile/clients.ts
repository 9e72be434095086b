// Hostile clients' plumbing: many raw connections to a surface, what each received, and how long
// each lived until the server closed it.
import type net from 'node:net';
import { openMany, sleep } from '../helpers/resilience.ts';

export interface Attacker {
  readonly socket: net.Socket;
  /** Everything received so far, as latin1 text (empty for a client that never reads). */
  received: string;
  /** ms from the first write to the server's close (null: still open). */
  closedAfterMs: number | null;
}

/** Opens `count` connections to loopback `port`; `reading: false` plays clients that never read. */
export async function attackers(port: number, count: number, reading = true): Promise<Attacker[]> {
  const sockets = await openMany(port, count);
  return sockets.map((socket) => {
    const attacker: Attacker = { socket, received: '', closedAfterMs: null };
    const started = performance.now();
    if (reading) socket.setEncoding('latin1').on('data', (s: string) => (attacker.received += s));
    else socket.pause();
    socket.on('close', () => (attacker.closedAfterMs = Math.round(performance.now() - started)));
    return attacker;
  });
}

/**
 * Waits until every attacker is closed or `capMs` passed; returns the longest life (ms), or
 * `capMs` when some were still open (the caller's bound then sees it exceeded).
 */
export async function closedWithin(all: readonly Attacker[], capMs: number): Promise<number> {
  const deadline = performance.now() + capMs;
  while (all.some((a) => a.closedAfterMs === null) && performance.now() < deadline) await sleep(20);
  let longest = 0;
  for (const a of all) longest = Math.max(longest, a.closedAfterMs ?? Number.POSITIVE_INFINITY);
  return longest;
}

/** Closes whatever is still open (after the measurement: the server's own bounds are checked first). */
export function hangUp(all: readonly Attacker[]): void {
  for (const a of all) a.socket.destroy();
}

/**
 * Writes `unit` over and over without reading until `seconds` have passed, waiting for drain
 * whenever the socket pushes back. Returns the bytes the kernel took (written less what still
 * waits in this process): what the client made the other side hold.
 */
export async function flood(socket: net.Socket, unit: Buffer, seconds: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline && !socket.destroyed) {
    if (!socket.write(unit))
      await Promise.race([
        new Promise((resolve) => socket.once('drain', resolve)),
        sleep(Math.max(0, deadline - performance.now())),
      ]);
  }
  return socket.bytesWritten - socket.writableLength;
}

/** `unit` repeated until it is at least `bytes` long. */
export function repeated(unit: Buffer, bytes: number): Buffer {
  return Buffer.concat(
    Array.from({ length: Math.max(1, Math.ceil(bytes / unit.length)) }, () => unit),
  );
}
