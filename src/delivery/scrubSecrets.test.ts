import { describe, expect, it } from 'vitest';
import { base64Fragments, REDACTED, secretScrubber } from './scrubSecrets.js';
import { echoedForms, leakedForm } from '../../test/support/secretForms.js';

describe('secretScrubber (a SIEM that echoes request headers)', () => {
  const bearer = 'Bearer ab/cd+ef/0123456789+XYZ==';
  const elasticKey = Buffer.from('VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw').toString('base64');
  const elastic = `ApiKey ${elasticKey}`;
  const splunk = 'Splunk 0f6c1a2e-1234-4b5c-9d8e-aabbccddeeff';
  const signing = 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw==';

  for (const secret of [bearer, elastic, splunk, signing]) {
    it(`removes every echoed spelling of ${secret.split(' ')[0]}`, () => {
      const scrub = secretScrubber([secret]);
      for (const [name, echoed] of Object.entries(echoedForms(secret))) {
        const out = scrub(`{"echo":"${echoed}","n":1}`);
        expect(leakedForm(out, secret), `${name}: ${out}`).toBeNull();
        expect(out, name).toContain(REDACTED);
      }
    });
  }

  it('removes the bare token, the Elastic key after decoding and a whsec key without its prefix', () => {
    expect(secretScrubber([splunk])('token=0f6c1a2e-1234-4b5c-9d8e-aabbccddeeff')).toBe(`token=${REDACTED}`);
    expect(secretScrubber([elastic])('key ui2lp2axTNmsyakw9tvNnw refused')).toBe(`key ${REDACTED} refused`);
    expect(secretScrubber([signing])('c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw==')).not.toContain('c2VjcmV0LXNpZ25p');
  });

  it('finds base64 of the secret inside a longer encoded string at every byte offset', () => {
    const scrub = secretScrubber([bearer]);
    for (const prefix of ['', 'a', 'ab', 'Authorization: ']) {
      const encoded = Buffer.from(`${prefix}${bearer} trailing`).toString('base64');
      expect(scrub(encoded), prefix).toContain(REDACTED);
      expect(leakedForm(scrub(encoded), bearer), prefix).toBeNull();
    }
    expect(base64Fragments('abcdefghijkl').length).toBe(6);
  });

  it('a text as long as the shortest form is still read, in any spelling; a shorter one cannot hold it', () => {
    // The shortest form of a 4-character secret is the secret itself (its hex and base64 are longer).
    const scrub = secretScrubber(['k3y!']);
    expect(scrub('k3y!')).toBe(REDACTED);
    expect(scrub('K3Y!')).toBe(REDACTED);
    expect(scrub('%6B3y!')).toBe(REDACTED);
    expect(scrub('k3y')).toBe('k3y');
    expect(scrub('')).toBe('');
  });

  it('leaves ordinary bodies and short or missing secrets alone', () => {
    expect(secretScrubber([bearer, null])('{"text":"Success","code":0}')).toBe('{"text":"Success","code":0}');
    expect(secretScrubber([null, undefined, 'abc'])('abc')).toBe('abc');
  });
});
