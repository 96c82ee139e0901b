// Retrying calls a server refused for now (HTTP 429/503, Connect
// resource_exhausted/unavailable): exponential backoff with jitter, never
// sooner than the server's Retry-After. The same rules as the Go SDK's
// retry.go.

/** How to wait between attempts. Every field has a default. */
export interface Backoff {
  /** First wait in ms; default 250. */
  initialMs?: number;
  /** Bound on every wait in ms, Retry-After included; default 30000. */
  maxMs?: number;
  /** Bound on the calls made, the first included; default 10. 1: no retry. */
  attempts?: number;
  /**
   * Called before each wait of retry with the attempt that failed
   * (counting from 1), the wait in ms and the refusal: e.g. to tell the
   * player the server is busy.
   */
  onRetry?: (attempt: number, waitMs: number, err: unknown) => void;
}

interface Filled { initialMs: number; maxMs: number; attempts: number }

function filled(b: Backoff = {}): Filled {
  const initialMs = b.initialMs && b.initialMs > 0 ? b.initialMs : 250;
  const maxMs = Math.max(b.maxMs && b.maxMs > 0 ? b.maxMs : 30_000, initialMs);
  const attempts = b.attempts && b.attempts > 0 ? b.attempts : 10;
  return { initialMs, maxMs, attempts };
}

/**
 * backoffWait returns the ms to wait before attempt number attempt+1
 * (attempt counts from 1) when the server asked for at least retryAfterMs
 * (0: it named no time): drawn from the upper half of the exponential step,
 * at least the Retry-After plus up to a quarter of it, at most maxMs.
 */
export function backoffWait(b: Backoff | undefined, attempt: number, retryAfterMs = 0, random = Math.random): number {
  const f = filled(b);
  let d = f.initialMs;
  for (let i = 1; i < attempt && d < f.maxMs; i++) d *= 2;
  d = Math.min(d, f.maxMs);
  d = d / 2 + random() * (d / 2);
  if (retryAfterMs > 0 && d < retryAfterMs) d = retryAfterMs + random() * (retryAfterMs / 4);
  return Math.min(d, f.maxMs);
}

/**
 * parseRetryAfter reads a Retry-After header (delay-seconds or an HTTP
 * date) into ms; 0 for none or a malformed one.
 */
export function parseRetryAfter(h: string | null | undefined, now = Date.now()): number {
  if (!h) return 0;
  const t = h.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const at = Date.parse(t);
  return Number.isNaN(at) || at <= now ? 0 : at - now;
}

/** A refusal that says "not now": carries the least wait the server asked for. */
export interface Retryable { retryable: true; retryAfterMs: number }

/** isRetryable is implemented by errors that may pass if tried again. */
export type RetryCheck = (err: unknown) => Retryable | undefined;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return; }
    const t = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(signal!.reason); };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * retry calls fn until it succeeds, throws something check does not call
 * retryable, the attempts run out, or signal aborts; it rethrows fn's last
 * error (or the abort reason during a wait).
 */
export async function retry<T>(fn: () => Promise<T>, check: RetryCheck, b?: Backoff, signal?: AbortSignal): Promise<T> {
  const f = filled(b);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const r = check(err);
      if (!r || attempt >= f.attempts || signal?.aborted) throw err;
      const ms = backoffWait(b, attempt, r.retryAfterMs);
      b?.onRetry?.(attempt, ms, err);
      await sleep(ms, signal);
    }
  }
}

export { sleep };
