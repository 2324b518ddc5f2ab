// @ts-nocheck
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ReportStore } from '../ports';
import { mapSdkError } from './sdk-errors';

/** ReportStore on S3: one object per key under a prefix, encrypted at rest with the bucket's KMS key or S3's own. */
export class S3ReportStore implements ReportStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix = '',
  ) {}

  async put(key: string, body: string, contentType: string): Promise<{ location: string }> {
    const objectKey = `${this.prefix}${key}`;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Body: body,
          ContentType: contentType,
          // Reports name callers and roles: never cache them in shared caches.
          CacheControl: 'no-store',
        }),
      );
    } catch (error) {
      throw mapSdkError('S3', error);
    }
    return { location: `s3://${this.bucket}/${objectKey}` };
  }
}
