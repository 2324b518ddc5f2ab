// @ts-nocheck
// 
// 
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import type { Metafile } from 'esbuild';

/** The repository root: the sources the packages compile from, and the one version. */
export const REPO_ROOT = resolve(__dirname, '..');

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** `@scope/name/sub/path` -> `@scope/name`; `name/sub` -> `name`. */
function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Every npm package the built files import at run time (not bundled, not a Node built-in). */
export function externalPackages(metafile: Metafile): Set<string> {
  const builtins = new Set(builtinModules);
  const names = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external || imported.path.startsWith('.')) continue;
      const name = packageNameOf(imported.path.replace(/^node:/, ''));
      if (!builtins.has(name) && !imported.path.startsWith('node:')) names.add(name);
    }
  }
  return names;
}

/**
 * A package declares exactly what its built files import, at the repository's exact versions, and
 * carries the repository's version: a missing dependency breaks consumers at run time, an extra one
 * costs them an install, a drifting version means two truths. Throws naming every difference.
 */
export function checkPackageManifest(packageDir: string, imported: Set<string>): void {
  const root = readPackageJson(REPO_ROOT);
  const pkg = readPackageJson(packageDir);
  const declared = { ...pkg.dependencies, ...pkg.peerDependencies };
  const rootVersions = { ...root.dependencies, ...root.devDependencies };
  const problems: string[] = [];
  if (pkg.version !== root.version) problems.push(`version ${pkg.version} is not the repository's ${root.version} (npm version <v> --workspaces --include-workspace-root)`);
  for (const name of imported) if (!(name in declared)) problems.push(`imports ${name} but does not declare it`);
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    if (!imported.has(name)) problems.push(`declares ${name} but the built files never import it`);
    if (pkg.dependencies![name] !== rootVersions[name]) problems.push(`${name}@${pkg.dependencies![name]} differs from the repository's ${rootVersions[name]}`);
  }
  if (problems.length > 0) throw new Error(`${pkg.name}: ${problems.join('; ')}`);
}
