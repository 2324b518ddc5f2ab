// @ts-nocheck
// 
import { resolve } from 'node:path';
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { BrokeredRole, BrokeredRoleOptIn } from './brokered-role';
import { Nocreds, type NocredsProps } from './nocreds';
import { PROJECT_ROOT } from './broker-function';

export interface NocredsStackProps extends StackProps {
  readonly broker: NocredsProps;
  /** Names of example roles to create as BrokeredRoles (no permissions attached: add your own). */
  readonly brokeredRoleNames?: string[];
  /** An existing topic for the alarms, by ARN (imported into the stack). */
  readonly alarmTopicArn?: string;
}

/**
 * A ready stack: the broker, and optionally a few roles it may vend.
 *
 * @example
 * new NocredsStack(app, 'Nocreds', {
 *   broker: { grantPolicyFile: 'grants.yaml', brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/') },
 *   brokeredRoleNames: ['ci-deployer'],
 * });
 */
export class NocredsStack extends Stack {
  readonly broker: Nocreds;
  readonly brokeredRoles: BrokeredRole[];

  constructor(scope: Construct, id: string, props: NocredsStackProps) {
    super(scope, id, { description: 'nocreds: short-lived, scoped, recorded credentials and certificates', ...props });
    const alarmTopic = props.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) : undefined;
    this.broker = new Nocreds(this, 'Broker', { ...props.broker, ...(alarmTopic ? { alarmTopic } : {}) });
    this.brokeredRoles = (props.brokeredRoleNames ?? []).map(
      (roleName) => new BrokeredRole(this, `Role-${roleName}`, { broker: this.broker, roleName, description: `Vended by nocreds (${roleName})` }),
    );
  }
}

/** Context keys `cdk synth/deploy -c key=value` understands (see docs/deploy.md). */
export interface StackContext {
  /** Grant policy file. Default: infra/example-grants.yaml. */
  grants?: string;
  /** Opt-in by role path, e.g. /nocreds/ (the default). */
  optInPath?: string;
  /** Opt-in by role tag instead, as key=value, e.g. nocreds:brokered=true. */
  optInTag?: string;
  /** Comma-separated accounts whose roles may be vended. Default: the stack's account. */
  accounts?: string;
  /** Comma-separated CA ARNs. Default: the CAs the grant policy names. */
  certificateAuthorityArns?: string;
  /** "true" to block revoked credentials sessions with deny policies (iam:PutRolePolicy on opted-in roles). */
  credentialRevocation?: string;
  /** Comma-separated names of BrokeredRoles to create. Default: ci-deployer (used by the example policy). */
  brokeredRoles?: string;
  logLevel?: string;
  /** Comma-separated email addresses subscribed to the alarm topic, e.g. oncall@example.org,secops@example.org. */
  alarmEmail?: string;
  /** An existing SNS topic every alarm notifies instead of a new one (your pager or chat integration). */
  alarmTopicArn?: string;
  /** "false" to reserve no Lambda concurrency (an account whose concurrency quota is still 10). */
  reservedConcurrency?: string;
  /** "true" for X-Ray active tracing on every function. */
  tracing?: string;
}

/** Turns `-c` context values into stack props; every value is checked before synth. */
export function stackPropsFromContext(context: StackContext): NocredsStackProps {
  const list = (value: string | undefined) => (value ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '');
  const accounts = list(context.accounts);
  let brokeredRoles: BrokeredRoleOptIn;
  if (context.optInTag) {
    const [key, ...value] = context.optInTag.split('=');
    if (!key || value.length === 0) throw new Error(`nocreds: optInTag must be key=value; got "${context.optInTag}"`);
    brokeredRoles = BrokeredRoleOptIn.byTag(key, value.join('='), { accounts });
  } else {
    brokeredRoles = BrokeredRoleOptIn.byPath(context.optInPath ?? '/nocreds/', { accounts });
  }
  const logLevel = context.logLevel ?? 'INFO';
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(logLevel)) throw new Error(`nocreds: logLevel is DEBUG, INFO, WARN or ERROR; got "${logLevel}"`);
  const cas = list(context.certificateAuthorityArns);
  const emails = list(context.alarmEmail);
  const badEmail = emails.find((email) => !/^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/.test(email));
  if (badEmail !== undefined) throw new Error(`nocreds: alarmEmail is a comma-separated list of email addresses; "${badEmail}" is not one`);
  if (context.alarmTopicArn !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(context.alarmTopicArn)) {
    throw new Error(`nocreds: alarmTopicArn must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME); got "${context.alarmTopicArn}"`);
  }
  for (const [key, value] of [['reservedConcurrency', context.reservedConcurrency], ['tracing', context.tracing]] as const) {
    if (value !== undefined && value !== 'true' && value !== 'false') throw new Error(`nocreds: ${key} is true or false; got "${value}"`);
  }
  return {
    broker: {
      grantPolicyFile: resolve(context.grants ?? resolve(PROJECT_ROOT, 'infra', 'example-grants.yaml')),
      brokeredRoles,
      ...(cas.length > 0 ? { certificateAuthorityArns: cas } : {}),
      credentialRevocation: context.credentialRevocation === 'true',
      logLevel: logLevel as NocredsProps['logLevel'] & string,
      ...(emails.length > 0 ? { alarmEmails: emails } : {}),
      ...(context.reservedConcurrency === 'false' ? { reservedConcurrency: false as const } : {}),
      tracing: context.tracing === 'true',
    },
    brokeredRoleNames: context.brokeredRoles === undefined ? ['ci-deployer'] : list(context.brokeredRoles),
    ...(context.alarmTopicArn ? { alarmTopicArn: context.alarmTopicArn } : {}),
  };
}
