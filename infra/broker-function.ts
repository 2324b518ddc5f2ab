import { copyFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { AssetHashType, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { GRANT_POLICY_FILE_NAME, type StagedGrantPolicy } from './grant-policy-asset';

/** The Powertools tracer's own bundle (shared/adapters/telemetry.ts, TRACER_BUNDLE: keep the two equal). */
export const TRACER_BUNDLE = 'powertools-tracer.js';

/** The repository root: every function entry and the lock file live under it. */
export const PROJECT_ROOT = resolve(__dirname, '..');

/**
 * Where the installed @nocreds/cdk package keeps each function prebundled (`<name>/index.js`, built
 * with BUNDLING by packages/cdk/build.ts): it ships no TypeScript sources, so NodejsFunction has
 * nothing to bundle. Absent in a clone, where the functions are bundled from functions/ at synth.
 */
export const PREBUNDLED_DIR = join(__dirname, 'functions');
const prebundled = existsSync(PREBUNDLED_DIR);

interface FunctionSpec {
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
}

/**
 * Every function the stack deploys, each `functions/<name>/handler.ts` exporting `handler`.
 * API functions stay under API Gateway's 30 s integration timeout; the scheduled ones bound their
 * own work per run and continue on the next.
 */
export const BROKER_FUNCTIONS = {
  credentials: { description: 'nocreds: vends STS credentials (POST /v1/credentials, GET /v1/credentials/container)', memorySize: 512, timeout: Duration.seconds(15) },
  whoami: { description: 'nocreds: the caller as the broker sees it (GET /v1/whoami), and the API document (GET /v1/openapi.json)', memorySize: 256, timeout: Duration.seconds(10) },
  certificates: { description: 'nocreds: issues certificates from AWS Private CA (POST /v1/certificates)', memorySize: 512, timeout: Duration.seconds(29) },
  leases: { description: 'nocreds: lists, revokes and renews leases (/v1/leases)', memorySize: 512, timeout: Duration.seconds(29) },
  renewal: { description: 'nocreds: expires leases, finishes issuances, renews certificates (scheduled)', memorySize: 512, timeout: Duration.minutes(4) },
  audit: { description: 'nocreds: daily audit report to S3, EventBridge and CloudWatch metrics (scheduled)', memorySize: 1024, timeout: Duration.minutes(10) },
  reconciler: { description: 'nocreds: every STS session of the broker ends as a lease (CloudTrail events, after a grace period)', memorySize: 256, timeout: Duration.seconds(60) },
} as const satisfies Record<string, FunctionSpec>;

/**
 * How every function is bundled; the bundle test builds with these same settings. The AWS SDK is
 * bundled (not taken from the runtime) so the pinned, tested SDK version is the one that runs.
 */
export const BUNDLING = {
  target: 'node22',
  minify: true,
  sourceMap: true,
  // Stack traces need the mappings, not the sources: keeps the asset small.
  sourcesContent: false,
  externalModules: [] as string[],
  // The AWS SDK's ES module builds tree-shake; its CommonJS builds do not. Measured with
  // `npm run bench`: the credentials bundle 616 -> 434 KiB, leases 1274 -> 747 KiB.
  mainFields: ['module', 'main'],
} as const;

/**
 * esbuild options that bundle a function outside CDK the way NodejsFunction does with BUNDLING
 * (for the benchmarks and the test that runs a bundle). Node 20 runs those here; Lambda runs 22.
 */
export function localBundleOptions(entry: string, outfile: string) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: BUNDLING.minify,
    mainFields: [...BUNDLING.mainFields],
    platform: 'node' as const,
    target: 'node20',
    format: 'cjs' as const,
    logLevel: 'silent' as const,
    legalComments: 'none' as const,
  };
}

export type BrokerFunctionName = keyof typeof BROKER_FUNCTIONS;
export const BROKER_FUNCTION_NAMES = Object.keys(BROKER_FUNCTIONS) as BrokerFunctionName[];

export function entryOf(name: BrokerFunctionName): string {
  return prebundled ? join(PREBUNDLED_DIR, name, 'index.js') : join(PROJECT_ROOT, 'functions', name, 'handler.ts');
}

/** Fails with one message naming every missing entry, rather than NodejsFunction's first-only error. */
export function assertEntriesExist(names: readonly BrokerFunctionName[] = BROKER_FUNCTION_NAMES): void {
  const missing = names.filter((name) => !existsSync(entryOf(name))).map((name) => relative(PROJECT_ROOT, entryOf(name)));
  if (missing.length > 0) {
    throw new Error(`nocreds: function entries missing (each must export \`handler\`): ${missing.join(', ')}`);
  }
}

