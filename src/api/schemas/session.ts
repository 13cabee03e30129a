import { Type, type Static } from 'typebox';

export const LoginQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 200, description: 'The one-time token of the sign-in link.' })) });

export const LoginBody = Type.Object({ token: Type.String({ maxLength: 200, description: 'The one-time token, as the sign-in page posts it.' }) });

export const SessionView = Type.Object(
  {
    org_id: Type.String(),
    org_name: Type.String(),
    csrf_token: Type.String({ description: 'Send it as x-csrf-token with every write made with the session cookie.' }),
  },
  { additionalProperties: false },
);
export type SessionView = Static<typeof SessionView>;

/** A server-rendered page (the sign-in page, or why a link was refused). */
export const HtmlPage = (description: string) => ({ description, content: { 'text/html': { schema: Type.String() } } });

/** An answer without a body. */
export const NoBody = (description: string, headers?: Record<string, { description: string; type: 'string' }>) => ({
  description,
  type: 'null' as string, // swagger: no content; typed loosely so reply.send() takes no argument
  ...(headers ? { headers } : {}),
});

export const LoginLinkView = Type.Object(
  {
    url: Type.String({
      description:
        "A one-time sign-in URL for the organization's dashboard (AEGIS_PUBLIC_URL, /auth/login?token=...). It is a credential: open it, do not share it.",
    }),
    expires_at: Type.String({ format: 'date-time', description: 'When the link stops working (15 minutes after it was made).' }),
  },
  { additionalProperties: false },
);
export type LoginLinkView = Static<typeof LoginLinkView>;
