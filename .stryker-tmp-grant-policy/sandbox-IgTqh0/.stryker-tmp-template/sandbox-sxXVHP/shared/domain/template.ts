// @ts-nocheck
// 
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
import { AccessDeniedError } from './errors';
import { ANY, CompiledCache, globOf, literalUnits, ONE, type Glob, type GlobUnit } from './glob';
import { ROLE_LIMITS, ROLE_NAME_CHARS } from './identity';

/**
 * Grant templates: `${name}` substitution from a caller's identity attributes, the one
 * templating module (grant-policy.ts and certificate-profile.ts render through it).
 *
 * A template is parsed once into tokens: literal text, `*`, `?` (where the target is a pattern)
 * and `${attribute}`. Rendering for a caller keeps template text, wildcards and substituted values
 * apart, so a value is always literal: nothing in a claim can become a wildcard, a separator or
 * a placeholder, and no marker characters are involved. Each target grammar then checks that the
 * rendered result has the structure the template gave it, or refuses the claim (`invalid_claim`).
 *
 * Invariants, for every value substituted anywhere:
 * - it is non-empty, at most 256 characters, and has no control character (C0, DEL, C1);
 * - in a role ARN: it uses only IAM's name characters `[A-Za-z0-9_+=,.@-]` (so no `/`, `:`, `*`,
 *   `?`), is not `.` or `..`, and the rendered ARN's account, path segments and name stay valid;
 * - in an IAM policy string: `*`, `?` and `$` are written `${*}`, `${?}`, `${$}`; in a
 *   `Resource`/`NotResource` ARN it has no `/` or `:` and is not `.` or `..`;
 * - in a session tag value: the rendered value uses STS's tag characters, at most 256;
 * - in certificate names: see certificate-profile.ts (one DNS label, one URI segment, an address).
 *
 * Names are `[A-Za-z_][A-Za-z0-9_]*`, so IAM policy variables such as `${aws:PrincipalTag/team}`
 * pass through untouched.
 */
const PLACEHOLDER = stryMutAct_9fa48("2") ? /\$\{([A-Za-z_][^A-Za-z0-9_]*)\}/g : stryMutAct_9fa48("1") ? /\$\{([A-Za-z_][A-Za-z0-9_])\}/g : stryMutAct_9fa48("0") ? /\$\{([^A-Za-z_][A-Za-z0-9_]*)\}/g : (stryCov_9fa48("0", "1", "2"), /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g);
export type Attributes = Readonly<Record<string, string>>;
export class MissingAttributeError extends Error {
  constructor(readonly attribute: string) {
    super(stryMutAct_9fa48("3") ? `` : (stryCov_9fa48("3"), `attribute "${attribute}" is not present in the caller's identity`));
  }
}

/**
 * A caller's attribute (claim) cannot stand where a grant template puts it (HTTP 403): it would
 * change the structure of what the template renders. The value itself is never echoed.
 */
export class InvalidClaimError extends AccessDeniedError {
  constructor(readonly claim: string, readonly reason: string) {
    super(stryMutAct_9fa48("4") ? "" : (stryCov_9fa48("4"), 'invalid_claim'), stryMutAct_9fa48("5") ? `` : (stryCov_9fa48("5"), `Your identity's "${claim}" attribute cannot be used by this grant: ${reason}.`), stryMutAct_9fa48("6") ? {} : (stryCov_9fa48("6"), {
      details: stryMutAct_9fa48("7") ? {} : (stryCov_9fa48("7"), {
        claim,
        reason
      })
    }));
  }
}
export const MAX_VALUE_LENGTH = 256;
const CONTROL = stryMutAct_9fa48("8") ? /\P{Cc}/u : (stryCov_9fa48("8"), /\p{Cc}/u);
export type TemplateToken = {
  readonly kind: 'text';
  readonly text: string;
} | {
  readonly kind: 'any';
} | {
  readonly kind: 'one';
} | {
  readonly kind: 'attribute';
  readonly name: string;
};

/** A template rendered for one caller: template text, wildcards and substituted values, kept apart. */
export type RenderedToken = {
  readonly kind: 'text';
  readonly text: string;
} | {
  readonly kind: 'value';
  readonly text: string;
  readonly claim: string;
} | {
  readonly kind: 'any';
} | {
  readonly kind: 'one';
};
const patternTemplates = new CompiledCache<readonly TemplateToken[]>();
const textTemplates = new CompiledCache<readonly TemplateToken[]>();

/**
 * Parses a template once (cached). With `wildcards`, `*` and `?` in the template's own text are
 * wildcard tokens; without, they are text.
 */
