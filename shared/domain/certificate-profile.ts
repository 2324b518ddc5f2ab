import { BlockList, isIP } from 'node:net';
import * as z from 'zod/mini';
import './schema-locale';
import type { CertificateSigningRequest } from './certificate-request';
import { ValidationError } from './errors';
import { matchGlob, type Glob } from './glob';
import { checkValues, globOfTokens, InvalidClaimError, partsOf, placeholdersIn, renderTokens, textOf, type Attributes, type RenderedToken } from './template';

/**
 * Certificate profiles: what a grant rule lets a caller have signed. A profile names a CA, a PCA
 * template, the key types it signs, a maximum validity, and patterns for the names a certificate
 * may carry, with `${attribute}` substitution from the caller's identity:
 *
 *   certificates:
 *     profiles:
 *       - name: mesh
 *         caArn: arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/1234...
 *         maxValiditySeconds: 86400
 *         san:
 *           dns: ["${serviceaccount}.${namespace}.svc", "*.${namespace}.svc.cluster.local"]
 *         addNames:
 *           uri: ["spiffe://example.org/ns/${namespace}/sa/${serviceaccount}"]
 *
 * In a pattern, `*` matches within one DNS label or one URI path segment and `?` one character;
 * substituted values are literal, so a claim can never widen a pattern. IP patterns are an
 * address or a CIDR block.
 *
 * What a substituted value may be (else `invalid_claim`, naming it), in patterns and added names:
 * - in a DNS name or CN: part of one label, `[A-Za-z0-9_-]` only (no dot, so it cannot add a
 *   label; no `*`, so it cannot become a wildcard), compared lower-case; the rendered label and
 *   name must pass the checks a CSR's DNS names pass;
 * - in a URI: part of one path segment (or of the host), RFC 3986 unreserved characters
 *   `[A-Za-z0-9._~-]`, not `.` or `..` (no `/`, no `%`, so no separators, encoded or not), and a
 *   rendered URI with no wildcard must equal its normalised form;
 * - in an IP address or block: hex digits, `.` and `:` only (never the `/prefix`), and the result
 *   must be an address (added names) or an address or block (patterns).
 */

/** Key types the broker signs; the names are PCA's KeyAlgorithm spellings. */
export const KEY_TYPES = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_prime256v1', 'EC_secp384r1'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** The names a CSR (or a certificate) carries: the subject CN and the SANs, by kind. */
export interface CertificateNames {
  readonly commonName?: string;
  readonly dns: readonly string[];
  readonly uris: readonly string[];
  readonly ips: readonly string[];
}

/** Names as a flat list for lease records and messages, e.g. `["dns:web.svc", "uri:spiffe://..."]`. */
export function flattenNames(names: CertificateNames): string[] {
  return [
    ...(names.commonName === undefined ? [] : [`cn:${names.commonName}`]),
    ...names.dns.map((n) => `dns:${n}`),
    ...names.uris.map((n) => `uri:${n}`),
    ...names.ips.map((n) => `ip:${n}`),
  ];
}

/** Longest validity a profile may allow: 397 days, the public-TLS ceiling, is plenty for mTLS. */
export const MAX_PROFILE_VALIDITY_SECONDS = 397 * 24 * 3600;
/** Below this the CA's remaining life is too short to be worth a certificate. */
export const MIN_CERTIFICATE_VALIDITY_SECONDS = 300;
/** PCA refuses a certificate that outlives its CA; keep a margin for clock skew. */
export const CA_EXPIRY_MARGIN_SECONDS = 60;

export const DEFAULT_TEMPLATE = 'EndEntityClientAuthCertificate_APIPassthrough/V1';

