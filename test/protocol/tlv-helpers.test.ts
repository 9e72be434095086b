import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  TLV_TYPE,
  awsVpcEndpointTlv,
  azureLinkIdTlv,
  buildProxyHeader,
  findTlv,
  gcpPscConnectionIdTlv,
  getAlpn,
  getAuthority,
  getAwsVpcEndpointId,
  getAzureLinkId,
  getGcpPscConnectionId,
  getNetns,
  getSsl,
  getUniqueId,
  parseProxyHeader,
  sslTlv,
  textTlv,
} from '../../src/protocol/index.ts';
import type { ProxyHeader, Tlv } from '../../src/protocol/index.ts';
import { V2_CASES, hex, text } from './cases.ts';

function parsed(bytes: Uint8Array): ProxyHeader {
  const result = parseProxyHeader(bytes);
  if (result.status !== 'ok') throw new Error(JSON.stringify(result));
  return result.header;
}

const proxied = (tlvs: Tlv[]) =>
  parsed(
    buildProxyHeader({
      version: 2,
      command: 'proxy',
      protocol: 'TCP4',
      source: { address: '198.51.100.22', port: 35646 },
      destination: { address: '10.0.0.5', port: 5000 },
      tlvs,
    }),
  );

test('the VPC endpoint id of the NLB case', () => {
  assert.is(getAwsVpcEndpointId(parsed(V2_CASES[0].bytes)), 'vpce-08d2bf15fefb1a2fa');
});

test('awsVpcEndpointTlv makes what an NLB sends', () => {
  assert.equal(
    Array.from(awsVpcEndpointTlv('vpce-08d2bf15fefb1a2fa').value),
    Array.from(V2_CASES[0].header.tlvs[0].value),
  );
});

test('an AWS TLV of another subtype is not a VPC endpoint id', () => {
  assert.is(getAwsVpcEndpointId(proxied([{ type: 0xea, value: Uint8Array.of(0x02, 0x41) }])), null);
});

// Vendor TLVs as go-proxyproto's tests (tlvparse/azure_test.go, gcp_test.go) write them.
const AWS_VPCE = { type: 0xea, value: hex('01 7670 6365 2d61 6263 3132 33') }; // "vpce-abc123"
const AZURE_LINK = { type: 0xee, value: hex('01 c1 45 00 21') }; // LinkID 0x210045c1
const AZURE_LINK_2 = { type: 0xee, value: hex('01 c1 45 00 22') };
const AZURE_SUBTYPE_2 = { type: 0xee, value: hex('02 01 01 01 01') };
const AZURE_SHORT = { type: 0xee, value: hex('02 01 01') };
const GCP_PSC = { type: 0xe0, value: hex('ffffffff c0a86402') }; // 18446744072646845442
const GCP_SHORT = { type: 0xe0, value: hex('ffffff') };

const AZURE_TABLE: readonly (readonly [string, Tlv[], number | null])[] = [
  ['no TLVs', [], null],
  ['only an AWS TLV', [AWS_VPCE], null],
  ['the LinkID subtype', [AZURE_LINK], 0x210045c1],
  ['another subtype', [AZURE_SUBTYPE_2], null],
  ['too short', [AZURE_SHORT], null],
  ['the LinkID subtype, one byte short', [{ type: 0xee, value: hex('01 c1 45 00') }], null],
  ['the LinkID subtype, one byte over', [{ type: 0xee, value: hex('01 c1 45 00 21 00') }], null],
  ['the LinkID under the GCP type', [{ type: 0xe0, value: AZURE_LINK.value }], null],
  [
    'the first well-formed one after malformed ones',
    [AWS_VPCE, AZURE_SUBTYPE_2, AZURE_SHORT, AZURE_LINK, AZURE_LINK_2],
    0x210045c1,
  ],
];
for (const [name, tlvs, expected] of AZURE_TABLE) {
  test(`Azure LinkID: ${name}`, () => {
    assert.is(getAzureLinkId({ tlvs }), expected);
    assert.is(getAzureLinkId(proxied(tlvs)), expected, 'read from a parsed header');
  });
}

const GCP_TABLE: readonly (readonly [string, Tlv[], bigint | null])[] = [
  ['no TLVs', [], null],
  ['only an AWS TLV', [AWS_VPCE], null],
  ['the connection id', [GCP_PSC], 18446744072646845442n],
  ['too short', [GCP_SHORT], null],
  ['one byte over', [{ type: 0xe0, value: hex('ffffffff c0a86402 00') }], null],
  ['8 bytes under the Azure type', [{ type: 0xee, value: GCP_PSC.value }], null],
  [
    'the first well-formed one after malformed ones',
    [AWS_VPCE, AZURE_SUBTYPE_2, GCP_SHORT, GCP_PSC, { type: 0xe0, value: new Uint8Array(8) }],
    18446744072646845442n,
  ],
];
for (const [name, tlvs, expected] of GCP_TABLE) {
  test(`GCP PSC connection id: ${name}`, () => {
    assert.is(getGcpPscConnectionId({ tlvs }), expected);
    assert.is(getGcpPscConnectionId(proxied(tlvs)), expected, 'read from a parsed header');
  });
}

