// @ts-nocheck
// 
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { UnauthenticatedError } from '../domain/errors';
import { iamIdentityFromArn, type Identity } from '../domain/identity';
import type { CallerProofVerifier } from '../http/authenticator';
import { header, type HttpEvent } from '../http/event';
import type { Clock } from '../ports';
import { mapSdkError } from './sdk-errors';
import { systemClock } from './system';

/**
 * IAM callers outside API Gateway's IAM authorizer prove who they are as Vault's AWS auth method
 * does: they sign an `sts:GetCallerIdentity` request with their own credentials and hand it to the
 * broker (header `x-nocreds-iam-proof`, base64 of JSON `{method, url, headers, body}` with the body
 * base64). The broker checks it (below), sends it to the one STS endpoint it is configured with and
 * takes the ARN STS answers. The broker never sees the caller's secret key, and STS, not the
 * caller, says who signed.
 *
 * Checked before anything is forwarded, so a proof cannot be turned against another broker or
 * another API: POST to exactly the pinned endpoint (scheme, host, port, path `/`, no query); body
 * exactly `Action=GetCallerIdentity&Version=2011-06-15`; an `AWS4-HMAC-SHA256` authorization for
 * service `sts` in the pinned region; `host`, `x-amz-date`, `x-amz-content-sha256` and
 * `x-nocreds-server-id` all signed; the server id is ours; the body hash is the signed one (so a
 * body cannot be swapped under a signature); `X-Amz-Date` within 15 minutes of our clock.
 */
export const PROOF_HEADER = 'x-nocreds-iam-proof';
export const SERVER_ID_HEADER = 'x-nocreds-server-id';

const MAX_PROOF_CHARS = 12 * 1024;
const MAX_HEADERS = 20;
const FRESHNESS_MS = 15 * 60 * 1000;
const STS_VERSION = '2011-06-15';
const REQUIRED_SIGNED = ['host', 'x-amz-date', 'x-amz-content-sha256', SERVER_ID_HEADER];
// Never forwarded even when signed: they describe the hop, not the request STS must see.
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'proxy-authorization', 'content-length', 'expect']);
const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]{1,32})\/([a-z0-9-]{1,32})\/aws4_request, ?SignedHeaders=([a-z0-9;-]{1,1024}), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** What STS answers; `transport` in the options can replace the real HTTP call (tests, proxies). */
export interface StsHttpResponse {
  readonly status: number;
  readonly body: string;
}
export type StsTransport = (request: { url: URL; headers: Record<string, string>; body: string; timeoutMs: number }) => Promise<StsHttpResponse>;

export interface StsCallerProofVerifierOptions {
  /** The one STS endpoint proofs may be signed for and are sent to, e.g. `https://sts.eu-west-1.amazonaws.com`. */
  readonly stsEndpoint: string;
  /** The signing region STS expects at that endpoint. */
  readonly region: string;
  /** This broker's id (config NOCREDS_SERVER_ID); a proof must carry it, signed. */
  readonly serverId: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
  readonly transport?: StsTransport;
}

interface Proof {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
}

/** The STS endpoint a broker pins: the configured AWS endpoint locally (moto), else its region's. */
export function stsProofEndpoint(config: { readonly region: string; readonly awsEndpoint?: string }): string {
  return config.awsEndpoint ?? `https://sts.${config.region}.amazonaws.com`;
}

/**
 * The verifier a function's composition root builds from its config, e.g.
 * `new Authenticator({ tokenVerifier, proofVerifier: callerProofVerifierFor(config) })`.
 */
export function callerProofVerifierFor(config: { readonly region: string; readonly awsEndpoint?: string; readonly serverId: string }): StsCallerProofVerifier {
  return new StsCallerProofVerifier({ stsEndpoint: stsProofEndpoint(config), region: config.region, serverId: config.serverId, clock: systemClock });
}

function reject(code: string, message: string): UnauthenticatedError {
  return new UnauthenticatedError(code, message);
}

export class StsCallerProofVerifier implements CallerProofVerifier {
  private readonly endpoint: URL;
  private readonly transport: StsTransport;

  constructor(private readonly options: StsCallerProofVerifierOptions) {
    this.endpoint = new URL(options.stsEndpoint);
    if (this.endpoint.pathname !== '/' || this.endpoint.search !== '') {
      throw new Error(`The STS endpoint for caller proofs must be an origin (scheme, host and port), got ${options.stsEndpoint}.`);
    }
    this.transport = options.transport ?? stsHttpTransport;
  }

