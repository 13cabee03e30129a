import { generateKeyPairSync, randomBytes } from 'node:crypto';
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

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Made-up base64 lines (no real key): a linear congruential sequence over the alphabet. */
function b64Lines(count: number, width = 64, seed = 7): string[] {
  let x = seed;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let line = '';
    for (let j = 0; j < width; j++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      line += B64[(x >> 16) % 64];
    }
    out.push(line);
  }
  return out;
}
const pem = (label: string, body: readonly string[]) => [`-----BEGIN ${label}-----`, ...body, `-----END ${label}-----`].join('\n');
// The shape of the smallest key, a PKCS#8 Ed25519 one: a single line of 64.
const ED25519_PKCS8 = pem('PRIVATE KEY', b64Lines(1));
const RSA_BODY = [...b64Lines(4, 64, 11), 'q0Lx+/Vb3ZQ=='];
const RSA_PEM = pem('RSA PRIVATE KEY', RSA_BODY);
const RSA_END = '-----END RSA PRIVATE KEY-----';

describe('PEM markers without key material', () => {
  // Code, templates and documentation name the markers; a block is a key only when its body holds a
  // base64 run as long as the smallest real key's (64).
  it.each([
    "key = key.replace('-----BEGIN PRIVATE KEY-----', '').replace('-----END PRIVATE KEY-----', '')",
    'if strings.HasPrefix(s, "-----BEGIN RSA PRIVATE KEY-----") {',
    'const PEM_HEADER = "-----BEGIN PRIVATE KEY-----";\nconst PEM_FOOTER = "-----END PRIVATE KEY-----";',
    '"private_key": "-----BEGIN PRIVATE KEY-----\\nYOUR_PRIVATE_KEY\\n-----END PRIVATE KEY-----\\n",',
    '-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----',
    "grep -rl -- '-----BEGIN RSA PRIVATE KEY-----' . && echo found",
    'String pem = key.replace("-----BEGIN PRIVATE KEY-----", "")\n    .replaceAll(System.lineSeparator(), "")\n    .replace("-----END PRIVATE KEY-----", "");',
    'pem = "-----BEGIN PRIVATE KEY-----\\n" + base64EncodedPrivateKeyMaterial + "\\n-----END PRIVATE KEY-----"',
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----',
    '-----BEGIN RSA PRIVATE KEY-----\nPaste the private key you downloaded from the console here, then save\n-----END RSA PRIVATE KEY-----',
    // Code between the markers: long names, but each glued to "(", ".", ":" or ",".
    "const PEM_HEADER = '-----BEGIN PRIVATE KEY-----';\nexport function importPrivateKeyFromPem(pemEncodedKey: string): Promise<CryptoKey> {\n  const base64EncodedBody = pemEncodedKey.replace(PEM_HEADER, '').replace(PEM_FOOTER, '');\n  return crypto.subtle.importKey('pkcs8', base64ToArrayBuffer(base64EncodedBody), algorithmParameters, false, ['sign']);\n}\nconst PEM_FOOTER = '-----END PRIVATE KEY-----';",
    'public final class PemUtil {\n    private static final String PEM_HEADER = "-----BEGIN PRIVATE KEY-----";\n    public static PrivateKey parsePrivateKey(String pem) throws NoSuchAlgorithmException, InvalidKeySpecException {\n        PKCS8EncodedKeySpec keySpec = new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body));\n        return KeyFactory.getInstance("RSA").generatePrivate(keySpec);\n    }\n    private static final String PEM_FOOTER = "-----END PRIVATE KEY-----";\n}',
    // Prose: long words, no digit among them.
    'The file must start with -----BEGIN RSA PRIVATE KEY----- and the SecretsManagerClient reads it through getSecretValueRequest, then DefaultCredentialsProvider hands it on; the file ends with -----END RSA PRIVATE KEY-----.',
    'Error: invalid key format near -----BEGIN PRIVATE KEY----- DefaultAzureCredential ManagedIdentityCredential ClientCertificateCredential failed',
    `HEADER = "-----BEGIN PRIVATE KEY-----"\n# sha256 ${'9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'}\n${'/'.repeat(72)}\nFOOTER = "-----END PRIVATE KEY-----"`,
    'x -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n[end of paste]',
  ])('%j is no key', (text) => {
    expect(found(text)).toEqual([]);
  });

  it('does not run a lone header in code on into a key pasted further down', () => {
    const text = `const HEADER = "-----BEGIN PRIVATE KEY-----";\nparse(HEADER);\nhere it is:\n${RSA_PEM}\n`;
    expect(found(text)).toEqual([['PRIVATE_KEY', RSA_PEM]]);
  });

  it('reports the smallest real key, and a truncated paste holding one whole line', () => {
    expect(found(`key: ${ED25519_PKCS8} ok`)).toEqual([['PRIVATE_KEY', ED25519_PKCS8]]);
    const cut = `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64Lines(2, 70).join('\n')}\n`;
    expect(found(`${cut}[end of paste]`)).toEqual([['PRIVATE_KEY', cut]]);
    const oneLine = `-----BEGIN PRIVATE KEY-----${RSA_BODY.join('')}-----END PRIVATE KEY-----`;
    expect(found(`"${oneLine}"`)).toEqual([['PRIVATE_KEY', oneLine]]);
  });
});

