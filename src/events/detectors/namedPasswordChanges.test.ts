import { describe, expect, it } from 'vitest';
import { detectNamedPasswords } from './namedPassword.js';
import { fill, maskedText as masked, noPasswordIn as accepted, passwordsIn as passwords, refusedAsPassword } from '../../../test/support/detection.js';

// A change of a password as audit logs, plans and APIs record one: the old value and the new one
// under the password's name (`{"password": {"old": A, "new": B}}`, `{"password": [A, B]}`,
// Terraform's `~ password = "A" -> "B"`), a name/value pair's old and new values (`{"field":
// "password", "old_value": A, "new_value": B}`) and a JSON Patch's path (`{"op": "replace", "path":
// "/password", "value": B}`). Each of these passed the guard and preflight unmasked: only the old
// value of Terraform's, none of the others.

const OLD = 'Kot!2024x';
const NEW = 'Zq8v!T2xk9';
/** Each secret found, masked out and refused; nothing else of the text masked as a password. */
function maskedOut(text: string, secrets: readonly string[]): void {
  const found = passwords(text);
  for (const s of secrets) expect(found, text).toContain(s);
  expect(
    found.every((f) => secrets.includes(f)),
    `${text}: ${found.join(' | ')}`,
  ).toBe(true);
  for (const s of secrets) expect(masked(text), text).not.toContain(s);
  expect(refusedAsPassword(text), text).toBe(true);
}

describe('a password change: both values', () => {
  it("Terraform's plan and other arrows after an assigned value", () => {
    for (const text of [
      `      ~ password = "${OLD}" -> "${NEW}"`,
      `~ master_password = "${OLD}" -> "${NEW}"`,
      `password = '${OLD}' => '${NEW}'`,
      `"password": "${OLD}" → "${NEW}"`,
    ])
      maskedOut(text, [OLD, NEW]);
    // On a line of its own, the whole change is a passphrase's words: both masked, as one value.
    for (const text of [`DB_PASSWORD=${OLD} -> ${NEW}`, `password: Zq8v! -> T2xk!`]) {
      expect(passwords(text), text).toHaveLength(1);
      expect(masked(text), text).not.toMatch(/Kot|Zq8v|T2xk/);
    }
    // A quoted passphrase holding an arrow is one value (an attacker review's).
    for (const text of [`{"password": "Hunter2!x -> Zz9!Yy8?"}`, `password="Hunter2!x => Zz9!Yy8?"`]) {
      expect(passwords(text), text).toHaveLength(1);
      expect(masked(text), text).not.toMatch(/Hunter2|Zz9/);
    }
    // The old one bracketed or hidden: the new one still.
    maskedOut(`password: [REDACTED] -> ${NEW}`, [NEW]);
    maskedOut(`password: [FILTERED] -> ${NEW}`, [NEW]);
    maskedOut(`password=[Kot!2024x] -> [${NEW}]`, [OLD, NEW]);
    // The old one empty, null or a placeholder: the new one.
    maskedOut(`  ~ password = "" -> "${NEW}"`, [NEW]);
    maskedOut(`  ~ password = null -> "${NEW}"`, [NEW]);
    maskedOut(`password: "********" -> "${NEW}"`, [NEW]);
    // A word of letters as the old one on a YAML line: the new one still.
    maskedOut(`password: hunter -> ${NEW}`, [NEW]);
  });

  it('an object of the old and new values under the name', () => {
    for (const [o, n] of [
      ['old', 'new'],
      ['from', 'to'],
      ['before', 'after'],
      ['previous', 'current'],
      ['old_value', 'new_value'],
      ['oldValue', 'newValue'],
    ])
      maskedOut(`{"changes":{"password":{"${o}":"${OLD}","${n}":"${NEW}"}}}`, [OLD, NEW]);
    maskedOut(`{"user_password": {"old": null, "new": "${NEW}", "changed_at": "2026-12-06T01:00:00Z"}}`, [NEW]);
    maskedOut(`{"password": {"new": "${NEW}"}}`, [NEW]);
    maskedOut(`{"password":{"value":"${NEW}"}}`, [NEW]);
    // Prisma's update, as an ORM's query log prints its arguments.
    maskedOut(`prisma:query {"data":{"password":{"set":"${NEW}"}},"where":{"id":42}}`, [NEW]);
    // YAML's flow mapping, unquoted.
    maskedOut(`password: {old: ${OLD}, new: ${NEW}}`, [OLD, NEW]);
  });

  it('an array of the old and new values under the name (a change log of two)', () => {
    maskedOut(`{"object_changes":{"password":["${OLD}","${NEW}"]}}`, [OLD, NEW]);
    maskedOut(`{"password": [null, "${NEW}"]}`, [NEW]);
    maskedOut(`{"password": ["${NEW}"]}`, [NEW]);
  });

  it("a name/value pair's old and new values", () => {
    maskedOut(`{"field":"password","old_value":"${OLD}","new_value":"${NEW}"}`, [OLD, NEW]);
    maskedOut(`{"attribute": "password", "oldValue": "${OLD}", "newValue": "${NEW}"}`, [OLD, NEW]);
    maskedOut(`{"key":"password","newValue":"${NEW}"}`, [NEW]);
    // The old one null or a number, and members between them (an attacker review's).
    maskedOut(`{"field":"password","old_value":null,"new_value":"${NEW}"}`, [NEW]);
    maskedOut(`{"field":"password","old_value":"${OLD}","changed_at":"2024-05-01","new_value":"${NEW}"}`, [OLD, NEW]);
    maskedOut(`{"name":"password","changed_by":"admin","type":"string","new_value":"${NEW}"}`, [NEW]);
    // A record naming the field: a change's own keys too.
    maskedOut(`{"field":"password","old":"${OLD}","new":"${NEW}"}`, [OLD, NEW]);
    maskedOut(`{"changes":[{"column": "password", "from": "${OLD}", "to": "${NEW}"}]}`, [OLD, NEW]);
    maskedOut(`{"attribute":"password","before":null,"after":"${NEW}"}`, [NEW]);
    // A nested member after the values keeps them.
    maskedOut(`{"password":{"old":"${OLD}","new":"${NEW}","meta":{"by":"x"}}}`, [OLD, NEW]);
  });

  it("a JSON Patch's or SCIM's path to the password and its value", () => {
    maskedOut(`[{"op":"replace","path":"/password","value":"${NEW}"}]`, [NEW]);
    maskedOut(`{"op": "add", "path": "/users/0/password", "value": "${NEW}"}`, [NEW]);
    maskedOut(`{"Operations":[{"op":"replace","path":"password","value":"${NEW}"}]}`, [NEW]);
  });
});

