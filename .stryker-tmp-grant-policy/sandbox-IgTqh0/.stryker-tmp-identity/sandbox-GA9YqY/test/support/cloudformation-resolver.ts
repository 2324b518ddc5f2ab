/**
 * Resolves the intrinsic functions of a synthesized template (`Ref`, `Fn::GetAtt ... Arn`,
 * `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`) to the concrete strings CloudFormation would produce in one account and
 * region, so policies can be evaluated (e.g. by @cloud-copilot/iam-simulate) as deployed.
 *
 * Resources without an explicit name get a stand-in physical name, `<stack>-<logicalId>`, used the
 * same way everywhere: what matters to a policy is which resource an ARN names, not its spelling.
 * Anything it cannot resolve throws, so a new intrinsic or resource type never evaluates as a
 * silently wrong ARN.
 */
// @ts-nocheck

// 


interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

export interface DeploymentTarget {
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
  readonly partition?: string;
  /** The stack's CloudFormation id (`AWS::StackId`); CloudFormation draws its UUID at creation. */
  readonly stackId?: string;
}

interface ResourceKind {
  /** The property that names the resource when set. */
  readonly nameProperty: string;
  readonly arn: (name: string, resource: CfnResource) => string;
  /** What `Ref` returns: the physical name (default) or the ARN. */
  readonly ref?: 'name' | 'arn';
  readonly lowercase?: boolean;
}

export class CloudFormationResolver {
  private readonly partition: string;
  private readonly kinds: Record<string, ResourceKind>;

  constructor(
    private readonly template: CfnTemplate,
    private readonly target: DeploymentTarget,
  ) {
    this.partition = target.partition ?? 'aws';
    const { account, region } = target;
    const p = this.partition;
    this.kinds = {
      'AWS::DynamoDB::Table': { nameProperty: 'TableName', arn: (n) => `arn:${p}:dynamodb:${region}:${account}:table/${n}` },
      'AWS::Logs::LogGroup': { nameProperty: 'LogGroupName', arn: (n) => `arn:${p}:logs:${region}:${account}:log-group:${n}:*` },
      'AWS::S3::Bucket': { nameProperty: 'BucketName', arn: (n) => `arn:${p}:s3:::${n}`, lowercase: true },
      'AWS::Events::EventBus': { nameProperty: 'Name', arn: (n) => `arn:${p}:events:${region}:${account}:event-bus/${n}` },
      'AWS::SQS::Queue': { nameProperty: 'QueueName', arn: (n) => `arn:${p}:sqs:${region}:${account}:${n}` },
      'AWS::Lambda::Function': { nameProperty: 'FunctionName', arn: (n) => `arn:${p}:lambda:${region}:${account}:function:${n}` },
      'AWS::IAM::Role': {
        nameProperty: 'RoleName',
        arn: (n, r) => `arn:${p}:iam::${account}:role${typeof r.Properties?.Path === 'string' ? r.Properties.Path : '/'}${n}`,
      },
      // A key has no name property: `Ref` is its key id, the stand-in here.
      'AWS::KMS::Key': { nameProperty: 'KeyId', arn: (n) => `arn:${p}:kms:${region}:${account}:key/${n}` },
      // Secrets Manager appends six random characters to a secret's ARN; `Ref` is that ARN.
      'AWS::SecretsManager::Secret': { nameProperty: 'Name', arn: (n) => `arn:${p}:secretsmanager:${region}:${account}:secret:${n}-AbCdEf`, ref: 'arn' },
    };
  }

  /** The resource's name as deployed: its explicit name, or the stand-in. */
  physicalName(logicalId: string): string {
    const resource = this.resource(logicalId);
    const kind = this.kind(logicalId, resource);
    const explicit = resource.Properties?.[kind.nameProperty];
    if (explicit !== undefined) return this.resolveString(explicit);
    const standIn = `${this.target.stackName}-${logicalId}`;
    return kind.lowercase ? standIn.toLowerCase() : standIn;
  }

  arnOf(logicalId: string): string {
    const resource = this.resource(logicalId);
    return this.kind(logicalId, resource).arn(this.physicalName(logicalId), resource);
  }

  /** `value` with every intrinsic function replaced by its concrete value. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) return this.intrinsic(first[0], first[1]);
    return Object.fromEntries(entries.map(([key, item]) => [key, this.resolve(item)]));
  }

  private resolveString(value: unknown): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string') throw new Error(`expected a string, got ${JSON.stringify(value)}`);
    return resolved;
  }

  private intrinsic(name: string, args: unknown): unknown {
    switch (name) {
      case 'Ref':
        return this.ref(args as string);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = args as [string, string];
        if (attribute !== 'Arn') throw new Error(`Fn::GetAtt ${logicalId}.${attribute}: only Arn is resolved`);
        return this.arnOf(logicalId);
      }
      case 'Fn::Join': {
        const [separator, parts] = args as [string, unknown[]];
        return parts.map((part) => this.resolveString(part)).join(separator);
      }
      case 'Fn::Sub': {
        if (typeof args !== 'string') throw new Error('Fn::Sub with a variable map is not resolved');
        return args.replace(/\$\{([^}!]+)\}/g, (_match, variable: string) =>
          variable.endsWith('.Arn') ? this.arnOf(variable.slice(0, -'.Arn'.length)) : this.resolveString({ Ref: variable }),
        );
      }
      case 'Fn::Select': {
        const [index, list] = args as [number | string, unknown];
        const items = this.resolve(list);
        if (!Array.isArray(items) || items[Number(index)] === undefined) throw new Error(`Fn::Select ${String(index)} of ${JSON.stringify(items)}`);
        return items[Number(index)];
      }
      case 'Fn::Split': {
        const [separator, source] = args as [string, unknown];
        return this.resolveString(source).split(separator);
      }
      default:
        throw new Error(`${name} is not resolved`);
    }
  }

  private ref(target: string): string {
    const pseudo: Record<string, string> = {
      'AWS::Partition': this.partition,
      'AWS::Region': this.target.region,
      'AWS::AccountId': this.target.account,
      'AWS::StackName': this.target.stackName,
      'AWS::StackId': this.target.stackId ?? `arn:${this.partition}:cloudformation:${this.target.region}:${this.target.account}:stack/${this.target.stackName}/00000000-0000-4000-8000-000000000000`,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    if (target in pseudo) return pseudo[target]!;
    const resource = this.resource(target);
    return this.kind(target, resource).ref === 'arn' ? this.arnOf(target) : this.physicalName(target);
  }

  private resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`no resource ${logicalId} in the template`);
    return resource;
  }

  private kind(logicalId: string, resource: CfnResource): ResourceKind {
    const kind = this.kinds[resource.Type];
    if (!kind) throw new Error(`${logicalId}: ${resource.Type} is not resolved (add its ARN format)`);
    return kind;
  }
}