export function parseTemplate(template: string, wildcards = stryMutAct_9fa48("9") ? true : (stryCov_9fa48("9"), false)): readonly TemplateToken[] {
  if (stryMutAct_9fa48("10")) {
    {}
  } else {
    stryCov_9fa48("10");
    return (wildcards ? patternTemplates : textTemplates).get(template, () => {
      if (stryMutAct_9fa48("11")) {
        {}
      } else {
        stryCov_9fa48("11");
        const tokens: TemplateToken[] = stryMutAct_9fa48("12") ? ["Stryker was here"] : (stryCov_9fa48("12"), []);
        const text = (chunk: string) => {
          if (stryMutAct_9fa48("13")) {
            {}
          } else {
            stryCov_9fa48("13");
            if (stryMutAct_9fa48("16") ? false : stryMutAct_9fa48("15") ? true : stryMutAct_9fa48("14") ? wildcards : (stryCov_9fa48("14", "15", "16"), !wildcards)) {
              if (stryMutAct_9fa48("17")) {
                {}
              } else {
                stryCov_9fa48("17");
                if (stryMutAct_9fa48("19") ? false : stryMutAct_9fa48("18") ? true : (stryCov_9fa48("18", "19"), chunk)) tokens.push(stryMutAct_9fa48("20") ? {} : (stryCov_9fa48("20"), {
                  kind: stryMutAct_9fa48("21") ? "" : (stryCov_9fa48("21"), 'text'),
                  text: chunk
                }));
                return;
              }
            }
            for (const part of chunk.split(stryMutAct_9fa48("22") ? /([^*?])/ : (stryCov_9fa48("22"), /([*?])/))) {
              if (stryMutAct_9fa48("23")) {
                {}
              } else {
                stryCov_9fa48("23");
                if (stryMutAct_9fa48("26") ? part !== '*' : stryMutAct_9fa48("25") ? false : stryMutAct_9fa48("24") ? true : (stryCov_9fa48("24", "25", "26"), part === (stryMutAct_9fa48("27") ? "" : (stryCov_9fa48("27"), '*')))) tokens.push(stryMutAct_9fa48("28") ? {} : (stryCov_9fa48("28"), {
                  kind: stryMutAct_9fa48("29") ? "" : (stryCov_9fa48("29"), 'any')
                }));else if (stryMutAct_9fa48("32") ? part !== '?' : stryMutAct_9fa48("31") ? false : stryMutAct_9fa48("30") ? true : (stryCov_9fa48("30", "31", "32"), part === (stryMutAct_9fa48("33") ? "" : (stryCov_9fa48("33"), '?')))) tokens.push(stryMutAct_9fa48("34") ? {} : (stryCov_9fa48("34"), {
                  kind: stryMutAct_9fa48("35") ? "" : (stryCov_9fa48("35"), 'one')
                }));else if (stryMutAct_9fa48("37") ? false : stryMutAct_9fa48("36") ? true : (stryCov_9fa48("36", "37"), part)) tokens.push(stryMutAct_9fa48("38") ? {} : (stryCov_9fa48("38"), {
                  kind: stryMutAct_9fa48("39") ? "" : (stryCov_9fa48("39"), 'text'),
                  text: part
                }));
              }
            }
          }
        };
        let last = 0;
        for (const match of template.matchAll(PLACEHOLDER)) {
          if (stryMutAct_9fa48("40")) {
            {}
          } else {
            stryCov_9fa48("40");
            text(stryMutAct_9fa48("41") ? template : (stryCov_9fa48("41"), template.slice(last, match.index)));
            tokens.push(stryMutAct_9fa48("42") ? {} : (stryCov_9fa48("42"), {
              kind: stryMutAct_9fa48("43") ? "" : (stryCov_9fa48("43"), 'attribute'),
              name: match[1] as string
            }));
            last = stryMutAct_9fa48("44") ? match.index - match[0].length : (stryCov_9fa48("44"), match.index + match[0].length);
          }
        }
        text(stryMutAct_9fa48("45") ? template : (stryCov_9fa48("45"), template.slice(last)));
        return tokens;
      }
    });
  }
}
export function placeholdersIn(template: string): string[] {
  if (stryMutAct_9fa48("46")) {
    {}
  } else {
    stryCov_9fa48("46");
    return parseTemplate(template).flatMap(stryMutAct_9fa48("47") ? () => undefined : (stryCov_9fa48("47"), t => (stryMutAct_9fa48("50") ? t.kind !== 'attribute' : stryMutAct_9fa48("49") ? false : stryMutAct_9fa48("48") ? true : (stryCov_9fa48("48", "49", "50"), t.kind === (stryMutAct_9fa48("51") ? "" : (stryCov_9fa48("51"), 'attribute')))) ? stryMutAct_9fa48("52") ? [] : (stryCov_9fa48("52"), [t.name]) : stryMutAct_9fa48("53") ? ["Stryker was here"] : (stryCov_9fa48("53"), [])));
  }
}

/**
 * Substitutes the caller's attributes. Throws MissingAttributeError for an absent attribute and
 * InvalidClaimError for a value that is empty, too long or has a control character.
 */
