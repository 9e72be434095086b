// The shared flag/environment parser every subcommand uses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  duration,
  durationText,
  envName,
  flag,
  formatOptions,
  HELP_WIDTH,
  integer,
  type OptionTable,
  parseOptions,
  size,
  text,
  timeText,
  unknownVariables,
  UsageError,
  withEnv,
} from '../src/options.ts';
import { ServerConfigError } from '../src/server/errors.ts';

const table = {
  port: {
    flag: 'port',
    short: 'p',
    env: envName('port'),
    value: 'N',
    help: 'port',
    default: 5000,
    parse: integer(0, 65535),
  },
  host: {
    flag: 'host',
    env: envName('host'),
    value: 'ADDR',
    help: 'host',
    default: '::',
    parse: text,
  },
  dryRun: {
    flag: 'dry-run',
    env: envName('dry-run'),
    help: 'only say what would be done',
    default: false,
    parse: flag,
  },
} satisfies OptionTable;

const usageError = (pattern: RegExp) => (error: Error) =>
  error instanceof UsageError && pattern.test(error.message);

test('envName: ELB_PROXY_ECHO_ and the flag in capitals, dashes as underscores', () => {
  assert.is(envName('max-line'), 'ELB_PROXY_ECHO_MAX_LINE');
});

test('a flag wins over its variable; the variable over the default; an empty variable is unset', () => {
  const env = {
    ELB_PROXY_ECHO_PORT: '6000',
    ELB_PROXY_ECHO_HOST: '',
    ELB_PROXY_ECHO_DRY_RUN: 'yes',
  };
  assert.equal(parseOptions(table, ['--port', '7000'], env).values, {
    port: 7000,
    host: '::',
    dryRun: true,
  });
  assert.equal(parseOptions(table, [], env).values, { port: 6000, host: '::', dryRun: true });
  assert.equal(parseOptions(table, []).values, { port: 5000, host: '::', dryRun: false });
});

test('--flag value, --flag=value and the short form; positionals and everything after -- are kept', () => {
  const parsed = parseOptions(table, [
    '-p',
    '1',
    'extra',
    '--host=::1',
    '--dry-run',
    '--',
    '--port',
    '2',
  ]);
  assert.equal(parsed.values, { port: 1, host: '::1', dryRun: true });
  assert.equal(parsed.positionals, ['extra', '--port', '2']);
});

test('bad command lines are usage errors naming the flag or the variable', () => {
  for (const [argv, env, pattern] of [
    [['--nope'], {}, /^unknown option --nope \(see elb-proxy-echo --help\)$/],
    [['--prot'], {}, /^unknown option --prot; did you mean --port\?$/],
    [['--dryrun'], {}, /^unknown option --dryrun; did you mean --dry-run\?$/],
    [['-x'], {}, /^unknown option -x \(see elb-proxy-echo --help\)$/],
    [['--port'], {}, /^--port needs a value \(N\)$/],
    [['--dry-run=yes'], {}, /^--dry-run takes no value$/],
    [['-p', '70000'], {}, /^-p: 70000 is outside 0\.\.65535$/],
    [[], { ELB_PROXY_ECHO_PORT: '-1' }, /^ELB_PROXY_ECHO_PORT: "-1" is not a whole number$/],
    [
      [],
      { ELB_PROXY_ECHO_DRY_RUN: 'maybe' },
      /^ELB_PROXY_ECHO_DRY_RUN: "maybe" is not one of true, false, yes, no, on, off, 1, 0$/,
    ],
  ] as const) {
    assert.throws(() => parseOptions(table, argv, env), usageError(pattern), argv.join(' '));
  }
});

test("an unknown option of a subcommand points at that command's help", () => {
  assert.throws(
    () => parseOptions(table, ['--bogus'], {}, 'bench merge'),
    usageError(/^unknown option --bogus \(see elb-proxy-echo bench merge --help\)$/),
  );
});

test('switches from a variable: true/false, yes/no, on/off, 1/0; nothing else', () => {
  const words = ['true', 'yes', 'on', '1', 'false', 'no', 'off', '0'];
  assert.equal(words.map(flag), [true, true, true, true, false, false, false, false]);
  for (const raw of ['ON', 'enabled', '', 'toString', '2'])
    assert.throws(() => flag(raw), usageError(/is not one of true, false/), raw);
  const env = { ELB_PROXY_ECHO_DRY_RUN: 'off' };
  assert.is(parseOptions(table, [], env).values.dryRun, false);
  assert.is(parseOptions(table, [], { ELB_PROXY_ECHO_DRY_RUN: 'on' }).values.dryRun, true);
});

test('durations: ms, s, m, h or bare seconds, fractions rounded to a millisecond, capped', () => {
  const ms = duration(7200_000);
  assert.equal(
    ['500ms', '5s', '5', '1.5m', '0.0004s', '1h', '0.5h'].map(ms),
    [500, 5000, 5000, 90_000, 0, 3600_000, 1800_000],
  );
  assert.throws(() => ms('3h'), usageError(/^3h is longer than 7200s$/));
  for (const raw of ['5 s', '1d', 'h', '-1s', '5S'])
    assert.throws(() => ms(raw), usageError(/is not a duration \(e\.g\. 500ms, 5s, 2m, 1h\)/), raw);
});

