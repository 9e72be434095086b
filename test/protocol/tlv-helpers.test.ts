import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  TLV_TYPE,
  awsVpcEndpointTlv,
  buildProxyHeader,
  findTlv,
  getAlpn,
  getAuthority,
  getAwsVpcEndpointId,
  getNetns,
  getSsl,
  getUniqueId,
  parseProxyHeader,
  sslTlv,
  textTlv,
} from '../../src/protocol/index.ts';
import type { ProxyHeader, Tlv } from '../../src/protocol/index.ts';
import { V2_CASES, text } from './cases.ts';

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
