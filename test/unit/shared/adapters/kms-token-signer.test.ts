import { constants, createHash, generateKeyPairSync, privateEncrypt, sign, verify } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import fc from 'fast-check';
import { derToJose, KMS_MAX_RAW_MESSAGE_BYTES, kmsMessage, KmsTokenSigner } from '../../../../shared/adapters/kms-token-signer';

describe('derToJose', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  test('turns any DER ECDSA signature into the raw r||s that verifies as IEEE P1363', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (data) => {
        const der = sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
        const raw = derToJose(der, 32);
        expect(raw).toHaveLength(64);
        expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
      }),
      { seed: 7, numRuns: Number(process.env.FC_RUNS ?? 200) },
    );
  });

  test('rejects what is not a DER ECDSA signature', () => {
    expect(() => derToJose(Buffer.from([0x31, 0x00]), 32)).toThrow('not a DER ECDSA signature');
    expect(() => derToJose(Buffer.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x03, 0x01, 0x01]), 32)).toThrow('not a DER ECDSA signature');
    expect(() => derToJose(Buffer.concat([Buffer.from([0x30, 0x25, 0x02, 0x21, 0x01]), Buffer.alloc(32, 1), Buffer.from([0x02, 0x01, 0x01])]), 32)).toThrow('longer than the curve size');
  });
});

/**
 * moto implements KMS Sign for MessageType RAW only; the DIGEST path (a signing input over KMS's
 * 4096-byte RAW limit) is checked here against a stand-in that signs like KMS does, with a local key.
 */
test('signing inputs up to 4096 bytes go to KMS as RAW, longer ones as their SHA-256 DIGEST', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sent: Array<{ MessageType: string; length: number }> = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      if (command.constructor.name === 'GetPublicKeyCommand') {
        return { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', PublicKey: publicKey.export({ format: 'der', type: 'spki' }) };
      }
      const { Message, MessageType } = command.input as { Message: Uint8Array; MessageType: string };
      sent.push({ MessageType, length: Message.length });
      // Like KMS: RAW is hashed first, DIGEST is the hash. RSASSA-PKCS1-v1_5 of a digest is the
      // private-key operation on DigestInfo(SHA-256) || digest (RFC 8017 §9.2).
      const digest = MessageType === 'RAW' ? createHash('sha256').update(Message).digest() : Buffer.from(Message);
      const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), digest]);
      return { Signature: privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo) };
    },
  } as unknown as KMSClient;
  const signer = new KmsTokenSigner(client, { signingKeyId: 'key' });
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: (await signer.publicKeys())[0]?.kid })).toString('base64url');
  // Pad the claims so the signing input is exactly at, and just over, the RAW limit.
  const claimsOfInputLength = (length: number) => {
    const base = `${header}.`.length + Buffer.from(JSON.stringify({ pad: '' })).toString('base64url').length;
    return { pad: 'x'.repeat(Math.floor(((length - base) * 3) / 4)) };
  };
  for (const length of [KMS_MAX_RAW_MESSAGE_BYTES, KMS_MAX_RAW_MESSAGE_BYTES + 3]) {
    const token = await signer.sign(claimsOfInputLength(length));
    const [h, p, s] = token.split('.') as [string, string, string];
    expect(verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'))).toBe(true);
  }
  expect(sent.map((m) => m.MessageType)).toEqual(['RAW', 'DIGEST']);
  expect(sent[0]?.length).toBeGreaterThan(KMS_MAX_RAW_MESSAGE_BYTES - 4);
});

test('kmsMessage: RAW up to exactly 4096 bytes, DIGEST from 4097', () => {
  expect(kmsMessage(Buffer.alloc(4096, 1))).toEqual({ Message: Buffer.alloc(4096, 1), MessageType: 'RAW' });
  expect(kmsMessage(Buffer.alloc(4097, 1))).toEqual({ Message: createHash('sha256').update(Buffer.alloc(4097, 1)).digest(), MessageType: 'DIGEST' });
});
