// One deadline for work that cannot be cut: what waits for it stops waiting, the work goes on.

/**
 * `work`'s value, or `late()`'s once `ms` have passed first. The work is not cancelled (a c-ares query,
 * an SMTP conversation: neither gives a handle to cut it), so `work` must never reject unhandled: its
 * outcome, once late, is dropped. The timer is cleared as soon as either settles and never keeps the
 * process alive.
 */
export function within<T>(work: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late()), ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
