// The connect-time address guard. Every new outbound connection resolves DNS through this lookup,
// which fails the connection when ANY resolved address is forbidden, so DNS rebinding cannot slip
// through between a check and the connect.
import { promises as dnsPromises, type LookupAddress, type LookupOptions } from 'node:dns';
import { isForbiddenAddress } from './addresses.js';

export const FORBIDDEN_ERROR_CODE = 'EAEGISFORBIDDEN';

/** Resolves a host name to every address (dns.lookup with all: true by default). */
export type ResolveAddresses = (hostname: string) => Promise<LookupAddress[]>;

class ForbiddenAddressError extends Error {
  readonly code = FORBIDDEN_ERROR_CODE;
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(`${hostname} resolves to ${address} (${reason})`);
    this.name = 'ForbiddenAddressError';
  }
}

function dnsError(hostname: string, code: string): Error {
  return Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, hostname });
}

const defaultResolve: ResolveAddresses = (hostname) => dnsPromises.lookup(hostname, { all: true });

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A net/tls `lookup` that refuses the connection if any resolved address is forbidden. */
export function createGuardedLookup(allowPrivate: boolean, resolve: ResolveAddresses = defaultResolve) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname).then(
      (resolved) => {
        if (!allowPrivate) {
          for (const { address } of resolved) {
            const reason = isForbiddenAddress(address);
            if (reason !== null) {
              callback(new ForbiddenAddressError(hostname, address, reason), '');
              return;
            }
          }
        }
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const usable = family === 4 || family === 6 ? resolved.filter((a) => a.family === family) : resolved;
        const first = usable[0];
        if (!first) {
          callback(dnsError(hostname, 'ENOTFOUND'), '');
          return;
        }
        if (options.all) callback(null, usable);
        else callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}
