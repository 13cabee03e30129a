import { useEffect, useRef } from 'react';

/**
 * Signed out, or never signed in: how to get a new one-time link (docs/dashboard.md#signing-in). The
 * running service makes one for the organization's API key; the CLI opens the database itself, which
 * the embedded default lets one process do at a time, so it works there only while the service is stopped.
 */
export function SignedOut({ reason }: { reason: 'none' | 'logout' }) {
  const origin = typeof window === 'undefined' ? '' : window.location.origin;
  const heading = useRef<HTMLHeadingElement>(null);
  // Sign out's button went with the signed-in page: land on what replaced it, which is then read out.
  useEffect(() => {
    if (reason === 'logout') heading.current?.focus();
  }, [reason]);
  return (
    <section className="signed-out page-pad" aria-labelledby="signed-out-title">
      <h1 id="signed-out-title" ref={heading} tabIndex={-1} data-page-heading>
        {reason === 'logout' ? 'You are signed out' : 'Sign in to Aegis'}
      </h1>
      <p>
        Open a one-time sign-in link: your organization’s administrator can make you one (if you run this service yourself, <code>npm start</code> printed one).
        Each link works once, for 15 minutes.
      </p>
      <p>
        For a new one, ask the running service with the organization’s API key: <code>POST /api/orgs/&lt;org id&gt;/login-links</code>. The answer’s{' '}
        <code>url</code> is the link.
      </p>
      <pre data-testid="login-link-curl">
        <code>{`curl -X POST -H "Authorization: Bearer $AEGIS_API_KEY" ${origin}/api/orgs/$ORG_ID/login-links`}</code>
      </pre>
      <p>
        If you operate the service: <code>aegis-stream login-link --org &lt;org id&gt;</code> prints one too, but it opens the database itself: with the
        embedded database (the default) only while the service is stopped; with PostgreSQL (<code>DATABASE_URL</code>) at any time.
      </p>
    </section>
  );
}
