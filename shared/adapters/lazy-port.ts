/**
 * A port whose adapter, and the SDK client behind it, is loaded and built on first use. For
 * functions where only some requests need a dependency (the leases function reads leases on most
 * requests; only revoke and renew call PCA, STS or IAM), so cold starts do not pay for it.
 * Every method of our ports is async, which is what lets a proxy stand in for the adapter.
 * A failed load is retried on the next call rather than remembered.
 *
 * @example
 *   const ca = lazyPort<CertificateAuthority>(async () => {
 *     const { ACMPCAClient } = await import('@aws-sdk/client-acm-pca');
 *     const { PcaCertificateAuthority } = await import('./pca-certificate-authority');
 *     return new PcaCertificateAuthority(new ACMPCAClient(config), systemClock);
 *   });
 */
export function lazyPort<T extends object>(load: () => Promise<T>): T {
  let loading: Promise<T> | undefined;
  const adapter = () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
  return new Proxy({} as T, {
    get(_target, method) {
      // Not a thenable: `await port` must not call into the adapter.
      if (method === 'then') return undefined;
      return async (...args: unknown[]) => {
        const target = await adapter();
        const fn = (target as Record<PropertyKey, unknown>)[method];
        if (typeof fn !== 'function') throw new TypeError(`The adapter has no method ${String(method)}.`);
        return (fn as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
