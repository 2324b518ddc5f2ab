import { createHash } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient, type SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import { calculateJwkThumbprint, exportJWK, importSPKI } from 'jose';
import { ConfigurationError } from '../domain/errors';
import type { PublicJwk, TokenSigner } from '../ports';
import { mapSdkError } from './sdk-errors';

/** The KMS key specs the broker signs with, and what each is as a JOSE algorithm. */
const ALGORITHMS: Record<string, { alg: string; kms: SigningAlgorithmSpec; ecdsaBytes?: number }> = {
  ECC_NIST_P256: { alg: 'ES256', kms: 'ECDSA_SHA_256', ecdsaBytes: 32 },
  RSA_2048: { alg: 'RS256', kms: 'RSASSA_PKCS1_V1_5_SHA_256' },
  RSA_3072: { alg: 'RS256', kms: 'RSASSA_PKCS1_V1_5_SHA_256' },
  RSA_4096: { alg: 'RS256', kms: 'RSASSA_PKCS1_V1_5_SHA_256' },
};

/** KMS Sign's limit for MessageType RAW. */
export const KMS_MAX_RAW_MESSAGE_BYTES = 4096;

interface LoadedKey {
  readonly keyId: string;
  readonly jwk: PublicJwk;
  readonly kms: SigningAlgorithmSpec;
  readonly ecdsaBytes?: number;
}

export interface KmsTokenSignerOptions {
  /** The key that signs (id, ARN or alias ARN). */
  readonly signingKeyId: string;
  /**
   * Every key to publish, the signing key included: during a rotation the next key is published
   * (and cached by relying parties) before it signs, and the previous one stays until every token
   * it signed has expired. Default: the signing key alone.
   */
  readonly publishedKeyIds?: readonly string[];
}

/**
 * TokenSigner on AWS KMS: the private key never leaves KMS (kms:Sign), the public keys are read
 * once per cold start (kms:GetPublicKey) and published as a JWKS with RFC 7638 thumbprints as
 * `kid`.
 */
export class KmsTokenSigner implements TokenSigner {
  private keys?: Promise<readonly LoadedKey[]>;
  private readonly published: readonly string[];

  constructor(
    private readonly client: KMSClient,
    private readonly options: KmsTokenSignerOptions,
  ) {
    this.published = [...new Set([options.signingKeyId, ...(options.publishedKeyIds ?? [])])];
  }

  async publicKeys(): Promise<readonly PublicJwk[]> {
    return (await this.load()).map((k) => k.jwk);
  }

  async sign(claims: Readonly<Record<string, unknown>>): Promise<string> {
    const key = (await this.load())[0] as LoadedKey;
    const header = { alg: key.jwk.alg, typ: 'JWT', kid: key.jwk.kid };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    let signature: Uint8Array | undefined;
    try {
      ({ Signature: signature } = await this.client.send(new SignCommand({ KeyId: key.keyId, ...kmsMessage(Buffer.from(input)), SigningAlgorithm: key.kms })));
    } catch (error) {
      throw mapSdkError('KMS', error);
    }
    if (!signature) throw mapSdkError('KMS', Object.assign(new Error('Sign returned no signature'), { name: 'InternalFailure' }));
    const jose = key.ecdsaBytes === undefined ? Buffer.from(signature) : derToJose(Buffer.from(signature), key.ecdsaBytes);
    return `${input}.${jose.toString('base64url')}`;
  }

  private load(): Promise<readonly LoadedKey[]> {
    // Cached per cold start; a failed load is retried by the next call.
    this.keys ??= Promise.all(this.published.map((id) => this.loadKey(id))).catch((error: unknown) => {
      this.keys = undefined;
      throw error;
    });
    return this.keys;
  }

  private async loadKey(keyId: string): Promise<LoadedKey> {
    let output;
    try {
      output = await this.client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    } catch (error) {
      throw mapSdkError('KMS', error);
    }
    const spec = output.KeySpec ?? output.CustomerMasterKeySpec ?? '';
    const algorithm = ALGORITHMS[spec];
    if (!algorithm || output.KeyUsage !== 'SIGN_VERIFY' || !output.PublicKey) {
      throw new ConfigurationError(
        'invalid_signing_key',
        `KMS key ${keyId} is ${spec || 'of an unknown spec'} for ${output.KeyUsage ?? 'an unknown usage'}; the issuer signs with an asymmetric SIGN_VERIFY key: ${Object.keys(ALGORITHMS).join(', ')}.`,
      );
    }
    const pem = `-----BEGIN PUBLIC KEY-----\n${Buffer.from(output.PublicKey).toString('base64')}\n-----END PUBLIC KEY-----`;
    const jwk = await exportJWK(await importSPKI(pem, algorithm.alg, { extractable: true }));
    const kid = await calculateJwkThumbprint(jwk);
    return { keyId, kms: algorithm.kms, ecdsaBytes: algorithm.ecdsaBytes, jwk: { ...jwk, kid, alg: algorithm.alg, use: 'sig' } };
  }
}

/**
 * What Sign is given: KMS takes up to 4096 bytes as the message itself; a longer signing input
 * (many session tags) is hashed here and sent as its SHA-256 digest, which KMS signs identically.
 */
export function kmsMessage(input: Buffer): { Message: Buffer; MessageType: 'RAW' | 'DIGEST' } {
  if (input.length <= KMS_MAX_RAW_MESSAGE_BYTES) return { Message: input, MessageType: 'RAW' };
  return { Message: createHash('sha256').update(input).digest(), MessageType: 'DIGEST' };
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

/**
 * KMS returns ECDSA signatures DER-encoded (SEQUENCE { INTEGER r, INTEGER s }); JWS wants r and s
 * as fixed-size big-endian integers, concatenated (RFC 7518 §3.4).
 */
export function derToJose(der: Buffer, size: number): Buffer {
  let offset = 0;
  const expect = (tag: number) => {
    if (der[offset++] !== tag) throw new Error('derToJose: not a DER ECDSA signature');
  };
  const length = () => {
    let len = der[offset++] as number;
    if (len & 0x80) {
      const bytes = len & 0x7f;
      len = 0;
      for (let i = 0; i < bytes; i++) len = (len << 8) | (der[offset++] as number);
    }
    return len;
  };
  const integer = () => {
    expect(0x02);
    const len = length();
    let value = der.subarray(offset, offset + len);
    offset += len;
    while (value.length > size && value[0] === 0) value = value.subarray(1);
    if (value.length > size) throw new Error('derToJose: integer longer than the curve size');
    return Buffer.concat([Buffer.alloc(size - value.length), value]);
  };
  expect(0x30);
  length();
  return Buffer.concat([integer(), integer()]);
}
