// What the server's log lines say about a client, as text and JSON lines would show it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  awsVpcEndpointTlv,
  buildProxyHeader,
  createEchoServer,
  createLogger,
  TLV_TYPE,
  textTlv,
} from '../../src/index.ts';
import { LINE_BYTES, MemorySink } from '../../src/log.ts';
import { TestClient } from '../helpers/socket.ts';
import { ENGINE, eventually, v1 } from './harness.ts';

/** A v2 header for a client on a UNIX socket (paths as a sender would put them). */
function unixHeader(source: string, destination: string): Buffer {
  return Buffer.from(
    buildProxyHeader({
      version: 2,
      command: 'proxy',
      protocol: 'UNIX_STREAM',
      source: { address: source, port: 0 },
      destination: { address: destination, port: 0 },
    }),
  );
}

for (const format of ['text', 'json'] as const)
  test(`${format}: a UNIX client is logged as unix:PATH, escaped; a path never reads as an IP`, async () => {
    const sink = new MemorySink();
    const echo = createEchoServer({ logger: createLogger({ format, sink }) });
    const { port } = await echo.listen({ port: 0, host: '127.0.0.1' });
    try {
      const client = await TestClient.connect(port);
      client.write(unixHeader('1.2.3.4', '/run/a\u2028b\u202ec.sock'));
      client.write('ping\n');
      assert.is((await client.readBytes(5)).toString(), 'ping\n');
      await eventually(() => sink.lines.some((l) => l.includes('open')), 'open line');
      const line = sink.lines.find((l) => l.includes('open')) ?? '';
      assert.is(line.indexOf('\n'), line.length - 1, 'exactly one line');
      assert.not.match(line, /[\u2028\u202e]/);
      if (format === 'json') {
        const open = JSON.parse(line);
        assert.is(open.client, 'unix:1.2.3.4');
        assert.is(open.to, 'unix:/run/a\u2028b\u202ec.sock');
      } else {
        assert.match(line, / open client=unix:1\.2\.3\.4 via=/);
        assert.match(line, / to="unix:\/run\/a\\u2028b\\u202ec\.sock" /);
      }
      client.destroy();
    } finally {
      await echo.close(0);
    }
  });

test('the open line names the VPC endpoint and the authority (cut as the answers cut it)', async () => {
  const sink = new MemorySink();
  const echo = createEchoServer({ logger: createLogger({ format: 'json', sink }), engine: ENGINE });
  const { port } = await echo.listen({ port: 0, host: '127.0.0.1' });
  const authority = `${'a'.repeat(300)}.example.com`;
  try {
    const client = await TestClient.connect(port);
    const header = buildProxyHeader({
      version: 2,
      command: 'proxy',
      protocol: 'TCP4',
      source: { address: '198.51.100.7', port: 40000 },
      destination: { address: '10.0.1.5', port: 5000 },
      tlvs: [awsVpcEndpointTlv('vpce-0123456789abcdef0'), textTlv(TLV_TYPE.AUTHORITY, authority)],
    });
    client.write(Buffer.concat([header, Buffer.from('ping\n')]));
    assert.is((await client.readBytes(5)).toString(), 'ping\n');
    await eventually(() => sink.lines.some((l) => l.includes('"msg":"open"')), 'open line');
    const open = JSON.parse(sink.lines.find((l) => l.includes('"msg":"open"'))!);
    assert.is(open.client, '198.51.100.7:40000');
    assert.is(open.vpce, 'vpce-0123456789abcdef0');
    assert.is(open.authority, `${authority.slice(0, 256)}...(+${authority.length - 256} chars)`);
    client.destroy();
  } finally {
    await echo.close(0);
  }
});

// journald reads `<N>` at the start of a line as its priority, and cuts a line at 48 KiB: the
// rest would be a line of its own. A client's line of control bytes once made one data line
// that long, so the client chose the priority of the piece after the cut.
const FORGED = `${'\u0001'.repeat(8184)}AAA<0>EMERGENCY forged by a client`;

for (const format of ['text', 'json'] as const)
  test(`${format} to the journal at debug: a client's data line and HTTP path are cut, nothing the client sent starts a line or sets a priority`, async () => {
    const sink = new MemorySink();
    const logger = createLogger({ format, sink, journal: true, level: 'debug' });
    const echo = createEchoServer({ logger });
    const { port } = await echo.listen({ port: 0, host: '127.0.0.1' });
    try {
      const client = await TestClient.connect(port);
      client.write(Buffer.concat([v1(), Buffer.from(`${FORGED}\r\nq\r\n`, 'latin1')]));
      await client.waitClose();
      const web = await TestClient.connect(port);
      web.write(
        Buffer.concat([v1(), Buffer.from(`GET /${'a'.repeat(9000)}<0>x HTTP/1.0\r\n\r\n`)]),
      );
      await web.waitClose();
      const withMsg = (msg: string) =>
        sink.lines.filter((l) => l.includes(format === 'json' ? `"msg":"${msg}"` : ` ${msg} `));
      await eventually(() => withMsg('close').length === 2 && withMsg('http').length === 1, 'logs');
      for (const line of sink.lines) {
        assert.ok(Buffer.byteLength(line) <= LINE_BYTES, `${Buffer.byteLength(line)} bytes`);
        assert.is(line.indexOf('\n'), line.length - 1, 'one line');
        assert.is(line.lastIndexOf('<'), 0, `only the priority is a \`<\`: ${line.slice(0, 80)}`);
      }
      // The field's value as a reader gets it back: from the object, or from the text's literal.
      const value = (msg: string, key: string): string => {
        const [line] = withMsg(msg);
        if (format === 'json') return JSON.parse(line.slice(3))[key];
        return JSON.parse(new RegExp(` ${key}=("(?:[^"\\\\]|\\\\.)*")`).exec(line)?.[1] ?? '""');
      };
      assert.is(value('data', 'line'), `${'\u0001'.repeat(167)}...(+8051 chars)`);
      // The answer layer cut the path already (to 256 characters), in the same words.
      assert.is(value('http', 'path'), `/${'a'.repeat(255)}...(+8749 chars)`);
      client.destroy();
      web.destroy();
    } finally {
      await echo.close(0);
    }
  });

test.run();
