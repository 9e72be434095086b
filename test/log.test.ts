import { closeSync, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createLogger,
  type Fields,
  isJournal,
  LINE_BYTES,
  type LogFormat,
  MemorySink,
} from '../src/log.ts';
import { Random, runSeed } from './protocol/random.ts';

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
  log.error('close', {
    client: '[2001:db8::1]:443',
    bytes: 42,
    ok: false,
    none: null,
    gone: undefined,
    nan: Number.NaN,
  });
  assert.is(sink.lines.length, 1);
  assert.equal(JSON.parse(sink.lines[0]), {
    time: '2026-11-26T09:40:00.123Z',
    level: 'error',
    msg: 'close',
    client: '[2001:db8::1]:443',
    bytes: 42,
    ok: false,
    none: null,
    nan: null,
  });
});

test('the time text is right across milliseconds, seconds and days, and for repeated times', () => {
  const rnd = new Random(runSeed());
  let t = Date.UTC(2026, 11, 31, 23, 59, 58, 990);
  const sink = new MemorySink();
  const log = createLogger({ sink, format: 'json', now: () => t });
  for (let i = 0; i < 3000; i++) {
    t += rnd.pick([0, 0, 1, 7, 999, 1000, 86_400_000]);
    log.info('tick');
    assert.is(JSON.parse(sink.lines[i]).time, new Date(t).toISOString());
  }
});

/** One character of each kind that could end, forge or reorder a line; all must be escaped. */
const UNSAFE: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['C0 controls', ['\u0000', '\u0007', '\b', '\t', '\n', '\v', '\f', '\r', '\u001b', '\u001f']],
  ['DEL and C1 controls', ['\u007f', '\u0080', '\u0085', '\u009b', '\u009f']],
  ['line and paragraph separators', ['\u2028', '\u2029']],
  [
    'bidirectional controls',
    ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e'].concat([
      '\u2066',
      '\u2067',
      '\u2068',
      '\u2069',
    ]),
  ],
  ['invisible format characters', ['\u00ad', '\u200b', '\u200d', '\u2060', '\ufeff', '\u{e0041}']],
  ['lone surrogates', ['\ud800', '\udbff', '\udc00', '\udfff']],
  ['noncharacters and unassigned', ['\ufffe', '\uffff', '\u{10ffff}', '\u0378']],
];

