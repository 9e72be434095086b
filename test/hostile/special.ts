// Attacks that only make sense on some surfaces: request smuggling shapes on HTTP, the log's
// longest line, the greeting in front of an HTTP answer, a second server on the same port, the
// health switch flipped by a flood of clients.
import { logLines, sleep } from '../helpers/resilience.ts';
import { classicElbSession } from '../helpers/socket.ts';
import type { Attack } from './attacks.ts';
import { type Attacker, attackers, closedWithin, hangUp } from './clients.ts';
import { launch } from './target.ts';
import tls from 'node:tls';
import { serverHellos } from './tls-bytes.ts';

/** Requests one parser may read differently from another: each must get 400 and a close. */
const SMUGGLING = [
  'POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde',
  'POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
  'POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n',
  'GET / HTTP/1.1\nHost: x\n\rX: y\r\n\r\n',
  'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n',
];

export const smuggling: Attack = {
  name: 'smuggling shapes',
  async run(target, surface, _scale, bound) {
    const all = await attackers(surface.port(target), SMUGGLING.length);
    all.forEach((a, i) =>
      a.socket.write(Buffer.concat([surface.opening(i), Buffer.from(SMUGGLING[i])])),
    );
    const closedAfterMs = await closedWithin(all, (bound.closedWithinMs ?? 2000) + 1000);
    hangUp(all);
    const problems = all.flatMap((a, i) =>
      /^HTTP\/1\.1 400 /.test(a.received) && !a.received.includes('200 OK')
        ? []
        : [
            `${JSON.stringify(SMUGGLING[i].slice(0, 50))} got ${JSON.stringify(a.received.slice(0, 40))}`,
          ],
    );
    return {
      connections: all.length,
      detail: `${SMUGGLING.length} smuggling shapes`,
      closedAfterMs,
      problems,
    };
  },
};

/** Inputs that carry the most text a client controls into the log (run with --log-level debug). */
export const loudLogs: Attack = {
  name: 'client text in the log',
  async run(target, surface) {
    const inputs = surface.loud(0);
    const all = await attackers(surface.port(target), inputs.length);
    all.forEach((a, i) => a.socket.write(inputs[i]));
    await sleep(500);
    hangUp(all);
    return {
      connections: all.length,
      detail: `${inputs.length} inputs of ${inputs.map((x) => x.length).join('/')} bytes`,
      problems: [],
    };
  },
};