export function renderTokens(template: string, attributes: Attributes, wildcards = stryMutAct_9fa48("54") ? true : (stryCov_9fa48("54"), false)): RenderedToken[] {
  if (stryMutAct_9fa48("55")) {
    {}
  } else {
    stryCov_9fa48("55");
    return parseTemplate(template, wildcards).map(token => {
      if (stryMutAct_9fa48("56")) {
        {}
      } else {
        stryCov_9fa48("56");
        if (stryMutAct_9fa48("59") ? token.kind === 'attribute' : stryMutAct_9fa48("58") ? false : stryMutAct_9fa48("57") ? true : (stryCov_9fa48("57", "58", "59"), token.kind !== (stryMutAct_9fa48("60") ? "" : (stryCov_9fa48("60"), 'attribute')))) return token;
        const value = attributes[token.name];
        if (stryMutAct_9fa48("63") ? value !== undefined : stryMutAct_9fa48("62") ? false : stryMutAct_9fa48("61") ? true : (stryCov_9fa48("61", "62", "63"), value === undefined)) throw new MissingAttributeError(token.name);
        if (stryMutAct_9fa48("66") ? value !== '' : stryMutAct_9fa48("65") ? false : stryMutAct_9fa48("64") ? true : (stryCov_9fa48("64", "65", "66"), value === (stryMutAct_9fa48("67") ? "Stryker was here!" : (stryCov_9fa48("67"), '')))) throw new InvalidClaimError(token.name, stryMutAct_9fa48("68") ? "" : (stryCov_9fa48("68"), 'it is empty'));
        if (stryMutAct_9fa48("72") ? value.length <= MAX_VALUE_LENGTH : stryMutAct_9fa48("71") ? value.length >= MAX_VALUE_LENGTH : stryMutAct_9fa48("70") ? false : stryMutAct_9fa48("69") ? true : (stryCov_9fa48("69", "70", "71", "72"), value.length > MAX_VALUE_LENGTH)) throw new InvalidClaimError(token.name, stryMutAct_9fa48("73") ? `` : (stryCov_9fa48("73"), `it is longer than ${MAX_VALUE_LENGTH} characters`));
        if (stryMutAct_9fa48("75") ? false : stryMutAct_9fa48("74") ? true : (stryCov_9fa48("74", "75"), CONTROL.test(value))) throw new InvalidClaimError(token.name, stryMutAct_9fa48("76") ? "" : (stryCov_9fa48("76"), 'it contains a control character'));
        return stryMutAct_9fa48("77") ? {} : (stryCov_9fa48("77"), {
          kind: stryMutAct_9fa48("78") ? "" : (stryCov_9fa48("78"), 'value'),
          text: value,
          claim: token.name
        });
      }
    });
  }
}

/** The rendered text, wildcards written as `*` and `?` (substituted values as they are). */
export function textOf(tokens: readonly RenderedToken[]): string {
  if (stryMutAct_9fa48("79")) {
    {}
  } else {
    stryCov_9fa48("79");
    return tokens.map(stryMutAct_9fa48("80") ? () => undefined : (stryCov_9fa48("80"), t => (stryMutAct_9fa48("83") ? t.kind !== 'any' : stryMutAct_9fa48("82") ? false : stryMutAct_9fa48("81") ? true : (stryCov_9fa48("81", "82", "83"), t.kind === (stryMutAct_9fa48("84") ? "" : (stryCov_9fa48("84"), 'any')))) ? stryMutAct_9fa48("85") ? "" : (stryCov_9fa48("85"), '*') : (stryMutAct_9fa48("88") ? t.kind !== 'one' : stryMutAct_9fa48("87") ? false : stryMutAct_9fa48("86") ? true : (stryCov_9fa48("86", "87", "88"), t.kind === (stryMutAct_9fa48("89") ? "" : (stryCov_9fa48("89"), 'one')))) ? stryMutAct_9fa48("90") ? "" : (stryCov_9fa48("90"), '?') : t.text)).join(stryMutAct_9fa48("91") ? "Stryker was here!" : (stryCov_9fa48("91"), ''));
  }
}

/** Compiles rendered tokens: wildcard tokens are wildcards, every character of text and values literal. */
export function globOfTokens(tokens: readonly RenderedToken[], options: {
  caseInsensitive?: boolean;
  separator?: string;
} = {}): Glob {
  if (stryMutAct_9fa48("92")) {
    {}
  } else {
    stryCov_9fa48("92");
    const units: GlobUnit[] = stryMutAct_9fa48("93") ? ["Stryker was here"] : (stryCov_9fa48("93"), []);
    for (const t of tokens) {
      if (stryMutAct_9fa48("94")) {
        {}
      } else {
        stryCov_9fa48("94");
        if (stryMutAct_9fa48("97") ? t.kind !== 'any' : stryMutAct_9fa48("96") ? false : stryMutAct_9fa48("95") ? true : (stryCov_9fa48("95", "96", "97"), t.kind === (stryMutAct_9fa48("98") ? "" : (stryCov_9fa48("98"), 'any')))) units.push(ANY);else if (stryMutAct_9fa48("101") ? t.kind !== 'one' : stryMutAct_9fa48("100") ? false : stryMutAct_9fa48("99") ? true : (stryCov_9fa48("99", "100", "101"), t.kind === (stryMutAct_9fa48("102") ? "" : (stryCov_9fa48("102"), 'one')))) units.push(ONE);else units.push(...literalUnits(t.text));
      }
    }
    return globOf(units, options);
  }
}