describe('what a change is not', () => {
  it('a schema, validation rules or errors under the name', () => {
    for (const text of [
      '{"password": {"type": "string", "minLength": 12, "format": "password"}}',
      '{"password": {"required": true, "min": 12}}',
      '{"password": ["required", "string", "min:12", "confirmed"]}',
      '{"password": ["required", "min:12"]}',
      '{"errors": {"password": ["The password must be at least 12 characters."]}}',
      '{"password": {"old": "********", "new": "********"}}',
      '{"password": {"from": "[REDACTED]", "to": "[REDACTED]"}}',
      '{"password": {"old": null, "new": null}}',
      '  ~ password = (sensitive value)',
      '  ~ password_length = 12 -> 16',
      '  ~ password = (known after apply)',
      '{"op":"replace","path":"/password_policy","value":"strict-2024"}',
      '{"op":"remove","path":"/password"}',
      '{"field":"password","old_value":"set","new_value":"changed"}',
      // A route, a form's action or an event's name is no JSON Patch path (an attacker review's).
      '{"route":"/account/password","value":"settings_v2"}',
      '<button formaction="/password" value="change_pw-1">',
      '{"op":"move","path":"/password","from":"/old/pw2"}',
      '{"event":"password","from":"srv-02","to":"srv-03"}',
      // A quote closing a string around the assignment starts no new value.
      `echo 'password = "a1" -> ' foo_bar-1 'done'`,
    ])
      accepted(text);
  });
});

describe('the cost of a change', () => {
  it('stays linear on 1 MiB of hostile changes, with a short answer', () => {
    const texts = [
      fill('"password":{"old":"a1!","new":'),
      fill('"password":["a1!",'),
      fill('password = "a1" -> '),
      fill('"field":"password","old_value":"a1","new_value":'),
      fill('"path":"/a/password","value":'),
      fill('{"password":{"x":{"password":{'),
      // Scalars read up to the next member: as long as a value may be, then the next name.
      fill(`password={a:${'x'.repeat(250)},`),
      fill(`password=[${'x '.repeat(125)},`),
      fill('password=[a,b,password={a:1,b:2,c:3,d:4,e:5,'),
    ];
    for (const text of texts) {
      let longest = 0;
      for (const f of detectNamedPasswords(text)) longest = Math.max(longest, f.end - f.start);
      expect(longest, text.slice(0, 30)).toBeLessThanOrEqual(256);
    }
  });
});

describe('a chain of changes', () => {
  it('reads one arrow past a bracket, not a chain: a hostile chain neither recurses nor throws', () => {
    // A second review's: 44 KB of "[a] -> " after a name overflowed the stack, one call per arrow.
    for (const text of [
      `password: ${'[a] -> '.repeat(200_000)}[${NEW}]`,
      `{"password":${'[null] -> '.repeat(100_000)}"x"}`,
      `password = ${'{"old":"a"} -> '.repeat(80_000)}`,
    ])
      expect(() => detectNamedPasswords(text)).not.toThrow();
    maskedOut(`password: [${OLD}] -> [${NEW}]`, [OLD, NEW]);
  });
});
