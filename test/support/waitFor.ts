// Waiting on a condition where vitest's expect.poll cannot be used (it works only inside a test, not in
// beforeAll/afterAll hooks): checks `read()` every `intervalMs` until `done(value)` holds, and fails
// with the last value read once `timeoutMs` (a ceiling, not an expectation) has passed.
export async function waitFor<T>(
  what: string,
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 60_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (performance.now() > deadline) throw new Error(`${what}: not met within ${timeoutMs} ms (last value: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** expect.poll's options for a condition that holds within a second on a quiet machine: a ceiling, checked often. */
export const POLL = { timeout: 60_000, interval: 50 };