/** Refuses the first substituted value that does not fit `allowed` (or is `.`/`..` when `noDots`). */
export function checkValues(tokens: readonly RenderedToken[], allowed: RegExp, rule: string, noDots = stryMutAct_9fa48("103") ? false : (stryCov_9fa48("103"), true)): void {
  if (stryMutAct_9fa48("104")) {
    {}
  } else {
    stryCov_9fa48("104");
    for (const t of tokens) {
      if (stryMutAct_9fa48("105")) {
        {}
      } else {
        stryCov_9fa48("105");
        if (stryMutAct_9fa48("108") ? t.kind === 'value' : stryMutAct_9fa48("107") ? false : stryMutAct_9fa48("106") ? true : (stryCov_9fa48("106", "107", "108"), t.kind !== (stryMutAct_9fa48("109") ? "" : (stryCov_9fa48("109"), 'value')))) continue;
        if (stryMutAct_9fa48("112") ? false : stryMutAct_9fa48("111") ? true : stryMutAct_9fa48("110") ? allowed.test(t.text) : (stryCov_9fa48("110", "111", "112"), !allowed.test(t.text))) throw new InvalidClaimError(t.claim, rule);
        if (stryMutAct_9fa48("115") ? noDots || t.text === '.' || t.text === '..' : stryMutAct_9fa48("114") ? false : stryMutAct_9fa48("113") ? true : (stryCov_9fa48("113", "114", "115"), noDots && (stryMutAct_9fa48("117") ? t.text === '.' && t.text === '..' : stryMutAct_9fa48("116") ? true : (stryCov_9fa48("116", "117"), (stryMutAct_9fa48("119") ? t.text !== '.' : stryMutAct_9fa48("118") ? false : (stryCov_9fa48("118", "119"), t.text === (stryMutAct_9fa48("120") ? "" : (stryCov_9fa48("120"), '.')))) || (stryMutAct_9fa48("122") ? t.text !== '..' : stryMutAct_9fa48("121") ? false : (stryCov_9fa48("121", "122"), t.text === (stryMutAct_9fa48("123") ? "" : (stryCov_9fa48("123"), '..')))))))) throw new InvalidClaimError(t.claim, stryMutAct_9fa48("124") ? "" : (stryCov_9fa48("124"), 'it is "." or "..", which would be a dot segment'));
      }
    }
  }
}

/**
 * A rendered result cut into parts by separator characters of the template's own text (values
 * never contain them: the grammar's `checkValues` refuses that first). Each part knows the first
 * claim inside it, so a problem with the part can name the claim.
 */
