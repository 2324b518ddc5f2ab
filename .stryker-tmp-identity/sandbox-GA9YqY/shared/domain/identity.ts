// @ts-nocheck
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
import { createHash } from 'node:crypto';
import { UnauthenticatedError, ValidationError } from './errors';

/**
 * Who is calling, as the broker established it. Never built from anything the caller asserts:
 * only from API Gateway's authorizer context, a verified JWT or a verified STS proof.
 */
export type Identity = IamIdentity | OidcIdentity;
export interface IamIdentity {
  readonly kind: 'iam';
  /** Normalised principal ARN: `arn:aws:iam::ACCOUNT:role/NAME` or `arn:aws:iam::ACCOUNT:user/PATH/NAME`. */
  readonly principalArn: string;
  readonly accountId: string;
  readonly principalType: 'role' | 'user';
  readonly name: string;
  /** The assumed-role session name, when the caller is a role session. */
  readonly sessionName?: string;
  /** Stable caller id recorded on leases: the normalised principal ARN. */
  readonly caller: string;
  /** Values available to `${...}` substitution in grant templates. */
  readonly attributes: Readonly<Record<string, string>>;
}
export interface OidcIdentity {
  readonly kind: 'oidc';
  /** The configured issuer id (the grant policy's name for the issuer). */
  readonly issuerId: string;
  readonly issuer: string;
  readonly subject: string;
  /** Stable caller id recorded on leases: `ISSUER_ID:SUBJECT`. */
  readonly caller: string;
  /** Verified claims (string-valued ones, plus preset-derived ones such as `namespace`). */
  readonly attributes: Readonly<Record<string, string>>;
}
const ACCOUNT = stryMutAct_9fa48("0") ? "" : (stryCov_9fa48("0"), '(\\d{12})');
const PARTITION = stryMutAct_9fa48("1") ? "" : (stryCov_9fa48("1"), '(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc)');
const ASSUMED_ROLE = new RegExp(stryMutAct_9fa48("2") ? `` : (stryCov_9fa48("2"), `^arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/([\\w+=,.@-]{1,64})/([\\w+=,.@-]{2,64})$`));
const IAM_ROLE = new RegExp(stryMutAct_9fa48("3") ? `` : (stryCov_9fa48("3"), `^arn:${PARTITION}:iam::${ACCOUNT}:role/((?:[\\x21-\\x7e]*/)?)([\\w+=,.@-]{1,64})$`));
const IAM_USER = new RegExp(stryMutAct_9fa48("4") ? `` : (stryCov_9fa48("4"), `^arn:${PARTITION}:iam::${ACCOUNT}:user/((?:[\\x21-\\x7e]*/)?)([\\w+=,.@-]{1,64})$`));

/**
 * Turns a principal ARN reported by AWS (API Gateway's IAM authorizer, STS GetCallerIdentity)
 * into an identity. A role session is normalised to its role (STS ARNs carry no role path);
 * IAM users are kept with their path. Root, federated users and anything else are rejected.
 */