const CA_ARN = /^arn:aws[\w-]*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority\/[0-9a-f-]{36}$/;
// Only APIPassthrough templates let the broker, not the CSR, decide the names in the certificate;
// and only end-entity ones: a CA template (RootCACertificate_..., SubordinateCACertificate_...)
// would make a workload's key a CA, an OCSP or code-signing one would let it sign for the CA.
const PASSTHROUGH_TEMPLATE = /^(arn:aws[\w-]*:acm-pca:::template\/)?(EndEntity(ClientAuth|ServerAuth)?Certificate|BlankEndEntityCertificate(_CriticalBasicConstraints)?)_APIPassthrough\/V\d+$/;
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const patternText = () => z.string().check(z.minLength(1), z.maxLength(1024));
const patternList = z._default(z.array(patternText()), []);

export const certificateProfileSchema = z
  .strictObject({
    name: z.string().check(z.regex(PROFILE_NAME, 'a profile name is 1-64 letters, digits, _ . or -')),
    description: z.optional(z.string()),
    caArn: z.string().check(z.regex(CA_ARN, 'a CA ARN looks like arn:aws:acm-pca:REGION:ACCOUNT:certificate-authority/UUID')),
    template: z._default(
      z.string().check(z.regex(PASSTHROUGH_TEMPLATE, 'the template must be an end-entity APIPassthrough template (EndEntityClientAuthCertificate_APIPassthrough/V1, EndEntityServerAuthCertificate_..., EndEntityCertificate_..., BlankEndEntityCertificate_...) so the broker decides the names and no workload key becomes a CA or a signer for it')),
      DEFAULT_TEMPLATE,
    ),
    keyTypes: z._default(z.array(z.enum(KEY_TYPES)).check(z.minLength(1)), [...KEY_TYPES]),
    maxValiditySeconds: z._default(z.number().check(z.int(), z.minimum(MIN_CERTIFICATE_VALIDITY_SECONDS), z.maximum(MAX_PROFILE_VALIDITY_SECONDS)), 24 * 3600),
    /** Patterns for the CN; without them a CN must be allowed as a DNS name. */
    commonName: z.optional(z.array(patternText())),
    san: z._default(z.strictObject({ dns: patternList, uri: patternList, ip: patternList }), { dns: [], uri: [], ip: [] }),
    /** Names derived from identity that every certificate of this profile carries, asked for or not. */
    addNames: z._default(z.strictObject({ commonName: z.optional(patternText()), dns: patternList, uri: patternList, ip: patternList }), { dns: [], uri: [], ip: [] }),
    allowWildcards: z._default(z.boolean(), false),
    /** Whether the renewal job renews this profile's leases unless the request says otherwise. */
    autoRenew: z._default(z.boolean(), false),
  })
  .check(
    z.superRefine((profile, ctx) => {
      for (const [kind, templates] of [['dns', profile.addNames.dns], ['uri', profile.addNames.uri], ['ip', profile.addNames.ip]] as const) {
        templates.forEach((template, i) => {
          if (/[*?]/.test(template)) ctx.addIssue({ code: 'custom', path: ['addNames', kind, i], message: 'added names are exact names: no * or ?' });
        });
      }
      profile.san.ip.forEach((pattern, i) => {
        if (placeholdersIn(pattern).length === 0 && !parseIpPattern(pattern)) {
          ctx.addIssue({ code: 'custom', path: ['san', 'ip', i], message: 'an IP pattern is an address or a CIDR block such as 10.0.0.0/8' });
        }
      });
    }),
  );

export type CertificateProfile = z.infer<typeof certificateProfileSchema>;

/** Resolves a template short name to its ARN in the CA's partition. */
export function templateArnFor(template: string, caArn: string): string {
  if (template.startsWith('arn:')) return template;
  const partition = caArn.split(':')[1] ?? 'aws';
  return `arn:${partition}:acm-pca:::template/${template}`;
}

// ---------------------------------------------------------------------------------------------
// Name patterns

type NameKind = 'dns' | 'uri';

const DNS_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
const MAX_COMMON_NAME = 64;

const DNS_VALUE = /^[A-Za-z0-9_-]+$/;
const DNS_VALUE_RULE = 'in a DNS name a value must be part of one label: letters, digits, - and _ only (no dots, no *)';
const URI_VALUE = /^[A-Za-z0-9._~-]+$/;
const URI_VALUE_RULE = 'in a URI a value must be part of one path segment: letters, digits and . _ ~ - only (no /, no %)';
const IP_VALUE = /^[0-9A-Fa-f.:]+$/;
const IP_VALUE_RULE = 'in an IP address a value may only use hex digits, . and : (never a /prefix)';

