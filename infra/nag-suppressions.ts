import { Stack } from 'aws-cdk-lib';
import { NagSuppressions } from 'cdk-nag';
import { renderArnForNag as renderForNag } from './brokered-role';
import { AUDIT_REPORT_PREFIX, type Nocreds } from './nocreds';

/**
 * Every cdk-nag (AwsSolutions) suppression of the broker, each with its reason, in one place.
 * Each is as narrow as cdk-nag allows: one resource, one rule, and for IAM5 the exact wildcard.
 */
export function suppressNagFindings(broker: Nocreds): void {
  const stack = Stack.of(broker);
  const resolve = (value: string) => stack.resolve(value) as unknown;
  // cdk-nag reports wildcards in its own rendering of the resolved ARN, e.g. `Resource::arn:<AWS::Partition>:...`.
  const nagArn = (value: string) => renderForNag(resolve(value));

  for (const fn of Object.values(broker.functions)) {
    NagSuppressions.addResourceSuppressions(fn.function, [
      {
        id: 'AwsSolutions-L1',
        reason:
          'nodejs22.x is chosen on purpose: the bundles target node22 (esbuild) and are tested on it; Lambda supports it until 2027-04. Moving to nodejs24.x is one line in infra/broker-function.ts.',
      },
    ]);
  }

  const optInWildcards = broker.optIn.roleArns(broker).map((arn) => `Resource::${nagArn(arn)}`);
  const optInReason =
    broker.optIn.marker.kind === 'path'
      ? `Brokered roles are exactly the roles under the opt-in path ${broker.optIn.marker.path}; a path prefix in the role ARN is how IAM names them. Each such role must also trust the broker.`
      : `Brokered roles are exactly the roles tagged ${broker.optIn.marker.key}=${broker.optIn.marker.value} (aws:ResourceTag condition on the same statement); IAM can only name tagged roles with a role/* resource plus that condition.`;
  for (const name of ['credentials', 'leases', 'renewal'] as const) {
    NagSuppressions.addResourceSuppressions(broker.functions[name].role, [{ id: 'AwsSolutions-IAM5', reason: optInReason, appliesTo: optInWildcards }], true);
  }

  NagSuppressions.addResourceSuppressions(
    broker.functions.audit.role,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason: `The audit function writes one report per run under a key named by the run date; s3:PutObject only, under ${AUDIT_REPORT_PREFIX} in its own audit bucket.`,
        appliesTo: [`Resource::${nagArn(broker.auditBucket.bucketArn)}/${AUDIT_REPORT_PREFIX}*`],
      },
    ],
    true,
  );

  NagSuppressions.addResourceSuppressions(
    broker.api,
    [
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'Authorization happens in the function: OIDC tokens (one route per API serves many issuers, and the container-credentials route receives a raw token, which JWT authorizers cannot take) and signed GetCallerIdentity proofs are verified by the Authenticator before any work; unauthenticated requests get 401. SigV4 callers use iamApi, where every route is AWS_IAM.',
      },
    ],
    true,
  );

  // LambdaInvoke targets create their Scheduler roles at stack level, one per target function.
  const scheduled = [broker.functions.renewal, broker.functions.audit].map((fn) => `Resource::${nagArn(fn.function.functionArn)}:*`);
  for (const role of stack.node.children.filter((child) => child.node.id.startsWith('SchedulerRoleForTarget-'))) {
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: "EventBridge Scheduler's LambdaInvoke target allows lambda:InvokeFunction on its one function and that function's versions and aliases (ARN:*); nothing else.",
          appliesTo: scheduled,
        },
      ],
      true,
    );
  }

  if (!hasAccessLogs(broker)) {
    NagSuppressions.addResourceSuppressions(broker.auditBucket, [
      {
        id: 'AwsSolutions-S1',
        reason:
          'Only the audit function writes to this bucket and readers are operators; CloudTrail records both. Pass serverAccessLogsBucket to log every object access (it needs a second bucket, which would itself have no access logs).',
      },
    ]);
  }

  NagSuppressions.addResourceSuppressions(broker.cursorKey, [
    {
      id: 'AwsSolutions-SMG4',
      reason:
        'The cursor key only makes lease-listing cursors tamper-evident (authorization is checked on every request); the functions read it from their environment at deploy, so rotation would need a redeploy and would only invalidate open cursors.',
    },
  ]);

  NagSuppressions.addResourceSuppressions(broker.deadLetterQueue, [
    { id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of the renewal and audit schedules and functions.' },
  ]);
}

function hasAccessLogs(broker: Nocreds): boolean {
  const bucket = broker.auditBucket.node.defaultChild as { loggingConfiguration?: unknown };
  return bucket.loggingConfiguration !== undefined;
}