/** The header, a silence past the greeting's wait, then an HTTP request. */
export const greetingThenHttp: Attack = {
  name: 'HTTP after the greeting',
  async run(target, surface, { connections }) {
    const all = await attackers(surface.port(target), connections);
    all.forEach((a, i) => a.socket.write(surface.opening(i)));
    await sleep(700); // 250 ms of silence sends the greeting, checked every sweep (≤ 200 ms)
    for (const a of all) a.socket.write('GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
    await closedWithin(all, 2000);
    hangUp(all);
    const both = all.filter(
      (a) => a.received.includes('elb-proxy-echo on ') && a.received.includes('HTTP/1.1 200'),
    ).length;
    return {
      connections,
      detail: `${connections} connections: header, 700 ms, GET`,
      problems: both > 0 ? [`${both} connections got the greeting and then an HTTP answer`] : [],
    };
  },
};

/** A second server started on the port the target listens on. */
export const secondServer: Attack = {
  name: 'a second server on its port',
  async run(target, _surface, { connections }) {
    const started = performance.now();
    const second = launch(target.engine, [], target.port);
    // Up to 5 s, to measure a late exit too; the bound is 2 s.
    const code = await Promise.race([second.exited, sleep(5000).then(() => 'running' as const)]);
    const exitedAfter = Math.round(performance.now() - started);
    const opensBefore = opens(target.proc.output());
    for (let i = 0; i < connections; i++) await classicElbSession(target.port);
    await sleep(200); // the log is written asynchronously
    const reached = opens(target.proc.output()) - opensBefore;
    await second.stop(500);
    const problems: string[] = [];
    if (code !== 2)
      problems.push(
        `the second server: ${code === 'running' ? 'still running after 5 s' : `exit ${code}`}`,
      );
    else if (exitedAfter > 2000) problems.push(`the second server exited after ${exitedAfter} ms`);
    if (reached !== connections)
      problems.push(
        `${connections - reached} of ${connections} sessions did not reach the first server`,
      );
    return {
      connections,
      detail: `second server ${code === 'running' ? 'running' : `exit ${code} after ${exitedAfter} ms`}; ${reached}/${connections} sessions reached the first`,
      problems,
    };
  },
};

/** Sessions of classicElbSession (its client, not the control client's) a server opened. */
function opens(output: string): number {
  return logLines(output).filter((l) => l.msg === 'open' && l.client === '54.222.152.163:45418')
    .length;
}

/**
 * A ClientHello flood: rounds of connections that each send a header and a ClientHello, wait
 * for the ServerHello (the server has then done its key exchange and signed) and hang up with a
 * FIN, for `seconds`. Each costs the server a handshake's CPU; the control client must stay
 * served, and each hang-up must close its connection at once (a half-open one would hold its
 * TLS state until the header timeout).
 */
export const helloFlood: Attack = {
  name: 'ClientHello flood',
  async run(target, surface, { connections, seconds = 1 }, bound) {
    const deadline = performance.now() + seconds * 1000;
    let sent = 0;
    let answered = 0;
    let closedAfterMs = 0;
    const hungUp: Attacker[] = [];
    while (performance.now() < deadline) {
      const all = await attackers(surface.port(target), connections);
      all.forEach((a, i) =>
        a.socket.write(Buffer.concat([surface.opening(sent + i), surface.request])),
      );
      const until = performance.now() + 2000;
      while (all.some((a) => serverHellos(a.received) === 0) && performance.now() < until)
        await sleep(5);
      answered += all.filter((a) => serverHellos(a.received) > 0).length;
      sent += all.length;
      for (const a of all) {
        const finAt = performance.now();
        a.socket.once('close', () => {
          closedAfterMs = Math.max(closedAfterMs, Math.round(performance.now() - finAt));
        });
        a.socket.end();
      }
      hungUp.push(...all);
    }
    // Past the bound by enough to show a miss as it is (the header timeout's close, say).
    const cap = (bound.closedWithinMs ?? 0) + 2000;
    const allClosed = Number.isFinite(await closedWithin(hungUp, cap));
    hangUp(hungUp);
    return {
      connections: sent,
      detail: `${sent} ClientHellos in rounds of ${connections} for ${seconds} s, ${answered} answered, then a FIN`,
      closedAfterMs: allClosed ? closedAfterMs : cap,
      problems: answered === sent ? [] : [`${sent - answered} ClientHellos got no ServerHello`],
    };
  },
};

/**
 * TLS clients that complete the handshake, then send lines without reading their echo: the
 * server must stop reading them (backpressure through TLS), not hold what they send.
 */
export const tlsNotReading: Attack = {
  name: 'TLS clients that never read',
  async run(target, surface, { connections, seconds = 1 }) {
    const all = await attackers(surface.port(target), connections);
    const held = await Promise.all(
      all.map(async (a, i) => {
        a.socket.write(surface.opening(i));
        const secure = tls.connect({ socket: a.socket, rejectUnauthorized: false });
        await new Promise((resolve, reject) =>
          secure.once('secureConnect', resolve).once('error', reject),
        );
        secure.pause();
        const line = Buffer.from(`${'x'.repeat(1000)}\r\n`);
        const unit = Buffer.concat(Array.from({ length: 16 }, () => line));
        const deadline = performance.now() + seconds * 1000;
        while (performance.now() < deadline && !secure.destroyed)
          if (!secure.write(unit))
            await Promise.race([
              new Promise((resolve) => secure.once('drain', resolve)),
              sleep(Math.max(0, deadline - performance.now())),
            ]);
        return a.socket.bytesWritten - a.socket.writableLength;
      }),
    );
    hangUp(all);
    return {
      connections,
      detail: `${connections} TLS connections sending lines for ${seconds} s without reading`,
      queuedBytes: Math.max(...held),
      problems: [],
    };
  },
};

/**
 * Complete switch requests on connection after connection, fail and ok by turns, as fast as the
 * metrics port's connection cap lets them in: each is answered (200 and the state) or refused
 * at the cap, and the server ends up in the state the last request asked for.
 */
export const switchFlood: Attack = {
  name: 'switch flood',
  async run(target, surface, { connections }) {
    const port = surface.port(target);
    const problems: string[] = [];
    let answered = 0;
    const wave = 8; // the metrics port's connection cap
    for (let done = 0; done < connections; done += wave) {
      const all = await attackers(port, Math.min(wave, connections - done));
      all.forEach((a, i) => {
        const path = (done + i) % 2 === 0 ? '/health/fail' : '/health/ok';
        a.socket.write(`POST ${path} HTTP/1.1\r\ncontent-length: 2\r\n\r\nhi`);
      });
      await closedWithin(all, 2000);
      hangUp(all);
      for (const a of all) {
        if (/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n(ok|failing)\n$/.test(a.received)) answered++;
        else if (a.received !== '')
          problems.push(`an unexpected answer: ${JSON.stringify(a.received.slice(0, 60))}`);
      }
    }
    const [last] = await attackers(port, 1);
    last.socket.write('POST /health/ok HTTP/1.1\r\n\r\n');
    await closedWithin([last], 2000);
    if (!/\r\n\r\nok\n$/.test(last.received))
      problems.push(`the last switch got ${JSON.stringify(last.received.slice(0, 60))}`);
    if (answered < connections / 2) problems.push(`only ${answered} of ${connections} answered`);
    return {
      connections: connections + 1,
      detail: `${connections} switch requests in waves of ${wave}; ${answered} answered`,
      problems: problems.slice(0, 3),
    };
  },
};
