// Attacks written against any surface (surfaces.ts): each opens its connections, does its harm
// within its scale, and reports facts (measure.ts) and what the server did that it must not.
import { randomBytes } from 'node:crypto';
import { sleep } from '../helpers/resilience.ts';
import type { Bound } from './bounds.ts';
import { type Attacker, attackers, closedWithin, flood, hangUp, repeated } from './clients.ts';
import type { Facts } from './measure.ts';
import type { Surface } from './surfaces.ts';
import type { Target } from './target.ts';

/** How hard: connections, and for how long when the attack lasts. */
export interface Scale {
  readonly connections: number;
  readonly seconds?: number;
}

export interface Attack {
  readonly name: string;
  run(target: Target, surface: Surface, scale: Scale, bound: Bound): Promise<Facts>;
}

/**
 * After an attack that the server must end: waits for its closes when the bound has a deadline
 * for them (and a margin to see it missed), and checks what each client was told.
 */
async function settle(
  all: readonly Attacker[],
  bound: Bound,
): Promise<{ closedAfterMs?: number; problems: string[] }> {
  const closedAfterMs =
    bound.closedWithinMs === undefined
      ? undefined
      : await closedWithin(all, bound.closedWithinMs + 1000);
  hangUp(all);
  const { reply } = bound;
  const wrong = reply === undefined ? [] : all.filter((a) => !reply.test(a.received));
  const problems = wrong
    .slice(0, 1)
    .map(
      (a) =>
        `${wrong.length} of ${all.length} clients were not told ${reply}, e.g. ${JSON.stringify(a.received.slice(0, 80))}`,
    );
  return { closedAfterMs, problems };
}

/** Requests pipelined back to back by clients that never read the answers. */
export const pipelining: Attack = {
  name: 'pipelining without reading',
  async run(target, surface, { connections, seconds = 1 }) {
    const all = await attackers(surface.port(target), connections, false);
    const burst = repeated(surface.request, 16 * 1024);
    const queued = await Promise.all(
      all.map((a, i) => {
        a.socket.write(surface.opening(i));
        return flood(a.socket, burst, seconds);
      }),
    );
    hangUp(all);
    return {
      connections,
      detail: `${connections} connections pipelining ${surface.request.length}-byte requests for ${seconds} s without reading`,
      queuedBytes: Math.max(...queued),
      problems: [],
    };
  },
};

/** Slowloris: the surface's bytes one per 100 ms, never complete. */
export const slowloris: Attack = {
  name: 'slowloris',
  async run(target, surface, { connections }, bound) {
    const all = await attackers(surface.port(target), connections);
    all.forEach((a, i) => a.socket.write(Buffer.concat([surface.opening(i), surface.inside])));
    let offset = 0;
    const dripper = setInterval(() => {
      all.forEach((a, i) => {
        if (!a.socket.destroyed) a.socket.write(surface.dribble(i).subarray(offset, offset + 1));
      });
      offset++;
    }, 100);
    try {
      const settled = await settle(all, bound);
      return {
        connections,
        detail: `${connections} connections dripping one byte per 100 ms`,
        ...settled,
      };
    } finally {
      clearInterval(dripper);
    }
  },
};

/** Connections that open and send nothing. */
export const silent: Attack = {
  name: 'silent connections',
  async run(target, surface, { connections }, bound) {
    const all = await attackers(surface.port(target), connections);
    return {
      connections,
      detail: `${connections} connections that send nothing`,
      ...(await settle(all, bound)),
    };
  },
};

/** Many connections that begin and stall: what each costs while held, and that each is let go. */
export const stalled: Attack = {
  name: 'stalled connections',
  async run(target, surface, { connections }, bound) {
    const all = await attackers(surface.port(target), connections);
    all.forEach((a, i) =>
      a.socket.write(
        Buffer.concat([surface.opening(i), surface.inside, surface.dribble(i).subarray(0, 20)]),
      ),
    );
    const settled = await settle(all, bound);
    return {
      connections,
      detail: `${connections} connections stalled after 20 bytes of the surface`,
      ...settled,
    };
  },
};

/** 10 MB that never completes a line or a head, as fast as the server takes it. */
export const endless: Attack = {
  name: 'endless bytes (10 MB)',
  async run(target, surface, { connections }, bound) {
    const all = await attackers(surface.port(target), connections);
    const mb = 10 * 1024 * 1024;
    await Promise.all(
      all.map(async (a, i) => {
        a.socket.write(Buffer.concat([surface.opening(i), surface.inside, surface.dribble(i)]));
        const filler = Buffer.alloc(64 * 1024, 'x');
        for (let sent = 0; sent < mb && !a.socket.destroyed; sent += filler.length)
          if (!a.socket.write(filler))
            await new Promise(
              (resolve) => (a.socket.once('drain', resolve), a.socket.once('close', resolve)),
            );
      }),
    );
    // The server answers while the client is still writing: it must close lingering (read
    // and drop the rest), or the kernel's reset to unread bytes may drop the answer unread.
    const { closedAfterMs, problems } = await settle(all, bound);
    const echoed = all.filter((a) => a.received.includes('xxxxxxxx')).length;
    if (echoed > 0) problems.push(`${echoed} connections got the endless bytes back`);
    return {
      connections,
      detail: `${connections} connections × 10 MB without an end`,
      closedAfterMs,
      problems,
    };
  },
};

/** 64 KiB of random bytes after the opening. */
export const random: Attack = {
  name: 'random bytes',
  async run(target, surface, { connections }, bound) {
    const all = await attackers(surface.port(target), connections);
    all.forEach((a, i) =>
      a.socket.write(Buffer.concat([surface.opening(i), surface.inside, randomBytes(64 * 1024)])),
    );
    if (bound.closedWithinMs === undefined) await sleep(500); // let the server take it all
    const settled = await settle(all, bound);
    return {
      connections,
      detail: `${connections} connections × 64 KiB of random bytes`,
      ...settled,
    };
  },
};

/** Connections reset (RST) halfway through a request, in rounds of 200. */
export const resets: Attack = {
  name: 'resets mid-request',
  async run(target, surface, { connections }) {
    const half = surface.request.subarray(0, surface.request.length >> 1);
    for (let done = 0; done < connections; done += 200) {
      const all = await attackers(surface.port(target), Math.min(200, connections - done));
      all.forEach((a, i) => a.socket.write(Buffer.concat([surface.opening(done + i), half])));
      await sleep(20);
      for (const a of all) a.socket.resetAndDestroy();
    }
    return {
      connections,
      detail: `${connections} connections reset after half a request`,
      problems: [],
    };
  },
};

/** Requests then FIN at once: every answer still comes, then the server closes. */
export const halfClose: Attack = {
  name: 'half-close',
  async run(target, surface, { connections }, bound) {
    const all = await attackers(surface.port(target), connections);
    const requests = 10;
    all.forEach((a, i) =>
      a.socket.end(
        Buffer.concat([
          surface.opening(i),
          repeated(surface.request, requests * surface.request.length),
        ]),
      ),
    );
    const { closedAfterMs, problems } = await settle(all, bound);
    const expected = Math.min(requests, surface.requestsPerConnection);
    const short = all.filter((a) => surface.answers(a.received) !== expected).length;
    if (short > 0) problems.push(`${short} connections did not get ${expected} answers`);
    return {
      connections,
      detail: `${connections} connections sending ${requests} requests then FIN`,
      closedAfterMs,
      problems,
    };
  },
};
