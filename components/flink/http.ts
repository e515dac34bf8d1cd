/**
 * A small JSON-over-HTTP client with retries: what the job and alert providers use to reach their
 * APIs. Connection failures and 5xx/429 are retried with exponential backoff; after the last try
 * the error names the endpoint and what it answered. Plain module, no SDK: it is serialized into
 * Pulumi state with the provider.
 */
export interface RetryPolicy {
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, initialDelayMs: 250, maxDelayMs: 8000 };

export class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly body: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export async function requestJson<T = any>(
  method: string,
  url: string,
  body?: unknown,
  opts: { retry?: RetryPolicy; headers?: Record<string, string>; timeoutMs?: number; /** send the body as an HTML form instead of JSON */ form?: boolean } = {},
): Promise<T> {
  const retry = opts.retry ?? DEFAULT_RETRY;
  let delay = retry.initialDelayMs;
  let last: HttpError | undefined;
  for (let attempt = 1; attempt <= retry.attempts; attempt++) {
    try {
      const res = await fetch(url, {
        method,
        headers: { "content-type": opts.form ? "application/x-www-form-urlencoded" : "application/json", accept: "application/json", ...opts.headers },
        body:
          body === undefined
            ? undefined
            : opts.form
              ? new URLSearchParams(Object.entries(body as Record<string, unknown>).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)])).toString()
              : JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30000),
      });
      const text = await res.text();
      if (res.ok) return (text ? JSON.parse(text) : {}) as T;
      last = new HttpError(`${method} ${url} answered ${res.status}: ${text.slice(0, 2000)}`, res.status, text);
      if (res.status < 500 && res.status !== 429) throw last; // the request itself is wrong: do not retry
    } catch (e) {
      if (e instanceof HttpError && e.status !== undefined && e.status < 500 && e.status !== 429) throw e;
      if (!(e instanceof HttpError)) {
        last = new HttpError(`${method} ${url} failed: ${(e as Error).cause ? String((e as Error & { cause: unknown }).cause) : (e as Error).message}`, undefined, "");
      }
    }
    if (attempt < retry.attempts) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, retry.maxDelayMs);
    }
  }
  throw new HttpError(`${last?.message} (gave up after ${retry.attempts} attempts)`, last?.status, last?.body ?? "");
}