export interface RenderedPart {
  readonly text: string;
  readonly wildcard: boolean;
  /** Characters that are not wildcards. */
  readonly literalLength: number;
  readonly claim?: string;
}
export function partsOf(tokens: readonly RenderedToken[], separators: string): RenderedPart[] {
  if (stryMutAct_9fa48("125")) {
    {}
  } else {
    stryCov_9fa48("125");
    const parts: RenderedPart[] = stryMutAct_9fa48("126") ? ["Stryker was here"] : (stryCov_9fa48("126"), []);
    let current = stryMutAct_9fa48("127") ? {} : (stryCov_9fa48("127"), {
      text: stryMutAct_9fa48("128") ? "Stryker was here!" : (stryCov_9fa48("128"), ''),
      wildcard: stryMutAct_9fa48("129") ? true : (stryCov_9fa48("129"), false),
      literalLength: 0,
      claim: undefined as string | undefined
    });
    const close = () => {
      if (stryMutAct_9fa48("130")) {
        {}
      } else {
        stryCov_9fa48("130");
        parts.push((stryMutAct_9fa48("133") ? current.claim !== undefined : stryMutAct_9fa48("132") ? false : stryMutAct_9fa48("131") ? true : (stryCov_9fa48("131", "132", "133"), current.claim === undefined)) ? stryMutAct_9fa48("134") ? {} : (stryCov_9fa48("134"), {
          text: current.text,
          wildcard: current.wildcard,
          literalLength: current.literalLength
        }) : stryMutAct_9fa48("135") ? {} : (stryCov_9fa48("135"), {
          ...current
        }));
        current = stryMutAct_9fa48("136") ? {} : (stryCov_9fa48("136"), {
          text: stryMutAct_9fa48("137") ? "Stryker was here!" : (stryCov_9fa48("137"), ''),
          wildcard: stryMutAct_9fa48("138") ? true : (stryCov_9fa48("138"), false),
          literalLength: 0,
          claim: undefined
        });
      }
    };
    for (const t of tokens) {
      if (stryMutAct_9fa48("139")) {
        {}
      } else {
        stryCov_9fa48("139");
        if (stryMutAct_9fa48("142") ? t.kind === 'any' && t.kind === 'one' : stryMutAct_9fa48("141") ? false : stryMutAct_9fa48("140") ? true : (stryCov_9fa48("140", "141", "142"), (stryMutAct_9fa48("144") ? t.kind !== 'any' : stryMutAct_9fa48("143") ? false : (stryCov_9fa48("143", "144"), t.kind === (stryMutAct_9fa48("145") ? "" : (stryCov_9fa48("145"), 'any')))) || (stryMutAct_9fa48("147") ? t.kind !== 'one' : stryMutAct_9fa48("146") ? false : (stryCov_9fa48("146", "147"), t.kind === (stryMutAct_9fa48("148") ? "" : (stryCov_9fa48("148"), 'one')))))) {
          if (stryMutAct_9fa48("149")) {
            {}
          } else {
            stryCov_9fa48("149");
            stryMutAct_9fa48("150") ? current.text -= t.kind === 'any' ? '*' : '?' : (stryCov_9fa48("150"), current.text += (stryMutAct_9fa48("153") ? t.kind !== 'any' : stryMutAct_9fa48("152") ? false : stryMutAct_9fa48("151") ? true : (stryCov_9fa48("151", "152", "153"), t.kind === (stryMutAct_9fa48("154") ? "" : (stryCov_9fa48("154"), 'any')))) ? stryMutAct_9fa48("155") ? "" : (stryCov_9fa48("155"), '*') : stryMutAct_9fa48("156") ? "" : (stryCov_9fa48("156"), '?'));
            current.wildcard = stryMutAct_9fa48("157") ? false : (stryCov_9fa48("157"), true);
            continue;
          }
        }
        if (stryMutAct_9fa48("160") ? t.kind !== 'value' : stryMutAct_9fa48("159") ? false : stryMutAct_9fa48("158") ? true : (stryCov_9fa48("158", "159", "160"), t.kind === (stryMutAct_9fa48("161") ? "" : (stryCov_9fa48("161"), 'value')))) {
          if (stryMutAct_9fa48("162")) {
            {}
          } else {
            stryCov_9fa48("162");
            stryMutAct_9fa48("163") ? current.text -= t.text : (stryCov_9fa48("163"), current.text += t.text);
            stryMutAct_9fa48("164") ? current.literalLength -= t.text.length : (stryCov_9fa48("164"), current.literalLength += t.text.length);
            stryMutAct_9fa48("165") ? current.claim &&= t.claim : (stryCov_9fa48("165"), current.claim ??= t.claim);
            continue;
          }
        }
        for (const ch of t.text) {
          if (stryMutAct_9fa48("166")) {
            {}
          } else {
            stryCov_9fa48("166");
            if (stryMutAct_9fa48("168") ? false : stryMutAct_9fa48("167") ? true : (stryCov_9fa48("167", "168"), separators.includes(ch))) {
              if (stryMutAct_9fa48("169")) {
                {}
              } else {
                stryCov_9fa48("169");
                close();
              }
            } else {
              if (stryMutAct_9fa48("170")) {
                {}
              } else {
                stryCov_9fa48("170");
                stryMutAct_9fa48("171") ? current.text -= ch : (stryCov_9fa48("171"), current.text += ch);
                stryMutAct_9fa48("172") ? current.literalLength-- : (stryCov_9fa48("172"), current.literalLength++);
              }
            }
          }
        }
      }
    }
    close();
    return parts;
  }
}

// ---------------------------------------------------------------------------------------------
// Role ARN patterns

const ROLE_VALUE_RULE = stryMutAct_9fa48("173") ? "" : (stryCov_9fa48("173"), 'in a role ARN a value may only use letters, digits and _ + = , . @ - (no /, :, * or ?)');
const renderedRoles = new CompiledCache<Glob>();

/**
 * Renders a role ARN pattern for a caller and compiles it (case-insensitive: IAM role names are).
 * The template's `*` and `?` are wildcards; values are literal and may not change the ARN's
 * structure: each stays inside the field the template put it in, and a field holding a value must
 * be valid for IAM once rendered (account of 12 digits, path segments neither empty nor dots,
 * name of 1-64 characters, path of at most 512). Cached per template and substituted values.
 */
export function renderRolePattern(template: string, attributes: Attributes): Glob {
  if (stryMutAct_9fa48("174")) {
    {}
  } else {
    stryCov_9fa48("174");
    // JSON keeps the values apart whatever they contain; a refused value throws and is not cached.
    const key = JSON.stringify(stryMutAct_9fa48("175") ? [] : (stryCov_9fa48("175"), [template, ...placeholdersIn(template).map(stryMutAct_9fa48("176") ? () => undefined : (stryCov_9fa48("176"), name => stryMutAct_9fa48("177") ? attributes[name] && null : (stryCov_9fa48("177"), attributes[name] ?? null)))]));
    return renderedRoles.get(key, stryMutAct_9fa48("178") ? () => undefined : (stryCov_9fa48("178"), () => globOfTokens(renderRoleTokens(template, attributes), stryMutAct_9fa48("179") ? {} : (stryCov_9fa48("179"), {
      caseInsensitive: stryMutAct_9fa48("180") ? false : (stryCov_9fa48("180"), true)
    }))));
  }
}

