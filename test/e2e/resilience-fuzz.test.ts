// Fuzzing the running server (the parser alone is fuzzed in test/protocol/properties.test.ts):
// random valid headers and random lines cut into random chunks must come back byte for byte,
// with the header's client in the log; mutated headers must each end in an `open` or a
// `reject`, promptly, and never take the server down. Seeded: SEED=n replays a run.
import type net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  buildProxyHeader,
  parseProxyHeader,
  TLV_TYPE,
  type ProxyHeaderInit,
} from '../../src/protocol/index.ts';
import { startCli } from '../helpers/cli.ts';
import { logEndpoint, logLines, openMany, session, sleep, until } from '../helpers/resilience.ts';
import { Random, runSeed } from '../protocol/random.ts';

const seed = runSeed();
const random = new Random(seed);
const replay = `(replay with SEED=${seed})`;

function randomHeader(): ProxyHeaderInit {
  const version = random.pick([1, 2] as const);
  const six = random.int(2) === 1;
  const address = () =>
    six
      ? Array.from({ length: 8 }, () =>
          (random.int(4) === 0 ? 0 : random.int(0x10000)).toString(16),
        ).join(':')
      : Array.from({ length: 4 }, () => random.int(256)).join('.');
  const tlvs =
    version === 2
      ? Array.from({ length: random.int(4) }, () => ({
          type: random.pick([
            TLV_TYPE.AUTHORITY,
            TLV_TYPE.UNIQUE_ID,
            TLV_TYPE.NOOP,
            TLV_TYPE.AWS,
            0xe0,
          ]),
          value: random.bytes(random.int(60)),
        }))
      : undefined;
  return {
    version,
    command: 'proxy',
    protocol: six ? 'TCP6' : 'TCP4',
    source: { address: address(), port: random.int(65536) },
    destination: { address: address(), port: random.int(65536) },
    tlvs,
  };
}

/** Random lines of any bytes but LF (never `q`/`Q` with or without CR, which would end the session). */
function randomLines(): Buffer {
  const lines: Buffer[] = [];
  for (let n = random.int(20); n >= 0; n--) {
    const line = Buffer.from(random.bytes(random.int(300)).map((b) => (b === 0x0a ? 0x20 : b)));
    if ((line.length === 1 || (line.length === 2 && line[1] === 0x0d)) && (line[0] | 0x20) === 0x71)
      line[0] = 0x78;
    lines.push(line, Buffer.from(random.int(2) === 0 ? '\r\n' : '\n'));
  }
  return Buffer.concat(lines);
}

interface Piece {
  readonly bytes: Uint8Array;
  /** Milliseconds to wait after writing it (mostly 0: the next write follows at once). */
  readonly pauseMs: number;
}

/**
 * Cuts `bytes` into random pieces of 1..64 bytes with an occasional pause after one. Drawn at
 * once, before any await, so that concurrent sessions take the same draws in every replay.
 */
function chop(bytes: Uint8Array): Piece[] {
  const pieces: Piece[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + random.int(64);
    pieces.push({
      bytes: bytes.subarray(at, at + size),
      pauseMs: random.int(4) === 0 ? random.int(3) : 0,
    });
    at += size;
  }
  return pieces;
}

async function writePieces(socket: net.Socket, pieces: readonly Piece[]): Promise<void> {
  for (const { bytes, pauseMs } of pieces) {
    socket.write(bytes);
    if (pauseMs > 0) await sleep(pauseMs);
  }
}

/** Everything the server sends until it closes the connection (bounded by `timeoutMs`). */
function untilClosed(
  socket: net.Socket,
  timeoutMs: number,
): Promise<{ data: Buffer; closedInTime: boolean }> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closedInTime: false });
    }, timeoutMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closedInTime: true });
    });
  });
}

