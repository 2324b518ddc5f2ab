import { execSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { build, type Metafile } from 'esbuild';
import { BROKER_FUNCTION_NAMES, BUNDLING, PROJECT_ROOT, TRACER_BUNDLE, entryOf, tracerBundleCommand, type BrokerFunctionName } from '../../infra/broker-function';
import { BrokeredRoleOptIn } from '../../infra/brokered-role';
import { stageGrantPolicy } from '../../infra/grant-policy-asset';
import { Nocreds, brokerEnvironment } from '../../infra/nocreds';
import { EXAMPLE_GRANTS, cdkJsonContext } from './broker-stacks';

/**
 * Every function the stack names exists, is bundled by the stack itself (NodejsFunction with the
 * local esbuild, exactly as `cdk synth` does it), ships with grants.json beside the handler, and
 * loads with the environment the stack gives it. One synthesis builds all six bundles.
 */
const present = BROKER_FUNCTION_NAMES.filter((name) => existsSync(entryOf(name)));
const outdir = mkdtempSync(join(tmpdir(), 'nocreds-synth-'));
const assets: Partial<Record<BrokerFunctionName, string>> = {};
let synthError: Error | undefined;

beforeAll(() => {
  try {
    const app = new App({ outdir, context: cdkJsonContext(), builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Bundles', { env: { account: '111122223333', region: 'eu-west-1' } });
    const broker = new Nocreds(stack, 'Broker', { grantPolicyFile: EXAMPLE_GRANTS, brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/') });
    const template = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, { Properties: { Code?: { S3Key?: string } } }> };
    for (const name of BROKER_FUNCTION_NAMES) {
      const key = template.Resources[stack.getLogicalId(broker.functions[name].function.node.defaultChild as never)]!.Properties.Code!.S3Key!;
      assets[name] = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    }
  } catch (error) {
    synthError = error as Error;
  }
}, 180_000);

afterAll(() => {
  const rows = present.filter((name) => assets[name]).map((name) => `  ${name.padEnd(13)} ${(statSync(join(assets[name]!, 'index.js')).size / 1024).toFixed(0).padStart(6)} KiB`);
  if (rows.length > 0) console.log(`Bundle sizes (index.js, minified, AWS SDK included; source map apart):\n${rows.join('\n')}`);
  rmSync(outdir, { recursive: true, force: true });
});

describe.each(BROKER_FUNCTION_NAMES)('function %s', (name) => {
  const entry = relative(PROJECT_ROOT, entryOf(name));

  it(`has its entry ${entry}`, () => {
    if (!existsSync(entryOf(name))) {
      throw new Error(`${entry} is missing. The stack deploys it (BROKER_FUNCTIONS in infra/broker-function.ts); it must export \`handler\`.`);
    }
  });

  it('is bundled by the stack with its source map and grants.json beside the handler', () => {
    if (synthError) throw synthError;
    const asset = assets[name]!;
    expect(existsSync(join(asset, 'index.js.map'))).toBe(true);
    expect(readFileSync(join(asset, 'grants.json'), 'utf8')).toBe(readFileSync(stageGrantPolicy(EXAMPLE_GRANTS).jsonFile, 'utf8'));
  });

  it('loads and exports a handler with the environment the stack sets', () => {
    if (synthError) throw synthError;
    const load = spawnSync(process.execPath, ['-e', `const m = require('./index.js'); if (typeof m.handler !== 'function') { console.error('no handler export'); process.exit(3); }`], {
      cwd: assets[name],
      env: {
        PATH: process.env.PATH,
        // What Lambda sets, and what the stack sets for this function (tokens replaced by values).
        AWS_LAMBDA_FUNCTION_NAME: `nocreds-${name}`,
        LAMBDA_TASK_ROOT: assets[name],
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        ...brokerEnvironment(name, {
          tableName: 'leases',
          eventBusName: 'nocreds',
          reportBucket: 'nocreds-audit',
          cursorKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:nocreds-cursor-key-AbCdEf',
          revocation: false,
          serverId: 'nocreds-test',
          logLevel: 'ERROR',
          leaseRetentionDays: 90,
        }),
        // infra/reconciler.ts adds the broker's role ARNs to the reconciler's environment.
        ...(name === 'reconciler' ? { NOCREDS_BROKER_ROLE_ARNS: 'arn:aws:iam::111122223333:role/broker-credentials,arn:aws:iam::111122223333:role/broker-leases' } : {}),
        NOCREDS_GRANT_POLICY_FILE: join(assets[name]!, 'grants.json'),
        // The leases function reads its cursor key at init: a closed loopback port, so no call leaves this machine.
        NOCREDS_AWS_ENDPOINT: 'http://127.0.0.1:9',
        NODE_OPTIONS: '--enable-source-maps',
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (load.status !== 0) throw new Error(`${entry} bundled but failed to load (exit ${load.status}):\n${load.stderr}`);
  });
});

describe('credentials bundle', () => {
  let metafile: Metafile;

  beforeAll(async () => {
    if (!existsSync(entryOf('credentials'))) return;
    // The same settings as the stack's bundling, plus a metafile to see what went in.
    const result = await build({
      entryPoints: [entryOf('credentials')],
      outfile: join(outdir, 'metafile-only', 'credentials.js'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: BUNDLING.target,
      minify: BUNDLING.minify,
      external: [...BUNDLING.externalModules],
      absWorkingDir: PROJECT_ROOT,
      metafile: true,
      write: false,
      logLevel: 'silent',
    });
    metafile = result.metafile;
  }, 60_000);

  const inputs = () => {
    if (!metafile) throw new Error('functions/credentials/handler.ts is missing');
    return Object.keys(metafile.inputs);
  };

  it('leaves out the PCA, S3 and IAM clients', () => {
    expect(inputs().filter((input) => /node_modules\/@aws-sdk\/client-(acm-pca|s3|iam)\//.test(input))).toEqual([]);
  });

  it('carries the STS and DynamoDB clients it uses, not the runtime copy', () => {
    expect(inputs().some((input) => input.includes('node_modules/@aws-sdk/client-sts/'))).toBe(true);
    expect(inputs().some((input) => input.includes('node_modules/@aws-sdk/client-dynamodb/'))).toBe(true);
  });
});

describe('tracing', () => {
  it('keeps the tracer out of every bundle; with tracing, it is a file of its own beside the handler, loaded at init only then', () => {
    if (synthError) throw synthError;
    const asset = assets.credentials!;
    // The stack here has no tracing: no tracer file, and no X-Ray SDK inside the bundle.
    expect(existsSync(join(asset, TRACER_BUNDLE))).toBe(false);
    expect(readFileSync(join(asset, 'index.js'), 'utf8')).not.toMatch(/AWSXRay|aws-xray-sdk/);
    // What the stack's afterBundling hook does when tracing is on.
    const traced = mkdtempSync(join(tmpdir(), 'nocreds-traced-'));
    try {
      for (const file of ['index.js', 'grants.json']) copyFileSync(join(asset, file), join(traced, file));
      execSync(tracerBundleCommand(traced), { stdio: 'pipe' });
      const loadsTracer = (tracing: boolean) => {
        const run = spawnSync(
          process.execPath,
          ['-e', `require('./index.js'); setTimeout(() => console.log(Object.keys(require.cache).some((k) => k.endsWith(${JSON.stringify(TRACER_BUNDLE)}))), 300)`],
          {
            cwd: traced,
            encoding: 'utf8',
            timeout: 20_000,
            env: {
              PATH: process.env.PATH,
              AWS_REGION: 'eu-west-1',
              NOCREDS_TABLE_NAME: 'leases',
              NOCREDS_GRANT_POLICY_FILE: join(traced, 'grants.json'),
              NOCREDS_LOG_LEVEL: 'ERROR',
              ...(tracing ? { NOCREDS_TRACING: 'true' } : {}),
            },
          },
        );
        if (run.status !== 0) throw new Error(run.stderr);
        return run.stdout.trim();
      };
      expect(loadsTracer(false)).toBe('false');
      expect(loadsTracer(true)).toBe('true');
    } finally {
      rmSync(traced, { recursive: true, force: true });
    }
  });
});
