export function SignedOut({ reason }: { reason: 'none' | 'logout' }) {
  return (
    <section className="signed-out page-pad" aria-labelledby="signed-out-title">
      <h1 id="signed-out-title">{reason === 'logout' ? 'You are signed out' : 'Sign in to Aegis'}</h1>
      <p>
        Open the one-time sign-in link that <code>npm start</code> printed, or ask for a new one with <code>aegis-stream login-link --org &lt;org id&gt;</code>.
        Each link works once, for 15 minutes.
      </p>
    </section>
  );
}
