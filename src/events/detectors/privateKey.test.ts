import { describe, expect, it } from 'vitest';
import { detectAndMask } from '../mask.js';
import { fill, found, typesIn } from '../../../test/support/detection.js';

// Made-up bodies in each format's layout (not real keys).
const SSH2_BLOCK = [
  '---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----',
  'Comment: "rsa-key-20240101"',
  'P2/56wAAAi4AAAA3aWYtbW9kbntzaWdue3JzYS1wa2NzMS1zaGExfSxlbmNyeXB0e3Jz',
  'YS1wa2NzMXYyLW9hZXB9fQAAAARub25lAAAB3wAAAdsAAAARAQABAAAH/jYTvQ==',
  '---- END SSH2 ENCRYPTED PRIVATE KEY ----',
].join('\n');

const PPK_V2 = [
  'PuTTY-User-Key-File-2: ssh-rsa',
  'Encryption: none',
  'Comment: rsa-key-20240101',
  'Public-Lines: 2',
  'AAAAB3NzaC1yc2EAAAABJQAAAQEAhJ1mZ0aXlHbVmWk0k1aB2cD3eF4gH5iJ6kL7mN8o',
  'P9qR0sT1uV2wX3yZ4a==',
  'Private-Lines: 2',
  'AAABAQCe5aW3c1p2Lq8rS9tU0vW1xY2zA3bC4dE5fG6hI7jK8lM9nO0pQ1rS2tU3vW4x',
  'Y5zA6bC7dE8f==',
  'Private-MAC: 8f2a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b9d1f3a',
].join('\r\n');

const PPK_V3_PUBLIC = [
  'PuTTY-User-Key-File-3: ssh-ed25519',
  'Encryption: aes256-cbc',
  'Comment: imported <alice@example.com> [laptop]',
  'Public-Lines: 2',
  'AAAAC3NzaC1lZDI1NTE5AAAAIOdQ3a8Fz0xX9lq2Yc7Kv4Rb1Nw6Ts5Pm3Hj8Ge2Ud0',
  'Ab==',
  'Key-Derivation: Argon2id',
  'Argon2-Memory: 8192',
  'Argon2-Passes: 13',
  'Argon2-Parallelism: 1',
  'Argon2-Salt: 0f1e2d3c4b5a69788796a5b4c3d2e1f0',
];
const PPK_V3_PRIVATE = ['Private-Lines: 1', 'xQ9mZ2vK8pL1rT4sW7yB0cF3hJ6nM5qU2eA8dG1iK4oP7tX0zC3vB6nM9lQ2wE5r'];
const PPK_V3_MAC = 'Private-MAC: 5e8d3a1f0c7b9e2d4a6f8c1b3e5d7a9f0b2c4e6d8a1f3b5c7e9d0a2b4c6e8f1a';
const PPK_V3 = [...PPK_V3_PUBLIC, ...PPK_V3_PRIVATE, PPK_V3_MAC].join('\n');

describe('SSH2 (RFC 4716) private key', () => {
  it('reports the whole block, BEGIN line to END line, headers and all', () => {
    expect(found(`key:\n${SSH2_BLOCK}\nthanks`)).toEqual([['PRIVATE_KEY', SSH2_BLOCK]]);
    expect(detectAndMask(`key:\n${SSH2_BLOCK}\nthanks`).masked).toBe('key:\n[PRIVATE_KEY]\nthanks');
  });

  it('reports a truncated block up to where the body ends, over a quoted comment', () => {
    const begin =
      '---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nSubject: alice\nComment: "2048-bit rsa, alice@example.com, Mon Jan 01 2024"\nP2/56wAAAi4AAAA3aWYtbW9kbntzaWdue3JzYS1wa2NzMS1zaGExfSxl\n';
    expect(found(`x ${begin}[end of paste]`)).toEqual([['PRIVATE_KEY', begin]]);
  });

  it('does not report an RFC 4716 public key', () => {
    expect(
      found(
        '---- BEGIN SSH2 PUBLIC KEY ----\nComment: "2048-bit RSA, converted from OpenSSH"\nAAAAB3NzaC1yc2EAAAADAQABAAABAQC7\n---- END SSH2 PUBLIC KEY ----',
      ),
    ).toEqual([]);
  });
});

describe('PuTTY private key (.ppk)', () => {
  it('reports a whole file, first line to the MAC', () => {
    expect(found(`key file:\r\n${PPK_V2}\r\nthanks`)).toEqual([['PRIVATE_KEY', PPK_V2]]);
    expect(found(`${PPK_V3}\n`)).toEqual([['PRIVATE_KEY', PPK_V3]]);
  });

  it('reports the private lines and MAC pasted on their own', () => {
    const part = [...PPK_V3_PRIVATE, PPK_V3_MAC].join('\n');
    expect(found(`see ${part} ok`)).toEqual([['PRIVATE_KEY', part]]);
  });

  it('reports a file cut before its MAC, the private lines even when the comment stops the first finding', () => {
    // "<" in the free-text comment ends the scan from the first line; the private lines are then a
    // finding of their own, so the key is masked whatever the comment holds.
    const text = [...PPK_V3_PUBLIC, ...PPK_V3_PRIVATE, '[cut]'].join('\n');
    const privatePart = `${PPK_V3_PRIVATE.join('\n')}\n`;
    expect(found(text)).toEqual([
      ['PRIVATE_KEY', 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: aes256-cbc\nComment: imported '],
      ['EMAIL', 'alice@example.com'],
      ['PRIVATE_KEY', privatePart],
    ]);
    const ppk = [...PPK_V2.split('\r\n').slice(0, -1), '[cut]'].join('\n');
    expect(found(ppk)).toEqual([['PRIVATE_KEY', ppk.slice(0, -'[cut]'.length)]]);
  });

  it('does not report prose about the format, nor the public lines alone', () => {
    expect(found('A .ppk file starts with PuTTY-User-Key-File-3: ssh-ed25519 and its algorithm.')).toEqual([]);
    expect(found('Private-Lines: 14 lines of base64 follow the public key')).toEqual([]);
    expect(found('Public-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIOdQ3a8Fz0xX9lq2Yc7Kv4Rb1Nw6Ts5Pm3Hj8Ge2Ud0\nAb==')).toEqual([]);
    expect(found('Private-MAC: 8f2a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b9d1f3a')).toEqual([]);
  });
});

describe('linear time on adversarial 1 MiB inputs', () => {
  // Each opener without its close is a truncated key of its own, masked up to where its body ends.
  it.each([
    ['SSH2 BEGIN prefixes', fill('---- BEGIN SSH2 '), []],
    ['SSH2 BEGIN without END', fill('---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: "rsa (x)"\n'), ['PRIVATE_KEY']],
    ['PuTTY first lines without MAC', fill('PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\n'), ['PRIVATE_KEY']],
    ['PuTTY first lines, long names', fill(`PuTTY-User-Key-File-2: ${'a'.repeat(70)}      `), []],
    ['private lines without MAC', fill('Private-Lines: 1\nAAAAAAAAAAAAAAAAAAAA\n'), ['PRIVATE_KEY']],
    ['MACs', fill('Private-MAC: '), []],
    ['every BEGIN', fill('-----BEGIN PRIVATE KEY-----\n---- BEGIN SSH2 PRIVATE KEY ----\nPuTTY-User-Key-File-3: x Encryption: '), ['PRIVATE_KEY']],
  ] as const)('%s completes', (_name, text, types) => {
    expect([...new Set(typesIn(text))]).toEqual(types);
  });
});