  carriesProof(event: HttpEvent): boolean {
    return header(event, PROOF_HEADER) !== undefined;
  }

  async verify(event: HttpEvent): Promise<Identity> {
    const proof = this.check(decodeProof(header(event, PROOF_HEADER) ?? ''));
    let response: StsHttpResponse;
    try {
      response = await this.transport({ url: this.endpoint, headers: proof.headers, body: proof.body, timeoutMs: this.options.timeoutMs ?? 5000 });
    } catch (error) {
      throw mapSdkError('STS', error);
    }
    return identityFrom(response);
  }

  /** Every check that needs no network; returns the exact request to forward. */
  private check(proof: Proof): Proof {
    const expectedHost = this.endpoint.host;
    if (proof.method !== 'POST') throw reject('invalid_proof', 'The GetCallerIdentity proof must be a signed POST.');
    if (proof.url.protocol !== this.endpoint.protocol || proof.url.host !== expectedHost || proof.url.pathname !== '/' || proof.url.search !== '') {
      throw reject('proof_wrong_endpoint', `The GetCallerIdentity proof must be signed for ${this.endpoint.origin}/ (this broker's STS endpoint), not ${proof.url.origin}${proof.url.pathname}.`);
    }
    if (proof.headers.host !== undefined && proof.headers.host !== expectedHost) {
      throw reject('proof_wrong_endpoint', `The GetCallerIdentity proof's Host header must be ${expectedHost}.`);
    }
    if (!isGetCallerIdentity(proof.body)) {
      throw reject('proof_wrong_action', `The GetCallerIdentity proof's body must be exactly Action=GetCallerIdentity&Version=${STS_VERSION}.`);
    }

    const match = AUTHORIZATION.exec(proof.headers.authorization ?? '');
    if (!match) throw reject('invalid_proof', 'The GetCallerIdentity proof needs an AWS4-HMAC-SHA256 Authorization header.');
    const [, , scopeDate, scopeRegion, scopeService, signedList] = match as unknown as [string, string, string, string, string, string];
    if (scopeService !== 'sts') throw reject('proof_wrong_action', 'The GetCallerIdentity proof must be signed for the sts service.');
    if (scopeRegion !== this.options.region) {
      throw reject('proof_wrong_endpoint', `The GetCallerIdentity proof must be signed for region ${this.options.region} (this broker's STS endpoint ${this.endpoint.origin}).`);
    }
    const signed = signedList.split(';');
    const missing = REQUIRED_SIGNED.filter((name) => !signed.includes(name));
    if (missing.length > 0) throw reject('proof_unsigned_header', `The GetCallerIdentity proof must sign these headers too: ${missing.join(', ')}.`);
    for (const name of signed) {
      if (name !== 'host' && proof.headers[name] === undefined) throw reject('invalid_proof', `The GetCallerIdentity proof signs ${name} but does not send it.`);
    }

    if (proof.headers[SERVER_ID_HEADER] !== this.options.serverId) {
      throw reject('proof_wrong_server', `The GetCallerIdentity proof was made for another broker: sign it with ${SERVER_ID_HEADER}: ${this.options.serverId}.`);
    }
    const bodyHash = createHash('sha256').update(proof.body, 'utf8').digest('hex');
    if (proof.headers['x-amz-content-sha256'] !== bodyHash) {
      throw reject('proof_body_mismatch', 'The GetCallerIdentity proof was signed for a different body.');
    }

    const signedAt = parseAmzDate(proof.headers['x-amz-date'] ?? '');
    if (signedAt === undefined || proof.headers['x-amz-date']?.slice(0, 8) !== scopeDate) {
      throw reject('invalid_proof', 'The GetCallerIdentity proof needs an X-Amz-Date (YYYYMMDDTHHMMSSZ) matching its credential scope.');
    }
    if (Math.abs(this.options.clock.now().getTime() - signedAt) > FRESHNESS_MS) {
      throw reject('proof_stale', 'The GetCallerIdentity proof was signed more than 15 minutes from now; sign a fresh one (and check this machine\'s clock).');
    }

    // Forward only what STS needs to check the signature: the signed headers and the signature.
    const forwarded: Record<string, string> = { host: expectedHost, authorization: proof.headers.authorization as string };
    for (const name of signed) {
      if (name !== 'host' && !HOP_HEADERS.has(name)) forwarded[name] = proof.headers[name] as string;
    }
    if (forwarded['content-type'] === undefined) forwarded['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
    return { method: 'POST', url: this.endpoint, headers: forwarded, body: proof.body };
  }
}

function decodeProof(encoded: string): Proof {
  if (encoded.length === 0 || encoded.length > MAX_PROOF_CHARS) throw reject('invalid_proof', `The ${PROOF_HEADER} header must be 1 to ${MAX_PROOF_CHARS} characters.`);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    throw reject('invalid_proof', `The ${PROOF_HEADER} header must be base64 of JSON {method, url, headers, body}.`);
  }
  const value = raw as { method?: unknown; url?: unknown; headers?: unknown; body?: unknown };
  if (typeof value !== 'object' || value === null || typeof value.method !== 'string' || typeof value.url !== 'string' || typeof value.body !== 'string') {
    throw reject('invalid_proof', `The ${PROOF_HEADER} JSON needs string fields method, url and body (base64) and an object headers.`);
  }
  if (typeof value.headers !== 'object' || value.headers === null || Array.isArray(value.headers)) {
    throw reject('invalid_proof', `The ${PROOF_HEADER} JSON needs an object headers.`);
  }
  const entries = Object.entries(value.headers as Record<string, unknown>);
  if (entries.length > MAX_HEADERS) throw reject('invalid_proof', `The GetCallerIdentity proof may carry at most ${MAX_HEADERS} headers.`);
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of entries) {
    const lower = name.toLowerCase();
    if (typeof headerValue !== 'string' || !/^[a-z0-9-]{1,64}$/.test(lower) || /[\r\n]/.test(headerValue)) {
      throw reject('invalid_proof', 'The GetCallerIdentity proof headers must be single-line strings with plain names.');
    }
    if (headers[lower] !== undefined) throw reject('invalid_proof', `The GetCallerIdentity proof repeats the header ${lower}.`);
    headers[lower] = headerValue;
  }
  let url: URL;
  try {
    url = new URL(value.url);
  } catch {
    throw reject('invalid_proof', 'The GetCallerIdentity proof url is not a URL.');
  }
  return { method: value.method.toUpperCase(), url, headers, body: Buffer.from(value.body, 'base64').toString('utf8') };
}