describe('PEM last line without its first', () => {
  it('reports the body lines before the END line, from scrollback or a log cut mid-key', () => {
    const tail = `${RSA_BODY.slice(2).join('\n')}\n${RSA_END}`;
    expect(found(`${tail}\n$ `)).toEqual([['PRIVATE_KEY', tail]]);
    // A log event starting mid-line: its cut first line is masked too.
    const cut = `${RSA_BODY[1]!.slice(30)}\n${tail}`;
    expect(found(cut)).toEqual([['PRIVATE_KEY', cut]]);
  });

  it('reports it inside JSON with escaped line breaks', () => {
    const body = `${RSA_BODY.slice(3).join('\\n')}\\n-----END PRIVATE KEY-----`;
    expect(found(`{"private_key": "${body}\\n",`)).toEqual([['PRIVATE_KEY', body]]);
  });

  it('reads over a PGP armor checksum and the short last line before it', () => {
    const tail = [...b64Lines(2, 64, 3), 'TdvnvOUaAw==', '=uIyu', '-----END PGP PRIVATE KEY BLOCK-----'].join('\n');
    expect(found(`${tail}\n`)).toEqual([['PRIVATE_KEY', tail]]);
  });

  it('leaves out the prose above the body, and reports nothing without a key of lines', () => {
    const tail = `${RSA_BODY.slice(2).join('\n')}\n${RSA_END}`;
    expect(found(`the end of the file is\n${tail}`)).toEqual([['PRIVATE_KEY', tail]]);
    expect(found(`tail -3 key.pem:\n${tail}`)).toEqual([['PRIVATE_KEY', tail]]);
    expect(found(`q0Lx+/Vb3ZQ==\n${RSA_END}`)).toEqual([]);
    expect(found(`out.write(pem_body)\nout.write("\\n${RSA_END}\\n")`)).toEqual([]);
    expect(found(`${b64Lines(1, 40)[0]}\n${RSA_END}`)).toEqual([]);
  });

  it('reads lines a narrow terminal broke, all of one width, back from the last line', () => {
    const narrow = RSA_BODY.join('').match(/.{1,40}/g)!;
    const tail = `${narrow.slice(3).join('\n')}\n${RSA_END}`;
    expect(found(`$ tail key.pem\n${tail}\n$ `)).toEqual([['PRIVATE_KEY', tail]]);
    // Lines of other widths above it are not the body: only the lines as wide as the first.
    expect(found(`see the file:\n${'x'.repeat(20)}\n${tail}`)).toEqual([['PRIVATE_KEY', tail]]);
  });
});

