// @ts-nocheck
// 
// 
import { podPatch, InjectionRefused, type InjectionConfig, type Pod, type ServiceAccount } from './pod-mutation';

/**
 * Finds a service account by namespace and name; undefined when there is none. Production uses
 * the Kubernetes API (./kubernetes-lookup.ts); tests pass a fake.
 */
export type ServiceAccountLookup = (namespace: string, name: string) => Promise<ServiceAccount | undefined>;

/**
 * What the webhook does when it cannot learn whether a pod opts in (the service-account lookup
 * failed): `fail` refuses the pod (secure by default: an opted-in pod never starts without its
 * credentials), `ignore` admits it unchanged. Match the manifest's `failurePolicy`, which covers
 * the webhook itself being unreachable.
 */
export type FailurePolicy = 'fail' | 'ignore';

export interface AdmissionOptions {
  readonly injection: InjectionConfig;
  readonly lookup: ServiceAccountLookup;
  readonly failurePolicy: FailurePolicy;
  readonly log?: (event: Record<string, unknown>) => void;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
  status?: { code: number; reason: string; message: string };
}

export interface AdmissionReviewOut {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** An AdmissionReview this webhook cannot read: answered with HTTP 400, never a guess. */
export class MalformedAdmissionReview extends Error {
  override name = 'MalformedAdmissionReview';
  readonly code = 'malformed_admission_review';
}

interface AdmissionRequest {
  uid: string;
  kind?: { kind?: string };
  operation?: string;
  namespace?: string;
  object?: Pod;
}

function readRequest(review: unknown): AdmissionRequest {
  const r = review as { apiVersion?: unknown; kind?: unknown; request?: Partial<AdmissionRequest> } | null;
  if (typeof r !== 'object' || r === null || r.kind !== 'AdmissionReview' || r.apiVersion !== 'admission.k8s.io/v1') {
    throw new MalformedAdmissionReview('Expected an admission.k8s.io/v1 AdmissionReview (set admissionReviewVersions: ["v1"] in the MutatingWebhookConfiguration).');
  }
  if (typeof r.request !== 'object' || r.request === null || typeof r.request.uid !== 'string' || r.request.uid === '') {
    throw new MalformedAdmissionReview('The AdmissionReview has no request.uid.');
  }
  return r.request as AdmissionRequest;
}

/**
 * Answers one AdmissionReview: pods created with an opted-in service account get the nocreds
 * patch; everything else is admitted unchanged.
 */
export async function reviewAdmission(review: unknown, options: AdmissionOptions): Promise<AdmissionReviewOut> {
  const request = readRequest(review);
  const answer = (response: Omit<AdmissionResponse, 'uid'>): AdmissionReviewOut => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: request.uid, ...response } });
  if (request.kind?.kind !== 'Pod' || request.operation !== 'CREATE' || typeof request.object !== 'object' || request.object === null) return answer({ allowed: true });

  const pod = request.object;
  const namespace = request.namespace ?? pod.metadata?.namespace;
  const serviceAccountName = pod.spec?.serviceAccountName || 'default';
  const podName = pod.metadata?.name ?? pod.metadata?.generateName ?? '';
  if (!namespace) throw new MalformedAdmissionReview('The AdmissionReview names no namespace for the pod.');

  let serviceAccount: ServiceAccount | undefined;
  try {
    serviceAccount = await options.lookup(namespace, serviceAccountName);
  } catch (error) {
    const message = `nocreds could not read service account ${namespace}/${serviceAccountName}: ${(error as Error).message}`;
    options.log?.({ level: 'warn', event: 'lookup_failed', namespace, serviceAccount: serviceAccountName, failurePolicy: options.failurePolicy, error: (error as Error).message });
    if (options.failurePolicy === 'ignore') return answer({ allowed: true, warnings: [`${message}; admitted without nocreds credentials (failurePolicy ignore).`] });
    return answer({ allowed: false, status: { code: 503, reason: 'ServiceUnavailable', message: `${message}. Retry, or check the webhook's RBAC (get serviceaccounts).` } });
  }

  try {
    const patch = podPatch(pod, serviceAccount, options.injection);
    if (patch.length === 0) return answer({ allowed: true });
    options.log?.({ level: 'info', event: 'injected', namespace, pod: podName, serviceAccount: serviceAccountName, operations: patch.length });
    return answer({ allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
  } catch (error) {
    if (!(error instanceof InjectionRefused)) throw error;
    options.log?.({ level: 'warn', event: 'refused', namespace, pod: podName, serviceAccount: serviceAccountName, reason: error.message });
    return answer({ allowed: false, status: { code: 400, reason: 'BadRequest', message: `nocreds: ${error.message}` } });
  }
}
