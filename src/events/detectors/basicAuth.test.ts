import { describe, expect, it } from 'vitest';
import { detect } from '../detect.js';
import { detectBasicAuthTokens } from './basicAuth.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const GH = 'ghs_16C7e42F292c6912E7710c838347Ae178B4a';
const found = (text: string) => detect(text).map((f) => [f.type, text.slice(f.start, f.end)]);

describe('tokens inside an HTTP Basic pair', () => {
  it('reports a pair holding no known token as a PASSWORD: base64 hides it from no one', () => {
    for (const pair of ['alice:correct horse battery staple', 'admin:hunter2Secret!', ':s3cr3t', 'svc:p@ss:w0rd']) {
      expect(found(`Authorization: Basic ${b64(pair)}`), pair).toEqual([['PASSWORD', b64(pair)]]);
      expect(found(`"auth": "${b64(pair)}"`), pair).toEqual([['PASSWORD', b64(pair)]]);
    }
    const config = b64(JSON.stringify({ auths: { 'ghcr.io': { auth: b64('u:hunter2hunter2') } } }));
    expect(found(`.dockerconfigjson: ${config}`)).toEqual([['PASSWORD', config]]);
  });

  it('leaves placeholders, pairs without a password and words that only say "basic"', () => {
    for (const text of [
      `Authorization: Basic ${b64('user:password')}`,
      `Authorization: Basic ${b64('alice:${API_PASSWORD}')}`,
      `Authorization: Basic ${b64('alice:********')}`,
      `Authorization: Basic ${b64('alice:')}`,
      `Authorization: Basic ${b64('alice')}`,
      'basic usage of the tool: basic auth with Basic realm="api"',
      'Basic authentication, basic troubleshooting, basicHostnames',
      // Not base64 of text: random bytes.
      `Authorization: Basic ${Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x3a, 0x9f, 0xc3, 0x28, 0xa0, 0xa1]).toString('base64')}`,
      // Base64 of a token with no pair around it is not a Basic value.
      `Authorization: Basic ${b64(GH)}`,
    ])
      expect(found(text), text).toEqual([]);
  });

  it('reports the whole value as the token it holds: git extraheader, curl -v, docker config', () => {
    const git = `http.https://github.com/.extraheader=AUTHORIZATION: basic ${b64(`x-access-token:${GH}`)}`;
    expect(found(git)).toEqual([['GITHUB_TOKEN', b64(`x-access-token:${GH}`)]]);
    const stripe = `> Authorization: Basic ${b64('sk_live_51H8xYzABCdefGHIjklMNOpq:')}`;
    expect(found(stripe)).toEqual([['STRIPE_KEY', b64('sk_live_51H8xYzABCdefGHIjklMNOpq:')]]);
    const docker = JSON.stringify({ auths: { 'ghcr.io': { auth: b64('alice:ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5') } } });
    expect(found(docker)).toEqual([['GITHUB_TOKEN', b64('alice:ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5')]]);
    const spaced = `"auth" : "${b64(`u:${GH}`)}"`;
    expect(found(spaced)).toEqual([['GITHUB_TOKEN', b64(`u:${GH}`)]]);
  });

  it("finds a pair under Docker's and npm's key in YAML, a repr, an .npmrc, and a form's Basic+", () => {
    const pair = b64('u:ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5');
    for (const text of [
      `auths:\n  ghcr.io:\n    auth: ${pair}`,
      `{'auths': {'ghcr.io': {'auth': '${pair}'}}}`,
      `//npm.pkg.github.com/:_auth=${pair}`,
      `_auth = ${pair}`,
      `Authorization=Basic+${pair}`,
    ])
      expect(found(text), text).toEqual([['GITHUB_TOKEN', pair]]);
    for (const text of [`author: ${pair}`, `oauth: ${pair}`]) expect(found(text), text).toEqual([]);
  });

  it('finds a Kubernetes pull secret: a Docker config in base64 once more', () => {
    const config = b64(JSON.stringify({ auths: { 'ghcr.io': { auth: b64(`u:${GH}`) } } }));
    expect(found(`data:\n  .dockerconfigjson: ${config}\n`)).toEqual([['GITHUB_TOKEN', config]]);
  });

  it('finds a long token in a pair (an OIDC token as the password)', () => {
    const jwt = `eyJhbGciOiJIUzI1NiJ9.${b64(JSON.stringify({ sub: 'x'.repeat(1500) })).replace(/=/g, '')}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`;
    expect(found(`Authorization: Basic ${b64(`u:${jwt}`)}`)).toEqual([['JWT', b64(`u:${jwt}`)]]);
  });

  it('stays linear on 1 MiB of scheme words, long values and many pairs', () => {
    // None of these holds a pair with a token: each must come back empty, not merely return.
    const empty = [
      'Basic '.repeat(180_000),
      `Basic ${'QUFB'.repeat(600)} `.repeat(430),
      `Basic ${'A'.repeat(2047)}=`.repeat(500),
      `auth:${'QUFB'.repeat(3000)} `.repeat(87),
      `eyJhdXRocyI6${'A'.repeat(100)} `.repeat(9000),
      // A form's query of "+basic": a start inside a run, and a run past the bound, each tried once.
      '+basic'.repeat(174_763),
      `q=${'basic+'.repeat(174_762)}`,
    ];
    for (const text of empty) expect(detectBasicAuthTokens(text)).toEqual([]);
    const pairs = `"auth":"${b64(`u:${GH}`)}" `.repeat(12_000);
    expect(detectBasicAuthTokens(pairs)).toHaveLength(12_000);
  });
});
