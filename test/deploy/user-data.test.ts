// deploy/user-data.sh as docs/deploy-aws.md prepares it: the doc's sed command writes the group's
// values into a copy, and that copy, run with a stand-in `aws` (S3 is a folder here) and a
// stand-in executable (it records what it is asked), fetches this CPU's file, checks its
// sha256 and runs install with the group's options. The real install is in the systemd e2e.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const here = arch() === 'arm64' ? 'arm64' : 'x64';

/** The doc's sed command (from `sed -e` to `> user-data.sh`). */
function docSed(): string {
  const doc = readFileSync(join(ROOT, 'docs/deploy-aws.md'), 'utf8');
  const sed = /^sed -e "s\|\^EXECUTABLE_URL=[\s\S]*?> user-data\.sh$/m.exec(doc)?.[0];
  assert.ok(sed, 'docs/deploy-aws.md has the sed command that prepares the user data');
  return sed;
}

/** A folder with the doc's inputs: deploy/, two stand-in executables in dist/, an S3 folder, a fake aws. */
function workspace(): { dir: string; s3: string } {
  const dir = mkdtempSync(join(tmpdir(), 'user-data-'));
  cpSync(join(ROOT, 'deploy'), join(dir, 'deploy'), { recursive: true });
  const s3 = join(dir, 's3', 'my-bucket', 'elb-proxy-echo', '0.2.0');
  mkdirSync(join(dir, 'dist'));
  mkdirSync(s3, { recursive: true });
  for (const cpu of ['x64', 'arm64']) {
    const fake = `#!/bin/sh\n# ${cpu}\nif [ "$1" = --version ]; then echo "elb-proxy-echo 0.2.0 (${cpu})"; else echo "$*" > "${dir}/asked"; fi\n`;
    writeFileSync(join(dir, 'dist', `elb-proxy-echo-linux-${cpu}`), fake, { mode: 0o755 });
    writeFileSync(join(s3, `elb-proxy-echo-linux-${cpu}`), fake, { mode: 0o755 });
  }
  // `aws s3 cp --only-show-errors s3://BUCKET/KEY FILE`, served from the s3 folder.
  mkdirSync(join(dir, 'bin'));
  writeFileSync(
    join(dir, 'bin', 'aws'),
    `#!/bin/sh\n[ "$1 $2 $3" = "s3 cp --only-show-errors" ] || exit 9\ncp "${dir}/s3/\${4#s3://}" "$5"\n`,
    { mode: 0o755 },
  );
  return { dir, s3 };
}

function prepare(dir: string): void {
  execFileSync('sh', ['-ec', docSed()], {
    cwd: dir,
    env: {
      ...process.env,
      BUCKET: 'my-bucket',
      VERSION: '0.2.0',
      TRUST: '10.0.0.0/24,10.0.1.0/24',
    },
  });
}

/** Runs `check` in a fresh workspace whose user data the doc's sed has prepared, then removes it. */
function prepared(check: (w: { dir: string; s3: string }) => void): void {
  const w = workspace();
  try {
    prepare(w.dir);
    check(w);
  } finally {
    rmSync(w.dir, { recursive: true, force: true });
  }
}

function boot(dir: string) {
  return spawnSync('sh', [join(dir, 'user-data.sh')], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin` },
  });
}

test("the doc's sed writes the group's values, and the script installs this CPU's file with them", () =>
  prepared(({ dir }) => {
    const script = readFileSync(join(dir, 'user-data.sh'), 'utf8');
    const sha = (cpu: string) =>
      createHash('sha256')
        .update(readFileSync(join(dir, 'dist', `elb-proxy-echo-linux-${cpu}`)))
        .digest('hex');
    assert.match(
      script,
      /^EXECUTABLE_URL='s3:\/\/my-bucket\/elb-proxy-echo\/0\.2\.0\/elb-proxy-echo-linux-\{arch\}'$/m,
    );
    assert.match(
      script,
      /^INSTALL_OPTIONS='--trust 10\.0\.0\.0\/24,10\.0\.1\.0\/24 --workers auto'$/m,
    );
    assert.ok(script.includes(`EXECUTABLE_SHA256='x64=${sha('x64')} arm64=${sha('arm64')}'\n`));
    const ran = boot(dir);
    assert.is(ran.status, 0, ran.stdout + ran.stderr);
    assert.match(ran.stdout, new RegExp(`fetching s3://my-bucket/.*-linux-${here}\\n`));
    assert.match(ran.stdout, new RegExp(`elb-proxy-echo 0\\.2\\.0 \\(${here}\\)`));
    assert.is(
      readFileSync(join(dir, 'asked'), 'utf8'),
      'install --trust 10.0.0.0/24,10.0.1.0/24 --workers auto\n',
    );
  }));

test('an object in S3 that is not the file the sha256 was taken of is not installed', () =>
  prepared(({ dir, s3 }) => {
    writeFileSync(join(s3, `elb-proxy-echo-linux-${here}`), '#!/bin/sh\necho tampered\n');
    const ran = boot(dir);
    assert.is(ran.status, 1);
    assert.match(
      ran.stdout,
      /sha256 of s3:\/\/my-bucket\/.* is [0-9a-f]{64}, expected [0-9a-f]{64}: not installed/,
    );
    assert.throws(() => readFileSync(join(dir, 'asked')), /ENOENT/, 'install never ran');
  }));

test('a failed fetch stops the script before install', () =>
  prepared(({ dir, s3 }) => {
    rmSync(join(s3, `elb-proxy-echo-linux-${here}`));
    const ran = boot(dir);
    assert.is.not(ran.status, 0);
    assert.throws(() => readFileSync(join(dir, 'asked')), /ENOENT/);
  }));

test.run();
