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

/**
 * An HTTP failure. Made with httpError(), not a subclass of Error: this code runs inside dynamic
 * providers, whose closure serialization turns `super(message)` of a built-in into a call that sets
 * no message (found by running the real engine).
 */
export interface HttpError extends Error {
  readonly status: number | undefined;
  readonly body: string;
  /** A request that starts or stops something failed in a way that does not say whether the server acted on it. */
  readonly maybeApplied: boolean;
}

export function httpError(message: string, status: number | undefined, body: string, maybeApplied = false): HttpError {
  return Object.assign(new Error(message), { name: "HttpError", status, body, maybeApplied });
}

export function isHttpError(e: unknown): e is HttpError {
  return e instanceof Error && e.name === "HttpError";
}

/** Errors that prove the request never reached the server: safe to send again. */
const NOT_SENT = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH/;

export async function requestJson<T = unknown>(
  method: string,
  url: string,
  body?: unknown,
  opts: {
    retry?: RetryPolicy;
    headers?: Record<string, string>;
    timeoutMs?: number;
    /** send the body as an HTML form instead of JSON */
    form?: boolean;
    /**
     * false for requests that start or stop something (submit a statement, stop with a savepoint):
     * retried only when it provably never reached the server; otherwise the error has maybeApplied set
     * and the caller looks at what happened before trying again.
     */
    idempotent?: boolean;
    /** A non-2xx status whose body is the API's own answer (StreamPark's HTTP 500 error envelope): returned, never retried. */
    answer?: (status: number, body: string) => boolean;
  } = {},
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
      if (res.ok || opts.answer?.(res.status, text)) return (text ? JSON.parse(text) : {}) as T;
      last = httpError(`${method} ${url} answered ${res.status}: ${text.slice(0, 2000)}`, res.status, text, opts.idempotent === false && res.status !== 429);
      if (res.status < 500 && res.status !== 429) throw last; // the request itself is wrong: do not retry
      if (last.maybeApplied) throw last;
    } catch (e) {
      if (isHttpError(e) && e.status !== undefined && (e.status < 500 && e.status !== 429 || e.maybeApplied)) throw e;
      if (!(isHttpError(e))) {
        const why = (e as Error).cause ? String((e as Error & { cause: unknown }).cause) : (e as Error).message;
        const code = String(((e as Error & { cause?: { code?: string } }).cause?.code) ?? "");
        const sent = !NOT_SENT.test(`${code} ${why}`);
        last = httpError(`${method} ${url} failed: ${why}`, undefined, "", opts.idempotent === false && sent);
        if (last.maybeApplied) throw last;
      }
    }
    if (attempt < retry.attempts) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, retry.maxDelayMs);
    }
  }
  throw httpError(`${last?.message} (gave up after ${retry.attempts} attempts)`, last?.status, last?.body ?? "");
}
