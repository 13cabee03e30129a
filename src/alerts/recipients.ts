/**
 * Which addresses alert e-mails may go to: AEGIS_ALERT_EMAIL_DOMAINS, the operator's domains. Mail
 * leaves from the operator's server and domain with text a tenant shapes (a destination's name, its
 * SIEM's answers): without a list a tenant could have it sent to anyone. One rule for the settings'
 * check (settings.ts) and for the send (alerter.ts), so addresses stored before the list are not mailed.
 */

/** A domain as AEGIS_ALERT_EMAIL_DOMAINS lists it: lower-case labels, at least two. */
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const isEmailDomain = (d: string): boolean => DOMAIN.test(d);

/** Whether alert e-mail may go to `address`: any when `domains` is null, else one of them or a subdomain. */
export function alertAddressAllowed(address: string, domains: readonly string[] | null): boolean {
  if (domains === null) return true;
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return domains.some((d) => domain === d || domain.endsWith(`.${d}`));
}