/** Renders a DNS name template: one label per value, every label that holds a value valid. */
function renderDnsTokens(template: string, attributes: Attributes, wildcards: boolean): RenderedToken[] {
  const tokens = renderTokens(template, attributes, wildcards);
  checkValues(tokens, DNS_VALUE, DNS_VALUE_RULE);
  for (const label of partsOf(tokens, '.')) {
    if (label.claim !== undefined && !label.wildcard && !DNS_LABEL.test(label.text.toLowerCase())) {
      throw new InvalidClaimError(label.claim, `the rendered DNS label would not be valid (1-63 of a-z 0-9 - _, not starting or ending with -)`);
    }
  }
  return tokens;
}

/** Renders a URI template: values are parts of one segment; a wildcard-free result must be normalised already. */
function renderUriTokens(template: string, attributes: Attributes, wildcards: boolean): RenderedToken[] {
  const tokens = renderTokens(template, attributes, wildcards);
  checkValues(tokens, URI_VALUE, URI_VALUE_RULE);
  const first = tokens.find((t) => t.kind === 'value');
  if (first?.kind === 'value' && !tokens.some((t) => t.kind === 'any' || t.kind === 'one')) {
    const text = textOf(tokens);
    if (!isNormalUri(text)) throw new InvalidClaimError(first.claim, 'the rendered URI would not be in normal form (dot segments or encoding)');
  }
  return tokens;
}

/**
 * A URI that reads the same to every consumer: what `new URL()` makes of it is itself (no dot
 * segments, `%2e%2e` included), and no encoded separator (`%2F`, `%5C`) or backslash that a
 * verifier might decode into another path. A `*` of a pattern could otherwise match `..`.
 */
function isNormalUri(uri: string): boolean {
  return URL.canParse(uri) && new URL(uri).href === uri && !/%2f|%5c|\\/i.test(uri);
}

/** Compiles a pattern for one caller; throws MissingAttributeError or InvalidClaimError. */
export function compileNamePattern(template: string, attributes: Attributes, kind: NameKind): Glob {
  if (kind === 'dns') return globOfTokens(renderDnsTokens(template, attributes, true), { caseInsensitive: true, separator: '.' });
  return globOfTokens(renderUriTokens(template, attributes, true), { separator: '/' });
}

/** An added DNS name for one caller: lower-case, passing the checks a CSR's DNS name passes. */
function renderDnsName(template: string, attributes: Attributes): string {
  const tokens = renderDnsTokens(template, attributes, false);
  const name = textOf(tokens).toLowerCase();
  const first = tokens.find((t) => t.kind === 'value');
  if (first?.kind === 'value' && !isValidDnsName(name)) throw new InvalidClaimError(first.claim, 'the rendered DNS name would not be valid');
  return name;
}

function renderCommonName(template: string, attributes: Attributes): string {
  const tokens = renderDnsTokens(template, attributes, false);
  const name = textOf(tokens);
  const first = tokens.find((t) => t.kind === 'value');
  if (first?.kind === 'value' && name.length > MAX_COMMON_NAME) throw new InvalidClaimError(first.claim, `the rendered CN would be longer than ${MAX_COMMON_NAME} characters`);
  return name;
}

function renderIpTokens(template: string, attributes: Attributes): { text: string; claim?: string } {
  const tokens = renderTokens(template, attributes);
  checkValues(tokens, IP_VALUE, IP_VALUE_RULE, false);
  const first = tokens.find((t) => t.kind === 'value');
  return { text: textOf(tokens), ...(first?.kind === 'value' ? { claim: first.claim } : {}) };
}

function renderIpAddress(template: string, attributes: Attributes): string {
  const { text, claim } = renderIpTokens(template, attributes);
  if (claim !== undefined && isIP(text) === 0) throw new InvalidClaimError(claim, 'the rendered IP address would not be one');
  return text;
}

