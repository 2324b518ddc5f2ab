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
import * as z from 'zod/mini';
import './schema-locale';
import { certificateProfileSchema, compileProfile, type CompiledProfile } from './certificate-profile';
import { ConfigurationError } from './errors';
import { matchesGlob, matchGlob } from './glob';
import { mostSpecificIssue } from './schema-issue';
import { parseRoleArn, type Identity } from './identity';
import { policyDocumentSchema, type PolicyDocument } from './session-policy';
import { InvalidClaimError, MissingAttributeError, renderPolicyJson, renderRolePattern, renderRoleText, renderTagValue, type Attributes } from './template';
import { STS_LIMITS } from './session';

/**
 * The grant policy: who may get what. A versioned YAML or JSON file, validated when it is loaded
 * (and at synth time), with errors that name the line and path. Default deny; an explicit deny
 * wins; every decision names the rule that made it.
 */

const ROLE_ARN_PATTERN = stryMutAct_9fa48("8") ? /^arn:[\w*?-]+:iam::[\d*?${}A-Za-z_]*:role\/.$/ : stryMutAct_9fa48("7") ? /^arn:[\w*?-]+:iam::[\D*?${}A-Za-z_]*:role\/.+$/ : stryMutAct_9fa48("6") ? /^arn:[\w*?-]+:iam::[^\d*?${}A-Za-z_]*:role\/.+$/ : stryMutAct_9fa48("5") ? /^arn:[\w*?-]+:iam::[\d*?${}A-Za-z_]:role\/.+$/ : stryMutAct_9fa48("4") ? /^arn:[\W*?-]+:iam::[\d*?${}A-Za-z_]*:role\/.+$/ : stryMutAct_9fa48("3") ? /^arn:[^\w*?-]+:iam::[\d*?${}A-Za-z_]*:role\/.+$/ : stryMutAct_9fa48("2") ? /^arn:[\w*?-]:iam::[\d*?${}A-Za-z_]*:role\/.+$/ : stryMutAct_9fa48("1") ? /^arn:[\w*?-]+:iam::[\d*?${}A-Za-z_]*:role\/.+/ : stryMutAct_9fa48("0") ? /arn:[\w*?-]+:iam::[\d*?${}A-Za-z_]*:role\/.+$/ : (stryCov_9fa48("0", "1", "2", "3", "4", "5", "6", "7", "8"), /^arn:[\w*?-]+:iam::[\d*?${}A-Za-z_]*:role\/.+$/);
const DURATION = z.number().check(z.int(), z.minimum(STS_LIMITS.minDurationSeconds), z.maximum(STS_LIMITS.maxChainedDurationSeconds));
const nonEmptyString = stryMutAct_9fa48("9") ? () => undefined : (stryCov_9fa48("9"), (() => {
  const nonEmptyString = () => z.string().check(z.minLength(1));
  return nonEmptyString;
})());
const patternOrList = z.union(stryMutAct_9fa48("10") ? [] : (stryCov_9fa48("10"), [nonEmptyString(), z.array(nonEmptyString()).check(z.minLength(1))]));
export const issuerSchema = z.strictObject(stryMutAct_9fa48("11") ? {} : (stryCov_9fa48("11"), {
  id: z.string().check(z.regex(stryMutAct_9fa48("16") ? /^[a-z0-9][^a-z0-9-]{0,31}$/ : stryMutAct_9fa48("15") ? /^[a-z0-9][a-z0-9-]$/ : stryMutAct_9fa48("14") ? /^[^a-z0-9][a-z0-9-]{0,31}$/ : stryMutAct_9fa48("13") ? /^[a-z0-9][a-z0-9-]{0,31}/ : stryMutAct_9fa48("12") ? /[a-z0-9][a-z0-9-]{0,31}$/ : (stryCov_9fa48("12", "13", "14", "15", "16"), /^[a-z0-9][a-z0-9-]{0,31}$/), stryMutAct_9fa48("17") ? "" : (stryCov_9fa48("17"), 'an issuer id is 1-32 lowercase letters, digits or dashes'))),
  url: z.string().check(z.url()),
  audiences: z.array(nonEmptyString()).check(z.minLength(1)),
  preset: z._default(z.enum(stryMutAct_9fa48("18") ? [] : (stryCov_9fa48("18"), [stryMutAct_9fa48("19") ? "" : (stryCov_9fa48("19"), 'kubernetes'), stryMutAct_9fa48("20") ? "" : (stryCov_9fa48("20"), 'github'), stryMutAct_9fa48("21") ? "" : (stryCov_9fa48("21"), 'generic')])), stryMutAct_9fa48("22") ? "" : (stryCov_9fa48("22"), 'generic')),
  algorithms: z.optional(z.array(z.enum(stryMutAct_9fa48("23") ? [] : (stryCov_9fa48("23"), [stryMutAct_9fa48("24") ? "" : (stryCov_9fa48("24"), 'RS256'), stryMutAct_9fa48("25") ? "" : (stryCov_9fa48("25"), 'RS384'), stryMutAct_9fa48("26") ? "" : (stryCov_9fa48("26"), 'RS512'), stryMutAct_9fa48("27") ? "" : (stryCov_9fa48("27"), 'PS256'), stryMutAct_9fa48("28") ? "" : (stryCov_9fa48("28"), 'PS384'), stryMutAct_9fa48("29") ? "" : (stryCov_9fa48("29"), 'PS512'), stryMutAct_9fa48("30") ? "" : (stryCov_9fa48("30"), 'ES256'), stryMutAct_9fa48("31") ? "" : (stryCov_9fa48("31"), 'ES384'), stryMutAct_9fa48("32") ? "" : (stryCov_9fa48("32"), 'ES512'), stryMutAct_9fa48("33") ? "" : (stryCov_9fa48("33"), 'EdDSA')]))).check(z.minLength(1))),
  maxTokenAgeSeconds: z.optional(z.number().check(z.int(), z.positive(), z.maximum(stryMutAct_9fa48("34") ? 7 * 24 / 3600 : (stryCov_9fa48("34"), (stryMutAct_9fa48("35") ? 7 / 24 : (stryCov_9fa48("35"), 7 * 24)) * 3600)))),
  requiredClaims: z.optional(z.array(nonEmptyString())),
  /** Only for the local development issuer: plain HTTP on a loopback address. */
  allowInsecureLoopback: z._default(z.boolean(), stryMutAct_9fa48("36") ? true : (stryCov_9fa48("36"), false))
})).check(z.superRefine((issuer, ctx) => {
  if (stryMutAct_9fa48("37")) {
    {}
  } else {
    stryCov_9fa48("37");
    // Refinements run even when the url check above failed; that failure is already reported.
    if (stryMutAct_9fa48("40") ? false : stryMutAct_9fa48("39") ? true : stryMutAct_9fa48("38") ? URL.canParse(issuer.url) : (stryCov_9fa48("38", "39", "40"), !URL.canParse(issuer.url))) return;
    const url = new URL(issuer.url);
    const loopback = (stryMutAct_9fa48("41") ? [] : (stryCov_9fa48("41"), [stryMutAct_9fa48("42") ? "" : (stryCov_9fa48("42"), '127.0.0.1'), stryMutAct_9fa48("43") ? "" : (stryCov_9fa48("43"), 'localhost'), stryMutAct_9fa48("44") ? "" : (stryCov_9fa48("44"), '[::1]')])).includes(url.hostname);
    if (stryMutAct_9fa48("47") ? url.protocol !== 'https:' || !(issuer.allowInsecureLoopback && loopback && url.protocol === 'http:') : stryMutAct_9fa48("46") ? false : stryMutAct_9fa48("45") ? true : (stryCov_9fa48("45", "46", "47"), (stryMutAct_9fa48("49") ? url.protocol === 'https:' : stryMutAct_9fa48("48") ? true : (stryCov_9fa48("48", "49"), url.protocol !== (stryMutAct_9fa48("50") ? "" : (stryCov_9fa48("50"), 'https:')))) && (stryMutAct_9fa48("51") ? issuer.allowInsecureLoopback && loopback && url.protocol === 'http:' : (stryCov_9fa48("51"), !(stryMutAct_9fa48("54") ? issuer.allowInsecureLoopback && loopback || url.protocol === 'http:' : stryMutAct_9fa48("53") ? false : stryMutAct_9fa48("52") ? true : (stryCov_9fa48("52", "53", "54"), (stryMutAct_9fa48("56") ? issuer.allowInsecureLoopback || loopback : stryMutAct_9fa48("55") ? true : (stryCov_9fa48("55", "56"), issuer.allowInsecureLoopback && loopback)) && (stryMutAct_9fa48("58") ? url.protocol !== 'http:' : stryMutAct_9fa48("57") ? true : (stryCov_9fa48("57", "58"), url.protocol === (stryMutAct_9fa48("59") ? "" : (stryCov_9fa48("59"), 'http:')))))))))) {
      if (stryMutAct_9fa48("60")) {
        {}
      } else {
        stryCov_9fa48("60");
        ctx.addIssue(stryMutAct_9fa48("61") ? {} : (stryCov_9fa48("61"), {
          code: stryMutAct_9fa48("62") ? "" : (stryCov_9fa48("62"), 'custom'),
          path: stryMutAct_9fa48("63") ? [] : (stryCov_9fa48("63"), [stryMutAct_9fa48("64") ? "" : (stryCov_9fa48("64"), 'url')]),
          message: stryMutAct_9fa48("65") ? "" : (stryCov_9fa48("65"), 'an issuer URL must use https (plain http only for a loopback development issuer with allowInsecureLoopback)')
        }));
      }
    }
  }
}));
const callerSchema = z.union(stryMutAct_9fa48("66") ? [] : (stryCov_9fa48("66"), [z.strictObject(stryMutAct_9fa48("67") ? {} : (stryCov_9fa48("67"), {
  iam: patternOrList
})), z.strictObject(stryMutAct_9fa48("68") ? {} : (stryCov_9fa48("68"), {
  oidc: nonEmptyString(),
  claims: z._default(z.record(nonEmptyString(), patternOrList), {})
}))]));
const credentialsGrantSchema = z.strictObject(stryMutAct_9fa48("69") ? {} : (stryCov_9fa48("69"), {
  roles: z.array(z.string().check(z.regex(ROLE_ARN_PATTERN, stryMutAct_9fa48("70") ? "" : (stryCov_9fa48("70"), 'a role pattern must look like arn:aws:iam::ACCOUNT:role/NAME')))).check(z.minLength(1)),
  maxDurationSeconds: z._default(DURATION, STS_LIMITS.maxChainedDurationSeconds),
  sessionPolicy: z.optional(policyDocumentSchema),
  policyArns: z._default(z.array(z.string().check(z.regex(stryMutAct_9fa48("78") ? /^arn:[\w-]+:iam::(\d{12}|aws):policy\/.$/ : stryMutAct_9fa48("77") ? /^arn:[\w-]+:iam::(\D{12}|aws):policy\/.+$/ : stryMutAct_9fa48("76") ? /^arn:[\w-]+:iam::(\d|aws):policy\/.+$/ : stryMutAct_9fa48("75") ? /^arn:[\W-]+:iam::(\d{12}|aws):policy\/.+$/ : stryMutAct_9fa48("74") ? /^arn:[^\w-]+:iam::(\d{12}|aws):policy\/.+$/ : stryMutAct_9fa48("73") ? /^arn:[\w-]:iam::(\d{12}|aws):policy\/.+$/ : stryMutAct_9fa48("72") ? /^arn:[\w-]+:iam::(\d{12}|aws):policy\/.+/ : stryMutAct_9fa48("71") ? /arn:[\w-]+:iam::(\d{12}|aws):policy\/.+$/ : (stryCov_9fa48("71", "72", "73", "74", "75", "76", "77", "78"), /^arn:[\w-]+:iam::(\d{12}|aws):policy\/.+$/), stryMutAct_9fa48("79") ? "" : (stryCov_9fa48("79"), 'a managed policy ARN')))).check(z.maxLength(STS_LIMITS.maxPolicyArns)), stryMutAct_9fa48("80") ? ["Stryker was here"] : (stryCov_9fa48("80"), [])),
  sessionTags: z._default(z.record(z.string().check(z.minLength(1), z.maxLength(STS_LIMITS.maxTagKeyLength), z.regex(stryMutAct_9fa48("87") ? /^[\p{L}\p{Z}\P{N}_.:/=+\-@]+$/u : stryMutAct_9fa48("86") ? /^[\p{L}\P{Z}\p{N}_.:/=+\-@]+$/u : stryMutAct_9fa48("85") ? /^[\P{L}\p{Z}\p{N}_.:/=+\-@]+$/u : stryMutAct_9fa48("84") ? /^[^\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u : stryMutAct_9fa48("83") ? /^[\p{L}\p{Z}\p{N}_.:/=+\-@]$/u : stryMutAct_9fa48("82") ? /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+/u : stryMutAct_9fa48("81") ? /[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u : (stryCov_9fa48("81", "82", "83", "84", "85", "86", "87"), /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u), stryMutAct_9fa48("88") ? "" : (stryCov_9fa48("88"), 'a tag key uses letters, digits, spaces and _.:/=+-@'))), z.string().check(z.maxLength(STS_LIMITS.maxTagValueLength))), {})
}));
const denyCredentialsSchema = z.strictObject(stryMutAct_9fa48("89") ? {} : (stryCov_9fa48("89"), {
  roles: z.array(nonEmptyString()).check(z.minLength(1))
}));
const certificatesGrantSchema = z.strictObject(stryMutAct_9fa48("90") ? {} : (stryCov_9fa48("90"), {
  profiles: z.array(certificateProfileSchema).check(z.minLength(1))
}));

/** Profile names (`*` and `?` allowed) a deny rule withholds. */
const denyCertificatesSchema = z.strictObject(stryMutAct_9fa48("91") ? {} : (stryCov_9fa48("91"), {
  profiles: z.array(nonEmptyString()).check(z.minLength(1))
}));
const ruleBase = stryMutAct_9fa48("92") ? {} : (stryCov_9fa48("92"), {
  id: z.string().check(z.regex(stryMutAct_9fa48("97") ? /^[A-Za-z0-9][^A-Za-z0-9_.-]{0,63}$/ : stryMutAct_9fa48("96") ? /^[A-Za-z0-9][A-Za-z0-9_.-]$/ : stryMutAct_9fa48("95") ? /^[^A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/ : stryMutAct_9fa48("94") ? /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}/ : stryMutAct_9fa48("93") ? /[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/ : (stryCov_9fa48("93", "94", "95", "96", "97"), /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/), stryMutAct_9fa48("98") ? "" : (stryCov_9fa48("98"), 'a rule id is 1-64 letters, digits, _ . or -'))),
  description: z.optional(z.string()),
  callers: z.array(callerSchema).check(z.minLength(1))
});
const allowRuleSchema = z.strictObject(stryMutAct_9fa48("99") ? {} : (stryCov_9fa48("99"), {
  ...ruleBase,
  effect: z._default(z.literal(stryMutAct_9fa48("100") ? "" : (stryCov_9fa48("100"), 'allow')), stryMutAct_9fa48("101") ? "" : (stryCov_9fa48("101"), 'allow')),
  credentials: z.optional(credentialsGrantSchema),
  certificates: z.optional(certificatesGrantSchema),
  /** May see and manage every caller's leases. */
  admin: z._default(z.boolean(), stryMutAct_9fa48("102") ? true : (stryCov_9fa48("102"), false))
}));
const denyRuleSchema = z.strictObject(stryMutAct_9fa48("103") ? {} : (stryCov_9fa48("103"), {
  ...ruleBase,
  effect: z.literal(stryMutAct_9fa48("104") ? "" : (stryCov_9fa48("104"), 'deny')),
  /** Without `credentials` or `certificates`, the rule denies the matching callers everything. */
  credentials: z.optional(denyCredentialsSchema),
  certificates: z.optional(denyCertificatesSchema)
}));
const ruleSchema = z.union(stryMutAct_9fa48("105") ? [] : (stryCov_9fa48("105"), [allowRuleSchema, denyRuleSchema]));
export const grantPolicySchema = z.strictObject(stryMutAct_9fa48("106") ? {} : (stryCov_9fa48("106"), {
  version: z.literal(1),
  issuers: z._default(z.array(issuerSchema), stryMutAct_9fa48("107") ? ["Stryker was here"] : (stryCov_9fa48("107"), [])),
  rules: z.array(ruleSchema)
})).check(z.superRefine((policy, ctx) => {
  if (stryMutAct_9fa48("108")) {
    {}
  } else {
    stryCov_9fa48("108");
    const issuerIds = new Set<string>();
    policy.issuers.forEach((issuer, i) => {
      if (stryMutAct_9fa48("109")) {
        {}
      } else {
        stryCov_9fa48("109");
        if (stryMutAct_9fa48("111") ? false : stryMutAct_9fa48("110") ? true : (stryCov_9fa48("110", "111"), issuerIds.has(issuer.id))) ctx.addIssue(stryMutAct_9fa48("112") ? {} : (stryCov_9fa48("112"), {
          code: stryMutAct_9fa48("113") ? "" : (stryCov_9fa48("113"), 'custom'),
          path: stryMutAct_9fa48("114") ? [] : (stryCov_9fa48("114"), [stryMutAct_9fa48("115") ? "" : (stryCov_9fa48("115"), 'issuers'), i, stryMutAct_9fa48("116") ? "" : (stryCov_9fa48("116"), 'id')]),
          message: stryMutAct_9fa48("117") ? `` : (stryCov_9fa48("117"), `duplicate issuer id "${issuer.id}"`)
        }));
        issuerIds.add(issuer.id);
      }
    });
    const ruleIds = new Set<string>();
    policy.rules.forEach((rule, i) => {
      if (stryMutAct_9fa48("118")) {
        {}
      } else {
        stryCov_9fa48("118");
        if (stryMutAct_9fa48("120") ? false : stryMutAct_9fa48("119") ? true : (stryCov_9fa48("119", "120"), ruleIds.has(rule.id))) ctx.addIssue(stryMutAct_9fa48("121") ? {} : (stryCov_9fa48("121"), {
          code: stryMutAct_9fa48("122") ? "" : (stryCov_9fa48("122"), 'custom'),
          path: stryMutAct_9fa48("123") ? [] : (stryCov_9fa48("123"), [stryMutAct_9fa48("124") ? "" : (stryCov_9fa48("124"), 'rules'), i, stryMutAct_9fa48("125") ? "" : (stryCov_9fa48("125"), 'id')]),
          message: stryMutAct_9fa48("126") ? `` : (stryCov_9fa48("126"), `duplicate rule id "${rule.id}"`)
        }));
        ruleIds.add(rule.id);
        rule.callers.forEach((caller, j) => {
          if (stryMutAct_9fa48("127")) {
            {}
          } else {
            stryCov_9fa48("127");
            if (stryMutAct_9fa48("130") ? 'oidc' in caller || !issuerIds.has(caller.oidc) : stryMutAct_9fa48("129") ? false : stryMutAct_9fa48("128") ? true : (stryCov_9fa48("128", "129", "130"), (stryMutAct_9fa48("131") ? "" : (stryCov_9fa48("131"), 'oidc')) in caller && (stryMutAct_9fa48("132") ? issuerIds.has(caller.oidc) : (stryCov_9fa48("132"), !issuerIds.has(caller.oidc))))) {
              if (stryMutAct_9fa48("133")) {
                {}
              } else {
                stryCov_9fa48("133");
                ctx.addIssue(stryMutAct_9fa48("134") ? {} : (stryCov_9fa48("134"), {
                  code: stryMutAct_9fa48("135") ? "" : (stryCov_9fa48("135"), 'custom'),
                  path: stryMutAct_9fa48("136") ? [] : (stryCov_9fa48("136"), [stryMutAct_9fa48("137") ? "" : (stryCov_9fa48("137"), 'rules'), i, stryMutAct_9fa48("138") ? "" : (stryCov_9fa48("138"), 'callers'), j, stryMutAct_9fa48("139") ? "" : (stryCov_9fa48("139"), 'oidc')]),
                  message: stryMutAct_9fa48("140") ? `` : (stryCov_9fa48("140"), `unknown issuer "${caller.oidc}"; declare it under issuers`)
                }));
              }
            }
            if (stryMutAct_9fa48("142") ? false : stryMutAct_9fa48("141") ? true : (stryCov_9fa48("141", "142"), (stryMutAct_9fa48("143") ? "" : (stryCov_9fa48("143"), 'iam')) in caller)) {
              if (stryMutAct_9fa48("144")) {
                {}
              } else {
                stryCov_9fa48("144");
                const list = Array.isArray(caller.iam) ? caller.iam : stryMutAct_9fa48("145") ? [] : (stryCov_9fa48("145"), [caller.iam]);
                list.forEach((pattern, k) => {
                  if (stryMutAct_9fa48("146")) {
                    {}
                  } else {
                    stryCov_9fa48("146");
                    if (stryMutAct_9fa48("149") ? false : stryMutAct_9fa48("148") ? true : stryMutAct_9fa48("147") ? ASSUMED_ROLE_PATTERN.test(pattern) : (stryCov_9fa48("147", "148", "149"), !ASSUMED_ROLE_PATTERN.test(pattern))) return;
                    ctx.addIssue(stryMutAct_9fa48("150") ? {} : (stryCov_9fa48("150"), {
                      code: stryMutAct_9fa48("151") ? "" : (stryCov_9fa48("151"), 'custom'),
                      path: stryMutAct_9fa48("152") ? [] : (stryCov_9fa48("152"), [stryMutAct_9fa48("153") ? "" : (stryCov_9fa48("153"), 'rules'), i, stryMutAct_9fa48("154") ? "" : (stryCov_9fa48("154"), 'callers'), j, stryMutAct_9fa48("155") ? "" : (stryCov_9fa48("155"), 'iam'), ...(Array.isArray(caller.iam) ? stryMutAct_9fa48("156") ? [] : (stryCov_9fa48("156"), [k]) : stryMutAct_9fa48("157") ? ["Stryker was here"] : (stryCov_9fa48("157"), []))]),
                      message: stryMutAct_9fa48("158") ? `` : (stryCov_9fa48("158"), `"${pattern}" can never match: callers are matched by their role ARN (an assumed-role session becomes arn:aws:iam::ACCOUNT:role/NAME, without path); write the role form, e.g. arn:aws:iam::ACCOUNT:role/NAME`)
                    }));
                  }
                });
              }
            }
          }
        });
        if (stryMutAct_9fa48("161") ? rule.effect === 'allow' || rule.certificates : stryMutAct_9fa48("160") ? false : stryMutAct_9fa48("159") ? true : (stryCov_9fa48("159", "160", "161"), (stryMutAct_9fa48("163") ? rule.effect !== 'allow' : stryMutAct_9fa48("162") ? true : (stryCov_9fa48("162", "163"), rule.effect === (stryMutAct_9fa48("164") ? "" : (stryCov_9fa48("164"), 'allow')))) && rule.certificates)) {
          if (stryMutAct_9fa48("165")) {
            {}
          } else {
            stryCov_9fa48("165");
            const profileNames = new Set<string>();
            rule.certificates.profiles.forEach((profile, j) => {
              if (stryMutAct_9fa48("166")) {
                {}
              } else {
                stryCov_9fa48("166");
                if (stryMutAct_9fa48("168") ? false : stryMutAct_9fa48("167") ? true : (stryCov_9fa48("167", "168"), profileNames.has(profile.name))) ctx.addIssue(stryMutAct_9fa48("169") ? {} : (stryCov_9fa48("169"), {
                  code: stryMutAct_9fa48("170") ? "" : (stryCov_9fa48("170"), 'custom'),
                  path: stryMutAct_9fa48("171") ? [] : (stryCov_9fa48("171"), [stryMutAct_9fa48("172") ? "" : (stryCov_9fa48("172"), 'rules'), i, stryMutAct_9fa48("173") ? "" : (stryCov_9fa48("173"), 'certificates'), stryMutAct_9fa48("174") ? "" : (stryCov_9fa48("174"), 'profiles'), j, stryMutAct_9fa48("175") ? "" : (stryCov_9fa48("175"), 'name')]),
                  message: stryMutAct_9fa48("176") ? `` : (stryCov_9fa48("176"), `duplicate profile name "${profile.name}" in this rule`)
                }));
                profileNames.add(profile.name);
              }
            });
          }
        }
        if (stryMutAct_9fa48("179") ? rule.effect === 'allow' || rule.credentials : stryMutAct_9fa48("178") ? false : stryMutAct_9fa48("177") ? true : (stryCov_9fa48("177", "178", "179"), (stryMutAct_9fa48("181") ? rule.effect !== 'allow' : stryMutAct_9fa48("180") ? true : (stryCov_9fa48("180", "181"), rule.effect === (stryMutAct_9fa48("182") ? "" : (stryCov_9fa48("182"), 'allow')))) && rule.credentials)) {
          if (stryMutAct_9fa48("183")) {
            {}
          } else {
            stryCov_9fa48("183");
            const lower = new Set<string>();
            for (const key of Object.keys(rule.credentials.sessionTags)) {
              if (stryMutAct_9fa48("184")) {
                {}
              } else {
                stryCov_9fa48("184");
                if (stryMutAct_9fa48("187") ? key.toLowerCase().startsWith('nocreds:') && key.toLowerCase().startsWith('aws:') : stryMutAct_9fa48("186") ? false : stryMutAct_9fa48("185") ? true : (stryCov_9fa48("185", "186", "187"), (stryMutAct_9fa48("189") ? key.toUpperCase().startsWith('nocreds:') : stryMutAct_9fa48("188") ? key.toLowerCase().endsWith('nocreds:') : (stryCov_9fa48("188", "189"), key.toLowerCase().startsWith(stryMutAct_9fa48("190") ? "" : (stryCov_9fa48("190"), 'nocreds:')))) || (stryMutAct_9fa48("192") ? key.toUpperCase().startsWith('aws:') : stryMutAct_9fa48("191") ? key.toLowerCase().endsWith('aws:') : (stryCov_9fa48("191", "192"), key.toLowerCase().startsWith(stryMutAct_9fa48("193") ? "" : (stryCov_9fa48("193"), 'aws:')))))) {
                  if (stryMutAct_9fa48("194")) {
                    {}
                  } else {
                    stryCov_9fa48("194");
                    ctx.addIssue(stryMutAct_9fa48("195") ? {} : (stryCov_9fa48("195"), {
                      code: stryMutAct_9fa48("196") ? "" : (stryCov_9fa48("196"), 'custom'),
                      path: stryMutAct_9fa48("197") ? [] : (stryCov_9fa48("197"), [stryMutAct_9fa48("198") ? "" : (stryCov_9fa48("198"), 'rules'), i, stryMutAct_9fa48("199") ? "" : (stryCov_9fa48("199"), 'credentials'), stryMutAct_9fa48("200") ? "" : (stryCov_9fa48("200"), 'sessionTags'), key]),
                      message: stryMutAct_9fa48("201") ? "" : (stryCov_9fa48("201"), 'tag keys starting with nocreds: or aws: are reserved')
                    }));
                  }
                }
                if (stryMutAct_9fa48("203") ? false : stryMutAct_9fa48("202") ? true : (stryCov_9fa48("202", "203"), lower.has(stryMutAct_9fa48("204") ? key.toUpperCase() : (stryCov_9fa48("204"), key.toLowerCase())))) ctx.addIssue(stryMutAct_9fa48("205") ? {} : (stryCov_9fa48("205"), {
                  code: stryMutAct_9fa48("206") ? "" : (stryCov_9fa48("206"), 'custom'),
                  path: stryMutAct_9fa48("207") ? [] : (stryCov_9fa48("207"), [stryMutAct_9fa48("208") ? "" : (stryCov_9fa48("208"), 'rules'), i, stryMutAct_9fa48("209") ? "" : (stryCov_9fa48("209"), 'credentials'), stryMutAct_9fa48("210") ? "" : (stryCov_9fa48("210"), 'sessionTags'), key]),
                  message: stryMutAct_9fa48("211") ? "" : (stryCov_9fa48("211"), 'tag keys must differ by more than case')
                }));
                lower.add(stryMutAct_9fa48("212") ? key.toUpperCase() : (stryCov_9fa48("212"), key.toLowerCase()));
              }
            }
            if (stryMutAct_9fa48("216") ? Object.keys(rule.credentials.sessionTags).length <= STS_LIMITS.maxTags - RESERVED_TAG_COUNT : stryMutAct_9fa48("215") ? Object.keys(rule.credentials.sessionTags).length >= STS_LIMITS.maxTags - RESERVED_TAG_COUNT : stryMutAct_9fa48("214") ? false : stryMutAct_9fa48("213") ? true : (stryCov_9fa48("213", "214", "215", "216"), Object.keys(rule.credentials.sessionTags).length > (stryMutAct_9fa48("217") ? STS_LIMITS.maxTags + RESERVED_TAG_COUNT : (stryCov_9fa48("217"), STS_LIMITS.maxTags - RESERVED_TAG_COUNT)))) {
              if (stryMutAct_9fa48("218")) {
                {}
              } else {
                stryCov_9fa48("218");
                ctx.addIssue(stryMutAct_9fa48("219") ? {} : (stryCov_9fa48("219"), {
                  code: stryMutAct_9fa48("220") ? "" : (stryCov_9fa48("220"), 'custom'),
                  path: stryMutAct_9fa48("221") ? [] : (stryCov_9fa48("221"), [stryMutAct_9fa48("222") ? "" : (stryCov_9fa48("222"), 'rules'), i, stryMutAct_9fa48("223") ? "" : (stryCov_9fa48("223"), 'credentials'), stryMutAct_9fa48("224") ? "" : (stryCov_9fa48("224"), 'sessionTags')]),
                  message: stryMutAct_9fa48("225") ? `` : (stryCov_9fa48("225"), `at most ${stryMutAct_9fa48("226") ? STS_LIMITS.maxTags + RESERVED_TAG_COUNT : (stryCov_9fa48("226"), STS_LIMITS.maxTags - RESERVED_TAG_COUNT)} session tags (STS allows ${STS_LIMITS.maxTags}, the broker adds ${RESERVED_TAG_COUNT})`)
                }));
              }
            }
          }
        }
      }
    });
  }
}));

/** An `iam:` caller pattern written as an STS session ARN: callers are normalised to role ARNs, so it never matches. */
const ASSUMED_ROLE_PATTERN = stryMutAct_9fa48("229") ? /^arn:[:]*:sts:|:assumed-role\// : stryMutAct_9fa48("228") ? /^arn:[^:]:sts:|:assumed-role\// : stryMutAct_9fa48("227") ? /arn:[^:]*:sts:|:assumed-role\// : (stryCov_9fa48("227", "228", "229"), /^arn:[^:]*:sts:|:assumed-role\//);

/** Tags the broker adds to every session (caller and lease id). */
export const RESERVED_TAG_COUNT = 2;
export type GrantPolicy = z.infer<typeof grantPolicySchema>;
export type IssuerConfig = GrantPolicy['issuers'][number];
export type GrantRule = GrantPolicy['rules'][number];
export type AllowRule = Extract<GrantRule, {
  effect: 'allow';
}>;
export type CallerMatcher = z.infer<typeof callerSchema>;
export function formatZodPath(path: PropertyKey[]): string {
  if (stryMutAct_9fa48("230")) {
    {}
  } else {
    stryCov_9fa48("230");
    return path.map(stryMutAct_9fa48("231") ? () => undefined : (stryCov_9fa48("231"), p => (stryMutAct_9fa48("234") ? typeof p !== 'number' : stryMutAct_9fa48("233") ? false : stryMutAct_9fa48("232") ? true : (stryCov_9fa48("232", "233", "234"), typeof p === (stryMutAct_9fa48("235") ? "" : (stryCov_9fa48("235"), 'number')))) ? stryMutAct_9fa48("236") ? `` : (stryCov_9fa48("236"), `[${p}]`) : stryMutAct_9fa48("237") ? `` : (stryCov_9fa48("237"), `.${String(p)}`))).join(stryMutAct_9fa48("238") ? "Stryker was here!" : (stryCov_9fa48("238"), '')).replace(stryMutAct_9fa48("239") ? /\./ : (stryCov_9fa48("239"), /^\./), stryMutAct_9fa48("240") ? "Stryker was here!" : (stryCov_9fa48("240"), ''));
  }
}

/**
 * Validates an already-parsed grant policy (e.g. the JSON the CDK construct bundles with each
 * function). Errors name the path of every problem; `parseGrantPolicy` adds line numbers.
 * The functions use this one so that their bundles do not carry a YAML parser.
 */
export function validateGrantPolicy(value: unknown, source = stryMutAct_9fa48("241") ? "" : (stryCov_9fa48("241"), 'grant policy')): GrantPolicy {
  if (stryMutAct_9fa48("242")) {
    {}
  } else {
    stryCov_9fa48("242");
    const parsed = grantPolicySchema.safeParse(value);
    if (stryMutAct_9fa48("245") ? false : stryMutAct_9fa48("244") ? true : stryMutAct_9fa48("243") ? parsed.success : (stryCov_9fa48("243", "244", "245"), !parsed.success)) {
      if (stryMutAct_9fa48("246")) {
        {}
      } else {
        stryCov_9fa48("246");
        const problems = parsed.error.issues.map(mostSpecificIssue).map(stryMutAct_9fa48("247") ? () => undefined : (stryCov_9fa48("247"), issue => stryMutAct_9fa48("248") ? `` : (stryCov_9fa48("248"), `${source} ${stryMutAct_9fa48("251") ? formatZodPath(issue.path) && '(root)' : stryMutAct_9fa48("250") ? false : stryMutAct_9fa48("249") ? true : (stryCov_9fa48("249", "250", "251"), formatZodPath(issue.path) || (stryMutAct_9fa48("252") ? "" : (stryCov_9fa48("252"), '(root)')))}: ${issue.message}`)));
        throw new ConfigurationError(stryMutAct_9fa48("253") ? "" : (stryCov_9fa48("253"), 'invalid_grant_policy'), stryMutAct_9fa48("254") ? `` : (stryCov_9fa48("254"), `The grant policy is invalid:\n${problems.join(stryMutAct_9fa48("255") ? "" : (stryCov_9fa48("255"), '\n'))}`));
      }
    }
    return parsed.data;
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

const patterns = stryMutAct_9fa48("256") ? () => undefined : (stryCov_9fa48("256"), (() => {
  const patterns = (p: string | string[]): string[] => Array.isArray(p) ? p : stryMutAct_9fa48("257") ? [] : (stryCov_9fa48("257"), [p]);
  return patterns;
})());

/**
 * A role pattern with `${name}` substitution: the template's own `*` and `?` are wildcards,
 * substituted values are literal (a claim cannot widen a pattern) and cannot change the ARN's
 * structure (template.ts). Role ARNs compare case-insensitively, as IAM role names do.
 */
export function roleTemplateMatches(template: string, attributes: Attributes, roleArn: string): boolean {
  if (stryMutAct_9fa48("258")) {
    {}
  } else {
    stryCov_9fa48("258");
    return matchGlob(renderRolePattern(template, attributes), roleArn);
  }
}
function callerMatches(matcher: CallerMatcher, identity: Identity): boolean {
  if (stryMutAct_9fa48("259")) {
    {}
  } else {
    stryCov_9fa48("259");
    if (stryMutAct_9fa48("261") ? false : stryMutAct_9fa48("260") ? true : (stryCov_9fa48("260", "261"), (stryMutAct_9fa48("262") ? "" : (stryCov_9fa48("262"), 'iam')) in matcher)) {
      if (stryMutAct_9fa48("263")) {
        {}
      } else {
        stryCov_9fa48("263");
        // Principal ARNs name roles and users, whose names IAM compares case-insensitively.
        return stryMutAct_9fa48("266") ? identity.kind === 'iam' || patterns(matcher.iam).some(p => matchesGlob(p, identity.principalArn, true)) : stryMutAct_9fa48("265") ? false : stryMutAct_9fa48("264") ? true : (stryCov_9fa48("264", "265", "266"), (stryMutAct_9fa48("268") ? identity.kind !== 'iam' : stryMutAct_9fa48("267") ? true : (stryCov_9fa48("267", "268"), identity.kind === (stryMutAct_9fa48("269") ? "" : (stryCov_9fa48("269"), 'iam')))) && (stryMutAct_9fa48("270") ? patterns(matcher.iam).every(p => matchesGlob(p, identity.principalArn, true)) : (stryCov_9fa48("270"), patterns(matcher.iam).some(stryMutAct_9fa48("271") ? () => undefined : (stryCov_9fa48("271"), p => matchesGlob(p, identity.principalArn, stryMutAct_9fa48("272") ? false : (stryCov_9fa48("272"), true)))))));
      }
    }
    if (stryMutAct_9fa48("275") ? identity.kind !== 'oidc' && identity.issuerId !== matcher.oidc : stryMutAct_9fa48("274") ? false : stryMutAct_9fa48("273") ? true : (stryCov_9fa48("273", "274", "275"), (stryMutAct_9fa48("277") ? identity.kind === 'oidc' : stryMutAct_9fa48("276") ? false : (stryCov_9fa48("276", "277"), identity.kind !== (stryMutAct_9fa48("278") ? "" : (stryCov_9fa48("278"), 'oidc')))) || (stryMutAct_9fa48("280") ? identity.issuerId === matcher.oidc : stryMutAct_9fa48("279") ? false : (stryCov_9fa48("279", "280"), identity.issuerId !== matcher.oidc)))) return stryMutAct_9fa48("281") ? true : (stryCov_9fa48("281"), false);
    // Every claim condition must hold; claims compare exactly.
    return stryMutAct_9fa48("282") ? Object.entries(matcher.claims).some(([claim, wanted]) => {
      const value = identity.attributes[claim];
      return value !== undefined && patterns(wanted).some(p => matchesGlob(p, value));
    }) : (stryCov_9fa48("282"), Object.entries(matcher.claims).every(([claim, wanted]) => {
      if (stryMutAct_9fa48("283")) {
        {}
      } else {
        stryCov_9fa48("283");
        const value = identity.attributes[claim];
        return stryMutAct_9fa48("286") ? value !== undefined || patterns(wanted).some(p => matchesGlob(p, value)) : stryMutAct_9fa48("285") ? false : stryMutAct_9fa48("284") ? true : (stryCov_9fa48("284", "285", "286"), (stryMutAct_9fa48("288") ? value === undefined : stryMutAct_9fa48("287") ? true : (stryCov_9fa48("287", "288"), value !== undefined)) && (stryMutAct_9fa48("289") ? patterns(wanted).every(p => matchesGlob(p, value)) : (stryCov_9fa48("289"), patterns(wanted).some(stryMutAct_9fa48("290") ? () => undefined : (stryCov_9fa48("290"), p => matchesGlob(p, value))))));
      }
    }));
  }
}

/** The rules whose callers match this identity, in file order. */
export function rulesFor(policy: GrantPolicy, identity: Identity): GrantRule[] {
  if (stryMutAct_9fa48("291")) {
    {}
  } else {
    stryCov_9fa48("291");
    return stryMutAct_9fa48("292") ? policy.rules : (stryCov_9fa48("292"), policy.rules.filter(stryMutAct_9fa48("293") ? () => undefined : (stryCov_9fa48("293"), rule => stryMutAct_9fa48("294") ? rule.callers.every(m => callerMatches(m, identity)) : (stryCov_9fa48("294"), rule.callers.some(stryMutAct_9fa48("295") ? () => undefined : (stryCov_9fa48("295"), m => callerMatches(m, identity)))))));
  }
}

/** What an allow rule grants for one role, with every template rendered for this caller. */
export interface CredentialsGrant {
  readonly ruleId: string;
  readonly roleArn: string;
  readonly maxDurationSeconds: number;
  readonly sessionPolicy?: PolicyDocument;
  readonly policyArns: readonly string[];
  readonly sessionTags: Readonly<Record<string, string>>;
}
export type CredentialsDecision = {
  readonly allowed: true;
  readonly ruleId: string;
  readonly reason: string;
  readonly grant: CredentialsGrant;
} | {
  readonly allowed: false;
  readonly ruleId?: string;
  readonly reason: string;
};
function anyRoleMatches(templates: readonly string[], identity: Identity, roleArn: string): {
  matched: boolean;
  missing?: string;
} {
  if (stryMutAct_9fa48("296")) {
    {}
  } else {
    stryCov_9fa48("296");
    let missing: string | undefined;
    for (const template of templates) {
      if (stryMutAct_9fa48("297")) {
        {}
      } else {
        stryCov_9fa48("297");
        try {
          if (stryMutAct_9fa48("298")) {
            {}
          } else {
            stryCov_9fa48("298");
            if (stryMutAct_9fa48("300") ? false : stryMutAct_9fa48("299") ? true : (stryCov_9fa48("299", "300"), roleTemplateMatches(template, identity.attributes, roleArn))) return stryMutAct_9fa48("301") ? {} : (stryCov_9fa48("301"), {
              matched: stryMutAct_9fa48("302") ? false : (stryCov_9fa48("302"), true)
            });
          }
        } catch (error) {
          if (stryMutAct_9fa48("303")) {
            {}
          } else {
            stryCov_9fa48("303");
            if (stryMutAct_9fa48("305") ? false : stryMutAct_9fa48("304") ? true : (stryCov_9fa48("304", "305"), error instanceof MissingAttributeError)) missing = error.attribute;else throw error;
          }
        }
      }
    }
    return stryMutAct_9fa48("306") ? {} : (stryCov_9fa48("306"), {
      matched: stryMutAct_9fa48("307") ? true : (stryCov_9fa48("307"), false),
      missing
    });
  }
}

/**
 * May this identity have credentials for this role? An explicit deny among the caller's rules
 * wins; otherwise the first allow rule (in file order) that grants the role decides; otherwise
 * deny. Reasons name only rules that apply to this caller.
 *
 * Throws ValidationError for a role ARN IAM would not accept (`invalid_role_arn`,
 * `role_name_too_long`, `role_path_too_long`), before any matching, and InvalidClaimError when a
 * template of one of the caller's rules cannot be rendered for its attributes: a deny rule must
 * never be skipped because of what a caller put in a claim, so the request is refused.
 */
export function evaluateCredentials(policy: GrantPolicy, identity: Identity, roleArn: string): CredentialsDecision {
  if (stryMutAct_9fa48("308")) {
    {}
  } else {
    stryCov_9fa48("308");
    parseRoleArn(roleArn);
    const rules = rulesFor(policy, identity);
    for (const rule of rules) {
      if (stryMutAct_9fa48("309")) {
        {}
      } else {
        stryCov_9fa48("309");
        if (stryMutAct_9fa48("312") ? rule.effect === 'deny' : stryMutAct_9fa48("311") ? false : stryMutAct_9fa48("310") ? true : (stryCov_9fa48("310", "311", "312"), rule.effect !== (stryMutAct_9fa48("313") ? "" : (stryCov_9fa48("313"), 'deny')))) continue;
        if (stryMutAct_9fa48("316") ? deniesEverything(rule) && rule.credentials !== undefined && anyRoleMatches(rule.credentials.roles, identity, roleArn).matched : stryMutAct_9fa48("315") ? false : stryMutAct_9fa48("314") ? true : (stryCov_9fa48("314", "315", "316"), deniesEverything(rule) || (stryMutAct_9fa48("318") ? rule.credentials !== undefined || anyRoleMatches(rule.credentials.roles, identity, roleArn).matched : stryMutAct_9fa48("317") ? false : (stryCov_9fa48("317", "318"), (stryMutAct_9fa48("320") ? rule.credentials === undefined : stryMutAct_9fa48("319") ? true : (stryCov_9fa48("319", "320"), rule.credentials !== undefined)) && anyRoleMatches(rule.credentials.roles, identity, roleArn).matched)))) {
          if (stryMutAct_9fa48("321")) {
            {}
          } else {
            stryCov_9fa48("321");
            return stryMutAct_9fa48("322") ? {} : (stryCov_9fa48("322"), {
              allowed: stryMutAct_9fa48("323") ? true : (stryCov_9fa48("323"), false),
              ruleId: rule.id,
              reason: stryMutAct_9fa48("324") ? `` : (stryCov_9fa48("324"), `denied by rule "${rule.id}"`)
            });
          }
        }
      }
    }
    const missing: string[] = stryMutAct_9fa48("325") ? ["Stryker was here"] : (stryCov_9fa48("325"), []);
    for (const rule of rules) {
      if (stryMutAct_9fa48("326")) {
        {}
      } else {
        stryCov_9fa48("326");
        if (stryMutAct_9fa48("329") ? rule.effect !== 'allow' && !rule.credentials : stryMutAct_9fa48("328") ? false : stryMutAct_9fa48("327") ? true : (stryCov_9fa48("327", "328", "329"), (stryMutAct_9fa48("331") ? rule.effect === 'allow' : stryMutAct_9fa48("330") ? false : (stryCov_9fa48("330", "331"), rule.effect !== (stryMutAct_9fa48("332") ? "" : (stryCov_9fa48("332"), 'allow')))) || (stryMutAct_9fa48("333") ? rule.credentials : (stryCov_9fa48("333"), !rule.credentials)))) continue;
        const match = anyRoleMatches(rule.credentials.roles, identity, roleArn);
        if (stryMutAct_9fa48("336") ? false : stryMutAct_9fa48("335") ? true : stryMutAct_9fa48("334") ? match.matched : (stryCov_9fa48("334", "335", "336"), !match.matched)) {
          if (stryMutAct_9fa48("337")) {
            {}
          } else {
            stryCov_9fa48("337");
            if (stryMutAct_9fa48("339") ? false : stryMutAct_9fa48("338") ? true : (stryCov_9fa48("338", "339"), match.missing)) missing.push(stryMutAct_9fa48("340") ? `` : (stryCov_9fa48("340"), `rule "${rule.id}" needs attribute "${match.missing}"`));
            continue;
          }
        }
        const c = rule.credentials;
        try {
          if (stryMutAct_9fa48("341")) {
            {}
          } else {
            stryCov_9fa48("341");
            const grant: CredentialsGrant = stryMutAct_9fa48("342") ? {} : (stryCov_9fa48("342"), {
              ruleId: rule.id,
              roleArn,
              maxDurationSeconds: c.maxDurationSeconds,
              sessionPolicy: (stryMutAct_9fa48("345") ? c.sessionPolicy !== undefined : stryMutAct_9fa48("344") ? false : stryMutAct_9fa48("343") ? true : (stryCov_9fa48("343", "344", "345"), c.sessionPolicy === undefined)) ? undefined : renderPolicyJson(c.sessionPolicy, identity.attributes) as PolicyDocument,
              policyArns: c.policyArns,
              sessionTags: Object.fromEntries(Object.entries(c.sessionTags).map(stryMutAct_9fa48("346") ? () => undefined : (stryCov_9fa48("346"), ([k, v]) => stryMutAct_9fa48("347") ? [] : (stryCov_9fa48("347"), [k, renderTagValue(v, identity.attributes)]))))
            });
            return stryMutAct_9fa48("348") ? {} : (stryCov_9fa48("348"), {
              allowed: stryMutAct_9fa48("349") ? false : (stryCov_9fa48("349"), true),
              ruleId: rule.id,
              reason: stryMutAct_9fa48("350") ? `` : (stryCov_9fa48("350"), `allowed by rule "${rule.id}"`),
              grant
            });
          }
        } catch (error) {
          if (stryMutAct_9fa48("351")) {
            {}
          } else {
            stryCov_9fa48("351");
            if (stryMutAct_9fa48("354") ? false : stryMutAct_9fa48("353") ? true : stryMutAct_9fa48("352") ? error instanceof MissingAttributeError : (stryCov_9fa48("352", "353", "354"), !(error instanceof MissingAttributeError))) throw error;
            missing.push(stryMutAct_9fa48("355") ? `` : (stryCov_9fa48("355"), `rule "${rule.id}" needs attribute "${error.attribute}"`));
          }
        }
      }
    }
    if (stryMutAct_9fa48("358") ? rules.length !== 0 : stryMutAct_9fa48("357") ? false : stryMutAct_9fa48("356") ? true : (stryCov_9fa48("356", "357", "358"), rules.length === 0)) return stryMutAct_9fa48("359") ? {} : (stryCov_9fa48("359"), {
      allowed: stryMutAct_9fa48("360") ? true : (stryCov_9fa48("360"), false),
      reason: stryMutAct_9fa48("361") ? `` : (stryCov_9fa48("361"), `no grant rule applies to caller ${identity.caller}`)
    });
    const why = (stryMutAct_9fa48("365") ? missing.length <= 0 : stryMutAct_9fa48("364") ? missing.length >= 0 : stryMutAct_9fa48("363") ? false : stryMutAct_9fa48("362") ? true : (stryCov_9fa48("362", "363", "364", "365"), missing.length > 0)) ? stryMutAct_9fa48("366") ? `` : (stryCov_9fa48("366"), `; ${missing.join(stryMutAct_9fa48("367") ? "" : (stryCov_9fa48("367"), '; '))}`) : stryMutAct_9fa48("368") ? "Stryker was here!" : (stryCov_9fa48("368"), '');
    return stryMutAct_9fa48("369") ? {} : (stryCov_9fa48("369"), {
      allowed: stryMutAct_9fa48("370") ? true : (stryCov_9fa48("370"), false),
      reason: stryMutAct_9fa48("371") ? `` : (stryCov_9fa48("371"), `no rule that applies to caller ${identity.caller} grants role ${roleArn} (applicable rules: ${rules.map(stryMutAct_9fa48("372") ? () => undefined : (stryCov_9fa48("372"), r => r.id)).join(stryMutAct_9fa48("373") ? "" : (stryCov_9fa48("373"), ', '))})${why}`)
    });
  }
}

/** A deny rule that names neither credentials nor certificates denies its callers everything. */
function deniesEverything(rule: GrantRule): boolean {
  if (stryMutAct_9fa48("374")) {
    {}
  } else {
    stryCov_9fa48("374");
    return stryMutAct_9fa48("377") ? rule.effect === 'deny' && rule.credentials === undefined || rule.certificates === undefined : stryMutAct_9fa48("376") ? false : stryMutAct_9fa48("375") ? true : (stryCov_9fa48("375", "376", "377"), (stryMutAct_9fa48("379") ? rule.effect === 'deny' || rule.credentials === undefined : stryMutAct_9fa48("378") ? true : (stryCov_9fa48("378", "379"), (stryMutAct_9fa48("381") ? rule.effect !== 'deny' : stryMutAct_9fa48("380") ? true : (stryCov_9fa48("380", "381"), rule.effect === (stryMutAct_9fa48("382") ? "" : (stryCov_9fa48("382"), 'deny')))) && (stryMutAct_9fa48("384") ? rule.credentials !== undefined : stryMutAct_9fa48("383") ? true : (stryCov_9fa48("383", "384"), rule.credentials === undefined)))) && (stryMutAct_9fa48("386") ? rule.certificates !== undefined : stryMutAct_9fa48("385") ? true : (stryCov_9fa48("385", "386"), rule.certificates === undefined)));
  }
}
export type CertificateDecision = {
  readonly allowed: true;
  readonly ruleId: string;
  readonly reason: string;
  readonly profile: CompiledProfile;
} | {
  readonly allowed: false;
  /** `grant_denied`: not granted or denied; `unknown_profile`: no rule defines it; `profile_required`: several granted, none named. */
  readonly code: 'grant_denied' | 'unknown_profile' | 'profile_required';
  readonly ruleId?: string;
  readonly reason: string;
  /** The profile names this caller may use, to help it ask again. */
  readonly granted: readonly string[];
};
function certificateDenyRule(rules: readonly GrantRule[], profileName: string): GrantRule | undefined {
  if (stryMutAct_9fa48("387")) {
    {}
  } else {
    stryCov_9fa48("387");
    return rules.find(stryMutAct_9fa48("388") ? () => undefined : (stryCov_9fa48("388"), rule => stryMutAct_9fa48("391") ? rule.effect === 'deny' || deniesEverything(rule) || (rule.certificates?.profiles.some(p => matchesGlob(p, profileName)) ?? false) : stryMutAct_9fa48("390") ? false : stryMutAct_9fa48("389") ? true : (stryCov_9fa48("389", "390", "391"), (stryMutAct_9fa48("393") ? rule.effect !== 'deny' : stryMutAct_9fa48("392") ? true : (stryCov_9fa48("392", "393"), rule.effect === (stryMutAct_9fa48("394") ? "" : (stryCov_9fa48("394"), 'deny')))) && (stryMutAct_9fa48("396") ? deniesEverything(rule) && (rule.certificates?.profiles.some(p => matchesGlob(p, profileName)) ?? false) : stryMutAct_9fa48("395") ? true : (stryCov_9fa48("395", "396"), deniesEverything(rule) || (stryMutAct_9fa48("397") ? rule.certificates?.profiles.some(p => matchesGlob(p, profileName)) && false : (stryCov_9fa48("397"), (stryMutAct_9fa48("399") ? rule.certificates.profiles.some(p => matchesGlob(p, profileName)) : stryMutAct_9fa48("398") ? rule.certificates?.profiles.every(p => matchesGlob(p, profileName)) : (stryCov_9fa48("398", "399"), rule.certificates?.profiles.some(stryMutAct_9fa48("400") ? () => undefined : (stryCov_9fa48("400"), p => matchesGlob(p, profileName))))) ?? (stryMutAct_9fa48("401") ? true : (stryCov_9fa48("401"), false)))))))));
  }
}

/** Profile names granted to this caller by allow rules and not withheld by a deny rule, in file order. */
export function grantedProfileNames(policy: GrantPolicy, identity: Identity): string[] {
  if (stryMutAct_9fa48("402")) {
    {}
  } else {
    stryCov_9fa48("402");
    const rules = rulesFor(policy, identity);
    const names = rules.flatMap(stryMutAct_9fa48("403") ? () => undefined : (stryCov_9fa48("403"), rule => (stryMutAct_9fa48("406") ? rule.effect === 'allow' || rule.certificates : stryMutAct_9fa48("405") ? false : stryMutAct_9fa48("404") ? true : (stryCov_9fa48("404", "405", "406"), (stryMutAct_9fa48("408") ? rule.effect !== 'allow' : stryMutAct_9fa48("407") ? true : (stryCov_9fa48("407", "408"), rule.effect === (stryMutAct_9fa48("409") ? "" : (stryCov_9fa48("409"), 'allow')))) && rule.certificates)) ? rule.certificates.profiles.map(stryMutAct_9fa48("410") ? () => undefined : (stryCov_9fa48("410"), p => p.name)) : stryMutAct_9fa48("411") ? ["Stryker was here"] : (stryCov_9fa48("411"), [])));
    return stryMutAct_9fa48("412") ? [...new Set(names)] : (stryCov_9fa48("412"), (stryMutAct_9fa48("413") ? [] : (stryCov_9fa48("413"), [...new Set(names)])).filter(stryMutAct_9fa48("414") ? () => undefined : (stryCov_9fa48("414"), name => stryMutAct_9fa48("417") ? certificateDenyRule(rules, name) !== undefined : stryMutAct_9fa48("416") ? false : stryMutAct_9fa48("415") ? true : (stryCov_9fa48("415", "416", "417"), certificateDenyRule(rules, name) === undefined))));
  }
}

/**
 * May this identity have a certificate from this profile? Same rules as credentials: an explicit
 * deny among the caller's rules wins; otherwise the first allow rule (file order) that defines the
 * profile, rendered for this caller, decides; otherwise deny. Without a profile name, the caller's
 * only granted profile is used (several: `profile_required`).
 */
export function evaluateCertificate(policy: GrantPolicy, identity: Identity, profileName: string | undefined): CertificateDecision {
  if (stryMutAct_9fa48("418")) {
    {}
  } else {
    stryCov_9fa48("418");
    const rules = rulesFor(policy, identity);
    const granted = grantedProfileNames(policy, identity);
    if (stryMutAct_9fa48("421") ? profileName !== undefined : stryMutAct_9fa48("420") ? false : stryMutAct_9fa48("419") ? true : (stryCov_9fa48("419", "420", "421"), profileName === undefined)) {
      if (stryMutAct_9fa48("422")) {
        {}
      } else {
        stryCov_9fa48("422");
        if (stryMutAct_9fa48("425") ? granted.length !== 1 : stryMutAct_9fa48("424") ? false : stryMutAct_9fa48("423") ? true : (stryCov_9fa48("423", "424", "425"), granted.length === 1)) return evaluateCertificate(policy, identity, granted[0]);
        if (stryMutAct_9fa48("428") ? granted.length !== 0 : stryMutAct_9fa48("427") ? false : stryMutAct_9fa48("426") ? true : (stryCov_9fa48("426", "427", "428"), granted.length === 0)) return stryMutAct_9fa48("429") ? {} : (stryCov_9fa48("429"), {
          allowed: stryMutAct_9fa48("430") ? true : (stryCov_9fa48("430"), false),
          code: stryMutAct_9fa48("431") ? "" : (stryCov_9fa48("431"), 'grant_denied'),
          reason: stryMutAct_9fa48("432") ? `` : (stryCov_9fa48("432"), `no rule grants caller ${identity.caller} any certificate profile`),
          granted
        });
        return stryMutAct_9fa48("433") ? {} : (stryCov_9fa48("433"), {
          allowed: stryMutAct_9fa48("434") ? true : (stryCov_9fa48("434"), false),
          code: stryMutAct_9fa48("435") ? "" : (stryCov_9fa48("435"), 'profile_required'),
          reason: stryMutAct_9fa48("436") ? `` : (stryCov_9fa48("436"), `several profiles are granted to you (${granted.join(stryMutAct_9fa48("437") ? "" : (stryCov_9fa48("437"), ', '))}); name one in "profile"`),
          granted
        });
      }
    }
    const defined = stryMutAct_9fa48("438") ? policy.rules.every(rule => rule.effect === 'allow' && rule.certificates?.profiles.some(p => p.name === profileName)) : (stryCov_9fa48("438"), policy.rules.some(stryMutAct_9fa48("439") ? () => undefined : (stryCov_9fa48("439"), rule => stryMutAct_9fa48("442") ? rule.effect === 'allow' || rule.certificates?.profiles.some(p => p.name === profileName) : stryMutAct_9fa48("441") ? false : stryMutAct_9fa48("440") ? true : (stryCov_9fa48("440", "441", "442"), (stryMutAct_9fa48("444") ? rule.effect !== 'allow' : stryMutAct_9fa48("443") ? true : (stryCov_9fa48("443", "444"), rule.effect === (stryMutAct_9fa48("445") ? "" : (stryCov_9fa48("445"), 'allow')))) && (stryMutAct_9fa48("447") ? rule.certificates.profiles.some(p => p.name === profileName) : stryMutAct_9fa48("446") ? rule.certificates?.profiles.every(p => p.name === profileName) : (stryCov_9fa48("446", "447"), rule.certificates?.profiles.some(stryMutAct_9fa48("448") ? () => undefined : (stryCov_9fa48("448"), p => stryMutAct_9fa48("451") ? p.name !== profileName : stryMutAct_9fa48("450") ? false : stryMutAct_9fa48("449") ? true : (stryCov_9fa48("449", "450", "451"), p.name === profileName)))))))));
    if (stryMutAct_9fa48("454") ? false : stryMutAct_9fa48("453") ? true : stryMutAct_9fa48("452") ? defined : (stryCov_9fa48("452", "453", "454"), !defined)) return stryMutAct_9fa48("455") ? {} : (stryCov_9fa48("455"), {
      allowed: stryMutAct_9fa48("456") ? true : (stryCov_9fa48("456"), false),
      code: stryMutAct_9fa48("457") ? "" : (stryCov_9fa48("457"), 'unknown_profile'),
      reason: stryMutAct_9fa48("458") ? `` : (stryCov_9fa48("458"), `no certificate profile is named "${profileName}"`),
      granted
    });
    const deny = certificateDenyRule(rules, profileName);
    if (stryMutAct_9fa48("460") ? false : stryMutAct_9fa48("459") ? true : (stryCov_9fa48("459", "460"), deny)) return stryMutAct_9fa48("461") ? {} : (stryCov_9fa48("461"), {
      allowed: stryMutAct_9fa48("462") ? true : (stryCov_9fa48("462"), false),
      code: stryMutAct_9fa48("463") ? "" : (stryCov_9fa48("463"), 'grant_denied'),
      ruleId: deny.id,
      reason: stryMutAct_9fa48("464") ? `` : (stryCov_9fa48("464"), `denied by rule "${deny.id}"`),
      granted
    });
    const missing: string[] = stryMutAct_9fa48("465") ? ["Stryker was here"] : (stryCov_9fa48("465"), []);
    for (const rule of rules) {
      if (stryMutAct_9fa48("466")) {
        {}
      } else {
        stryCov_9fa48("466");
        if (stryMutAct_9fa48("469") ? rule.effect !== 'allow' && !rule.certificates : stryMutAct_9fa48("468") ? false : stryMutAct_9fa48("467") ? true : (stryCov_9fa48("467", "468", "469"), (stryMutAct_9fa48("471") ? rule.effect === 'allow' : stryMutAct_9fa48("470") ? false : (stryCov_9fa48("470", "471"), rule.effect !== (stryMutAct_9fa48("472") ? "" : (stryCov_9fa48("472"), 'allow')))) || (stryMutAct_9fa48("473") ? rule.certificates : (stryCov_9fa48("473"), !rule.certificates)))) continue;
        const profile = rule.certificates.profiles.find(stryMutAct_9fa48("474") ? () => undefined : (stryCov_9fa48("474"), p => stryMutAct_9fa48("477") ? p.name !== profileName : stryMutAct_9fa48("476") ? false : stryMutAct_9fa48("475") ? true : (stryCov_9fa48("475", "476", "477"), p.name === profileName)));
        if (stryMutAct_9fa48("480") ? false : stryMutAct_9fa48("479") ? true : stryMutAct_9fa48("478") ? profile : (stryCov_9fa48("478", "479", "480"), !profile)) continue;
        try {
          if (stryMutAct_9fa48("481")) {
            {}
          } else {
            stryCov_9fa48("481");
            return stryMutAct_9fa48("482") ? {} : (stryCov_9fa48("482"), {
              allowed: stryMutAct_9fa48("483") ? false : (stryCov_9fa48("483"), true),
              ruleId: rule.id,
              reason: stryMutAct_9fa48("484") ? `` : (stryCov_9fa48("484"), `allowed by rule "${rule.id}"`),
              profile: compileProfile(profile, identity.attributes)
            });
          }
        } catch (error) {
          if (stryMutAct_9fa48("485")) {
            {}
          } else {
            stryCov_9fa48("485");
            if (stryMutAct_9fa48("488") ? false : stryMutAct_9fa48("487") ? true : stryMutAct_9fa48("486") ? error instanceof MissingAttributeError : (stryCov_9fa48("486", "487", "488"), !(error instanceof MissingAttributeError))) throw error;
            missing.push(stryMutAct_9fa48("489") ? `` : (stryCov_9fa48("489"), `rule "${rule.id}" needs attribute "${error.attribute}"`));
          }
        }
      }
    }
    const why = (stryMutAct_9fa48("493") ? missing.length <= 0 : stryMutAct_9fa48("492") ? missing.length >= 0 : stryMutAct_9fa48("491") ? false : stryMutAct_9fa48("490") ? true : (stryCov_9fa48("490", "491", "492", "493"), missing.length > 0)) ? stryMutAct_9fa48("494") ? `` : (stryCov_9fa48("494"), `; ${missing.join(stryMutAct_9fa48("495") ? "" : (stryCov_9fa48("495"), '; '))}`) : stryMutAct_9fa48("496") ? "Stryker was here!" : (stryCov_9fa48("496"), '');
    if (stryMutAct_9fa48("499") ? rules.length !== 0 : stryMutAct_9fa48("498") ? false : stryMutAct_9fa48("497") ? true : (stryCov_9fa48("497", "498", "499"), rules.length === 0)) return stryMutAct_9fa48("500") ? {} : (stryCov_9fa48("500"), {
      allowed: stryMutAct_9fa48("501") ? true : (stryCov_9fa48("501"), false),
      code: stryMutAct_9fa48("502") ? "" : (stryCov_9fa48("502"), 'grant_denied'),
      reason: stryMutAct_9fa48("503") ? `` : (stryCov_9fa48("503"), `no grant rule applies to caller ${identity.caller}`),
      granted
    });
    return stryMutAct_9fa48("504") ? {} : (stryCov_9fa48("504"), {
      allowed: stryMutAct_9fa48("505") ? true : (stryCov_9fa48("505"), false),
      code: stryMutAct_9fa48("506") ? "" : (stryCov_9fa48("506"), 'grant_denied'),
      reason: stryMutAct_9fa48("507") ? `` : (stryCov_9fa48("507"), `no rule that applies to caller ${identity.caller} grants profile "${profileName}" (applicable rules: ${rules.map(stryMutAct_9fa48("508") ? () => undefined : (stryCov_9fa48("508"), r => r.id)).join(stryMutAct_9fa48("509") ? "" : (stryCov_9fa48("509"), ', '))})${why}`),
      granted
    });
  }
}

/** What `GET /v1/whoami` shows: the rules that apply to this caller, rendered for it. */
export interface RuleSummary {
  readonly id: string;
  readonly effect: 'allow' | 'deny';
  readonly description?: string;
  readonly roles?: readonly string[];
  readonly maxDurationSeconds?: number;
  /** Certificate profiles the rule grants (allow) or withholds (deny). */
  readonly profiles?: readonly string[];
  readonly admin?: boolean;
}
export function explainRules(policy: GrantPolicy, identity: Identity): RuleSummary[] {
  if (stryMutAct_9fa48("510")) {
    {}
  } else {
    stryCov_9fa48("510");
    return rulesFor(policy, identity).map(rule => {
      if (stryMutAct_9fa48("511")) {
        {}
      } else {
        stryCov_9fa48("511");
        const roles = stryMutAct_9fa48("512") ? rule.credentials.roles.map(t => {
          try {
            return renderRoleText(t, identity.attributes);
          } catch (error) {
            if (error instanceof MissingAttributeError) return `${t} (needs attribute "${error.attribute}")`;
            if (error instanceof InvalidClaimError) return `${t} (attribute "${error.claim}" cannot be used: ${error.reason})`;
            throw error;
          }
        }) : (stryCov_9fa48("512"), rule.credentials?.roles.map(t => {
          if (stryMutAct_9fa48("513")) {
            {}
          } else {
            stryCov_9fa48("513");
            try {
              if (stryMutAct_9fa48("514")) {
                {}
              } else {
                stryCov_9fa48("514");
                return renderRoleText(t, identity.attributes);
              }
            } catch (error) {
              if (stryMutAct_9fa48("515")) {
                {}
              } else {
                stryCov_9fa48("515");
                if (stryMutAct_9fa48("517") ? false : stryMutAct_9fa48("516") ? true : (stryCov_9fa48("516", "517"), error instanceof MissingAttributeError)) return stryMutAct_9fa48("518") ? `` : (stryCov_9fa48("518"), `${t} (needs attribute "${error.attribute}")`);
                if (stryMutAct_9fa48("520") ? false : stryMutAct_9fa48("519") ? true : (stryCov_9fa48("519", "520"), error instanceof InvalidClaimError)) return stryMutAct_9fa48("521") ? `` : (stryCov_9fa48("521"), `${t} (attribute "${error.claim}" cannot be used: ${error.reason})`);
                throw error;
              }
            }
          }
        }));
        return stryMutAct_9fa48("522") ? {} : (stryCov_9fa48("522"), {
          id: rule.id,
          effect: rule.effect,
          ...(rule.description ? stryMutAct_9fa48("523") ? {} : (stryCov_9fa48("523"), {
            description: rule.description
          }) : {}),
          ...(roles ? stryMutAct_9fa48("524") ? {} : (stryCov_9fa48("524"), {
            roles
          }) : {}),
          ...((stryMutAct_9fa48("527") ? rule.effect === 'allow' || rule.credentials : stryMutAct_9fa48("526") ? false : stryMutAct_9fa48("525") ? true : (stryCov_9fa48("525", "526", "527"), (stryMutAct_9fa48("529") ? rule.effect !== 'allow' : stryMutAct_9fa48("528") ? true : (stryCov_9fa48("528", "529"), rule.effect === (stryMutAct_9fa48("530") ? "" : (stryCov_9fa48("530"), 'allow')))) && rule.credentials)) ? stryMutAct_9fa48("531") ? {} : (stryCov_9fa48("531"), {
            maxDurationSeconds: rule.credentials.maxDurationSeconds
          }) : {}),
          ...((stryMutAct_9fa48("534") ? rule.effect === 'allow' || rule.certificates : stryMutAct_9fa48("533") ? false : stryMutAct_9fa48("532") ? true : (stryCov_9fa48("532", "533", "534"), (stryMutAct_9fa48("536") ? rule.effect !== 'allow' : stryMutAct_9fa48("535") ? true : (stryCov_9fa48("535", "536"), rule.effect === (stryMutAct_9fa48("537") ? "" : (stryCov_9fa48("537"), 'allow')))) && rule.certificates)) ? stryMutAct_9fa48("538") ? {} : (stryCov_9fa48("538"), {
            profiles: rule.certificates.profiles.map(stryMutAct_9fa48("539") ? () => undefined : (stryCov_9fa48("539"), p => p.name))
          }) : {}),
          ...((stryMutAct_9fa48("542") ? rule.effect === 'deny' || rule.certificates : stryMutAct_9fa48("541") ? false : stryMutAct_9fa48("540") ? true : (stryCov_9fa48("540", "541", "542"), (stryMutAct_9fa48("544") ? rule.effect !== 'deny' : stryMutAct_9fa48("543") ? true : (stryCov_9fa48("543", "544"), rule.effect === (stryMutAct_9fa48("545") ? "" : (stryCov_9fa48("545"), 'deny')))) && rule.certificates)) ? stryMutAct_9fa48("546") ? {} : (stryCov_9fa48("546"), {
            profiles: rule.certificates.profiles
          }) : {}),
          ...((stryMutAct_9fa48("549") ? rule.effect === 'allow' || rule.admin : stryMutAct_9fa48("548") ? false : stryMutAct_9fa48("547") ? true : (stryCov_9fa48("547", "548", "549"), (stryMutAct_9fa48("551") ? rule.effect !== 'allow' : stryMutAct_9fa48("550") ? true : (stryCov_9fa48("550", "551"), rule.effect === (stryMutAct_9fa48("552") ? "" : (stryCov_9fa48("552"), 'allow')))) && rule.admin)) ? stryMutAct_9fa48("553") ? {} : (stryCov_9fa48("553"), {
            admin: stryMutAct_9fa48("554") ? false : (stryCov_9fa48("554"), true)
          }) : {})
        });
      }
    });
  }
}
export function isAdmin(policy: GrantPolicy, identity: Identity): boolean {
  if (stryMutAct_9fa48("555")) {
    {}
  } else {
    stryCov_9fa48("555");
    const rules = rulesFor(policy, identity);
    if (stryMutAct_9fa48("558") ? rules.every(deniesEverything) : stryMutAct_9fa48("557") ? false : stryMutAct_9fa48("556") ? true : (stryCov_9fa48("556", "557", "558"), rules.some(deniesEverything))) return stryMutAct_9fa48("559") ? true : (stryCov_9fa48("559"), false);
    return stryMutAct_9fa48("560") ? rules.every(r => r.effect === 'allow' && r.admin) : (stryCov_9fa48("560"), rules.some(stryMutAct_9fa48("561") ? () => undefined : (stryCov_9fa48("561"), r => stryMutAct_9fa48("564") ? r.effect === 'allow' || r.admin : stryMutAct_9fa48("563") ? false : stryMutAct_9fa48("562") ? true : (stryCov_9fa48("562", "563", "564"), (stryMutAct_9fa48("566") ? r.effect !== 'allow' : stryMutAct_9fa48("565") ? true : (stryCov_9fa48("565", "566"), r.effect === (stryMutAct_9fa48("567") ? "" : (stryCov_9fa48("567"), 'allow')))) && r.admin))));
  }
}