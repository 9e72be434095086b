// --identity: what the machine says it is, and what the metadata service (a stand-in on
// loopback: nothing here leaves the machine) answers, fast or slow, well or badly.
import { hostname } from 'node:os';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  identify,
  type IdentityChoice,
  isEc2,
  parseIdentity,
} from '../../../src/server/process/identify.ts';
import { readInstanceMetadata } from '../../../src/server/process/imds.ts';
import { asDocs, assertExample, exampleBlock } from '../../docs/examples.ts';
import { startCli } from '../../helpers/cli.ts';
import { type Behaviour, fakeSys, startImds } from '../../helpers/imds.ts';
import { TestClient } from '../../helpers/socket.ts';
import { ENGINE, eventually } from '../harness.ts';

const NITRO = {
  'class/dmi/id/sys_vendor': 'Amazon EC2',
  'class/dmi/id/board_vendor': 'Amazon EC2',
};
const LAPTOP = { 'class/dmi/id/sys_vendor': 'LENOVO', 'class/dmi/id/board_vendor': 'LENOVO' };
const EC2_METADATA = {
  instanceId: 'i-0f1e2d3c4b5a69788',
  availabilityZone: 'eu-west-1b',
  region: 'eu-west-1',
};

const machine = suite('isEc2: what the firmware says');

machine('Nitro and bare metal by vendor, Xen by UUID; anything else is not EC2', () => {
  const rows: Array<[Record<string, string>, boolean]> = [
    [NITRO, true],
    [{ 'class/dmi/id/board_vendor': 'Amazon EC2' }, true],
    [
      {
        'class/dmi/id/sys_vendor': 'Xen',
        'hypervisor/uuid': 'ec2e1916-9099-7caf-fd21-012345abcdef',
      },
      true,
    ],
    [{ 'class/dmi/id/product_uuid': 'EC2E1916-9099-7CAF-FD21-012345ABCDEF' }, true],
    [LAPTOP, false],
    [
      {
        'class/dmi/id/sys_vendor': 'Xen',
        'hypervisor/uuid': '4e8cc1a0-1234-5678-9abc-def012345678',
      },
      false,
    ],
    [{ 'class/dmi/id/sys_vendor': 'Amazon EC2 lookalike' }, false],
    [{}, false],
  ];
  for (const [files, expected] of rows) {
    const sys = fakeSys(files);
    try {
      assert.is(isEc2(sys.dir), expected, JSON.stringify(files));
    } finally {
      sys.remove();
    }
  }
  assert.is(isEc2('/nonexistent/sys'), false);
});

const option = suite('--identity values');

option('modes, labels, and what is refused', () => {
  assert.is(parseIdentity('auto'), 'auto');
  assert.is(parseIdentity('ec2'), 'ec2');
  assert.is(parseIdentity('host'), 'host');
  assert.equal(parseIdentity('blue-fleet/a'), { label: 'blue-fleet/a' });
  for (const bad of ['', 'two words', 'tab\there', 'é', 'x'.repeat(65)])
    assert.throws(() => parseIdentity(bad), /visible ASCII/, JSON.stringify(bad));
});

const asking = suite('identify against a metadata stand-in');

async function identified(
  choice: IdentityChoice,
  files: Record<string, string>,
  behaviour: Behaviour = 'imdsv2',
) {
  const imds = await startImds(behaviour);
  const sys = fakeSys(files);
  const started = performance.now();
  try {
    const result = await identify(choice, {
      endpoint: imds.endpoint,
      sysDir: sys.dir,
      deadlineMs: 300,
    });
    return { ...result, requests: imds.requests, ms: performance.now() - started };
  } finally {
    sys.remove();
    await imds.close();
  }
}

asking('auto on EC2: IMDSv2, a token then three values with it', async () => {
  const { identity, problem, requests } = await identified('auto', NITRO);
  assert.equal(identity, { host: hostname(), ...EC2_METADATA });
  assert.is(problem, null);
  assert.is(requests[0], 'PUT /latest/api/token');
  assert.equal(requests.slice(1).sort(), [
    'GET /latest/meta-data/instance-id',
    'GET /latest/meta-data/placement/availability-zone',
    'GET /latest/meta-data/placement/region',
  ]);
});

asking('not EC2, host, or a label: not one request to the metadata address', async () => {
  for (const [choice, files, expected] of [
    ['auto', LAPTOP, { host: hostname() }],
    ['auto', {}, { host: hostname() }],
    ['host', NITRO, { host: hostname() }],
    [{ label: 'blue' }, NITRO, { host: hostname(), label: 'blue' }],
  ] as const) {
    const { identity, problem, requests } = await identified(choice, files);
    assert.equal(identity, expected);
    assert.is(problem, null);
    assert.equal(requests, [], JSON.stringify(choice));
  }
});

asking('ec2 asks even when the machine does not say it is EC2', async () => {
  const { identity, requests } = await identified('ec2', LAPTOP);
  assert.equal(identity, { host: hostname(), ...EC2_METADATA });
  assert.is(requests.length, 4);
});

