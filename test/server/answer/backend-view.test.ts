// What the backend saw, and its three renderings: the greeting line, text/plain and JSON.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  awsVpcEndpointTlv,
  azureLinkIdTlv,
  buildProxyHeader,
  gcpPscConnectionIdTlv,
  parseProxyHeader,
  type ProxyHeader,
  type ProxyHeaderInit,
  sslTlv,
  TLV_TYPE,
  textTlv,
} from '../../../src/protocol/index.ts';
import { escapeText } from '../../../src/log-escape.ts';
import { backendView } from '../../../src/server/answer/backend-view.ts';
import { MAX_LISTED, MAX_SHOWN, shown } from '../../../src/server/answer/shown.ts';
import { MAX_HEX_BYTES, tlvLogFields } from '../../../src/server/answer/tlv-view.ts';
import type { ServerIdentity } from '../../../src/server/answer/identity.ts';
import { greetingLine } from '../../../src/server/answer/greeting.ts';
import { renderJson, renderText, wantsJson } from '../../../src/server/answer/http-answer.ts';

function parsed(init: ProxyHeaderInit): ProxyHeader {
  const result = parseProxyHeader(buildProxyHeader(init));
  if (result.status !== 'ok') throw new Error(`test header did not parse: ${result.status}`);
  return result.header;
}

const V1 = parsed({
  version: 1,
  command: 'proxy',
  protocol: 'TCP4',
  source: { address: '54.222.152.163', port: 45418 },
  destination: { address: '10.0.11.239', port: 5000 },
});
const V2_TLVS = parsed({
  version: 2,
  command: 'proxy',
  protocol: 'TCP6',
  source: { address: '2001:db8::1', port: 443 },
  destination: { address: '2001:db8::ffff', port: 5000 },
  tlvs: [
    awsVpcEndpointTlv('vpce-08d2bf15fefb1a2fa'),
    textTlv(TLV_TYPE.AUTHORITY, 'shop.example.com'),
    textTlv(TLV_TYPE.ALPN, 'h2'),
    { type: TLV_TYPE.UNIQUE_ID, value: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) },
    sslTlv(0x01, 0, [
      textTlv(TLV_TYPE.SSL_VERSION, 'TLSv1.3'),
      textTlv(TLV_TYPE.SSL_CIPHER, 'TLS_AES_128_GCM_SHA256'),
    ]),
    { type: 0xe3, value: Uint8Array.of(1, 2) },
  ],
});
const LOCAL = parsed({ version: 2, command: 'local', protocol: 'UNKNOWN' });
const PEER = '10.0.11.239:36921';
const HOST: ServerIdentity = { host: 'ip-10-0-11-5' };
const EC2: ServerIdentity = {
  host: 'ip-10-0-11-5',
  instanceId: 'i-0f1e2d3c4b5a69788',
  availabilityZone: 'eu-west-1b',
  region: 'eu-west-1',
};
const view = (
  header: ProxyHeader | null,
  local: string | null = '10.0.11.5:5000',
  server: ServerIdentity = HOST,
) => backendView({ server, header, peer: PEER, local });

const views = suite('backendView');

views('v1: client and destination from the header, the peer is the balancer', () => {
  assert.equal(view(V1), {
    server: HOST,
    client: '54.222.152.163:45418',
    via: PEER,
    destination: '10.0.11.239:5000',
    proxy: { version: 1, command: 'proxy', protocol: 'TCP4', tlvs: {} },
  });
});

views('v2: the TLVs that matter are decoded; unknown ones are listed with their bytes', () => {
  const seen = view(V2_TLVS);
  assert.is(seen.client, '[2001:db8::1]:443');
  assert.is(seen.destination, '[2001:db8::ffff]:5000');
  assert.equal(seen.proxy?.tlvs, {
    vpcEndpointId: 'vpce-08d2bf15fefb1a2fa',
    authority: 'shop.example.com',
    alpn: 'h2',
    uniqueId: 'deadbeef',
    ssl: {
      client: ['ssl'],
      verified: false,
      version: 'TLSv1.3',
      cipher: 'TLS_AES_128_GCM_SHA256',
    },
    other: [{ type: '0xe3', length: 2, hex: '0102' }],
  });
});

