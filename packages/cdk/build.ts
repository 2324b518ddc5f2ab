/**
 * Builds @nocreds/cdk from the repository's infra/ and functions/ into packages/cdk/dist:
 *   dist/index.js             the constructs (CommonJS); aws-cdk-lib and constructs are peers,
 *                             cdk-nag a dependency, our own shared/ code bundled in;
 *   dist/functions/<name>/    each Lambda function prebundled with infra's BUNDLING settings, which
 *                             BrokerFunction deploys when it runs from here (see PREBUNDLED_DIR);
 *   dist/types                declarations from tsc.
 */
import { execFileSync, execSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BROKER_FUNCTION_NAMES, BUNDLING, entryOf, localBundleOptions, tracerBundleCommand } from '../../infra/broker-function';
import { checkPackageManifest, externalPackages, readPackageJson, REPO_ROOT } from '../build-support';

const dir = __dirname;

async function main(): Promise<void> {
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  const pkg = readPackageJson(dir);
  const constructs = await build({
    entryPoints: [join(REPO_ROOT, 'infra/index.ts')],
    outfile: join(dir, 'dist/index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    mainFields: ['module', 'main'],
    external: [...Object.keys(pkg.peerDependencies ?? {}), ...Object.keys(pkg.dependencies ?? {})],
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  });
  checkPackageManifest(dir, externalPackages(constructs.metafile!));
  await Promise.all(
    BROKER_FUNCTION_NAMES.map((name) =>
      build({ ...localBundleOptions(entryOf(name), join(dir, 'dist/functions', name, 'index.js')), target: BUNDLING.target, sourcemap: true, sourcesContent: BUNDLING.sourcesContent, logLevel: 'warning' }),
    ),
  );
  // The Powertools tracer, copied beside a function only with `tracing: true` (infra/broker-function.ts).
  execSync(tracerBundleCommand(join(dir, 'dist/functions')));
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(dir, 'tsconfig.build.json')], { stdio: 'inherit' });
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
