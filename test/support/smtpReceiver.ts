// A real SMTP server in the test process (smtp-server): it requires the test credentials, accepts
// every message, and keeps each one as received, with its body decoded for reading.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The message as it came over the wire. */
  raw: string;
  /** Headers and body with quoted-printable undone (UTF-8), for reading and scanning. */
  decoded: string;
  subject: string;
}

export interface SmtpReceiver {
  port: number;
  mails: ReceivedMail[];
  /** Failed logins seen (a wrong password would show here). */
  authFailures: number;
  /** Logins tried (a password sent), right or wrong. */
  logins: number;
  close(): Promise<void>;
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function decodeSubject(raw: string): string {
  const m = /^Subject: (.*(?:\r?\n[ \t].*)*)/im.exec(raw);
  if (!m) return '';
  return m[1]!
    .replace(/\r?\n[ \t]/g, ' ')
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=\s*/gi, (_, enc: string, data: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}

export interface SmtpReceiverOptions {
  /** The text of a refused login, from the password tried (a careless server quoting it back). */
  authError?: (password: string) => string;
  /** Refuses a recipient with this text (a 550 quoting the address, as Postfix does), or accepts it (null). */
  rcptError?: (address: string) => string | null;
  /** Refuses the sender with this text (a 553 quoting it), or accepts it (null). */
  mailFromError?: (address: string) => string | null;
  /** The address to listen on (default loopback). */
  host?: string;
}

export async function startSmtpReceiver(user: string, password: string, options: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  let authFailures = 0;
  let logins = 0;
  const server = new SMTPServer({
    // Loopback, no TLS: the test is about what the service sends, not about STARTTLS.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, cb) {
      logins++;
      if (auth.username === user && auth.password === password) cb(null, { user });
      else {
        authFailures++;
        cb(new Error(options.authError ? options.authError(auth.password ?? '') : 'Invalid username or password'));
      }
    },
    onMailFrom(address, _session, cb) {
      const refusal = options.mailFromError?.(address.address) ?? null;
      if (refusal === null) cb();
      else cb(Object.assign(new Error(refusal), { responseCode: 553 }));
    },
    onRcptTo(address, _session, cb) {
      const refusal = options.rcptError?.(address.address) ?? null;
      if (refusal === null) cb();
      else cb(Object.assign(new Error(refusal), { responseCode: 550 }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          decoded: decodeQuotedPrintable(raw),
          subject: decodeSubject(raw),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    get authFailures() {
      return authFailures;
    },
    get logins() {
      return logins;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