/** The rendered role pattern as text (for `whoami`), with the same checks. */
export function renderRoleText(template: string, attributes: Attributes): string {
  if (stryMutAct_9fa48("181")) {
    {}
  } else {
    stryCov_9fa48("181");
    return textOf(renderRoleTokens(template, attributes));
  }
}
function renderRoleTokens(template: string, attributes: Attributes): RenderedToken[] {
  if (stryMutAct_9fa48("182")) {
    {}
  } else {
    stryCov_9fa48("182");
    const tokens = renderTokens(template, attributes, stryMutAct_9fa48("183") ? false : (stryCov_9fa48("183"), true));
    // Values hold no `:` or `/` and are not `.` or `..`, so the template's own text decides every
    // field and segment boundary, and no path segment can be a dot segment (it would have to be a
    // value, or a value plus template text, equal to `.` or `..`).
    checkValues(tokens, ROLE_NAME_CHARS, ROLE_VALUE_RULE);
    // arn : partition : iam : (region) : account : role/path.../name (the schema allows no `/` before `role/`)
    const [, partition,,, account] = partsOf(tokens, ':') as [RenderedPart, RenderedPart, RenderedPart, RenderedPart, RenderedPart];
    const resource = partsOf(tokens, stryMutAct_9fa48("184") ? "" : (stryCov_9fa48("184"), '/'));
    const name = resource[resource.length - 1] as RenderedPart;
    const path = stryMutAct_9fa48("185") ? resource : (stryCov_9fa48("185"), resource.slice(1, stryMutAct_9fa48("186") ? +1 : (stryCov_9fa48("186"), -1)));
    const refuse = (part: RenderedPart, ok: boolean, reason: string) => {
      if (stryMutAct_9fa48("187")) {
        {}
      } else {
        stryCov_9fa48("187");
        if (stryMutAct_9fa48("190") ? part.claim !== undefined || !ok : stryMutAct_9fa48("189") ? false : stryMutAct_9fa48("188") ? true : (stryCov_9fa48("188", "189", "190"), (stryMutAct_9fa48("192") ? part.claim === undefined : stryMutAct_9fa48("191") ? true : (stryCov_9fa48("191", "192"), part.claim !== undefined)) && (stryMutAct_9fa48("193") ? ok : (stryCov_9fa48("193"), !ok)))) throw new InvalidClaimError(part.claim, reason);
      }
    };
    refuse(partition, stryMutAct_9fa48("196") ? partition.wildcard && /^[a-z][a-z0-9-]*$/.test(partition.text) : stryMutAct_9fa48("195") ? false : stryMutAct_9fa48("194") ? true : (stryCov_9fa48("194", "195", "196"), partition.wildcard || (stryMutAct_9fa48("201") ? /^[a-z][^a-z0-9-]*$/ : stryMutAct_9fa48("200") ? /^[a-z][a-z0-9-]$/ : stryMutAct_9fa48("199") ? /^[^a-z][a-z0-9-]*$/ : stryMutAct_9fa48("198") ? /^[a-z][a-z0-9-]*/ : stryMutAct_9fa48("197") ? /[a-z][a-z0-9-]*$/ : (stryCov_9fa48("197", "198", "199", "200", "201"), /^[a-z][a-z0-9-]*$/)).test(partition.text)), stryMutAct_9fa48("202") ? "" : (stryCov_9fa48("202"), 'the rendered partition would not be valid'));
    refuse(account, stryMutAct_9fa48("205") ? account.wildcard && /^\d{12}$/.test(account.text) : stryMutAct_9fa48("204") ? false : stryMutAct_9fa48("203") ? true : (stryCov_9fa48("203", "204", "205"), account.wildcard || (stryMutAct_9fa48("209") ? /^\D{12}$/ : stryMutAct_9fa48("208") ? /^\d$/ : stryMutAct_9fa48("207") ? /^\d{12}/ : stryMutAct_9fa48("206") ? /\d{12}$/ : (stryCov_9fa48("206", "207", "208", "209"), /^\d{12}$/)).test(account.text)), stryMutAct_9fa48("210") ? "" : (stryCov_9fa48("210"), 'the rendered account id would not be 12 digits'));
    const pathLength = path.reduce(stryMutAct_9fa48("211") ? () => undefined : (stryCov_9fa48("211"), (n, s) => stryMutAct_9fa48("212") ? n + s.literalLength - 1 : (stryCov_9fa48("212"), (stryMutAct_9fa48("213") ? n - s.literalLength : (stryCov_9fa48("213"), n + s.literalLength)) + 1)), 1);
    const holder = path.find(stryMutAct_9fa48("214") ? () => undefined : (stryCov_9fa48("214"), s => stryMutAct_9fa48("217") ? s.claim === undefined : stryMutAct_9fa48("216") ? false : stryMutAct_9fa48("215") ? true : (stryCov_9fa48("215", "216", "217"), s.claim !== undefined)));
    if (stryMutAct_9fa48("219") ? false : stryMutAct_9fa48("218") ? true : (stryCov_9fa48("218", "219"), holder)) refuse(holder, stryMutAct_9fa48("223") ? pathLength > ROLE_LIMITS.maxPathLength : stryMutAct_9fa48("222") ? pathLength < ROLE_LIMITS.maxPathLength : stryMutAct_9fa48("221") ? false : stryMutAct_9fa48("220") ? true : (stryCov_9fa48("220", "221", "222", "223"), pathLength <= ROLE_LIMITS.maxPathLength), stryMutAct_9fa48("224") ? `` : (stryCov_9fa48("224"), `the rendered role path would be longer than IAM's ${ROLE_LIMITS.maxPathLength} characters`));
    refuse(name, stryMutAct_9fa48("228") ? name.literalLength > ROLE_LIMITS.maxNameLength : stryMutAct_9fa48("227") ? name.literalLength < ROLE_LIMITS.maxNameLength : stryMutAct_9fa48("226") ? false : stryMutAct_9fa48("225") ? true : (stryCov_9fa48("225", "226", "227", "228"), name.literalLength <= ROLE_LIMITS.maxNameLength), stryMutAct_9fa48("229") ? `` : (stryCov_9fa48("229"), `the rendered role name would be longer than IAM's ${ROLE_LIMITS.maxNameLength} characters`));
    return tokens;
  }
}