views('v2: Azure LinkID and Google Cloud PSC connection id are decoded', () => {
  const header = parsed({
    ...tcp4Init(),
    tlvs: [azureLinkIdTlv(0xfedcba98), gcpPscConnectionIdTlv(0xffff_ffff_ffff_fffen)],
  });
  assert.equal(view(header).proxy?.tlvs, {
    azureLinkId: 0xfedcba98,
    gcpPscConnectionId: '18446744073709551614',
  });
  // The same types in another shape are shown as bytes, not decoded.
  const odd = parsed({
    ...tcp4Init(),
    tlvs: [
      { type: TLV_TYPE.AZURE, value: Uint8Array.of(0x02, 1, 2, 3, 4) },
      { type: TLV_TYPE.GCP, value: Uint8Array.of(1, 2, 3) },
    ],
  });
  assert.equal(view(odd).proxy?.tlvs, {
    other: [
      { type: '0xee', length: 5, hex: '0201020304' },
      { type: '0xe0', length: 3, hex: '010203' },
    ],
  });
});

views('undecoded TLVs: each value cut after MAX_HEX_BYTES, at most MAX_LISTED of them', () => {
  const long = { type: 0xf0, value: new Uint8Array(MAX_HEX_BYTES + 10).fill(0xab) };
  const many = Array.from({ length: MAX_LISTED + 3 }, () => ({
    type: 0xf1,
    value: Uint8Array.of(7),
  }));
  const tlvs = view(parsed({ ...tcp4Init(), tlvs: [long, ...many] })).proxy!.tlvs;
  assert.is(tlvs.other?.length, MAX_LISTED);
  assert.equal(tlvs.other?.[0], {
    type: '0xf0',
    length: MAX_HEX_BYTES + 10,
    hex: `${'ab'.repeat(MAX_HEX_BYTES)}...(+10 bytes)`,
  });
  assert.equal(tlvs.other?.[1], { type: '0xf1', length: 1, hex: '07' });
  assert.is(tlvs.otherNotShown, 4);
});

views('the open log line names the VPC endpoint and the authority, cut as answers cut', () => {
  assert.equal(tlvLogFields(V2_TLVS), {
    vpce: 'vpce-08d2bf15fefb1a2fa',
    authority: 'shop.example.com',
  });
  assert.equal(tlvLogFields(null), {});
  assert.equal(tlvLogFields(V1), {});
  const huge = 'h'.repeat(MAX_SHOWN + 100);
  const fields = tlvLogFields(parsed({ ...tcp4Init(), tlvs: [textTlv(TLV_TYPE.AUTHORITY, huge)] }));
  assert.equal(fields, { vpce: undefined, authority: shown(huge) });
  assert.ok(fields.authority!.endsWith('...(+100 chars)'));
});

views('no header, and v2 LOCAL: the client is the peer, the destination our own address', () => {
  for (const header of [null, LOCAL]) {
    const seen = view(header);
    assert.is(seen.client, PEER);
    assert.is(seen.destination, '10.0.11.5:5000');
  }
  assert.is(view(null).proxy, null);
  assert.is(view(LOCAL).proxy?.command, 'local');
});

views('the view outlives the bytes it was read from', () => {
  const bytes = Buffer.from(
    buildProxyHeader({ ...tcp4Init(), tlvs: [textTlv(TLV_TYPE.ALPN, 'h2')] }),
  );
  const result = parseProxyHeader(bytes);
  if (result.status !== 'ok') throw new Error('no parse');
  const seen = view(result.header);
  bytes.fill(0);
  assert.is(seen.client, '192.0.2.7:1234');
  assert.is(seen.proxy?.tlvs.alpn, 'h2');
});

function tcp4Init(): ProxyHeaderInit {
  return {
    version: 2,
    command: 'proxy',
    protocol: 'TCP4',
    source: { address: '192.0.2.7', port: 1234 },
    destination: { address: '10.0.0.1', port: 80 },
  };
}

const greeting = suite('greetingLine');

greeting('v1: who the client is and which balancer it came through, one CRLF line', () => {
  assert.is(
    greetingLine(view(V1)),
    'elb-proxy-echo on ip-10-0-11-5: you are 54.222.152.163:45418 (PROXY v1 from 10.0.11.239:36921); lines come back, q quits\r\n',
  );
});

greeting('v2: the VPC endpoint, authority and ALPN follow', () => {
  assert.is(
    greetingLine(view(V2_TLVS)),
    'elb-proxy-echo on ip-10-0-11-5: you are [2001:db8::1]:443 (PROXY v2 from 10.0.11.239:36921, VPC endpoint vpce-08d2bf15fefb1a2fa, authority shop.example.com, ALPN h2); lines come back, q quits\r\n',
  );
});