/** `\uXXXX` for each UTF-16 unit, or the short JSON escape. */
function escaped(c: string): string {
  const short: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  if (short[c] !== undefined) return short[c];
  return [...Array(c.length).keys()]
    .map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`)
    .join('');
}

function logged(format: LogFormat, msg: string, value: string): string {
  const sink = new MemorySink();
  createLogger({ sink, format, now: () => T }).info(msg, { line: value });
  assert.is(sink.lines.length, 1);
  return sink.lines[0];
}

for (const [kind, chars] of UNSAFE)
  test(`${kind} are escaped in text and JSON lines, in values and messages`, () => {
    for (const c of chars) {
      const value = `a${c}b`;
      const name = `U+${c.codePointAt(0)?.toString(16).padStart(4, '0')}`;
      const text = logged('text', `msg ${value}`, value);
      assert.is(
        text,
        `2026-11-26T09:40:00.123Z info  msg a${escaped(c)}b line="a${escaped(c)}b"\n`,
        name,
      );
      const json = logged('json', value, value);
      assert.ok(json.includes(`"line":"a${escaped(c)}b"`), `${name}: ${json}`);
      assert.ok(!json.slice(0, -1).includes(c), name);
      const parsed = JSON.parse(json);
      assert.is(parsed.line, value, name);
      assert.is(parsed.msg, value, name);
    }
  });

test('printable characters beyond ASCII pass as they are (quoted in text)', () => {
  for (const value of ['é', '日本語', '\u{1f600}', 'a\u00a0b', '\ue000', 'ア\u0301']) {
    assert.is(
      logged('text', 'data', value),
      `2026-11-26T09:40:00.123Z info  data line="${value}"\n`,
    );
    assert.ok(logged('json', 'data', value).includes(`"line":"${value}"`), value);
  }
});

/** Any code point: weighted towards the kinds that matter, lone surrogate halves included. */
function randomString(rnd: Random, length = rnd.int(12)): string {
  const units: number[] = [];
  while (units.length < length) {
    const kind = rnd.int(7);
    if (kind === 0) units.push(rnd.int(0x80));
    else if (kind === 1) units.push(0x80 + rnd.int(0x80));
    else if (kind === 2) units.push(0x2000 + rnd.int(0x80));
    else if (kind === 3) units.push(0xd800 + rnd.int(0x800));
    else if (kind === 4) units.push(rnd.int(0x10000));
    else if (kind === 5)
      units.push(0x3c, 0x30 + rnd.int(10), 0x3e); // `<N>`
    else {
      const above = rnd.int(0x100000); // a code point above U+FFFF, less 0x10000, as a pair
      units.push(0xd800 + (above >> 10), 0xdc00 + (above & 0x3ff));
    }
  }
  let out = '';
  for (let i = 0; i < units.length; i += 4096)
    out += String.fromCharCode(...units.slice(i, Math.min(i + 4096, length)));
  return out;
}

const BREAKS_OR_UNSAFE = /[\n\v\f\r\u0085\u2028\u2029\p{Cc}\p{Cf}\p{Cs}\p{Cn}]/u;

test('property: any string logs as exactly one line, and JSON (and quoted text) parse back to it', () => {
  const seed = runSeed();
  const rnd = new Random(seed);
  for (let i = 0; i < 5000; i++) {
    const value = randomString(rnd);
    const where = `seed ${seed}, case ${i}: ${JSON.stringify(value)}`;
    for (const format of ['text', 'json'] as const) {
      const line = logged(format, value, value);
      assert.ok(line.endsWith('\n'), where);
      assert.not.ok(BREAKS_OR_UNSAFE.test(line.slice(0, -1)), `${format} ${where}`);
    }
    const json = JSON.parse(logged('json', value, value));
    assert.is(json.line, value, where);
    assert.is(json.msg, value, where);
    const field = / line=(.*)\n$/.exec(logged('text', 'm', value))?.[1] ?? '';
    assert.is(field.startsWith('"') ? JSON.parse(field) : field, value, where);
  }
});

/** The text of a value as logged: the value itself, or its start and the count of the rest. */
function assertShown(shown: string, value: string, where: string): void {
  if (shown === value) return;
  const cut = /^([\s\S]*)\.\.\.\(\+(\d+) chars\)$/.exec(shown);
  assert.ok(cut, `neither the value nor a cut one: ${where}`);
  const [, start, left] = cut;
  assert.ok(value.startsWith(start), `the start of the value: ${where}`);
  assert.is(Number(left), codePoints(value.slice(start.length)), `characters left out: ${where}`);
}

/** Code points, a lone surrogate counting as one (as `[...s]` counts them). */
const codePoints = (value: string) => [...value].length;

const ATTACK = `${'\u0001'.repeat(8184)}AAA<0>EMERGENCY forged by a client`;

for (const format of ['text', 'json'] as const)
  for (const journal of [false, true])
    test(`${format}${journal ? ', journal' : ''}: a data line of control bytes and a forged priority is one short line, cut and counted`, () => {
      const sink = new MemorySink();
      createLogger({ sink, format, journal, level: 'debug', now: () => T }).debug('data', {
        client: '203.0.113.7:40001',
        line: ATTACK,
      });
      const [line] = sink.lines;
      assert.is(sink.lines.length, 1);
      assert.ok(Buffer.byteLength(line) <= 1200, `${Buffer.byteLength(line)} bytes`);
      assert.is(line.indexOf('\n'), line.length - 1);
      assert.is(line.lastIndexOf('<'), journal ? 0 : -1, 'no `<` but the priority');
      assert.not.ok(line.includes('EMERGENCY'));
      const shown =
        format === 'json'
          ? JSON.parse(line.slice(journal ? 3 : 0)).line
          : JSON.parse(/ line=(".*")\n$/.exec(line)?.[1] ?? '""');
      assert.is(shown, `${'\u0001'.repeat(167)}...(+8051 chars)`);
      assertShown(shown, ATTACK, 'attack');
    });

test('fields past 4 KiB are left out whole and counted; a later one that fits is kept', () => {
  const sink = new MemorySink();
  const log = createLogger({ sink, now: () => T });
  const long = 'x'.repeat(1000);
  log.info('open', { a: long, b: long, c: long, d: long, e: long, f: long, n: 7 });
  const piece = (key: string) => ` ${key}=${long}`;
  assert.is(
    sink.text,
    `2026-11-26T09:40:00.123Z info  open${['a', 'b', 'c', 'd'].map(piece).join('')} n=7 fields_left_out=2\n`,
  );
  sink.lines.length = 0;
  createLogger({ sink, format: 'json', now: () => T }).info('open', {
    a: long,
    b: long,
    c: long,
    d: long,
    e: long,
  });
  const json = JSON.parse(sink.lines[0]);
  assert.equal(Object.keys(json), ['time', 'level', 'msg', 'a', 'b', 'c', 'fields_left_out']);
  assert.is(json.fields_left_out, 2);
  assert.ok(Buffer.byteLength(sink.lines[0]) <= LINE_BYTES);
});

const NOT_PRINTED = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Cn}<]/u;

test('property: any message and fields of any length make one line of at most 4 KiB; JSON parses; each value is whole or cut and counted', () => {
  assert.ok(LINE_BYTES <= 8192, 'well under journald LineMax');
  const seed = runSeed();
  const rnd = new Random(seed);
  const length = () => rnd.int([12, 1100, 65_537][rnd.int(3)]);
  for (let i = 0; i < 120; i++) {
    const msg = randomString(rnd, rnd.int(4) === 0 ? length() : 8);
    const fields: Record<string, string | number> = {};
    for (let f = rnd.int(9); f > 0; f--) fields[`f${f}`] = randomString(rnd, length());
    if (rnd.int(2) === 0) fields.n = rnd.int(100);
    for (const format of ['text', 'json'] as const)
      for (const journal of [false, true]) {
        const where = `seed ${seed}, case ${i}, ${format}${journal ? ', journal' : ''}`;
        const sink = new MemorySink();
        createLogger({ sink, format, journal, now: () => T }).info(msg, fields as Fields);
        const [line] = sink.lines;
        assert.is(sink.lines.length, 1, where);
        assert.ok(Buffer.byteLength(line) <= LINE_BYTES, `${Buffer.byteLength(line)}: ${where}`);
        assert.is(line.indexOf('\n'), line.length - 1, where);
        const body = line.slice(journal ? 3 : 0, -1);
        assert.not.ok(NOT_PRINTED.test(body), `raw control or \`<\`: ${where}`);
        if (format === 'text') continue;
        const parsed = JSON.parse(body);
        assertShown(parsed.msg, msg, `msg, ${where}`);
        let leftOut = 0;
        for (const key in fields)
          if (key in parsed)
            assertShown(String(parsed[key]), String(fields[key]), `${key}, ${where}`);
          else leftOut++;
        assert.is(parsed.fields_left_out, leftOut || undefined, where);
      }
  }
});

