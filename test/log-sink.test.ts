import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FdSink } from '../src/log.ts';

function inTempDir(body: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'srv-log-'));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const nextTurn = () => new Promise<void>(setImmediate);

test(
  'lines are written together a moment later, in order',
  inTempDir(async (dir) => {
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    const sink = new FdSink(fd);
    for (let i = 0; i < 100; i++) sink.write(`line ${i}\n`);
    assert.is(readFileSync(file, 'utf8'), '', 'nothing written within the turn');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.is(lines.length, 101);
    assert.equal(
      lines.slice(0, 100),
      [...Array(100).keys()].map((i) => `line ${i}`),
    );
    closeSync(fd);
  }),
);

test(
  'flushSync writes what waits at once (for exit paths)',
  inTempDir((dir) => {
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    const sink = new FdSink(fd);
    sink.write('fatal: the last words\n');
    sink.flushSync();
    assert.is(readFileSync(file, 'utf8'), 'fatal: the last words\n');
    closeSync(fd);
  }),
);

/** A pipe (a FIFO) whose reader reads only when told: a stalled journal or supervisor. */
interface Pipe {
  readonly writer: number;
  readAll(): string;
  closeReader(): void;
  close(): void;
}

function stalledPipe(dir: string): Pipe {
  const path = join(dir, 'fifo');
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, 'w');
  const chunk = Buffer.alloc(65536);
  return {
    writer,
    readAll: () => {
      let out = '';
      for (;;) {
        try {
          const n = readSync(reader, chunk, 0, chunk.length, null);
          if (n === 0) return out;
          out += chunk.toString('utf8', 0, n);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return out;
          throw error;
        }
      }
    },
    closeReader: () => closeSync(reader),
    close: () => {
      closeSync(reader);
      closeSync(writer);
    },
  };
}

test(
  'a stalled pipe never blocks a write; past the bound lines are dropped and counted, the rest arrive in order',
  inTempDir(async (dir) => {
    const pipe = stalledPipe(dir);
    try {
      const sink = new FdSink(pipe.writer, 32 * 1024);
      const line = (i: number) => `line ${String(i).padStart(6, '0')} ${'x'.repeat(84)}\n`; // 100 bytes
      const started = process.hrtime.bigint();
      for (let i = 0; i < 2000; i++) {
        sink.write(line(i)); // 200 KB: three times what the pipe holds
        if (i % 100 === 99) await nextTurn();
      }
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      assert.ok(ms < 2000, `writing took ${ms} ms: a write waited for the reader`);
      assert.ok(sink.dropped > 0, 'some lines dropped');
      let text = pipe.readAll();
      const flushed = sink.flush();
      for (let waited = 0; !text.includes('dropped') && waited < 2000; waited += 5) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        text += pipe.readAll();
      }
      await flushed;
      text += pipe.readAll();
      const lines = text.trimEnd().split('\n');
      const notice = lines.pop();
      assert.is(
        notice,
        `log: ${sink.dropped} lines dropped because the log output was not keeping up`,
      );
      assert.is(lines.length + sink.dropped, 2000);
      assert.equal(
        lines,
        [...Array(lines.length).keys()].map((i) => line(i).slice(0, -1)),
        'the lines kept are the first ones, whole and in order',
      );
    } finally {
      pipe.close();
    }
  }),
);

test(
  'a line bigger than the bound is dropped and said so even when nothing else follows',
  inTempDir(async (dir) => {
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    const sink = new FdSink(fd, 100);
    sink.write(`${'x'.repeat(200)}\n`);
    await sink.flush();
    closeSync(fd);
    assert.is(sink.dropped, 1);
    assert.is(
      readFileSync(file, 'utf8'),
      'log: 1 lines dropped because the log output was not keeping up\n',
    );
  }),
);

test(
  'a reader that went away ends logging quietly',
  inTempDir(async (dir) => {
    const pipe = stalledPipe(dir);
    const sink = new FdSink(pipe.writer);
    sink.write('seen\n');
    await sink.flush();
    assert.is(pipe.readAll(), 'seen\n');
    pipe.closeReader(); // EPIPE from here on
    sink.write('lost\n');
    await sink.flush();
    sink.write('also lost\n');
    sink.flushSync();
    closeSync(pipe.writer);
  }),
);

test(
  'what a stalled reader has not taken yet stays intact while another sink writes',
  inTempDir(async (dir) => {
    const pipe = stalledPipe(dir);
    const file = join(dir, 'other');
    const fd = openSync(file, 'w');
    try {
      const stalled = new FdSink(pipe.writer);
      // 1,001 bytes, in two-byte characters: a batch of them fits the sink's scratch memory.
      const line = (i: number) => `line ${String(i).padStart(6, '0')} ${'é'.repeat(494)}\n`;
      for (let i = 0; i < 80; i++) stalled.write(line(i)); // more than the pipe holds: it stalls
      await new Promise((resolve) => setTimeout(resolve, 20)); // its batch is written (in part)
      const other = new FdSink(fd);
      const long = `${'ü'.repeat(45_000)}\n`;
      other.write(long);
      other.flushSync();
      let text = pipe.readAll();
      const flushed = stalled.flush();
      for (let waited = 0; text.split('\n').length <= 80 && waited < 2000; waited += 5) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        text += pipe.readAll();
      }
      await flushed;
      assert.equal(
        text.split('\n').slice(0, 80),
        [...Array(80).keys()].map((i) => line(i).trimEnd()),
      );
      assert.is(readFileSync(file, 'utf8'), long);
    } finally {
      pipe.close();
      closeSync(fd);
    }
  }),
);

test.run();