export interface BrokerFunctionProps {
  readonly name: BrokerFunctionName;
  readonly grantPolicy: StagedGrantPolicy;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Reserved concurrency. @default - none (the account's unreserved pool) */
  readonly reservedConcurrency?: number;
  /** Instances kept initialized, behind an alias `live` that becomes `handler`. @default - none */
  readonly provisionedConcurrency?: number;
  /** X-Ray active tracing. @default false */
  readonly tracing?: boolean;
  /** Encrypts the log group and the environment. @default - AWS-managed encryption */
  readonly encryptionKey?: kms.IKey;
}

/**
 * One broker function with our defaults: Node.js 22 on arm64, bundled and minified by the local
 * esbuild (see BUNDLING), source maps,
 * its own role (no managed policies; each function is granted only what it calls), its own log
 * group with retention, and the validated grant policy beside the handler as `grants.json`.
 */
export class BrokerFunction extends Construct {
  readonly function: lambda.Function;
  /** What callers invoke: the `live` alias with provisioned concurrency, else the function. */
  readonly handler: lambda.IFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BrokerFunctionProps) {
    super(scope, id);
    const spec: FunctionSpec = BROKER_FUNCTIONS[props.name];
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the nocreds ${props.name} function`,
    });
    // Only its own log group: the function cannot create log groups or write elsewhere.
    this.logGroup.grantWrite(this.role);

    const grantsFile = props.grantPolicy.jsonFile;
    const common = {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      description: spec.description,
      memorySize: spec.memorySize,
      timeout: spec.timeout,
      role: this.role,
      logGroup: this.logGroup,
      ...(props.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
      ...(props.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
      ...(props.encryptionKey ? { environmentEncryption: props.encryptionKey } : {}),
      environment: {
        ...props.environment,
        NOCREDS_GRANT_POLICY_FILE: `/var/task/${GRANT_POLICY_FILE_NAME}`,
        NODE_OPTIONS: '--enable-source-maps',
      },
    };
    if (prebundled) {
      // The packaged bundle plus this app's grants.json; hashed by output, so a grants change redeploys.
      this.function = new lambda.Function(this, 'Function', {
        ...common,
        handler: 'index.handler',
        code: lambda.Code.fromAsset(join(PREBUNDLED_DIR, props.name), {
          assetHashType: AssetHashType.OUTPUT,
          bundling: {
            image: lambda.Runtime.NODEJS_22_X.bundlingImage,
            local: {
              tryBundle(outputDir: string) {
                for (const file of ['index.js', 'index.js.map']) copyFileSync(join(PREBUNDLED_DIR, props.name, file), join(outputDir, file));
                const tracer = join(PREBUNDLED_DIR, TRACER_BUNDLE);
                if (props.tracing && existsSync(tracer)) copyFileSync(tracer, join(outputDir, TRACER_BUNDLE));
                copyFileSync(grantsFile, join(outputDir, GRANT_POLICY_FILE_NAME));
                return true;
              },
            },
          },
        }),
      });
    } else {
      this.function = this.bundled(props.name, grantsFile, common, props.tracing ?? false);
    }
    this.handler = props.provisionedConcurrency
      ? new lambda.Alias(this, 'Live', { aliasName: 'live', version: this.function.currentVersion, provisionedConcurrentExecutions: props.provisionedConcurrency })
      : this.function;
  }

  /** Bundled from this repository's sources by the local esbuild. */
  private bundled(name: BrokerFunctionName, grantsFile: string, common: Omit<lambda.FunctionProps, 'code' | 'handler'>, tracing: boolean): NodejsFunction {
    return new NodejsFunction(this, 'Function', {
      entry: entryOf(name),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      ...common,
      bundling: {
        ...BUNDLING,
        externalModules: [...BUNDLING.externalModules],
        mainFields: [...BUNDLING.mainFields],
        forceDockerBundling: false,
        bundleAwsSDK: true,
        format: OutputFormat.CJS,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [
            `cp ${shellQuote(grantsFile)} ${shellQuote(join(outputDir, GRANT_POLICY_FILE_NAME))}`,
            ...(tracing ? [tracerBundleCommand(outputDir)] : []),
          ],
        },
      },
    });
  }
}

/**
 * With tracing on, the Powertools tracer goes into a file of its own beside the bundle
 * (TRACER_BUNDLE, loaded by shared/adapters/telemetry.ts at init). Inside every bundle it would cost
 * cold start even unused: measured 35-85 ms per function with `npm run bench`.
 */
export function tracerBundleCommand(outputDir: string): string {
  const esbuild = join(PROJECT_ROOT, 'node_modules', '.bin', 'esbuild');
  const entry = join(PROJECT_ROOT, 'shared', 'adapters', 'powertools-tracer.ts');
  const options = [`--bundle`, `--minify`, `--platform=node`, `--target=${BUNDLING.target}`, `--format=cjs`, `--main-fields=${BUNDLING.mainFields.join(',')}`, `--log-level=warning`];
  return [shellQuote(esbuild), shellQuote(entry), ...options, `--outfile=${shellQuote(join(outputDir, TRACER_BUNDLE))}`].join(' ');
}

function shellQuote(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`;
}
