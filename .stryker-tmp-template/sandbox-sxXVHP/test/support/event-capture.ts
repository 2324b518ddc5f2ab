// @ts-nocheck
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand, type EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';

/** An EventBridge event as a rule target receives it. */
export interface DeliveredEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly resources: string[];
  readonly detail: Record<string, unknown>;
}

/**
 * Creates an event bus with a rule `{"source": ["nocreds"]}` that delivers to an SQS queue, and
 * reads what arrived: proof that an event was accepted and matches the rule a consumer would write.
 * SQS is spoken directly (JSON protocol) since the project does not depend on the SQS client;
 * moto routes the request by the credential scope and does not check the signature.
 */
export async function captureEvents(endpoint: string, clientConfig: EventBridgeClientConfig, busName: string) {
  const queueName = `${busName}-capture`;
  const sqs = async (action: string, body: object) => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `AmazonSQS.${action}`,
        authorization: 'AWS4-HMAC-SHA256 Credential=testing/20300101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`SQS ${action}: ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  };
  const { QueueUrl } = (await sqs('CreateQueue', { QueueName: queueName })) as { QueueUrl: string };
  const events = new EventBridgeClient(clientConfig);
  await events.send(new CreateEventBusCommand({ Name: busName }));
  await events.send(new PutRuleCommand({ Name: `${busName}-all`, EventBusName: busName, EventPattern: JSON.stringify({ source: ['nocreds'] }) }));
  await events.send(new PutTargetsCommand({ Rule: `${busName}-all`, EventBusName: busName, Targets: [{ Id: 'capture', Arn: `arn:aws:sqs:us-east-1:123456789012:${queueName}` }] }));

  return {
    /** Every event delivered since the last call. */
    async received(): Promise<DeliveredEvent[]> {
      const out: DeliveredEvent[] = [];
      for (;;) {
        const { Messages = [] } = (await sqs('ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10 })) as { Messages?: Array<{ Body: string; ReceiptHandle: string }> };
        if (Messages.length === 0) return out;
        for (const message of Messages) {
          out.push(JSON.parse(message.Body) as DeliveredEvent);
          await sqs('DeleteMessage', { QueueUrl, ReceiptHandle: message.ReceiptHandle });
        }
      }
    },
  };
}