interface IpPattern {
  readonly list: BlockList;
}

function parseIpPattern(pattern: string): IpPattern | undefined {
  const [address, prefix, extra] = pattern.split('/');
  if (extra !== undefined || !address) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const type = version === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  if (prefix === undefined) {
    list.addAddress(address, type);
  } else {
    const bits = Number(prefix);
    if (!/^\d{1,3}$/.test(prefix) || bits > (version === 4 ? 32 : 128)) return undefined;
    list.addSubnet(address, bits, type);
  }
  return { list };
}

/** An IP pattern rendered for one caller; undefined when the template's own text is not an IP pattern. */
export function compileIpPattern(template: string, attributes: Attributes): IpPattern | undefined {
  const { text, claim } = renderIpTokens(template, attributes);
  const pattern = parseIpPattern(text);
  if (pattern === undefined && claim !== undefined) throw new InvalidClaimError(claim, 'the rendered IP pattern would not be an address or a CIDR block');
  return pattern;
}

function ipMatches(pattern: IpPattern, ip: string): boolean {
  const version = isIP(ip);
  return version !== 0 && pattern.list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
}

/** A profile rendered for one caller: patterns compiled, added names substituted. */
export interface CompiledProfile {
  readonly name: string;
  readonly caArn: string;
  readonly templateArn: string;
  readonly keyTypes: readonly KeyType[];
  readonly maxValiditySeconds: number;
  readonly allowWildcards: boolean;
  readonly autoRenew: boolean;
  readonly commonName?: readonly Glob[];
  readonly dns: readonly Glob[];
  readonly uris: readonly Glob[];
  readonly ips: readonly IpPattern[];
  readonly addNames: CertificateNames;
}

/**
 * Renders a profile for a caller; throws MissingAttributeError when an attribute is absent and
 * InvalidClaimError when a value cannot stand where a pattern or added name puts it.
 */
