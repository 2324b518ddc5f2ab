// @ts-nocheck
// 
// 
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { templateArnFor } from '../shared/domain/certificate-profile';
import { type GrantPolicy } from '../shared/domain/grant-policy';
import { parseGrantPolicy } from '../shared/domain/grant-policy-file';

/**
 * The grant policy as it ships: validated at synth time with the same parser the functions use
 * (so a bad policy fails `cdk synth` with file and line numbers, not a cold start), then written
 * as JSON for the bundles, because JSON needs no YAML parser at cold start.
 */
export interface StagedGrantPolicy {
  /** Where the policy was read from. */
  readonly sourceFile: string;
  readonly policy: GrantPolicy;
  /** A JSON copy, ready to be copied beside each handler as `grants.json`. */
  readonly jsonFile: string;
  /** Every CA ARN the policy's certificate profiles name. */
  readonly certificateAuthorityArns: string[];
  /** Every PCA template ARN those profiles issue with (for the `acm-pca:TemplateArn` condition). */
  readonly certificateTemplateArns: string[];
}

/** The file name every handler reads (see `loadGrantPolicy` in shared/config.ts). */
export const GRANT_POLICY_FILE_NAME = 'grants.json';

export function stageGrantPolicy(file: string): StagedGrantPolicy {
  const sourceFile = resolve(file);
  let text: string;
  try {
    text = readFileSync(sourceFile, 'utf8');
  } catch (error) {
    throw new Error(`nocreds: cannot read the grant policy file ${sourceFile}: ${(error as Error).message}`, { cause: error });
  }
  // Throws a ConfigurationError naming `file:line path: problem` for every issue.
  const policy = parseGrantPolicy(text, basename(sourceFile));
  // The document as written (not the parsed result), so the functions parse exactly what was checked.
  const json = `${JSON.stringify(parseYaml(text), null, 2)}\n`;
  // Named by content: repeated synths reuse one file instead of leaving a new one each time.
  const dir = join(tmpdir(), 'nocreds-grants', createHash('sha256').update(json).digest('hex').slice(0, 16));
  mkdirSync(dir, { recursive: true });
  const jsonFile = join(dir, GRANT_POLICY_FILE_NAME);
  writeFileSync(jsonFile, json);
  const profiles = policy.rules.flatMap((rule) => (rule.effect === 'allow' && rule.certificates ? rule.certificates.profiles : []));
  return {
    sourceFile,
    policy,
    jsonFile,
    certificateAuthorityArns: unique(profiles.map((profile) => profile.caArn)),
    certificateTemplateArns: unique(profiles.map((profile) => templateArnFor(profile.template, profile.caArn))),
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)].sort();
}