describe('PEM private key encoded in base64 (kubeconfig, Kubernetes Secret)', () => {
  const encoded = Buffer.from(`${RSA_PEM}\n`).toString('base64');
  const cert = Buffer.from(pem('CERTIFICATE', b64Lines(6, 64, 5))).toString('base64');

  it('reports client-key-data and tls.key values whole', () => {
    const example =
      'LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVBN1ZKVFV0OVVzOGNLak1aZnlKMFl4MWhRK3UzcExmdkEyY1M4bTlrUXhUN3JQMG5OCjNwTGtKN2QyYlliM0ZmOHg1dFYycVcxckU2c0Q0YUc5ejNrTDJtTjdwUTV0Ujh1VjF3WDR5WjBhQjNjRDZlPT0KLS0tLS1FTkQgUlNBIFBSSVZBVEUgS0VZLS0tLS0K';
    expect(found(`users:\n- name: kind-kind\n  user:\n    client-key-data: ${example}\n`)).toEqual([['PRIVATE_KEY', example]]);
    expect(found(`{"data": {"tls.crt": "${cert}", "tls.key": "${encoded}"}}`)).toEqual([['PRIVATE_KEY', encoded]]);
  });

  it('reports a value wrapped by base64 (76) or openssl base64 (64)', () => {
    for (const width of [76, 64]) {
      const wrapped = encoded.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');
      expect(found(`$ base64 key.pem\n${wrapped}\nthanks`)).toEqual([['PRIVATE_KEY', wrapped]]);
      expect(found(`${wrapped}\nokay`)).toEqual([['PRIVATE_KEY', wrapped]]);
    }
  });

  it('reports a bundle that holds a key after its certificate', () => {
    const bundle = Buffer.from(`${pem('CERTIFICATE', b64Lines(6, 64, 5))}\n${RSA_PEM}\n`).toString('base64');
    expect(found(`tls.pem: ${bundle}`)).toEqual([['PRIVATE_KEY', bundle]]);
  });

  it('does not report certificates, public keys, templates, nor a run that only contains the prefix', () => {
    expect(found(`client-certificate-data: ${cert}\n    certificate-authority-data: ${cert}`)).toEqual([]);
    expect(found('client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t')).toEqual([]);
    expect(found(Buffer.from(pem('PUBLIC KEY', b64Lines(6))).toString('base64'))).toEqual([]);
    expect(found(Buffer.from(pem('PRIVATE KEY', ['YOUR_PRIVATE_KEY'])).toString('base64'))).toEqual([]);
    expect(found(`x${encoded}`)).toEqual([]);
  });
});

