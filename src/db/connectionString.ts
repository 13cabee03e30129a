// How pg reads a DATABASE_URL, asked of pg itself: a Client built from it parses the string (and
// reads the TLS files it names) and connects nothing. The config check and the start errors both read
// it here, so neither keeps its own idea of pg's parsing rules (?host=, an empty host after
// credentials, a percent-encoded socket directory, PGHOST/PGPORT and the defaults).
import pg from 'pg';

export interface ConnectionTarget {
  /** A host name or address, or a unix socket directory when it starts with "/". */
  host: string;
  port: number;
  password: string;
}

/** Throws what pg throws for the string: a TypeError (ERR_INVALID_URL), or a file error with its path. */
export function connectionTarget(databaseUrl: string): ConnectionTarget {
  const client = new pg.Client({ connectionString: databaseUrl });
  return { host: client.host, port: client.port, password: typeof client.password === 'string' ? client.password : '' };
}