export function compileProfile(profile: CertificateProfile, attributes: Attributes): CompiledProfile {
  const ips = profile.san.ip.map((p) => compileIpPattern(p, attributes)).filter((p): p is IpPattern => p !== undefined);
  const addCommonName = profile.addNames.commonName === undefined ? undefined : renderCommonName(profile.addNames.commonName, attributes);
  return {
    name: profile.name,
    caArn: profile.caArn,
    templateArn: templateArnFor(profile.template, profile.caArn),
    keyTypes: profile.keyTypes,
    maxValiditySeconds: profile.maxValiditySeconds,
    allowWildcards: profile.allowWildcards,
    autoRenew: profile.autoRenew,
    ...(profile.commonName ? { commonName: profile.commonName.map((p) => compileNamePattern(p, attributes, 'dns')) } : {}),
    dns: profile.san.dns.map((p) => compileNamePattern(p, attributes, 'dns')),
    uris: profile.san.uri.map((p) => compileNamePattern(p, attributes, 'uri')),
    ips,
    addNames: {
      ...(addCommonName === undefined ? {} : { commonName: addCommonName }),
      dns: profile.addNames.dns.map((t) => renderDnsName(t, attributes)),
      uris: profile.addNames.uri.map((t) => renderUriTokens(t, attributes, false)).map(textOf),
      ips: profile.addNames.ip.map((t) => renderIpAddress(t, attributes)),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Deciding the names of a certificate

function isWildcard(name: string): boolean {
  return name.includes('*');
}

/**
 * Is a (lower-case) DNS name valid? At most 253 characters of valid labels; a wildcard may only be
 * the whole leftmost label, before two or more labels. (DNS_LABEL has no `*`, so a `*` anywhere
 * else fails its label.)
 */
function isValidDnsName(name: string): boolean {
  const labels = name.split('.');
  const [first, ...rest] = labels;
  const checked = first === '*' && rest.length >= 2 ? rest : labels;
  return name.length <= 253 && checked.every((l) => DNS_LABEL.test(l));
}

function checkDnsSyntax(name: string): void {
  if (!isValidDnsName(name)) {
    throw new ValidationError('csr_invalid_name', `"${name}" is not a valid DNS name (a wildcard may only be the whole leftmost label, as in *.example.internal).`, {
      details: { field: 'csr', name },
    });
  }
}

function notAllowed(kind: string, name: string, profile: string): ValidationError {
  return new ValidationError('csr_name_not_allowed', `The csr asks for ${kind} "${name}", which profile "${profile}" does not allow for you.`, {
    details: { field: 'csr', name, profile },
  });
}

/** The names a certificate will carry and the subject CN, decided by the broker. */
export interface IssuanceNames extends CertificateNames {
  /** Subject CN: the one asked for, else the profile's, else the first DNS name that fits. */
  readonly commonName?: string;
}

/**
 * Checks a CSR against a compiled profile and decides the certificate's names: every requested
 * name (CN and SANs) must be allowed, then the profile's added names are appended.
 * Errors: `key_type_not_allowed`, `csr_wildcard_not_allowed`, `csr_invalid_name`,
 * `csr_name_not_allowed`, `csr_no_names`.
 */
export function decideNames(profile: CompiledProfile, csr: CertificateSigningRequest): IssuanceNames {
  if (!profile.keyTypes.includes(csr.keyType)) {
    throw new ValidationError('key_type_not_allowed', `Profile "${profile.name}" signs ${profile.keyTypes.join(', ')} keys; the csr's key is ${csr.keyType}.`, {
      details: { field: 'csr', profile: profile.name, keyType: csr.keyType },
    });
  }
  const requested = csr.names;
  const requestedDns = requested.dns.map((n) => n.toLowerCase());
  const wildcardNames = [...requestedDns, requested.commonName].filter((n) => n !== undefined && isWildcard(n));
  // A URI wildcard is never signed; a DNS or CN one only where the profile allows wildcards.
  const name = (profile.allowWildcards ? undefined : wildcardNames[0]) ?? requested.uris.find(isWildcard);
  if (name !== undefined) {
    throw new ValidationError('csr_wildcard_not_allowed', `The csr asks for the wildcard name "${name}"; profile "${profile.name}" does not issue wildcard names.`, {
      details: { field: 'csr', name, profile: profile.name },
    });
  }
  for (const name of requestedDns) {
    checkDnsSyntax(name);
    if (!profile.dns.some((p) => matchGlob(p, name)) && !profile.addNames.dns.includes(name)) throw notAllowed('the DNS name', name, profile.name);
  }
  for (const uri of requested.uris) {
    if (!isNormalUri(uri)) {
      throw new ValidationError('csr_invalid_name', `"${uri}" is not a valid URI in normal form (no dot segments, no encoded / or \\).`, { details: { field: 'csr', name: uri } });
    }
    if (!profile.uris.some((p) => matchGlob(p, uri)) && !profile.addNames.uris.includes(uri)) throw notAllowed('the URI', uri, profile.name);
  }
  for (const ip of requested.ips) {
    if (!profile.ips.some((p) => ipMatches(p, ip)) && !profile.addNames.ips.includes(ip)) throw notAllowed('the IP address', ip, profile.name);
  }
  const cn = requested.commonName;
  if (cn !== undefined) {
    const lower = cn.toLowerCase();
    const byPattern = profile.commonName ? profile.commonName.some((p) => matchGlob(p, lower)) : profile.dns.some((p) => matchGlob(p, lower));
    const byAdded = cn === profile.addNames.commonName || profile.addNames.dns.includes(lower);
    if (!byPattern && !byAdded) throw notAllowed('the subject CN', cn, profile.name);
    if (cn.length > MAX_COMMON_NAME) throw new ValidationError('csr_invalid_name', `The subject CN is ${cn.length} characters; at most ${MAX_COMMON_NAME}.`, { details: { field: 'csr' } });
  }

  const dns = unique([...requestedDns, ...profile.addNames.dns]);
  const uris = unique([...requested.uris, ...profile.addNames.uris]);
  const ips = unique([...requested.ips, ...profile.addNames.ips]);
  const commonName = cn ?? profile.addNames.commonName ?? dns.find((n) => n.length <= MAX_COMMON_NAME);
  if (commonName === undefined && dns.length + uris.length + ips.length === 0) {
    throw new ValidationError('csr_no_names', `The csr names nothing and profile "${profile.name}" adds no names: put the names you need in the CSR's subjectAltName.`, {
      details: { field: 'csr' },
    });
  }
  return { ...(commonName === undefined ? {} : { commonName }), dns, uris, ips };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

// ---------------------------------------------------------------------------------------------
// Validity

export interface ValidityInput {
  /** What the caller asked for; undefined means the profile's maximum. */
  readonly requestedSeconds?: number;
  readonly maxSeconds: number;
  readonly now: Date;
  /** When the CA's own certificate expires. */
  readonly caNotAfter?: Date;
}

export interface CertificateValidity {
  readonly notAfter: Date;
  readonly seconds: number;
  /** Which limit decided: the request, the profile's maximum, or the CA's remaining life. */
  readonly limitedBy: 'request' | 'profile' | 'ca';
}

/** Rejects a requested validity over the profile's maximum (checked before anything is written). */
export function assertValidityAllowed(requestedSeconds: number | undefined, profile: Pick<CompiledProfile, 'name' | 'maxValiditySeconds'>): void {
  if (requestedSeconds === undefined) return;
  if (!Number.isInteger(requestedSeconds) || requestedSeconds <= 0) {
    throw new ValidationError('invalid_field', 'validitySeconds must be a positive whole number of seconds.', { details: { field: 'validitySeconds' } });
  }
  if (requestedSeconds < MIN_CERTIFICATE_VALIDITY_SECONDS) {
    // Not the CA's fault (certificateValidity would say "CA expiring", a 503): the caller's ask.
    throw new ValidationError('validity_too_short', `validitySeconds ${requestedSeconds} is below the ${MIN_CERTIFICATE_VALIDITY_SECONDS} s minimum.`, {
      details: { field: 'validitySeconds', minValiditySeconds: MIN_CERTIFICATE_VALIDITY_SECONDS },
    });
  }
  if (requestedSeconds > profile.maxValiditySeconds) {
    // Capping silently would surprise a caller who planned rotation around what it asked for.
    throw new ValidationError('validity_exceeds_profile', `validitySeconds ${requestedSeconds} exceeds the ${profile.maxValiditySeconds} s profile "${profile.name}" allows.`, {
      details: { field: 'validitySeconds', maxValiditySeconds: profile.maxValiditySeconds },
    });
  }
}

/**
 * The least of what was asked, the profile's maximum and the CA's remaining life (less a margin).
 * Returns undefined when the CA has too little life left to issue anything useful.
 */
export function certificateValidity(input: ValidityInput): CertificateValidity | undefined {
  const requested = input.requestedSeconds ?? Infinity;
  const caLeft = input.caNotAfter === undefined ? Infinity : Math.floor((input.caNotAfter.getTime() - input.now.getTime()) / 1000) - CA_EXPIRY_MARGIN_SECONDS;
  const seconds = Math.min(input.maxSeconds, requested, caLeft);
  if (seconds < MIN_CERTIFICATE_VALIDITY_SECONDS) return undefined;
  // On a tie the profile decides, then the request.
  const limitedBy = seconds === input.maxSeconds ? 'profile' : seconds === requested ? 'request' : 'ca';
  return { seconds, limitedBy, notAfter: new Date(input.now.getTime() + seconds * 1000) };
}

export const REVOCATION_REASONS = [
  'UNSPECIFIED',
  'KEY_COMPROMISE',
  'CERTIFICATE_AUTHORITY_COMPROMISE',
  'AFFILIATION_CHANGED',
  'SUPERSEDED',
  'CESSATION_OF_OPERATION',
  'PRIVILEGE_WITHDRAWN',
  'A_A_COMPROMISE',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];
