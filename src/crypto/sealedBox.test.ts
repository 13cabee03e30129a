import { describe, expect, it } from 'vitest';
import { generateKeyBase64, parseKeyRing } from './keyring.js';
import { associatedData, DecryptError, open, seal, sealedKeyId } from './sealedBox.js';
import { ConfigError } from '../config/env.js';

describe('sealed box (AES-256-GCM)', () => {
  const ring = parseKeyRing(`a:${generateKeyBase64()}`);
  const aad = associatedData('org_1', 'fwd_1', 'auth_header');

  it('round-trips and never contains the plaintext', () => {
    const box = seal(ring, 'Splunk 1234-secret', aad);
    expect(box.includes(Buffer.from('1234-secret'))).toBe(false);
    expect(open(ring, box, aad)).toBe('Splunk 1234-secret');
    expect(sealedKeyId(box)).toBe('a');
  });

  it('uses a fresh nonce every time', () => {
    expect(seal(ring, 'x', aad).equals(seal(ring, 'x', aad))).toBe(false);
  });

  it('refuses a box moved to another destination (associated data)', () => {
    const box = seal(ring, 'secret', aad);
    expect(() => open(ring, box, associatedData('org_1', 'fwd_2', 'auth_header'))).toThrow(DecryptError);
  });

  it('refuses a tampered box', () => {
    const box = seal(ring, 'secret', aad);
    box[box.length - 1]! ^= 1;
    expect(() => open(ring, box, aad)).toThrow(DecryptError);
  });

  it('refuses a box whose tag was cut short, even to a prefix of the right tag', () => {
    // An empty plaintext leaves the tag at the very end: cutting the box cuts the tag, and GCM would
    // accept the shorter prefix (4 bytes = 2^-32 forgery odds) unless the length is pinned to 16.
    const box = seal(ring, '', aad);
    for (const cut of [4, 8, 12, 15]) {
      expect(() => open(ring, box.subarray(0, box.length - 16 + cut), aad), String(cut)).toThrow(DecryptError);
    }
    expect(() => open(ring, box.subarray(0, 3), aad)).toThrow(DecryptError);
    expect(open(ring, box, aad)).toBe('');
  });

  it('decrypts with an older key of the ring after rotation; encrypts with the first', () => {
    const oldKey = generateKeyBase64();
    const before = parseKeyRing(`old:${oldKey}`);
    const box = seal(before, 'secret', aad);
    const after = parseKeyRing(`new:${generateKeyBase64()},old:${oldKey}`);
    expect(open(after, box, aad)).toBe('secret');
    expect(sealedKeyId(seal(after, 'secret', aad))).toBe('new');
    expect(() => open(parseKeyRing(`new:${generateKeyBase64()}`), box, aad)).toThrow(/not in AEGIS_ENCRYPTION_KEY/);
  });

  it('rejects keys that are not 32 bytes of base64, naming the variable', () => {
    expect(() => parseKeyRing('short')).toThrow(ConfigError);
    expect(() => parseKeyRing(Buffer.alloc(16).toString('base64'))).toThrow(/AEGIS_ENCRYPTION_KEY: entry 1 decodes to 16 bytes/);
    expect(() => parseKeyRing(`a:${generateKeyBase64()},a:${generateKeyBase64()}`)).toThrow(/appears twice/);
  });
});
