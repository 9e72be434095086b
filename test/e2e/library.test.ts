// The package as a user installs it: `npm pack` (which builds dist/lib through prepack), install
// the tarball into a fresh project with no network, import the library from plain JavaScript,
// and type-check a small TypeScript consumer with our tsc.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
const work = mkdtempSync(join(tmpdir(), 'pp-lib-'));
const project = join(work, 'consumer');
let tarball = '';

test.after(() => rmSync(work, { recursive: true, force: true }));

/** A strict tsconfig.json for a consumer project: `include` with `options` on top. */
function consumerConfig(include: string[], options: Record<string, unknown>): string {
  return JSON.stringify({
    compilerOptions: {
      strict: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      noEmit: true,
      skipLibCheck: false,
      ...options,
    },
    include,
  });
}

test('npm pack ships the built library and nothing else of ours', () => {
  const packed = execFileSync('npm', ['pack', '--pack-destination', work, '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [info] = JSON.parse(packed.slice(packed.indexOf('[')));
  tarball = join(work, info.filename);
  const paths: string[] = info.files.map((f: { path: string }) => f.path);
  assert.ok(paths.includes('dist/lib/index.js'), 'dist/lib/index.js');
  assert.ok(paths.includes('dist/lib/index.d.ts'), 'dist/lib/index.d.ts');
  assert.ok(paths.includes('dist/lib/protocol/v1.js'));
  assert.ok(paths.includes('dist/lib/wrap/index.js'), 'dist/lib/wrap/index.js');
  assert.ok(paths.includes('dist/lib/wrap/index.d.ts'), 'dist/lib/wrap/index.d.ts');
  assert.equal(
    paths.filter(
      (p) =>
        !p.startsWith('dist/lib/') &&
        // npm always ships the READMEs (both languages) with package.json
        !['package.json', 'README.md', 'README.zh-CN.md', 'LICENSE'].includes(p),
    ),
    [],
  );
  assert.ok(info.size < 200_000, `tarball of ${info.size} bytes`);
});

test('the tarball installs offline into a fresh project', () => {
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'pp-consumer', private: true, type: 'module' }),
  );
  const result = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], {
    cwd: project,
    encoding: 'utf8',
  });
  assert.is(result.status, 0, result.stderr);
});

test('plain JavaScript imports parseProxyHeader and buildProxyHeader', () => {
  writeFileSync(
    join(project, 'use.mjs'),
    `import { parseProxyHeader, buildProxyHeader, getAwsVpcEndpointId, awsVpcEndpointTlv } from 'elb-proxy-echo';
const line = Buffer.from('PROXY TCP4 54.222.152.163 10.0.11.239 45418 5000\\r\\nhello');
const v1 = parseProxyHeader(line);
const v2bytes = buildProxyHeader({ version: 2, command: 'proxy', protocol: 'TCP6',
  source: { address: '2001:DB8:0:0::1', port: 1 }, destination: { address: '::1', port: 5000 },
  tlvs: [awsVpcEndpointTlv('vpce-08d2bf15fefb1a2fa')] }, { crc32c: true });
const v2 = parseProxyHeader(v2bytes, { crc32c: 'require' });
console.log(JSON.stringify({ v1: [v1.status, v1.length, v1.header.source], v2: [v2.status, v2.header.source, getAwsVpcEndpointId(v2.header)],
  bad: parseProxyHeader(Buffer.from('GET / HTTP/1.1')) }));
`,
  );
  const result = spawnSync(process.execPath, ['use.mjs'], { cwd: project, encoding: 'utf8' });
  assert.is(result.status, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout), {
    v1: ['ok', 50, { address: '54.222.152.163', port: 45418 }],
    v2: ['ok', { address: '2001:db8::1', port: 1 }, 'vpce-08d2bf15fefb1a2fa'],
    bad: {
      status: 'invalid',
      code: 'not-proxy',
      reason: "not a PROXY protocol header: first byte 'G' (0x47)",
    },
  });
});

test('a TypeScript consumer type-checks against the shipped declarations, and a misuse does not', () => {
  writeFileSync(
    join(project, 'tsconfig.json'),
    // A Node project has @types/node (the package also exports the echo server, typed with node:net);
    // this one borrows ours rather than installing it.
    consumerConfig(['*.ts'], {
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
    }),
  );
  writeFileSync(
    join(project, 'consumer.ts'),
    `import { parseProxyHeader, buildProxyHeader } from 'elb-proxy-echo';
import type { ParseResult, ProxyHeader } from 'elb-proxy-echo';
const bytes: Uint8Array = buildProxyHeader({ version: 1, command: 'proxy', protocol: 'UNKNOWN' });
const result: ParseResult = parseProxyHeader(bytes, { maxV2HeaderSize: 1024, crc32c: 'verify' });
export const client: string | undefined = result.status === 'ok' ? (result.header satisfies ProxyHeader).source?.address : result.status;
`,
  );
  const good = spawnSync(TSC, ['-p', project], { encoding: 'utf8' });
  assert.is(good.status, 0, good.stdout + good.stderr);
  writeFileSync(
    join(project, 'misuse.ts'),
    `import { parseProxyHeader } from 'elb-proxy-echo';\nexport const r = parseProxyHeader('PROXY UNKNOWN\\r\\n', { crc32c: 'sometimes' });\n`,
  );
  const bad = spawnSync(TSC, ['-p', project], { encoding: 'utf8' });
  assert.is.not(bad.status, 0, 'a string argument and an unknown option must not type-check');
  assert.match(bad.stdout, /misuse\.ts/);
});