export function iamIdentityFromArn(arn: string): IamIdentity {
  if (stryMutAct_9fa48("5")) {
    {}
  } else {
    stryCov_9fa48("5");
    const assumed = ASSUMED_ROLE.exec(arn);
    if (stryMutAct_9fa48("7") ? false : stryMutAct_9fa48("6") ? true : (stryCov_9fa48("6", "7"), assumed)) {
      if (stryMutAct_9fa48("8")) {
        {}
      } else {
        stryCov_9fa48("8");
        const [, partition, accountId, roleName, sessionName] = assumed as unknown as [string, string, string, string, string];
        const principalArn = stryMutAct_9fa48("9") ? `` : (stryCov_9fa48("9"), `arn:${partition}:iam::${accountId}:role/${roleName}`);
        return stryMutAct_9fa48("10") ? {} : (stryCov_9fa48("10"), {
          kind: stryMutAct_9fa48("11") ? "" : (stryCov_9fa48("11"), 'iam'),
          principalArn,
          accountId,
          principalType: stryMutAct_9fa48("12") ? "" : (stryCov_9fa48("12"), 'role'),
          name: roleName,
          sessionName,
          caller: principalArn,
          attributes: stryMutAct_9fa48("13") ? {} : (stryCov_9fa48("13"), {
            arn: principalArn,
            accountId,
            roleName,
            sessionName,
            principalType: stryMutAct_9fa48("14") ? "" : (stryCov_9fa48("14"), 'role')
          })
        });
      }
    }
    const role = IAM_ROLE.exec(arn);
    if (stryMutAct_9fa48("16") ? false : stryMutAct_9fa48("15") ? true : (stryCov_9fa48("15", "16"), role)) {
      if (stryMutAct_9fa48("17")) {
        {}
      } else {
        stryCov_9fa48("17");
        const [,, accountId,, roleName] = role as unknown as [string, string, string, string, string];
        return stryMutAct_9fa48("18") ? {} : (stryCov_9fa48("18"), {
          kind: stryMutAct_9fa48("19") ? "" : (stryCov_9fa48("19"), 'iam'),
          principalArn: arn,
          accountId,
          principalType: stryMutAct_9fa48("20") ? "" : (stryCov_9fa48("20"), 'role'),
          name: roleName,
          caller: arn,
          attributes: stryMutAct_9fa48("21") ? {} : (stryCov_9fa48("21"), {
            arn,
            accountId,
            roleName,
            principalType: stryMutAct_9fa48("22") ? "" : (stryCov_9fa48("22"), 'role')
          })
        });
      }
    }
    const user = IAM_USER.exec(arn);
    if (stryMutAct_9fa48("24") ? false : stryMutAct_9fa48("23") ? true : (stryCov_9fa48("23", "24"), user)) {
      if (stryMutAct_9fa48("25")) {
        {}
      } else {
        stryCov_9fa48("25");
        const [,, accountId,, userName] = user as unknown as [string, string, string, string, string];
        return stryMutAct_9fa48("26") ? {} : (stryCov_9fa48("26"), {
          kind: stryMutAct_9fa48("27") ? "" : (stryCov_9fa48("27"), 'iam'),
          principalArn: arn,
          accountId,
          principalType: stryMutAct_9fa48("28") ? "" : (stryCov_9fa48("28"), 'user'),
          name: userName,
          caller: arn,
          attributes: stryMutAct_9fa48("29") ? {} : (stryCov_9fa48("29"), {
            arn,
            accountId,
            userName,
            principalType: stryMutAct_9fa48("30") ? "" : (stryCov_9fa48("30"), 'user')
          })
        });
      }
    }
    throw new UnauthenticatedError(stryMutAct_9fa48("31") ? "" : (stryCov_9fa48("31"), 'unsupported_principal'), stryMutAct_9fa48("32") ? "" : (stryCov_9fa48("32"), 'The caller must be an IAM role session or an IAM user; root, federated users and other principals are not accepted.'));
  }
}

// ---------------------------------------------------------------------------------------------
// Role ARNs

/** IAM's limits: a role name is 1-64 characters of `[\w+=,.@-]`, a path at most 512 characters. */
export const ROLE_LIMITS = {
  maxNameLength: 64,
  maxPathLength: 512
} as const;
export const ROLE_NAME_CHARS = stryMutAct_9fa48("37") ? /^[\W+=,.@-]+$/ : stryMutAct_9fa48("36") ? /^[^\w+=,.@-]+$/ : stryMutAct_9fa48("35") ? /^[\w+=,.@-]$/ : stryMutAct_9fa48("34") ? /^[\w+=,.@-]+/ : stryMutAct_9fa48("33") ? /[\w+=,.@-]+$/ : (stryCov_9fa48("33", "34", "35", "36", "37"), /^[\w+=,.@-]+$/);
export interface RoleArn {
  readonly partition: string;
  readonly accountId: string;
  /** `/` or `/a/b/`. */
  readonly path: string;
  readonly name: string;
}
const ROLE_ARN_SHAPE = stryMutAct_9fa48("45") ? /^arn:([a-z][a-z0-9-]*):iam::(\d{12}):role(\/.)$/ : stryMutAct_9fa48("44") ? /^arn:([a-z][a-z0-9-]*):iam::(\D{12}):role(\/.*)$/ : stryMutAct_9fa48("43") ? /^arn:([a-z][a-z0-9-]*):iam::(\d):role(\/.*)$/ : stryMutAct_9fa48("42") ? /^arn:([a-z][^a-z0-9-]*):iam::(\d{12}):role(\/.*)$/ : stryMutAct_9fa48("41") ? /^arn:([a-z][a-z0-9-]):iam::(\d{12}):role(\/.*)$/ : stryMutAct_9fa48("40") ? /^arn:([^a-z][a-z0-9-]*):iam::(\d{12}):role(\/.*)$/ : stryMutAct_9fa48("39") ? /^arn:([a-z][a-z0-9-]*):iam::(\d{12}):role(\/.*)/ : stryMutAct_9fa48("38") ? /arn:([a-z][a-z0-9-]*):iam::(\d{12}):role(\/.*)$/ : (stryCov_9fa48("38", "39", "40", "41", "42", "43", "44", "45"), /^arn:([a-z][a-z0-9-]*):iam::(\d{12}):role(\/.*)$/);

