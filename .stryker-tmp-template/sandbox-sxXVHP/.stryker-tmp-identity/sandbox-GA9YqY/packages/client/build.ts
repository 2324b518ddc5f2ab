/**
 * Builds @nocreds/client from the repository's client/ sources into packages/client/dist:
 *   dist/esm/*.mjs  the provider as ES modules, code-split so the provider's lazy imports stay lazy for bundlers;
 *   dist/cjs/*.cjs  CommonJS, for require() and the `nocreds` bin;
 *   dist/types      declarations from tsc.
 * npm packages stay external (declared in package.json, checked below): consumers dedupe them with
 * their own AWS SDK and tree-shake what they do not use.
 */
// @ts-nocheck

// 

import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { checkPackageManifest, externalPackages, REPO_ROOT } from '../build-support';

const dir = __dirname;
const entryPoints = { provider: join(REPO_ROOT, 'client/provider.ts'), cli: join(REPO_ROOT, 'client/cli.ts') };

async function main(): Promise<void> {
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  const common: BuildOptions = { entryPoints, bundle: true, packages: 'external', platform: 'node', target: 'node20', metafile: true, logLevel: 'warning', legalComments: 'none' };
  const esm = await build({ ...common, entryPoints: { provider: entryPoints.provider }, format: 'esm', splitting: true, outdir: join(dir, 'dist/esm'), outExtension: { '.js': '.mjs' }, chunkNames: 'chunks/[name]-[hash]' });
  const cjs = await build({ ...common, format: 'cjs', outdir: join(dir, 'dist/cjs'), outExtension: { '.js': '.cjs' } });
  const imported = new Set([...externalPackages(esm.metafile!), ...externalPackages(cjs.metafile!)]);
  checkPackageManifest(dir, imported);
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(dir, 'tsconfig.build.json')], { stdio: 'inherit' });
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