asking('a silent service: the host name after the deadline, and why', async () => {
  const { identity, problem, ms } = await identified('auto', NITRO, 'silent');
  assert.equal(identity, { host: hostname() });
  assert.match(
    problem ?? '',
    /^instance metadata at http:\/\/127\.0\.0\.1:\d+: no answer within 300 ms; answers name the host alone$/,
  );
  assert.ok(ms >= 290 && ms < 1000, `${ms} ms`);
});

asking('a refusing, lying or endless service: the host name and a reason', async () => {
  for (const [behaviour, reason] of [
    ['forbidden', /PUT \/latest\/api\/token: HTTP 403/],
    ['garbage', /instance-id: not a metadata value: "i-<b>x<\/b>"/],
    ['endless', /GET \/latest\/meta-data\/instance-id: answer over 512 bytes/],
  ] as const) {
    const { identity, problem } = await identified('auto', NITRO, behaviour);
    assert.equal(identity, { host: hostname() });
    assert.match(problem ?? '', reason, behaviour);
  }
});

asking('one failed question ends the others at once, not at the deadline', async () => {
  const imds = await startImds('partial');
  try {
    const started = performance.now();
    const result = await readInstanceMetadata(imds.endpoint, 5000);
    const ms = performance.now() - started;
    assert.equal(result, {
      ok: false,
      reason: `instance metadata at ${imds.endpoint}: GET /latest/meta-data/instance-id: HTTP 404`,
    });
    assert.ok(ms < 1000, `${ms} ms`);
    // The zone and region questions, never answered, are given up too.
    await eventually(() => imds.openConnections() === 0, 'connections closed', 1000);
  } finally {
    await imds.close();
  }
});

asking('nothing listening: refused at once', async () => {
  const imds = await startImds();
  await imds.close();
  const result = await readInstanceMetadata(imds.endpoint, 300);
  assert.equal(result, {
    ok: false,
    reason: `instance metadata at ${imds.endpoint}: ECONNREFUSED`,
  });
});

const serving = suite('serve --identity: the start-up line, the greeting, the answers');

/** The CLI on loopback as an EC2 instance (a fake sysfs and the stand-in); `args` added. */
async function serveAsEc2(
  args: readonly string[],
  run: (port: number, output: () => string) => Promise<void>,
) {
  const imds = await startImds();
  const sys = fakeSys(NITRO);
  const { child, match, output } = await startCli(
    ['--port', '0', '--host', '127.0.0.1', '--engine', ENGINE, ...args],
    /listening on port (\d+)/,
    { ELB_PROXY_ECHO_SYS_DIR: sys.dir, ELB_PROXY_ECHO_IMDS_ENDPOINT: imds.endpoint },
  );
  try {
    await run(Number(match[1]), output);
    // Once, at start: workers ask nothing themselves.
    assert.is(imds.requests.length, 4, imds.requests.join(', '));
  } finally {
    child.kill('SIGKILL');
    sys.remove();
    await imds.close();
  }
}

const HEADER = 'PROXY TCP4 203.0.113.7 10.0.0.5 51000 5000\r\n';

serving('the greeting and the listening line name the instance, zone and region', () =>
  serveAsEc2(['--greeting', '--http', 'off'], async (port, output) => {
    const client = await TestClient.connect(port);
    client.write(HEADER);
    const line = await client.readUntil(/\r\n/);
    assert.is(
      line,
      `elb-proxy-echo on ${hostname()} (i-0f1e2d3c4b5a69788, eu-west-1b, eu-west-1): you are 203.0.113.7:51000 (PROXY v1 from 127.0.0.1:${client.socket.localPort}); lines come back, q quits\r\n`,
    );
    client.destroy();
    assert.match(
      output(),
      / listening on port \d+ .* host=\S+ instance_id=i-0f1e2d3c4b5a69788 availability_zone=eu-west-1b region=eu-west-1\n/,
    );
  }),
);

serving('with workers, every worker answers with the identity the primary read', () =>
  serveAsEc2(['--workers', '2'], async (port) => {
    for (let i = 0; i < 8; i++) {
      const client = await TestClient.connect(port);
      const local = client.socket.localPort;
      client.write(`${HEADER}GET / HTTP/1.0\r\nAccept: application/json\r\n\r\n`);
      const answer = (await client.waitClose()).toString();
      const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      assert.equal(json.server, { host: hostname(), ...EC2_METADATA });
      assert.is(json.via, `127.0.0.1:${local}`);
    }
  }),
);

serving(
  "docs/server.md's imds-silent: its command against a silent stand-in starts anyway",
  async () => {
    const imds = await startImds('silent');
    const [command = ''] = exampleBlock('docs/server.md', 'imds-silent').lines;
    const args = command
      .replace(/^\$ elb-proxy-echo /, '')
      .replace('http://127.0.0.1:8999', imds.endpoint)
      .split(' ');
    const { child, match, output } = await startCli(
      [...args, '--port', '0'],
      /listening on port (\d+)/,
      { ELB_PROXY_ECHO_ENGINE: 'auto' }, // the engine the docs show
    );
    try {
      assertExample('docs/server.md', 'imds-silent', asDocs(output(), match[1]));
    } finally {
      child.kill('SIGKILL');
      await imds.close();
    }
  },
);

machine.run();
option.run();
asking.run();
serving.run();