/**
 * Checks a requested role ARN against IAM's grammar and limits before any grant work: a role
 * name of 1-64 characters, a path of at most 512 (`/` alone or `/segments/`, printable ASCII,
 * no empty or dot segments). Errors: `invalid_role_arn`, `role_name_too_long`, `role_path_too_long`.
 */
export function parseRoleArn(arn: string): RoleArn {
  if (stryMutAct_9fa48("46")) {
    {}
  } else {
    stryCov_9fa48("46");
    const problem = stryMutAct_9fa48("47") ? () => undefined : (stryCov_9fa48("47"), (() => {
      const problem = (code: string, message: string) => new ValidationError(code, stryMutAct_9fa48("48") ? `` : (stryCov_9fa48("48"), `${message} A role ARN looks like arn:aws:iam::123456789012:role/NAME or arn:aws:iam::123456789012:role/PATH/NAME.`), stryMutAct_9fa48("49") ? {} : (stryCov_9fa48("49"), {
        details: stryMutAct_9fa48("50") ? {} : (stryCov_9fa48("50"), {
          field: stryMutAct_9fa48("51") ? "" : (stryCov_9fa48("51"), 'role')
        })
      }));
      return problem;
    })());
    const shape = ROLE_ARN_SHAPE.exec(arn);
    if (stryMutAct_9fa48("54") ? false : stryMutAct_9fa48("53") ? true : stryMutAct_9fa48("52") ? shape : (stryCov_9fa48("52", "53", "54"), !shape)) throw problem(stryMutAct_9fa48("55") ? "" : (stryCov_9fa48("55"), 'invalid_role_arn'), stryMutAct_9fa48("56") ? "" : (stryCov_9fa48("56"), 'The role is not an IAM role ARN.'));
    const [, partition, accountId, resource] = shape as unknown as [string, string, string, string];
    const cut = resource.lastIndexOf(stryMutAct_9fa48("57") ? "" : (stryCov_9fa48("57"), '/'));
    const path = stryMutAct_9fa48("58") ? resource : (stryCov_9fa48("58"), resource.slice(0, stryMutAct_9fa48("59") ? cut - 1 : (stryCov_9fa48("59"), cut + 1)));
    const name = stryMutAct_9fa48("60") ? resource : (stryCov_9fa48("60"), resource.slice(stryMutAct_9fa48("61") ? cut - 1 : (stryCov_9fa48("61"), cut + 1)));
    if (stryMutAct_9fa48("65") ? name.length <= ROLE_LIMITS.maxNameLength : stryMutAct_9fa48("64") ? name.length >= ROLE_LIMITS.maxNameLength : stryMutAct_9fa48("63") ? false : stryMutAct_9fa48("62") ? true : (stryCov_9fa48("62", "63", "64", "65"), name.length > ROLE_LIMITS.maxNameLength)) throw problem(stryMutAct_9fa48("66") ? "" : (stryCov_9fa48("66"), 'role_name_too_long'), stryMutAct_9fa48("67") ? `` : (stryCov_9fa48("67"), `The role name is ${name.length} characters; IAM allows at most ${ROLE_LIMITS.maxNameLength}.`));
    if (stryMutAct_9fa48("71") ? path.length <= ROLE_LIMITS.maxPathLength : stryMutAct_9fa48("70") ? path.length >= ROLE_LIMITS.maxPathLength : stryMutAct_9fa48("69") ? false : stryMutAct_9fa48("68") ? true : (stryCov_9fa48("68", "69", "70", "71"), path.length > ROLE_LIMITS.maxPathLength)) throw problem(stryMutAct_9fa48("72") ? "" : (stryCov_9fa48("72"), 'role_path_too_long'), stryMutAct_9fa48("73") ? `` : (stryCov_9fa48("73"), `The role path is ${path.length} characters; IAM allows at most ${ROLE_LIMITS.maxPathLength}.`));
    const segments = stryMutAct_9fa48("74") ? path.split('/') : (stryCov_9fa48("74"), path.split(stryMutAct_9fa48("75") ? "" : (stryCov_9fa48("75"), '/')).slice(1, stryMutAct_9fa48("76") ? +1 : (stryCov_9fa48("76"), -1)));
    if (stryMutAct_9fa48("79") ? (!ROLE_NAME_CHARS.test(name) || !/^[\x21-\x7e]*$/.test(path)) && segments.some(s => s === '' || s === '.' || s === '..') : stryMutAct_9fa48("78") ? false : stryMutAct_9fa48("77") ? true : (stryCov_9fa48("77", "78", "79"), (stryMutAct_9fa48("81") ? !ROLE_NAME_CHARS.test(name) && !/^[\x21-\x7e]*$/.test(path) : stryMutAct_9fa48("80") ? false : (stryCov_9fa48("80", "81"), (stryMutAct_9fa48("82") ? ROLE_NAME_CHARS.test(name) : (stryCov_9fa48("82"), !ROLE_NAME_CHARS.test(name))) || (stryMutAct_9fa48("83") ? /^[\x21-\x7e]*$/.test(path) : (stryCov_9fa48("83"), !(stryMutAct_9fa48("87") ? /^[^\x21-\x7e]*$/ : stryMutAct_9fa48("86") ? /^[\x21-\x7e]$/ : stryMutAct_9fa48("85") ? /^[\x21-\x7e]*/ : stryMutAct_9fa48("84") ? /[\x21-\x7e]*$/ : (stryCov_9fa48("84", "85", "86", "87"), /^[\x21-\x7e]*$/)).test(path))))) || (stryMutAct_9fa48("88") ? segments.every(s => s === '' || s === '.' || s === '..') : (stryCov_9fa48("88"), segments.some(stryMutAct_9fa48("89") ? () => undefined : (stryCov_9fa48("89"), s => stryMutAct_9fa48("92") ? (s === '' || s === '.') && s === '..' : stryMutAct_9fa48("91") ? false : stryMutAct_9fa48("90") ? true : (stryCov_9fa48("90", "91", "92"), (stryMutAct_9fa48("94") ? s === '' && s === '.' : stryMutAct_9fa48("93") ? false : (stryCov_9fa48("93", "94"), (stryMutAct_9fa48("96") ? s !== '' : stryMutAct_9fa48("95") ? false : (stryCov_9fa48("95", "96"), s === (stryMutAct_9fa48("97") ? "Stryker was here!" : (stryCov_9fa48("97"), '')))) || (stryMutAct_9fa48("99") ? s !== '.' : stryMutAct_9fa48("98") ? false : (stryCov_9fa48("98", "99"), s === (stryMutAct_9fa48("100") ? "" : (stryCov_9fa48("100"), '.')))))) || (stryMutAct_9fa48("102") ? s !== '..' : stryMutAct_9fa48("101") ? false : (stryCov_9fa48("101", "102"), s === (stryMutAct_9fa48("103") ? "" : (stryCov_9fa48("103"), '..'))))))))))) {
      if (stryMutAct_9fa48("104")) {
        {}
      } else {
        stryCov_9fa48("104");
        throw problem(stryMutAct_9fa48("105") ? "" : (stryCov_9fa48("105"), 'invalid_role_arn'), stryMutAct_9fa48("106") ? "" : (stryCov_9fa48("106"), 'The role name or path has characters IAM does not allow, or an empty or dot path segment.'));
      }
    }
    return stryMutAct_9fa48("107") ? {} : (stryCov_9fa48("107"), {
      partition,
      accountId,
      path,
      name
    });
  }
}

