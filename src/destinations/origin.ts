// The one rule for "the destination moves to another host": a stored credential is never sent to a
// new origin (scheme, host and port), so such a move needs the credential again. The PATCH enforces it
// (patchBody.ts); the dashboard's Edit says so as the URL is typed (web/src/components/EditDestination.tsx).

/** Whether `next` points at another origin than `saved`; false while `next` is no URL yet (still being typed). */
export function movesToAnotherOrigin(saved: string, next: string): boolean {
  let to: string;
  try {
    to = new URL(next.trim()).origin;
  } catch {
    return false;
  }
  return to !== new URL(saved).origin;
}
