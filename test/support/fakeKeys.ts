// Keys written for tests in each provider's documented shape, from a fixed sequence: no real key, and
// the same characters on every run.
export const HEX = '0123456789abcdef';
export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const BASE64URL = `${ALNUM}-_`;

/** `length` characters of `alphabet`, a linear congruential sequence from `seed`. */
export function randomOf(alphabet: string, length: number, seed = 11): string {
  let x = seed;
  let out = '';
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += alphabet[(x >> 16) % alphabet.length];
  }
  return out;
}

// Vendor tokens a review found forwarded as they were (in a summary, a policy id, an actor_id's local
// part), each written here in its documented shape (gitleaks' and trufflehog's rules) from a fixed
// sequence: no real key.
export const VENDOR_TOKENS: readonly (readonly [string, string])[] = [
  ['Shopify access', `shpat_${randomOf(HEX, 32, 21)}`],
  ['Shopify custom app', `shpca_${randomOf(HEX, 32, 22)}`],
  ['Shopify private app', `shppa_${randomOf(HEX, 32, 23)}`],
  ['Shopify shared secret', `shpss_${randomOf(HEX, 32, 24)}`],
  ['Atlassian API', `ATATT3${randomOf(BASE64URL, 186, 25)}`],
  ['Grafana service account', `glsa_${randomOf(ALNUM, 32, 26)}_${randomOf(HEX, 8, 27)}`],
  ['Grafana Cloud', `glc_${randomOf(ALNUM, 80, 28)}`],
  ['Sentry org', `sntrys_eyJpYXQiO${randomOf(ALNUM, 120, 29)}_${randomOf(ALNUM, 43, 30)}`],
  ['Sentry user', `sntryu_${randomOf(HEX, 64, 30)}`],
  ['Databricks', `dapi${randomOf(HEX, 32, 31)}`],
  ['Docker', `dckr_pat_${randomOf(BASE64URL, 27, 32)}`],
  ['Doppler', `dp.pt.${randomOf(ALNUM, 43, 33)}`],
  ['Linear', `lin_api_${randomOf(ALNUM, 40, 34)}`],
  ['Notion', `ntn_${randomOf('0123456789', 11, 35)}${randomOf(ALNUM, 35, 36)}`],
  ['Google OAuth', `ya29.${randomOf(BASE64URL, 150, 37)}`],
  ['Fly.io', `fo1_${randomOf(BASE64URL, 43, 38)}`],
  ['Supabase', `sbp_${randomOf(HEX, 40, 39)}`],
  ['Groq', `gsk_${randomOf(ALNUM, 52, 40)}`],
  ['xAI', `xai-${randomOf(ALNUM, 80, 41)}`],
  ['Perplexity', `pplx-${randomOf(ALNUM, 48, 42)}`],
  ['Heroku (UUID)', 'HRKU-5f3c1a2b-9d8e-4f7a-b6c5-0e1d2c3b4a59'],
  ['Heroku (v2)', `HRKU-AA${randomOf(BASE64URL, 58, 43)}`],
  ['Square access', `sq0atp-${randomOf(BASE64URL, 22, 44)}`],
  ['Square OAuth secret', `sq0csp-${randomOf(BASE64URL, 43, 45)}`],
  ['Google OAuth client secret', `GOCSPX-${randomOf(BASE64URL, 28, 46)}`],
  ['Microsoft Entra ID client secret', `${randomOf(ALNUM, 3, 47)}8Q~${randomOf(`${ALNUM}_~.-`, 34, 48)}`],
  ['New Relic user API key', `NRAK-${randomOf('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 27, 49)}`],
  ['Alibaba Cloud AccessKey id', `LTAI5t${randomOf(ALNUM, 18, 50)}`],
  ['Tencent Cloud SecretId', `AKID${randomOf(ALNUM, 32, 51)}`],
  ['Mailchimp API key', `${randomOf(HEX, 32, 52)}-us21`],
  ['Replicate API', `r8_${randomOf(ALNUM, 37, 53)}`],
  ['GitLab runner registration', `GR1348941${randomOf(BASE64URL, 20, 54)}`],
  ['Aegis API', `aeg_${randomOf(BASE64URL, 43, 60)}`],
  ['Facebook access', `EAACEdEose0cBA${randomOf(ALNUM, 150, 55)}`],
];
