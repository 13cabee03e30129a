/**
 * Service tokens with a recognisable prefix:
 * - GitHub: ghp_ (classic personal), gho_ (OAuth), ghu_ (user-to-server), ghs_ (server-to-server),
 *   ghr_ (refresh) followed by at least 36 alphanumerics; github_pat_ fine-grained tokens.
 * - Slack: xoxa-, xoxb-, xoxp-, xoxo-, xoxr-, xoxs- tokens, xapp- app-level tokens and incoming
 *   webhook URLs (hooks.slack.com/services/T.../B.../...), which are credentials too.
 * - Stripe: secret and restricted keys (sk_live_, sk_test_, rk_live_, rk_test_) and webhook signing
 *   secrets (whsec_). Publishable keys (pk_) are public by design and not reported.
 * - JWT: three base64url segments, the first two starting with "eyJ" (a JSON object), signed.
 *
 * Every pattern is anchored by a look-behind on the previous character, so a run like "ghp_ghp_..."
 * or "eyJeyJ..." yields one bounded attempt, not one per position.
 */
import type { Finding } from '../findings.js';
import { regexFindings } from './common.js';

// Anything may follow a classic token ("ghp_..._v2", or more letters): it is found by its prefix and
// its first 36 characters. A fine-grained one ends where its alphabet does.
const GITHUB_RE = /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,250}(?![A-Za-z0-9]))/g;
const SLACK_RE = /(?<![A-Za-z0-9-])(?:xox[abpors]-[A-Za-z0-9-]{10,250}|xapp-\d-[A-Za-z0-9-]{10,250})(?![A-Za-z0-9-])/g;
const SLACK_WEBHOOK_RE = /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{6,12}\/B[A-Z0-9]{6,12}\/[A-Za-z0-9]{20,32}(?![A-Za-z0-9])/g;
const STRIPE_RE = /(?<![A-Za-z0-9_])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}|whsec_[A-Za-z0-9+/=]{24,128})(?![A-Za-z0-9])/g;
const JWT_RE = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,8000}\.eyJ[A-Za-z0-9_-]{2,8000}\.[A-Za-z0-9_-]{10,8000}(?![A-Za-z0-9_-])/g;

export function detectTokens(text: string): Finding[] {
  return [
    ...regexFindings(text, GITHUB_RE, 'GITHUB_TOKEN'),
    ...regexFindings(text, SLACK_RE, 'SLACK_TOKEN'),
    ...regexFindings(text, SLACK_WEBHOOK_RE, 'SLACK_TOKEN'),
    ...regexFindings(text, STRIPE_RE, 'STRIPE_KEY'),
    ...regexFindings(text, JWT_RE, 'JWT'),
  ];
}