test(`random headers and lines in random chunks come back byte for byte ${replay}`, async () => {
  const server = await startCli(
    ['serve', '--host', '127.0.0.1', '--port', '0', '--log-format', 'json'],
    /listening on port (\d+)/,
  );
  try {
    const port = Number(server.match[1]);
    const SESSIONS = 120;
    let bytes = 0;
    for (let batch = 0; batch < SESSIONS / 20; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const init = randomHeader();
          const header = buildProxyHeader(init, {
            crc32c: init.version === 2 && random.int(2) === 0,
          });
          const parsed = parseProxyHeader(header);
          assert.is(parsed.status, 'ok');
          const source = parsed.status === 'ok' ? parsed.header.source! : null;
          const lines = randomLines();
          const pieces = chop(Buffer.concat([header, lines, Buffer.from('q\r\n')]));
          const [socket] = await openMany(port, 1);
          const reply = untilClosed(socket, 5000);
          await writePieces(socket, pieces);
          const { data, closedInTime } = await reply;
          assert.ok(closedInTime, `the server did not close after q ${replay}`);
          assert.ok(data.equals(lines), `echo differs for ${JSON.stringify(init)} ${replay}`);
          // The log is written asynchronously: it may come a moment after the close.
          const client = logEndpoint(source!.address, source!.port);
          await until(
            () => logLines(server.output()).some((l) => l.msg === 'open' && l.client === client),
            2000,
            `an open line for ${client} ${replay}`,
          );
          bytes += data.length;
        }),
      );
    }
    console.log(
      `\nresilience: fuzz: ${SESSIONS} sessions with random v1/v2 headers (TLVs, CRC32C) and ${(bytes / 1024).toFixed(0)} KiB of random lines in 1..64-byte pieces, all echoed byte for byte ${replay}`,
    );
  } finally {
    server.child.kill('SIGKILL');
  }
});

test(`mutated headers each end in open or reject, promptly ${replay}`, async () => {
  const server = await startCli(
    [
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--log-format',
      'json',
      '--header-timeout',
      '2s',
      '--idle-timeout',
      '2s',
    ],
    /listening on port (\d+)/,
  );
  try {
    const port = Number(server.match[1]);
    const SESSIONS = 300;
    let opened = 0;
    let rejected = 0;
    // All at once: the ones that wait for a timeout wait together.
    await Promise.all(
      Array.from({ length: SESSIONS }, async () => {
        const header = Buffer.from(buildProxyHeader(randomHeader()));
        // One to three edits, each flipping a byte or dropping one; one header in five cut short.
        for (let e = 1 + random.int(3); e > 0; e--) {
          const at = random.int(header.length);
          if (random.int(2) === 0) header[at] = random.int(256);
          else header.copyWithin(at, at + 1);
        }
        const cut = random.int(5) === 0 ? header.subarray(0, random.int(header.length)) : header;
        const sent = Buffer.concat([cut, Buffer.from('hello\r\nq\r\n')]);
        const verdict = parseProxyHeader(sent);
        const pieces = chop(sent);
        const [socket] = await openMany(port, 1);
        const reply = untilClosed(socket, 5000);
        await writePieces(socket, pieces);
        const { closedInTime } = await reply;
        // Invalid: rejected at once. Incomplete: the header timeout (2 s) ends it. Valid (a
        // mutation can still be a header, and may swallow the q): q or the idle timeout (2 s).
        assert.ok(
          closedInTime,
          `a mutated header kept the connection open (${verdict.status}): ${cut.toString('hex')} ${replay}`,
        );
        if (verdict.status === 'ok') opened++;
        else rejected++;
      }),
    );
    // The log is written asynchronously: the last lines may come a moment after the closes.
    const logged = () => logLines(server.output()).filter((l) => l.msg === 'reject').length;
    await until(
      () => logged() >= rejected,
      2000,
      () => `${rejected} rejections logged (${logged()} so far) ${replay}`,
    );
    assert.is(await session(port), null, 'still serving');
    console.log(
      `resilience: fuzz: ${SESSIONS} mutated headers in random pieces: ${opened} still valid and served, ${rejected} rejected with a logged reason; every connection closed in time, server still serving ${replay}`,
    );
  } finally {
    server.child.kill('SIGKILL');
  }
});

test.run();