test('timeText: the largest unit that says the time exactly, and it parses back', () => {
  const cases = [
    [5000, '5s'],
    [300_000, '5m'],
    [3600_000, '1h'],
    [5400_000, '90m'],
    [1500, '1500ms'],
    [0, '0ms'],
  ] as const;
  for (const [ms, text] of cases) {
    assert.is(timeText(ms), text);
    assert.is(duration(Number.MAX_SAFE_INTEGER)(text), ms);
  }
});

test('unknownVariables: a typo of ours is named with the closest variable; others are left alone', () => {
  const env = {
    ELB_PROXY_ECHO_PORT: '1',
    ELB_PROXY_ECHO_DRY_RUNN: 'yes',
    ELB_PROXY_ECHO_PROT: '1',
    ELB_PROXY_ECHO_WORKER_FD: '3',
    ELB_PROXY_ECHO_WORKER_FDD: '3',
    ELB_PROXY_ECHO_SOMETHING_ELSE: 'x',
    PATH: '/bin',
    ELB_PROXY: 'x',
  };
  assert.equal(unknownVariables(table, env, ['ELB_PROXY_ECHO_WORKER_FD']), [
    'unknown variable ELB_PROXY_ECHO_DRY_RUNN ignored; did you mean ELB_PROXY_ECHO_DRY_RUN?',
    'unknown variable ELB_PROXY_ECHO_PROT ignored; did you mean ELB_PROXY_ECHO_PORT?',
    'unknown variable ELB_PROXY_ECHO_WORKER_FDD ignored (elb-proxy-echo --help lists the variables)',
    'unknown variable ELB_PROXY_ECHO_SOMETHING_ELSE ignored (elb-proxy-echo --help lists the variables)',
  ]);
  assert.equal(unknownVariables(table, { ELB_PROXY_ECHO_HOST: '::1' }), []);
});

test('sizes: bytes, k or m (binary), within bounds', () => {
  const bytes = size(1, 1024 * 1024);
  assert.equal(['1', '64k', '64K', '1m'].map(bytes), [1, 65_536, 65_536, 1_048_576]);
  assert.throws(() => bytes('0'), usageError(/^0 is outside 1\.\.1048576 bytes$/));
  assert.throws(() => bytes('2M'), usageError(/outside/));
  assert.throws(() => bytes('1.5k'), usageError(/is not a size/));
});

test('formatOptions: one row per option with its variable and default (off for a switch)', () => {
  assert.is(
    formatOptions(table),
    [
      '  -p, --port N                   port [env ELB_PROXY_ECHO_PORT, default 5000]',
      '      --host ADDR                host [env ELB_PROXY_ECHO_HOST, default ::]',
      '      --dry-run                  only say what would be done',
      '                                 [env ELB_PROXY_ECHO_DRY_RUN, default off]',
    ].join('\n'),
  );
  const quiet = { quiet: { flag: 'quiet', help: 'hush', default: false, parse: flag } };
  assert.is(formatOptions(quiet), `  ${'    --quiet'.padEnd(30)} hush [default off]`);
});

test('formatOptions: a long description wraps at HELP_WIDTH under itself, [env …, default …] on one line', () => {
  const long = {
    maxThings: {
      flag: 'max-things',
      env: envName('max-things'),
      value: 'N',
      help: Array.from({ length: 40 }, (_, i) => `word${i}`).join(' '),
      default: 7,
      parse: integer(0, 9),
    },
  };
  const lines = formatOptions(long).split('\n');
  assert.is(HELP_WIDTH, 100);
  assert.ok(lines.length > 2, 'the description takes several lines');
  for (const line of lines) assert.ok(line.length <= HELP_WIDTH, `${line.length}: ${line}`);
  assert.ok(lines[0].startsWith(`  ${'    --max-things N'.padEnd(30)} word0 word1 `), lines[0]);
  for (const line of lines.slice(1)) assert.ok(/^ {33}\S/.test(line), `hanging indent: ${line}`);
  // Every word is there once, in order; the bracket is never broken.
  assert.is(
    lines.map((line) => line.slice(33)).join(' '),
    `${long.maxThings.help} [env ELB_PROXY_ECHO_MAX_THINGS, default 7]`,
  );
  for (const line of lines) assert.is(line.split('[').length, line.split(']').length, line);
});

test('durationText keeps the text; zero is refused only where a zero time makes no sense', () => {
  assert.is(durationText(60_000, false)('5s'), '5s');
  assert.is(durationText(60_000, true)('0'), '0');
  assert.throws(() => durationText(60_000, false)('0ms'), usageError(/is zero/));
  assert.throws(() => durationText(60_000, true)('2m'), usageError(/longer than 60s/));
});

test('withEnv gives every option its variable', () => {
  const plain = { port: { ...table.port, env: undefined } } satisfies OptionTable;
  assert.is(parseOptions(plain, [], { ELB_PROXY_ECHO_PORT: '6000' }).values.port, 5000);
  assert.is(parseOptions(withEnv(plain), [], { ELB_PROXY_ECHO_PORT: '6000' }).values.port, 6000);
});

test("a value parser's server error becomes a usage error naming the flag", () => {
  const trusting = {
    trust: {
      flag: 'trust',
      value: 'CIDR',
      help: 'who',
      default: '',
      parse: (raw: string): string => {
        throw new ServerConfigError(`"${raw}" is not a range`);
      },
    },
  } satisfies OptionTable;
  assert.throws(() => parseOptions(trusting, ['--trust', 'x']), usageError(/^--trust: "x"/));
});

test.run();