// ---------------------------------------------------------------------------------------------
// IAM policy strings and session tags

/** In IAM policy text `*`, `?` and `$` from a claim must stay literal: IAM spells them `${*}`, `${?}`, `${$}`. */
export function escapeForIamPolicy(value: string): string {
  if (stryMutAct_9fa48("230")) {
    {}
  } else {
    stryCov_9fa48("230");
    return value.replace(stryMutAct_9fa48("231") ? /[^*?$]/g : (stryCov_9fa48("231"), /[*?$]/g), stryMutAct_9fa48("232") ? () => undefined : (stryCov_9fa48("232"), ch => stryMutAct_9fa48("233") ? `` : (stryCov_9fa48("233"), `\${${ch}}`)));
  }
}

/**
 * Renders one IAM policy string: template text as written, values IAM-escaped. In a resource ARN
 * (`inResource`) a value is also one segment of it: no `/` or `:` (which would move it into
 * another field, e.g. from a bucket name into another bucket's keys), not `.` or `..`.
 */
export function renderPolicyString(template: string, attributes: Attributes, inResource = stryMutAct_9fa48("234") ? true : (stryCov_9fa48("234"), false)): string {
  if (stryMutAct_9fa48("235")) {
    {}
  } else {
    stryCov_9fa48("235");
    const tokens = renderTokens(template, attributes);
    if (stryMutAct_9fa48("237") ? false : stryMutAct_9fa48("236") ? true : (stryCov_9fa48("236", "237"), inResource)) checkValues(tokens, RESOURCE_VALUE, stryMutAct_9fa48("238") ? "" : (stryCov_9fa48("238"), 'in a policy resource a value may not contain / or :'));
    return tokens.map(stryMutAct_9fa48("239") ? () => undefined : (stryCov_9fa48("239"), t => (stryMutAct_9fa48("242") ? t.kind !== 'value' : stryMutAct_9fa48("241") ? false : stryMutAct_9fa48("240") ? true : (stryCov_9fa48("240", "241", "242"), t.kind === (stryMutAct_9fa48("243") ? "" : (stryCov_9fa48("243"), 'value')))) ? escapeForIamPolicy(t.text) : textOf(stryMutAct_9fa48("244") ? [] : (stryCov_9fa48("244"), [t])))).join(stryMutAct_9fa48("245") ? "Stryker was here!" : (stryCov_9fa48("245"), ''));
  }
}
const RESOURCE_VALUE = stryMutAct_9fa48("249") ? /^[/:]+$/ : stryMutAct_9fa48("248") ? /^[^/:]$/ : stryMutAct_9fa48("247") ? /^[^/:]+/ : stryMutAct_9fa48("246") ? /[^/:]+$/ : (stryCov_9fa48("246", "247", "248", "249"), /^[^/:]+$/);