// ---------------------------------------------------------------------------------------------
// SourceIdentity

const SOURCE_IDENTITY = stryMutAct_9fa48("112") ? /^[\W+=,.@-]{2,64}$/ : stryMutAct_9fa48("111") ? /^[^\w+=,.@-]{2,64}$/ : stryMutAct_9fa48("110") ? /^[\w+=,.@-]$/ : stryMutAct_9fa48("109") ? /^[\w+=,.@-]{2,64}/ : stryMutAct_9fa48("108") ? /[\w+=,.@-]{2,64}$/ : (stryCov_9fa48("108", "109", "110", "111", "112"), /^[\w+=,.@-]{2,64}$/);
const SOURCE_IDENTITY_UNSAFE = stryMutAct_9fa48("114") ? /[^\W+=,.@-]/g : stryMutAct_9fa48("113") ? /[\w+=,.@-]/g : (stryCov_9fa48("113", "114"), /[^\w+=,.@-]/g);
/** What a derived SourceIdentity ends with: `=` and 20 hex digits (80 bits of SHA-256). */
const DERIVED = stryMutAct_9fa48("117") ? /=[^0-9a-f]{20}$/ : stryMutAct_9fa48("116") ? /=[0-9a-f]$/ : stryMutAct_9fa48("115") ? /=[0-9a-f]{20}/ : (stryCov_9fa48("115", "116", "117"), /=[0-9a-f]{20}$/);

