import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { PublicJwk, TokenSigner } from '../../shared/ports';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/** A TokenSigner with an in-memory ES256 key (the port's contract; KmsTokenSigner is the real one). */
export class LocalTokenSigner implements TokenSigner {
  private key?: Promise<{ privateKey: PrivateKey; jwk: PublicJwk }>;
  readonly signed: Array<Readonly<Record<string, unknown>>> = [];
  /** Set to make publicKeys() fail as KMS GetPublicKey would. */
  failure?: Error;

  async sign(claims: Readonly<Record<string, unknown>>): Promise<string> {
    const { privateKey, jwk } = await this.load();
    this.signed.push(claims);
    return new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: jwk.kid }).sign(privateKey);
  }

  async publicKeys(): Promise<readonly PublicJwk[]> {
    if (this.failure) throw this.failure;
    return [(await this.load()).jwk];
  }

  private load() {
    this.key ??= (async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = await exportJWK(publicKey);
      return { privateKey, jwk: { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'ES256', use: 'sig' } };
    })();
    return this.key;
  }
}