test('property: a text field of any length reads back as the value, or its start and the count of the rest', () => {
  const seed = runSeed();
  const rnd = new Random(seed);
  for (let i = 0; i < 300; i++) {
    const value = randomString(rnd, rnd.int([12, 1100, 65_537][rnd.int(3)]));
    const field = / line=(.*)\n$/.exec(logged('text', 'm', value))?.[1] ?? '';
    assertShown(
      field.startsWith('"') ? JSON.parse(field) : field,
      value,
      `seed ${seed}, case ${i}`,
    );
  }
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

test('to the journal: text lines start with their syslog priority and carry no time', () => {
  const sink = new MemorySink();
  const log = createLogger({ sink, journal: true, level: 'debug', now: () => T });
  log.debug('data', { line: 'x y' });
  log.info('open', { client: '54.222.152.163:45418' });
  log.warn('reject', { reason: 'bad-header' });
  log.error('internal error');
  log.notice('listening on port 5000');
  assert.is(
    sink.text,
    '<7>debug data line="x y"\n' +
      '<6>info  open client=54.222.152.163:45418\n' +
      '<4>warn  reject reason=bad-header\n' +
      '<3>error internal error\n' +
      '<6>info  listening on port 5000\n',
  );
});

test('to the journal: JSON lines start with their priority too; the object is unchanged', () => {
  const sink = new MemorySink();
  createLogger({ sink, journal: true, format: 'json', now: () => T }).warn('reject', { n: 1 });
  assert.is(
    sink.text,
    '<4>{"time":"2026-11-26T09:40:00.123Z","level":"warn","msg":"reject","n":1}\n',
  );
});

test('isJournal: only when JOURNAL_STREAM names the device and inode of that descriptor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'srv-log-'));
  const fd = openSync(join(dir, 'out'), 'w');
  const other = openSync(join(dir, 'other'), 'w');
  try {
    const { dev, ino } = fstatSync(fd, { bigint: true });
    assert.is(isJournal(`${dev}:${ino}`, fd), true);
    assert.is(isJournal(`${dev}:${ino}`, other), false, 'another file');
    assert.is(isJournal(`${dev}:${ino + 1n}`, fd), false);
    assert.is(isJournal(`${dev + 1n}:${ino}`, fd), false);
    for (const bad of [undefined, '', `${dev}`, `${dev}:${ino}:1`, ` ${dev}:${ino}`, 'a:b'])
      assert.is(isJournal(bad, fd), false, String(bad));
  } finally {
    closeSync(fd);
    closeSync(other);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