function isGetCallerIdentity(body: string): boolean {
  const params = [...new URLSearchParams(body).entries()];
  return params.length === 2 && params.some(([k, v]) => k === 'Action' && v === 'GetCallerIdentity') && params.some(([k, v]) => k === 'Version' && v === STS_VERSION);
}

function parseAmzDate(value: string): number | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const time = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(time) ? undefined : time;
}

function xmlText(xml: string, element: string): string | undefined {
  const m = new RegExp(`<${element}>([^<]*)</${element}>`).exec(xml);
  return m?.[1]?.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function identityFrom(response: StsHttpResponse): Identity {
  if (response.status === 200) {
    const result = /<GetCallerIdentityResult>([\s\S]*)<\/GetCallerIdentityResult>/.exec(response.body)?.[1];
    const arn = result === undefined ? undefined : xmlText(result, 'Arn');
    if (!arn) throw mapSdkError('STS', Object.assign(new Error('GetCallerIdentity answered without an Arn'), { name: 'InternalFailure' }));
    return iamIdentityFromArn(arn);
  }
  const code = xmlText(response.body, 'Code') ?? 'UnknownError';
  // 4xx other than throttling: STS did not accept the signature or the credentials.
  if (response.status >= 400 && response.status < 500 && response.status !== 429 && code !== 'Throttling') {
    throw reject('proof_rejected_by_sts', `STS did not accept the signed GetCallerIdentity (${code}); sign it again with valid credentials.`);
  }
  throw mapSdkError('STS', Object.assign(new Error(`GetCallerIdentity answered ${response.status}`), { name: code, $metadata: { httpStatusCode: response.status } }));
}

const MAX_STS_RESPONSE_BYTES = 64 * 1024;

/** The real transport: one HTTPS (HTTP only for a local emulator) request to the pinned endpoint. */
export const stsHttpTransport: StsTransport = ({ url, headers, body, timeoutMs }) =>
  new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_STS_RESPONSE_BYTES) return req.destroy(new Error('STS response too large'));
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('STS did not answer in time'), { name: 'TimeoutError' })));
    req.on('error', reject);
    req.end(body);
  });