/** Renders every string value of a policy document (keys untouched); see renderPolicyString. */
export function renderPolicyJson(value: unknown, attributes: Attributes, inResource = stryMutAct_9fa48("250") ? true : (stryCov_9fa48("250"), false)): unknown {
  if (stryMutAct_9fa48("251")) {
    {}
  } else {
    stryCov_9fa48("251");
    if (stryMutAct_9fa48("254") ? typeof value !== 'string' : stryMutAct_9fa48("253") ? false : stryMutAct_9fa48("252") ? true : (stryCov_9fa48("252", "253", "254"), typeof value === (stryMutAct_9fa48("255") ? "" : (stryCov_9fa48("255"), 'string')))) return renderPolicyString(value, attributes, inResource);
    if (stryMutAct_9fa48("257") ? false : stryMutAct_9fa48("256") ? true : (stryCov_9fa48("256", "257"), Array.isArray(value))) return value.map(stryMutAct_9fa48("258") ? () => undefined : (stryCov_9fa48("258"), item => renderPolicyJson(item, attributes, inResource)));
    if (stryMutAct_9fa48("261") ? value !== null || typeof value === 'object' : stryMutAct_9fa48("260") ? false : stryMutAct_9fa48("259") ? true : (stryCov_9fa48("259", "260", "261"), (stryMutAct_9fa48("263") ? value === null : stryMutAct_9fa48("262") ? true : (stryCov_9fa48("262", "263"), value !== null)) && (stryMutAct_9fa48("265") ? typeof value !== 'object' : stryMutAct_9fa48("264") ? true : (stryCov_9fa48("264", "265"), typeof value === (stryMutAct_9fa48("266") ? "" : (stryCov_9fa48("266"), 'object')))))) {
      if (stryMutAct_9fa48("267")) {
        {}
      } else {
        stryCov_9fa48("267");
        return Object.fromEntries(Object.entries(value).map(stryMutAct_9fa48("268") ? () => undefined : (stryCov_9fa48("268"), ([k, v]) => stryMutAct_9fa48("269") ? [] : (stryCov_9fa48("269"), [k, renderPolicyJson(v, attributes, stryMutAct_9fa48("272") ? (inResource || k === 'Resource') && k === 'NotResource' : stryMutAct_9fa48("271") ? false : stryMutAct_9fa48("270") ? true : (stryCov_9fa48("270", "271", "272"), (stryMutAct_9fa48("274") ? inResource && k === 'Resource' : stryMutAct_9fa48("273") ? false : (stryCov_9fa48("273", "274"), inResource || (stryMutAct_9fa48("276") ? k !== 'Resource' : stryMutAct_9fa48("275") ? false : (stryCov_9fa48("275", "276"), k === (stryMutAct_9fa48("277") ? "" : (stryCov_9fa48("277"), 'Resource')))))) || (stryMutAct_9fa48("279") ? k !== 'NotResource' : stryMutAct_9fa48("278") ? false : (stryCov_9fa48("278", "279"), k === (stryMutAct_9fa48("280") ? "" : (stryCov_9fa48("280"), 'NotResource'))))))]))));
      }
    }
    return value;
  }
}

/** STS's session tag value characters (letters, digits, spaces and `_.:/=+-@`) and length. */
export const TAG_VALUE = stryMutAct_9fa48("287") ? /^[\p{L}\p{Z}\P{N}_.:/=+\-@]*$/u : stryMutAct_9fa48("286") ? /^[\p{L}\P{Z}\p{N}_.:/=+\-@]*$/u : stryMutAct_9fa48("285") ? /^[\P{L}\p{Z}\p{N}_.:/=+\-@]*$/u : stryMutAct_9fa48("284") ? /^[^\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u : stryMutAct_9fa48("283") ? /^[\p{L}\p{Z}\p{N}_.:/=+\-@]$/u : stryMutAct_9fa48("282") ? /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*/u : stryMutAct_9fa48("281") ? /[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u : (stryCov_9fa48("281", "282", "283", "284", "285", "286", "287"), /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u);
export const MAX_TAG_VALUE_LENGTH = 256;

/** Renders a session tag value; a value STS would refuse is refused here, naming the claim. */
export function renderTagValue(template: string, attributes: Attributes): string {
  if (stryMutAct_9fa48("288")) {
    {}
  } else {
    stryCov_9fa48("288");
    const tokens = renderTokens(template, attributes);
    checkValues(tokens, TAG_VALUE, stryMutAct_9fa48("289") ? "" : (stryCov_9fa48("289"), 'a session tag value may only use letters, digits, spaces and _ . : / = + - @'), stryMutAct_9fa48("290") ? true : (stryCov_9fa48("290"), false));
    const text = textOf(tokens);
    const claim = tokens.find(stryMutAct_9fa48("291") ? () => undefined : (stryCov_9fa48("291"), t => stryMutAct_9fa48("294") ? t.kind !== 'value' : stryMutAct_9fa48("293") ? false : stryMutAct_9fa48("292") ? true : (stryCov_9fa48("292", "293", "294"), t.kind === (stryMutAct_9fa48("295") ? "" : (stryCov_9fa48("295"), 'value')))));
    if (stryMutAct_9fa48("298") ? text.length > MAX_TAG_VALUE_LENGTH || claim?.kind === 'value' : stryMutAct_9fa48("297") ? false : stryMutAct_9fa48("296") ? true : (stryCov_9fa48("296", "297", "298"), (stryMutAct_9fa48("301") ? text.length <= MAX_TAG_VALUE_LENGTH : stryMutAct_9fa48("300") ? text.length >= MAX_TAG_VALUE_LENGTH : stryMutAct_9fa48("299") ? true : (stryCov_9fa48("299", "300", "301"), text.length > MAX_TAG_VALUE_LENGTH)) && (stryMutAct_9fa48("303") ? claim?.kind !== 'value' : stryMutAct_9fa48("302") ? true : (stryCov_9fa48("302", "303"), (stryMutAct_9fa48("304") ? claim.kind : (stryCov_9fa48("304"), claim?.kind)) === (stryMutAct_9fa48("305") ? "" : (stryCov_9fa48("305"), 'value')))))) {
      if (stryMutAct_9fa48("306")) {
        {}
      } else {
        stryCov_9fa48("306");
        throw new InvalidClaimError(claim.claim, stryMutAct_9fa48("307") ? `` : (stryCov_9fa48("307"), `the rendered session tag value would be longer than STS's ${MAX_TAG_VALUE_LENGTH} characters`));
      }
    }
    return text;
  }
}