describe('SSH2 (RFC 4716) private key', () => {
  it('reports the whole block, BEGIN line to END line, headers and all', () => {
    expect(found(`key:\n${SSH2_BLOCK}\nthanks`)).toEqual([['PRIVATE_KEY', SSH2_BLOCK]]);
    expect(detectAndMask(`key:\n${SSH2_BLOCK}\nthanks`).masked).toBe('key:\n[PRIVATE_KEY]\nthanks');
  });

  it('reports a truncated block up to where the body ends, over a quoted comment', () => {
    const begin =
      '---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nSubject: alice\nComment: "2048-bit rsa, alice@example.com, Mon Jan 01 2024"\nP2/56wAAAi4AAAA3aWYtbW9kbntzaWdue3JzYS1wa2NzMS1zaGExfSxlbmNyeXB0e3Jz\n';
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
    // "<" in the free-text comment ends the scan from the first line, before any key material, so
    // the first lines are no key; the private lines are a finding of their own, so the key is masked
    // whatever the comment holds.
    const text = [...PPK_V3_PUBLIC, ...PPK_V3_PRIVATE, '[cut]'].join('\n');
    const privatePart = `${PPK_V3_PRIVATE.join('\n')}\n`;
    expect(found(text)).toEqual([
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

describe('keys whatever stands around their lines, and names that are no key', () => {
  const K = 'MC4CAQAwBQYDK2VwBCIEIFrT2YjA2xaIH7RrztGQzdsE7ysvF5qMwv3IHOnEu6Bu';
  it.each([
    ['grep -r', `secrets/ed.pem:-----BEGIN PRIVATE KEY-----\nsecrets/ed.pem:${K}\nsecrets/ed.pem:-----END PRIVATE KEY-----`],
    ['grep -n', `ed.pem:1:-----BEGIN PRIVATE KEY-----\ned.pem:2:${K}\ned.pem:3:-----END PRIVATE KEY-----`],
    ['cat -A', `-----BEGIN PRIVATE KEY-----^M$\n${K}^M$\n-----END PRIVATE KEY-----^M$`],
    ["Python logging's prefix", `DEBUG:root:-----BEGIN PRIVATE KEY-----\nDEBUG:root:${K}\nDEBUG:root:-----END PRIVATE KEY-----`],
    ["a list's toString()", `[-----BEGIN PRIVATE KEY-----, ${K}, -----END PRIVATE KEY-----]`],
    ['an unquoted CSV cell', `id,line\n0,-----BEGIN PRIVATE KEY-----\n1,${K}\n2,-----END PRIVATE KEY-----`],
    ["a shell's line continuation", `export KEY="-----BEGIN PRIVATE KEY-----\\\n${K}\\\n-----END PRIVATE KEY-----"`],
  ])('finds the key in %s', (_name, text) => {
    expect(typesIn(text)).toEqual(['PRIVATE_KEY']);
  });
  it.each([
    'The key file starts with -----BEGIN PRIVATE KEY----- and is loaded by ServiceAccountCredentials through GoogleCredentialsProvider from /etc/ssl/private/ on each host; it ends with -----END PRIVATE KEY-----.',
    'PEM_HEADER = "-----BEGIN PRIVATE KEY-----"\nALGORITHM = "sha256WithRSAEncryption"\nKEY_DIR = "/etc/ssl/private/"\nPROVIDER = "BouncyCastleProvider"\nPEM_FOOTER = "-----END PRIVATE KEY-----"',
  ])('reads no key in names between the markers: %j', (text) => {
    expect(typesIn(text)).toEqual([]);
  });
});

describe('small keys whose random part alone reads less random than names', () => {
  // Keys an attacker review generated whose whole body changed class at under 45 %: their fixed
  // header weighs on a short body. Each starts as a key's encoding does, which decides instead.
  it.each([
    ['Ed25519, cut before its END', '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIFHEmbMSZryVL5vLSkmJIrPMnKtbgqUhqnr6xOYkygzx'],
    ['X25519, cut before its END', '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIGjBNQFQMEzSdcz0odGhRXIFtOD63avqeBmDWDLCVKR4'],
    ['EC SEC1, its first line', '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFEfEkFHJTvEP+jIKRLvsfzcMsMQLudvmhvMAyZKpOGRoAoGCCqGSM49'],
    ['Ed25519 wrapped at 16', '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2Vw\nBCIEIIBRKNansw3H\ncPuVHqrc8q0zoybU\nzBIGT7udgo8/IWJh'],
    [
      'EC PKCS#8 wrapped at 32',
      '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\nAwEHBG0wawIBAQQgfyzRKEPkgOUW+0l7\njgB5QpjswcdTTIogdS0Geu3r/FChRANC',
    ],
    [
      'Ed25519 behind grep -r',
      'secrets/ed.pem:-----BEGIN PRIVATE KEY-----\nsecrets/ed.pem:MC4CAQAwBQYDK2VwBCIEIFHEmbMSZryVL5vLSkmJIrPMnKtbgqUhqnr6xOYkygzx\nsecrets/ed.pem:-----END PRIVATE KEY-----',
    ],
  ])('%s', (_name, text) => {
    expect(typesIn(text)).toEqual(['PRIVATE_KEY']);
  });
});

describe('names and public headers that start like a key are no key', () => {
  it.each([
    // OpenSSH's first line is the same in every key (format, cipher, public key): docs and `head -2`.
    'Your key should look like this:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn\n...\n-----END OPENSSH PRIVATE KEY-----',
    '$ head -2 ~/.ssh/id_rsa\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn\n$ ssh -i ~/.ssh/id_rsa example',
    // Names that start with DER's letters and decode to no DER.
    'private static final String PEM_HEADER = "-----BEGIN PRIVATE KEY-----";\nprivate static final MGF1ParameterSpec MGF = MGF1ParameterSpec.SHA256;\npublic static PrivateKey parsePrivateKey(String pem) throws NoSuchAlgorithmException, InvalidKeySpecException {\n    PKCS8EncodedKeySpec keySpec = new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body));\n}\nprivate static final String PEM_FOOTER = "-----END PRIVATE KEY-----";',
    'const string Header = "-----BEGIN RSA PRIVATE KEY-----";\nusing var md5 = new MD5CryptoServiceProvider();\nusing var rsa = new RSACryptoServiceProvider(2048);\nvar certs = new X509Certificate2Collection();\nconst string Footer = "-----END RSA PRIVATE KEY-----";',
    'WARN parse failed for -----BEGIN PRIVATE KEY----- MBeanServerConnection lookup via /opt/jmx/remote/jmxrmi8080 and DefaultCredentialsProvider',
    '-----BEGIN PRIVATE KEY-----\nxcshareddata/xcschemes/MyApp and xcuserdata/alice/xcschemes/xcschememanagement2\n-----END PRIVATE KEY-----',
  ])('%j', (text) => {
    expect(typesIn(text)).toEqual([]);
  });
});

describe('keys re-wrapped or escaped', () => {
  const KEY = ['MIIEpAIBAAKCAQEA7VJTUt9Us8cKjMZfyJ0Yx1hQ+u3pLfvA2cS8m9kQxT7rP0nN', '3pLkJ7d2bYb3Ff8x5tV2qW1rE6sD4aG9z3kL2mN7pQ5tR8uV1wX4yZ0aB3cD6e=='].join('');
  const rewrap = (body: string, width: number) => body.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');
  it('finds a whole block whose lines a narrow terminal broke at 20 to 60 columns', () => {
    for (const width of [20, 32, 40, 60]) {
      const block = `-----BEGIN RSA PRIVATE KEY-----\n${rewrap(KEY, width)}\n-----END RSA PRIVATE KEY-----`;
      expect(typesIn(`copied:\n${block}\n`), String(width)).toEqual(['PRIVATE_KEY']);
    }
  });
  it('finds the smallest key with a Markdown escape in its line', () => {
    const ed25519 = 'MC4CAQAwBQYDK2VwBCIEIHYJPk\\+lLiAx4fykhfniUjVGYGSzSc6OtsiRA0i3FfWA';
    expect(typesIn(`-----BEGIN PRIVATE KEY-----\n${ed25519}\n-----END PRIVATE KEY-----`)).toEqual(['PRIVATE_KEY']);
  });
  it('still refuses code between the markers, whatever its identifiers', () => {
    const java = 'String pem = "-----BEGIN PRIVATE KEY-----\\n" + Base64.getMimeEncoder().encodeToString(key.getEncoded()) + "\\n-----END PRIVATE KEY-----";';
    expect(typesIn(java)).toEqual([]);
  });
});

describe('linear time on adversarial 1 MiB inputs', () => {
  const line = b64Lines(1)[0]!;
  // Each opener without its close is a truncated key of its own when its body holds a whole line.
  it.each([
    ['SSH2 BEGIN prefixes', fill('---- BEGIN SSH2 '), []],
    ['SSH2 BEGIN without END', fill('---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: "rsa (x)"\n'), []],
    ['SSH2 BEGIN without END, with a body', fill(`---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: "rsa (x)"\n${line}\n`), ['PRIVATE_KEY']],
    ['PuTTY first lines without MAC', fill('PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\n'), []],
    ['PuTTY first lines, long names', fill(`PuTTY-User-Key-File-2: ${'a'.repeat(70)}      `), []],
    ['private lines without MAC', fill('Private-Lines: 1\nAAAAAAAAAAAAAAAAAAAA\n'), []],
    ['private lines without MAC, long', fill(`Private-Lines: 1\n${line}\n`), ['PRIVATE_KEY']],
    ['private lines one short of a key', fill(`Private-Lines: 1\n${line.slice(0, 47)}\nPrivate-MAC: 00\n`), []],
    ['MACs', fill('Private-MAC: '), []],
    ['every BEGIN', fill('-----BEGIN PRIVATE KEY-----\n---- BEGIN SSH2 PRIVATE KEY ----\nPuTTY-User-Key-File-3: x Encryption: '), []],
    ['PEM BEGIN, bodies one short of a key', fill(`-----BEGIN PRIVATE KEY-----\n${line.slice(0, 59)}\n`), []],
    ['PEM BEGIN and a whole line', fill(`-----BEGIN PRIVATE KEY-----\n${line}\n`), ['PRIVATE_KEY']],
    ['PEM END lines', fill('-----END PRIVATE KEY-----\n'), []],
    ['PEM END after a line', fill(`${line}\n-----END PRIVATE KEY-----\n`), ['PRIVATE_KEY']],
    ['whole lines then one END', `${fill(`${line}\n`)}-----END PRIVATE KEY-----`, ['PRIVATE_KEY']],
    ['short lines then one END', `${fill('ab ')}\n-----END PRIVATE KEY-----`, []],
    ['one base64 run of encoded BEGINs', fill('LS0tLS1CRUdJTi'), []],
    ['encoded BEGINs, one a run', fill('LS0tLS1CRUdJTi '), []],
    ['encoded private key headers in one run', fill(Buffer.from('-----BEGIN PRIVATE KEY-----\n').toString('base64')), []],
    ['wrapped encoded run', fill(`LS0tLS1CRUdJTi${line}`.slice(0, 76) + '\n'), []],
  ] as const)('%s completes', (_name, text, types) => {
    expect([...new Set(typesIn(text))]).toEqual(types);
  });
});

// A key's DER in base64 on one line, without its PEM lines (an attacker review found each forwarded
// raw): keys made here, in every format a tool exports one in. Public keys are no secret.
describe('a private key as one line of base64 DER', () => {
  const der = (key: import('node:crypto').KeyObject, type: 'pkcs8' | 'pkcs1' | 'sec1', passphrase?: string) =>
    key.export(passphrase ? { format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase } : { format: 'der', type }).toString('base64');
  const keys = {
    ed25519: generateKeyPairSync('ed25519'),
    x25519: generateKeyPairSync('x25519'),
    ed448: generateKeyPairSync('ed448'),
    p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    p521: generateKeyPairSync('ec', { namedCurve: 'P-521' }),
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  };
  const cases: Array<[string, string]> = [
    ...Object.entries(keys).map(([name, k]): [string, string] => [`${name} PKCS#8`, der(k.privateKey, 'pkcs8')]),
    ['RSA PKCS#1', der(keys.rsa.privateKey, 'pkcs1')],
    ...(['p256', 'p384', 'p521'] as const).map((name): [string, string] => [`${name} SEC1`, der(keys[name].privateKey, 'sec1')]),
    ['encrypted PKCS#8', der(keys.p256.privateKey, 'pkcs8', 'correct horse')],
  ];

  it.each(cases)('%s', (_name, b64) => {
    for (const text of [`Blocked ED25519_KEY=${b64}`, `{"private_key": "${b64}"}`, b64])
      expect(found(text), text.slice(0, 40)).toContainEqual(['PRIVATE_KEY', b64]);
  });

  // A review found these missed by the first version: other curves and algorithms, a 1024-bit RSA
  // key, base64url, and a key wrapped at 64 columns found by its first line only.
  it.each([
    ['secp256k1 SEC1', () => der(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey, 'sec1')],
    ['brainpoolP256r1 SEC1', () => der(generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' }).privateKey, 'sec1')],
    ['RSA-1024 PKCS#1', () => der(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, 'pkcs1')],
    ['RSA-PSS PKCS#8', () => der(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey, 'pkcs8')],
    ['DSA PKCS#8', () => der(generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).privateKey, 'pkcs8')],
    ['X448 PKCS#8', () => der(generateKeyPairSync('x448').privateKey, 'pkcs8')],
  ])('%s', (_name, make) => {
    const b64 = make();
    expect(found(`KEY=${b64}`)).toContainEqual(['PRIVATE_KEY', b64]);
  });

  it('base64url, and wrapped at 64 or 76 columns', () => {
    const url = keys.rsa.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64url');
    expect(found(`KEY=${url}`)).toContainEqual(['PRIVATE_KEY', url]);
    const rsa = der(keys.rsa.privateKey, 'pkcs8');
    for (const [width, br] of [
      [64, '\n'],
      [76, '\r\n'],
      [64, '\\n'],
    ] as const) {
      const wrapped = rsa.match(new RegExp(`.{1,${width}}`, 'g'))!.join(br);
      expect(found(`key: ${wrapped}\nthanks`)).toEqual([['PRIVATE_KEY', wrapped]]);
    }
  });

  it('a word on the line after a key is no part of it', () => {
    const ed = der(keys.ed25519.privateKey, 'pkcs8');
    for (const after of ['Done', 'user', 'TODO']) expect(found(`ED25519_KEY=${ed}\n${after}\nnext line`)).toEqual([['PRIVATE_KEY', ed]]);
  });

  it.each(Object.entries(keys))('the %s public key is none', (_name, k) => {
    const spki = k.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    expect(typesIn(spki)).not.toContain('PRIVATE_KEY');
  });

  it('a start alone, or inside a longer run, is none', () => {
    expect(typesIn('MC4CAQAwBQYDK2VwBCIEI')).toEqual([]);
    expect(typesIn(`x${'MC4CAQAwBQYDK2VwBCIEI'.repeat(5)}`)).not.toContain('PRIVATE_KEY');
    expect([...new Set(typesIn(fill('MC4CAQAwBQYDK2VwBCIEI ')))]).toEqual([]);
  });
});

// An OpenSSH private key's body without its PEM lines (a review found it forwarded raw): the base64
// ssh-keygen writes between "-----BEGIN OPENSSH PRIVATE KEY-----" and its END line, joined on one
// line (an environment variable, a CI secret) or wrapped as written, at 70 columns.
describe('an OpenSSH private key body without its PEM lines', () => {
  // PROTOCOL.key's layout: the magic, cipher, KDF and its options, the number of keys, the public key,
  // then the private section (two check ints, the key, its comment, padding), encrypted or not.
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const str = (s: string | Buffer) => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s)]);
  function opensshBody(encrypted: boolean): string {
    const pub = randomBytes(32);
    const publicBlob = Buffer.concat([str('ssh-ed25519'), str(pub)]);
    const check = randomBytes(4);
    let priv = Buffer.concat([check, check, str('ssh-ed25519'), str(pub), str(Buffer.concat([randomBytes(32), pub])), str('jane@laptop')]);
    const block = encrypted ? 16 : 8;
    const pad = (block - (priv.length % block)) % block;
    priv = Buffer.concat([priv, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
    if (encrypted) priv = randomBytes(priv.length);
    const kdfOptions = encrypted ? Buffer.concat([str(randomBytes(16)), u32(24)]) : Buffer.alloc(0);
    return Buffer.concat([
      Buffer.from('openssh-key-v1\0', 'latin1'),
      str(encrypted ? 'aes256-ctr' : 'none'),
      str(encrypted ? 'bcrypt' : 'none'),
      str(kdfOptions),
      u32(1),
      str(publicBlob),
      str(priv),
    ]).toString('base64');
  }
  // Written by `ssh-keygen -t ed25519 -N '' -C ''` for this test (a throwaway key, used nowhere).
  const SSH_KEYGEN_ED25519 =
    'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBZqD+UtVIvRDVvnhbIbPE12LcqwrIecnGg2MAs/3EU8gAAAIjfDu4u3w7uLgAAAAtzc2gtZWQyNTUxOQAAACBZqD+UtVIvRDVvnhbIbPE12LcqwrIecnGg2MAs/3EU8gAAAEC0V9H078ANKG1VYM9nGirr0CH3y05NH4a2SQcKolDy/1moP5S1Ui9ENW+eFshs8TXYtyrCsh5ycaDYwCz/cRTyAAAAAAECAwQF';
  // The same with a passphrase (`-N pw`): aes256-ctr, bcrypt.
  const SSH_KEYGEN_ENCRYPTED =
    'b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABDDSSwKR4oRLJXmp8kH6R49AAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIJwwsY0J67enuQ86x/qOa2aVqmK/a1X5/nl0sXMCn2qFAAAAkIfAVRUFmlt9gCbr5FWGnuklsOgFQikOz4oZpgVh3QvMD3Ztxy4Dxg1vjsGbPfnLkqeryIDuFcpVBiEBUaUxBDcMZF2MTqB7dHm/cfO9ZEjSuB1rCAqJWAw/boBNDPCBHWqSEpM9k+DpMsWKFh7DVQZlmmo129d6YecOQnFZ+po8gCq9C3kvkPQutoM4IpBVnw==';
  const wrap = (body: string, width: number, br = '\n') => body.match(new RegExp(`.{1,${width}}`, 'g'))!.join(br);

  it.each([
    ['ssh-keygen, unencrypted', SSH_KEYGEN_ED25519],
    ['ssh-keygen, with a passphrase', SSH_KEYGEN_ENCRYPTED],
    ['built from the layout, unencrypted', opensshBody(false)],
    ['built from the layout, encrypted', opensshBody(true)],
  ])('%s: on one line, masked whole', (_name, body) => {
    expect(body.startsWith('b3BlbnNzaC1rZXktdjEAAAAA')).toBe(true);
    for (const text of [`SSH_PRIVATE_KEY=${body}`, `{"deploy_key": "${body}"}`, body]) expect(found(text), text.slice(0, 30)).toEqual([['PRIVATE_KEY', body]]);
    expect(detectAndMask(`export SSH_KEY='${body}'`).masked).toBe("export SSH_KEY='[PRIVATE_KEY]'");
  });

  it('wrapped as ssh-keygen writes it (70 columns), or at 64 or 76, the line after it left out', () => {
    for (const body of [SSH_KEYGEN_ED25519, opensshBody(false), opensshBody(true)]) {
      for (const [width, br] of [
        [70, '\n'],
        [70, '\r\n'],
        [70, '\\n'],
        [64, '\n'],
        [76, '\n'],
      ] as const) {
        const wrapped = wrap(body, width, br);
        expect(found(`key:\n${wrapped}\nthanks`), `${width} ${br}`).toEqual([['PRIVATE_KEY', wrapped]]);
        expect(detectAndMask(`key:\n${wrapped}\nthanks`).masked).toBe('key:\n[PRIVATE_KEY]\nthanks');
      }
      for (const after of ['Done', 'user', 'TODO', 'thanks'])
        expect(found(`${wrap(body, 70)}\n${after}\nnext`), after).toEqual([['PRIVATE_KEY', wrap(body, 70)]]);
    }
  });

  it('the header every key shares, a public key or a body cut before its private part is none', () => {
    const firstLine = SSH_KEYGEN_ED25519.slice(0, 70);
    // Up to the private section (136 bytes and its length): the header and the public key, all public.
    const decoded = Buffer.from(SSH_KEYGEN_ED25519, 'base64');
    const publicPart = decoded.subarray(0, decoded.length - 140).toString('base64');
    for (const text of [
      'OpenSSH keys start with b3BlbnNzaC1rZXktdjEA, base64 of "openssh-key-v1".',
      `Your key should look like this:\n${firstLine}\n...`,
      `$ head -c 70 id_ed25519.b64\n${firstLine}\n$ echo done`,
      `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFmoP5S1Ui9ENW+eFshs8TXYtyrCsh5ycaDYwCz/cRTy jane@laptop`,
      `cut: ${publicPart}`,
      // Cut 8 bytes into the private section: its check numbers, no key material.
      `cut: ${decoded.subarray(0, decoded.length - 128).toString('base64')}`,
      `x${SSH_KEYGEN_ED25519}`.slice(0, 90),
    ])
      expect(typesIn(text), text.slice(0, 60)).toEqual([]);
  });

  it.each([
    ['magic runs', fill('b3BlbnNzaC1rZXktdjEA')],
    ['magic starts', fill('b3BlbnNzaC1rZXktdjEA ')],
    ['first lines wrapped at 70', fill(`${SSH_KEYGEN_ED25519.slice(0, 70)}\n`)],
    ['headers claiming huge lengths', fill(`${Buffer.from('openssh-key-v1\0\xff\xff\xff\xffnone', 'latin1').toString('base64')} `)],
  ])('%s complete, finding nothing', (_name, text) => {
    expect(typesIn(text)).toEqual([]);
  });
});