test('elb-proxy-echo/protocol: the parser alone, which type-checks with no Node types at all', () => {
  // No @types/node anywhere: `types: []`, no typeRoots, and the ES library only (no DOM).
  const config = (file: string) => consumerConfig([file], { types: [], lib: ['es2022'] });
  // Resolve the package from the consumer project installed above.
  writeFileSync(join(project, 'tsconfig.parser.json'), config('parser.ts'));
  writeFileSync(
    join(project, 'parser.ts'),
    `import { parseProxyHeader, PARSE_ERROR_CODES } from 'elb-proxy-echo/protocol';
import type { ParseErrorCode, ParseResult } from 'elb-proxy-echo/protocol';
const result: ParseResult = parseProxyHeader(new Uint8Array([0x47]));
export const code: ParseErrorCode | null = result.status === 'invalid' ? result.code : null;
export const known: readonly ParseErrorCode[] = PARSE_ERROR_CODES;
`,
  );
  const good = spawnSync(TSC, ['-p', join(project, 'tsconfig.parser.json')], { encoding: 'utf8' });
  assert.is(good.status, 0, good.stdout + good.stderr);
  // The control: the full entry (parser and node:net server) does need Node's types.
  writeFileSync(join(project, 'tsconfig.full.json'), config('full.ts'));
  writeFileSync(join(project, 'full.ts'), `export { createEchoServer } from 'elb-proxy-echo';\n`);
  const full = spawnSync(TSC, ['-p', join(project, 'tsconfig.full.json')], { encoding: 'utf8' });
  assert.is.not(full.status, 0, 'the full entry should need @types/node');
  // And it runs as plain JavaScript.
  writeFileSync(
    join(project, 'parser.mjs'),
    `import { parseProxyHeader } from 'elb-proxy-echo/protocol';
const r = parseProxyHeader(new TextEncoder().encode('PROXY TCP6 2001:DB8::1 ::1 1 2\\r\\n'));
console.log(JSON.stringify([r.status, r.header.source.address]));
`,
  );
  const run = spawnSync(process.execPath, ['parser.mjs'], { cwd: project, encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout), ['ok', '2001:db8::1']);
});

test('elb-proxy-echo/wrap: a wrapped node:http server from plain JavaScript reports the header client', () => {
  writeFileSync(
    join(project, 'wrap.mjs'),
    `import http from 'node:http';
import net from 'node:net';
import { acceptProxyProtocol, proxyHeader } from 'elb-proxy-echo/wrap';
const server = acceptProxyProtocol(http.createServer((req, res) =>
  res.end(JSON.stringify([req.socket.remoteAddress, req.socket.remotePort, proxyHeader(req.socket).version]))));
server.listen(0, '127.0.0.1', () => {
  const socket = net.connect(server.address().port, '127.0.0.1', () =>
    socket.end('PROXY TCP4 203.0.113.7 10.0.0.5 51000 80\\r\\nGET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'));
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk));
  socket.on('close', () => { console.log(answer.slice(answer.indexOf('\\r\\n\\r\\n') + 4)); server.close(); });
});
`,
  );
  const run = spawnSync(process.execPath, ['wrap.mjs'], {
    cwd: project,
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.is(run.status, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout), ['203.0.113.7', 51000, 1]);
});

test('elb-proxy-echo/wrap: a TypeScript consumer type-checks for every server kind, and a misuse does not', () => {
  writeFileSync(
    join(project, 'tsconfig.wrap.json'),
    consumerConfig(['wrap.ts'], {
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
    }),
  );
  writeFileSync(
    join(project, 'wrap.ts'),
    `import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { acceptProxyProtocol, proxyHeader } from 'elb-proxy-echo/wrap';
import type { ProxyHeader, ProxyProtocolOptions, RejectCode, Rejection } from 'elb-proxy-echo/wrap';
const options: ProxyProtocolOptions = {
  trust: ['10.0.0.0/16'], policy: 'optional', headerTimeout: 3000, maxHeaderSize: 4096,
  onReject: (rejection: Rejection) => { const code: RejectCode = rejection.code; console.log(code, rejection.remoteAddress); },
};
export const web: http.Server = acceptProxyProtocol(http.createServer((req, res) => {
  const header: ProxyHeader | null = proxyHeader(req.socket);
  res.end(header?.source?.address ?? req.socket.remoteAddress);
}), options);
export const secure: https.Server = acceptProxyProtocol(https.createServer({}), { trust: '10.0.0.0/16' });
export const h2: http2.Http2SecureServer = acceptProxyProtocol(http2.createSecureServer({}));
export const h2c: http2.Http2Server = acceptProxyProtocol(http2.createServer());
export const raw: tls.Server = acceptProxyProtocol(tls.createServer({}));
export const plain: net.Server = acceptProxyProtocol(net.createServer(), { policy: 'off' });
`,
  );
  const config = join(project, 'tsconfig.wrap.json');
  const good = spawnSync(TSC, ['-p', config], { encoding: 'utf8' });
  assert.is(good.status, 0, good.stdout + good.stderr);
  writeFileSync(
    join(project, 'wrap.ts'),
    `import http from 'node:http';
import { acceptProxyProtocol } from 'elb-proxy-echo/wrap';
export const a = acceptProxyProtocol(http.createServer(), { policy: 'sometimes' });
export const b = acceptProxyProtocol({ listen() {} });
`,
  );
  const bad = spawnSync(TSC, ['-p', config, '--pretty', 'false'], { encoding: 'utf8' });
  assert.is.not(bad.status, 0, 'an unknown policy and a non-server must not type-check');
  assert.match(bad.stdout, /wrap\.ts\(3,/);
  assert.match(bad.stdout, /wrap\.ts\(4,/);
});

test.run();