test('the Azure and GCP builders make the bytes the vendors send', () => {
  assert.equal(azureLinkIdTlv(0x210045c1), { type: 0xee, value: AZURE_LINK.value });
  assert.equal(gcpPscConnectionIdTlv(18446744072646845442n), { type: 0xe0, value: GCP_PSC.value });
});

test('Azure and GCP ids round-trip: builder, whole v2 header, parser, reader', () => {
  for (const linkId of [0, 1, 0x80, 0x210045c1, 0x7fffffff, 0x80000000, 0xffffffff]) {
    for (const gcpId of [0n, 1n, 0x80n, 2n ** 63n, 18446744072646845442n, 2n ** 64n - 1n]) {
      const header = proxied([gcpPscConnectionIdTlv(gcpId), azureLinkIdTlv(linkId)]);
      assert.is(getAzureLinkId(header), linkId);
      assert.is(getGcpPscConnectionId(header), gcpId);
    }
  }
});

test('the Azure and GCP builders refuse ids their TLV cannot carry', () => {
  for (const bad of [-1, 2 ** 32, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
    assert.throws(() => azureLinkIdTlv(bad), RangeError, String(bad));
  for (const bad of [-1n, 2n ** 64n])
    assert.throws(() => gcpPscConnectionIdTlv(bad), RangeError, String(bad));
  assert.throws(() => gcpPscConnectionIdTlv(5 as unknown as bigint), RangeError, 'a number');
});

test('ALPN, AUTHORITY, UNIQUE_ID and NETNS read back', () => {
  const header = proxied([
    textTlv(TLV_TYPE.ALPN, 'h2'),
    textTlv(TLV_TYPE.AUTHORITY, 'bücher.example'),
    { type: TLV_TYPE.UNIQUE_ID, value: Uint8Array.of(1, 2, 3) },
    textTlv(TLV_TYPE.NETNS, 'blue'),
  ]);
  assert.is(getAlpn(header), 'h2');
  assert.is(getAuthority(header), 'bücher.example');
  assert.equal(Array.from(getUniqueId(header)!), [1, 2, 3]);
  assert.is(getNetns(header), 'blue');
  assert.is(findTlv(header, TLV_TYPE.NOOP), null);
});

test('absent TLVs are null, also for v1', () => {
  const header = parsed(text('PROXY TCP4 54.222.152.163 10.0.11.239 45418 5000\r\n'));
  assert.is(getAwsVpcEndpointId(header), null);
  assert.is(getAzureLinkId(header), null);
  assert.is(getGcpPscConnectionId(header), null);
  assert.is(getAlpn(header), null);
  assert.is(getSsl(header), null);
  assert.is(getUniqueId(header), null);
});

test('the SSL TLV with its sub-TLVs', () => {
  const ssl = sslTlv(0x07, 0, [
    textTlv(TLV_TYPE.SSL_VERSION, 'TLSv1.3'),
    textTlv(TLV_TYPE.SSL_CN, 'client.example'),
    textTlv(TLV_TYPE.SSL_CIPHER, 'TLS_AES_128_GCM_SHA256'),
    textTlv(0x28, 'DER'),
  ]);
  const info = getSsl(proxied([ssl]))!;
  assert.is(info.client, 7);
  assert.is(info.verify, 0);
  assert.is(info.version, 'TLSv1.3');
  assert.is(info.commonName, 'client.example');
  assert.is(info.cipher, 'TLS_AES_128_GCM_SHA256');
  assert.is(info.signatureAlgorithm, null);
  assert.equal(
    info.subTlvs.map((t) => t.type),
    [0x21, 0x22, 0x23, 0x28],
  );
  assert.is(getSsl(proxied([sslTlv(0x01, 0xdeadbeef)]))!.verify, 0xdeadbeef);
});

test('a malformed SSL TLV handed in by hand reads as null, never throws', () => {
  assert.is(getSsl({ tlvs: [{ type: 0x20, value: Uint8Array.of(1, 0, 0) }] }), null);
  assert.is(
    getSsl({ tlvs: [{ type: 0x20, value: Uint8Array.of(1, 0, 0, 0, 0, 0x21, 0, 9) }] }),
    null,
  );
});

test.run();