greeting('on EC2: the instance, zone and region; a label of the user; Azure and GCP ids', () => {
  assert.is(
    greetingLine(view(V1, null, EC2)),
    'elb-proxy-echo on ip-10-0-11-5 (i-0f1e2d3c4b5a69788, eu-west-1b, eu-west-1): you are 54.222.152.163:45418 (PROXY v1 from 10.0.11.239:36921); lines come back, q quits\r\n',
  );
  assert.match(
    greetingLine(view(V1, null, { host: 'web-1', label: 'blue\r\nfleet' })),
    /^elb-proxy-echo on web-1 \(blue\\r\\nfleet\): you are /,
  );
  const clouds = parsed({ ...tcp4Init(), tlvs: [azureLinkIdTlv(7), gcpPscConnectionIdTlv(9n)] });
  assert.match(
    greetingLine(view(clouds)),
    /\(PROXY v2 from 10\.0\.11\.239:36921, Azure LinkID 7, GCP PSC connection 9\);/,
  );
});

greeting('no header, LOCAL and UNKNOWN say so; upper case is announced', () => {
  assert.match(greetingLine(view(null)), /: you are 10\.0\.11\.239:36921 \(no PROXY header\);/);
  assert.match(greetingLine(view(LOCAL)), /\(PROXY v2 LOCAL from 10\.0\.11\.239:36921: /);
  const unknown = parsed({ version: 1, command: 'proxy', protocol: 'UNKNOWN' });
  assert.match(greetingLine(view(unknown)), /\(PROXY v1 UNKNOWN from .+: the balancer did not/);
  assert.match(greetingLine(view(V1), true), /; lines come back in upper case, q quits\r\n$/);
});

greeting('control bytes from the balancer are escaped: still exactly one line', () => {
  const evil = parsed({
    ...tcp4Init(),
    tlvs: [textTlv(TLV_TYPE.AUTHORITY, 'a\r\nfake line\u001b[2J\u202e')],
  });
  const line = greetingLine(view(evil));
  assert.is(line.indexOf('\n'), line.length - 1);
  assert.ok(line.includes('authority a\\r\\nfake line\\u001b[2J\\u202e'), line);
  // Beyond ASCII too: the line is written as one-byte text.
  const utf8 = parsed({ ...tcp4Init(), tlvs: [textTlv(TLV_TYPE.AUTHORITY, 'zürich.東京')] });
  assert.ok(greetingLine(view(utf8)).includes('authority z\\u00fcrich.\\u6771\\u4eac)'));
});

const answers = suite('HTTP answer bodies');
const REQUEST = {
  method: 'GET',
  target: '/where?x=1',
  version: '1.1',
  rawHeaders: ['Host', 'my-nlb:5000', 'User-Agent', 'curl/7.88.1', 'X-Evil', 'a\u001bb'],
};

answers('text: one fact per line, then the request line and headers as received', () => {
  const text = renderText(view(V2_TLVS), REQUEST);
  const lines = text.split('\n');
  assert.is(lines[0], 'elb-proxy-echo on ip-10-0-11-5 saw:');
  for (const expected of [
    /^client: +\[2001:db8::1\]:443$/,
    /^via: +10\.0\.11\.239:36921$/,
    /^destination: +\[2001:db8::ffff\]:5000$/,
    /^proxy: +v2 PROXY TCP6$/,
    /^vpc-endpoint: +vpce-08d2bf15fefb1a2fa$/,
    /^authority: +shop\.example\.com$/,
    /^alpn: +h2$/,
    /^unique-id: +deadbeef$/,
    /^ssl: +ssl, TLSv1\.3, TLS_AES_128_GCM_SHA256$/,
    /^tlv 0xe3: +0102 \(2 bytes\)$/,
    /^request: +GET \/where\?x=1 HTTP\/1\.1$/,
    /^ {2}Host: my-nlb:5000$/,
    /^ {2}User-Agent: curl\/7\.88\.1$/,
    /^ {2}X-Evil: a\\u001bb$/,
  ])
    assert.ok(
      lines.some((line) => expected.test(line)),
      `${expected} in\n${text}`,
    );
  assert.match(renderText(view(null), REQUEST), /\nproxy: +none\n/);
});

answers('text: the backend named by its identity; Azure, GCP and what was not shown', () => {
  assert.match(
    renderText(view(V1, null, EC2), REQUEST),
    /^elb-proxy-echo on ip-10-0-11-5 \(i-0f1e2d3c4b5a69788, eu-west-1b, eu-west-1\) saw:\n/,
  );
  const many = Array.from({ length: MAX_LISTED + 2 }, () => ({
    type: 0xf1,
    value: Uint8Array.of(7),
  }));
  const header = parsed({
    ...tcp4Init(),
    tlvs: [azureLinkIdTlv(42), gcpPscConnectionIdTlv(43n), ...many],
  });
  const text = renderText(view(header), REQUEST);
  assert.match(text, /\nazure-link-id: +42\n/);
  assert.match(text, /\ngcp-psc-id: +43\n/);
  assert.match(text, /\ntlvs: +\.\.\. 2 more not shown\n/);
});

answers('JSON: the view and the request, parseable', () => {
  const json = JSON.parse(renderJson(view(V1), REQUEST));
  assert.is(json.client, '54.222.152.163:45418');
  assert.is(json.via, PEER);
  assert.is(json.peer, undefined);
  assert.equal(json.server, { host: 'ip-10-0-11-5' });
  assert.equal(JSON.parse(renderJson(view(V1, null, EC2), REQUEST)).server, EC2);
  assert.equal(json.proxy, { version: 1, command: 'proxy', protocol: 'TCP4', tlvs: {} });
  assert.is(json.request.line, 'GET /where?x=1 HTTP/1.1');
  assert.equal(json.request.headers[0], ['Host', 'my-nlb:5000']);
  assert.is(json.request.headers[2][1], 'a\u001bb');
});

answers('JSON when asked by Accept or ?format=json, text otherwise', () => {
  assert.ok(wantsJson('/', 'application/json'));
  assert.ok(wantsJson('/', 'text/html, Application/JSON;q=0.9'));
  assert.ok(wantsJson('/x?format=json', undefined));
  assert.ok(wantsJson('/x?a=1&format=json', '*/*'));
  assert.not.ok(wantsJson('/', undefined));
  assert.not.ok(wantsJson('/', '*/*'));
  assert.not.ok(wantsJson('/format=json', 'text/plain'));
  assert.not.ok(wantsJson('/?format=text', undefined));
});

/** A random string of `length` UTF-16 units, over every range the escaping cares about. */
function randomText(next: () => number, length: number): string {
  const ranges = [
    [0x20, 0x7e],
    [0x00, 0x1f],
    [0x7f, 0x9f],
    [0xa0, 0x2fff],
    [0x2000, 0x206f],
    [0xd800, 0xdfff],
    [0xfff0, 0xffff],
  ];
  let out = '';
  for (let i = 0; i < length; i++) {
    const [low, high] = ranges[next() % ranges.length];
    out += String.fromCharCode(low + (next() % (high - low + 1)));
  }
  return out;
}

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
}

answers('property: JSON and text escape the same code points; JSON parses back exactly', () => {
  const next = seeded(7);
  for (let round = 0; round < 300; round++) {
    const value = randomText(next, next() % 40);
    const request = { ...REQUEST, rawHeaders: ['X-R', value] };
    const json = renderJson(view(V1), request);
    // Nothing a terminal or a log viewer would act on is left raw in either rendering (but
    // the line feeds of their own layout).
    const raw = (body: string) => body.replaceAll('\n', '');
    assert.is(escapeText(raw(json)), raw(json), JSON.stringify(value));
    const text = renderText(view(V1), request);
    assert.is(escapeText(raw(text)), raw(text), JSON.stringify(value));
    assert.is(JSON.parse(json).request.headers[0][1], shown(value));
  }
});

views('property: shown cuts at MAX_SHOWN, says the length, never splits a surrogate pair', () => {
  const next = seeded(3);
  for (let round = 0; round < 300; round++) {
    const value = randomText(next, next() % (2 * MAX_SHOWN));
    const out = shown(value);
    if (value.length <= MAX_SHOWN) assert.is(out, value);
    else {
      const kept = out.slice(0, out.lastIndexOf('...(+'));
      assert.is(out.slice(kept.length), `...(+${[...value.slice(kept.length)].length} chars)`);
      assert.ok(value.startsWith(kept));
      assert.ok(kept.length >= MAX_SHOWN - 1 && kept.length <= MAX_SHOWN);
      const last = kept.charCodeAt(kept.length - 1);
      assert.not.ok(last >= 0xd800 && last <= 0xdbff, 'ends in half a pair');
    }
  }
});

views.run();
greeting.run();
answers.run();