/**
 * The session's SourceIdentity for a caller id: 2-64 characters of `[\w+=,.@-]`, as STS requires,
 * and injective: distinct callers never share one (`refs/heads/release/1.0` and
 * `refs/heads/release.1.0`, `auth0|alice` and `auth0.alice`).
 *
 * An id that already fits is used as it is, unless it ends the way a derived one does. Any other
 * id (a character replaced, too short, too long) becomes its readable start, unsafe characters
 * as `.`, then `=` and a hash of the whole id. So a kept id never looks derived, and two derived
 * ids differ unless SHA-256 collides in 80 bits. The hash reads UTF-16 code units: UTF-8 would
 * turn distinct lone surrogates into the same U+FFFD.
 */
export function fitSourceIdentity(caller: string): string {
  if (stryMutAct_9fa48("118")) {
    {}
  } else {
    stryCov_9fa48("118");
    if (stryMutAct_9fa48("121") ? SOURCE_IDENTITY.test(caller) || !DERIVED.test(caller) : stryMutAct_9fa48("120") ? false : stryMutAct_9fa48("119") ? true : (stryCov_9fa48("119", "120", "121"), SOURCE_IDENTITY.test(caller) && (stryMutAct_9fa48("122") ? DERIVED.test(caller) : (stryCov_9fa48("122"), !DERIVED.test(caller))))) return caller;
    const digest = stryMutAct_9fa48("123") ? createHash('sha256').update(Buffer.from(caller, 'utf16le')).digest('hex') : (stryCov_9fa48("123"), createHash(stryMutAct_9fa48("124") ? "" : (stryCov_9fa48("124"), 'sha256')).update(Buffer.from(caller, stryMutAct_9fa48("125") ? "" : (stryCov_9fa48("125"), 'utf16le'))).digest(stryMutAct_9fa48("126") ? "" : (stryCov_9fa48("126"), 'hex')).slice(0, 20));
    const readable = stryMutAct_9fa48("127") ? caller.replace(SOURCE_IDENTITY_UNSAFE, '.') : (stryCov_9fa48("127"), caller.replace(SOURCE_IDENTITY_UNSAFE, stryMutAct_9fa48("128") ? "" : (stryCov_9fa48("128"), '.')).slice(0, stryMutAct_9fa48("129") ? 64 + 21 : (stryCov_9fa48("129"), 64 - 21)));
    return stryMutAct_9fa48("130") ? `` : (stryCov_9fa48("130"), `${readable}=${digest}`);
  }
}