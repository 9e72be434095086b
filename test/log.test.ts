import { mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, FdSink, MemorySink } from '../src/log.ts';

const T = Date.UTC(2026, 10, 26, 9, 40, 0, 123);

test('text lines: time, level, message, then key=value; odd values are quoted', () => {
  const sink = new MemorySink();
  const log = createLogger({ sink, now: () => T });
  log.info('open', { client: '54.222.152.163:45418', header: 'v1', lines: 3, skipped: undefined });
  log.warn('reject', { detail: 'bad port "65536"', line: 'a\nforged=line', empty: '' });
  assert.is(
    sink.text,
    '2026-11-26T09:40:00.123Z info  open client=54.222.152.163:45418 header=v1 lines=3\n' +
      '2026-11-26T09:40:00.123Z warn  reject detail="bad port \\"65536\\"" line="a\\nforged=line" empty=""\n',
  );
});

test('JSON lines: one object per line, fields typed', () => {
  const sink = new MemorySink();
  const log = createLogger({ sink, format: 'json', now: () => T });
  log.error('close', { client: '[2001:db8::1]:443', bytes: 42, ok: false, gone: undefined });
  assert.is(sink.lines.length, 1);
  assert.equal(JSON.parse(sink.lines[0]), {
    time: '2026-11-26T09:40:00.123Z',
    level: 'error',
    msg: 'close',
    client: '[2001:db8::1]:443',
    bytes: 42,
    ok: false,
  });
});

test('DEL and C1 control characters in data are escaped in text and JSON lines', () => {
  const hostile = 'a\u009b31mred\u007f\u0085b';
  const text = new MemorySink();
  createLogger({ sink: text, now: () => T, level: 'debug' }).debug('data', { line: hostile });
  assert.is(
    text.text,
    '2026-11-26T09:40:00.123Z debug data line="a\\u009b31mred\\u007f\\u0085b"\n',
  );
  const json = new MemorySink();
  createLogger({ sink: json, format: 'json', now: () => T, level: 'debug' }).debug('data', {
    line: hostile,
  });
  assert.not.match(json.text, /[\u007f-\u009f]/);
  assert.is(JSON.parse(json.lines[0]).line, hostile);
});

test('levels below the threshold write nothing', () => {
  const sink = new MemorySink();
  const log = createLogger({ sink, level: 'warn' });
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  assert.equal(
    sink.lines.map((l) => l.trimEnd().split(/ +/)[2]),
    ['w', 'e'],
  );
  assert.is(log.debugEnabled, false);
  log.notice('listening on port 5000');
  assert.match(sink.lines[2], / info {2}listening on port 5000\n$/);
  assert.is(createLogger({ sink, level: 'debug' }).debugEnabled, true);
});

test('FdSink writes every line in order; past its bound it drops and says how many', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'srv-log-'));
  try {
    const fd = openSync(join(dir, 'out'), 'w');
    const sink = new FdSink(fd, 100);
    for (let i = 0; i < 20; i++) sink.write(`line ${String(i).padStart(2, '0')} xxxxxxxxxx\n`); // 20 bytes each
    await sink.flush();
    closeSync(fd);
    const lines = readFileSync(join(dir, 'out'), 'utf8').trimEnd().split('\n');
    assert.is(sink.dropped + lines.length - 1, 20);
    assert.ok(sink.dropped > 0);
    assert.is(lines[0], 'line 00 xxxxxxxxxx');
    assert.is(
      lines.at(-1),
      `log: ${sink.dropped} lines dropped because the log output was not keeping up`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FdSink: a line too big for its bound is dropped and said so even when nothing else follows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'srv-log-'));
  try {
    const fd = openSync(join(dir, 'out'), 'w');
    const sink = new FdSink(fd, 100);
    sink.write(`${'x'.repeat(200)}\n`);
    await sink.flush();
    closeSync(fd);
    assert.is(sink.dropped, 1);
    assert.is(
      readFileSync(join(dir, 'out'), 'utf8'),
      'log: 1 lines dropped because the log output was not keeping up\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
