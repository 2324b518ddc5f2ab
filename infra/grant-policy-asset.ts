import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseGrantPolicy, type GrantPolicy } from '../shared/domain/grant-policy';

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
  mkdirSync(tmpdir(), { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'nocreds-grants-'));
  const jsonFile = join(dir, GRANT_POLICY_FILE_NAME);
  // The document as written (not the parsed result), so the functions parse exactly what was checked.
  writeFileSync(jsonFile, `${JSON.stringify(parseYaml(text), null, 2)}\n`);
  return { sourceFile, policy, jsonFile, certificateAuthorityArns: caArnsIn(policy) };
}

/** Collects `caArn` values wherever certificate profiles keep them, without depending on the nesting. */
function caArnsIn(value: unknown, found = new Set<string>()): string[] {
  if (Array.isArray(value)) value.forEach((item) => caArnsIn(item, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'caArn' && typeof item === 'string') found.add(item);
      else caArnsIn(item, found);
    }
  }
  return [...found].sort();
}
