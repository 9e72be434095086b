// The README says how to get the client tools it uses, before its first `nc` command.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('README.md names the nc and telnet packages of Debian/Ubuntu and Amazon Linux before the first nc', () => {
  const firstNc = readme.indexOf('| nc ');
  assert.ok(firstNc > 0, 'README.md pipes into nc');
  for (const install of ['apt-get install netcat-openbsd telnet', 'dnf install nmap-ncat telnet']) {
    const at = readme.indexOf(`\`${install}\``);
    assert.ok(at > 0 && at < firstNc, `${install} comes before the first nc command`);
  }
});

test.run();
