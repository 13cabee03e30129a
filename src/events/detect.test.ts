import { describe, expect, it } from 'vitest';
import { detect } from './detect.js';
import { detectAndMask } from './mask.js';
import { countByType } from './findings.js';
import { fill, found, typesIn } from '../../test/support/detection.js';

describe('SSN', () => {
  it('finds both written forms', () => {
    expect(found('ssn 123-45-6789; other 123 45 6789.')).toEqual([
      ['SSN', '123-45-6789'],
      ['SSN', '123 45 6789'],
    ]);
  });
  it.each(['000-12-3456', '666-12-3456', '900-12-3456', '987-65-4321', '123-00-4567', '123-45-0000'])('rejects the invalid number %s', (ssn) => {
    expect(typesIn(`ssn ${ssn} here`)).not.toContain('SSN');
  });
  it('does not match inside longer digit runs', () => {
    expect(typesIn('ref 1123-45-67890')).toEqual([]);
    expect(typesIn('acct 555-123-45-6789')).not.toContain('SSN');
    expect(typesIn('id 123-45-6789-1')).not.toContain('SSN');
  });
  it('accepts mixed separators, "/" and ":" between the groups', () => {
    // A value is no less a value for a careless or deliberate separator: masked beats leaked.
    for (const ssn of ['123-45 6789', '123.45-6789', '123/45/6789', '123:45:6789', '123 45/6789']) {
      expect(found(`x ${ssn} y`), ssn).toEqual([['SSN', ssn]]);
    }
    expect(typesIn('ref 1/123/45/6789 and 123:45:6789:1')).toEqual([]);
  });
});

describe('CREDIT_CARD', () => {
  it.each([
    ['4111111111111111', 'Visa'],
    ['4111 1111 1111 1111', 'Visa grouped'],
    ['4111-1111-1111-1111', 'Visa dashed'],
    ['5555555555554444', 'Mastercard'],
    ['2223003122003222', 'Mastercard 2-series'],
    ['378282246310005', 'Amex'],
    ['3782 822463 10005', 'Amex grouped 4-6-5'],
    ['6011111111111117', 'Discover'],
    ['3530111333300000', 'JCB'],
    ['30569309025904', 'Diners'],
  ])('finds %s (%s)', (card) => {
    expect(found(`pay with ${card} today`)).toEqual([['CREDIT_CARD', card]]);
  });
  it('rejects numbers failing Luhn', () => {
    expect(typesIn('card 4111111111111112 x')).toEqual([]);
    expect(typesIn('card 4111 1111 1111 1112 x')).toEqual([]);
  });
  it('rejects Luhn-valid numbers without a known issuer prefix', () => {
    // 1111111111111117 passes Luhn but no issuer uses prefix 1.
    expect(typesIn('n 1111111111111117 x')).toEqual([]);
  });
  it('rejects Luhn-valid numbers with the wrong length for the issuer', () => {
    // Amex is 15 digits; this 16-digit number starting 37 passes Luhn.
    expect(typesIn('n 3700000000000002 x')).not.toContain('CREDIT_CARD');
  });
  it('does not match inside a longer unbroken digit run or a token', () => {
    expect(typesIn('n 41111111111111110000 x')).toEqual([]);
    expect(typesIn('tok_4111111111111111 x')).toEqual([]);
  });
  it.each(['4111-1111 1111-1111', '4111 1111.1111 1111', '4111/1111/1111/1111', '4111:1111:1111:1111'])(
    'finds a card written with mixed, "/" or ":" separators: %s',
    (card) => {
      expect(found(`pay with ${card} today`)).toEqual([['CREDIT_CARD', card]]);
    },
  );
  it('does not take dates, times or IPv6 groups for a card', () => {
    expect(typesIn('at 2026/05/15 10:33:21 and 4111/1111/1111/1112')).toEqual([]);
  });
  it('finds a grouped card after an unrelated number in the same run', () => {
    expect(found('order 12 4111 1111 1111 1111')).toEqual([['CREDIT_CARD', '4111 1111 1111 1111']]);
  });
});

describe('IBAN', () => {
  it.each(['DE89370400440532013000', 'DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432', 'FR1420041010050500013M02606', 'NL91ABNA0417164300'])(
    'finds %s',
    (iban) => {
      expect(found(`to ${iban}.`)).toEqual([['IBAN', iban]]);
    },
  );
  it('rejects a bad checksum', () => {
    expect(typesIn('to DE89370400440532013001 now')).toEqual([]);
    expect(typesIn('to GB83WEST12345698765432 now')).toEqual([]);
  });
  it('rejects the wrong length for the country', () => {
    expect(typesIn('to DE8937040044053201300 now')).toEqual([]);
    expect(typesIn('to DE893704004405320130001 now')).toEqual([]);
  });
  it('rejects an unknown country code', () => {
    expect(typesIn('to ZZ89370400440532013000 now')).toEqual([]);
  });
});

describe('PHONE', () => {
  it.each(['+14155552671', '+1 (415) 555-2671', '+44 20 7946 0958', '+49 30 901820', '415-555-2671', '415.555.2671', '(415) 555-2671', '1-415-555-2671'])(
    'finds %s',
    (phone) => {
      expect(found(`call ${phone} now`)).toEqual([['PHONE', phone]]);
    },
  );
  it('does not report dates, SSNs, cards or bare digit runs as phones', () => {
    expect(typesIn('on 2026-05-15 at 10:33')).toEqual([]);
    expect(typesIn('ssn 123-45-6789')).toEqual(['SSN']);
    expect(typesIn('card 4111 1111 1111 1111')).toEqual(['CREDIT_CARD']);
    expect(typesIn('order 4155552671')).toEqual([]);
  });
  it('requires a valid NANP area code and exchange', () => {
    expect(typesIn('call 115-555-2671')).toEqual([]);
    expect(typesIn('call 415-155-2671')).toEqual([]);
  });
  it('rejects E.164 numbers that are too short or too long', () => {
    expect(typesIn('code +1234567 x')).toEqual([]);
    expect(typesIn('code +1234567890123456 x')).toEqual([]);
  });
});

describe('IP_ADDRESS', () => {
  it.each([
    '192.168.1.1',
    '8.8.8.8',
    '255.255.255.254',
    '0.0.0.1',
    'fe80::1',
    '2001:db8:85a3::8a2e:370:7334',
    '::ffff:192.0.2.1',
    '2001:0db8:0000:0000:0000:ff00:0042:8329',
  ])('finds %s', (ip) => {
    expect(found(`from ${ip}.`)).toEqual([['IP_ADDRESS', ip]]);
  });
  it('rejects out-of-range octets, version strings and times', () => {
    expect(typesIn('x 256.1.1.1 y')).toEqual([]);
    expect(typesIn('x 1.2.3.999 y')).toEqual([]);
    expect(typesIn('version 1.2.3.4.5')).toEqual([]);
    expect(typesIn('at 10:33:21.456789')).toEqual([]);
    expect(typesIn('mac 00:1A:2B:3C:4D:5E')).toEqual([]);
  });
});

describe('EMAIL', () => {
  it('finds addresses and leaves sentence punctuation out', () => {
    expect(found('mail john.doe+tag@mail.example.co.uk. or a_b@x-y.io')).toEqual([
      ['EMAIL', 'john.doe+tag@mail.example.co.uk'],
      ['EMAIL', 'a_b@x-y.io'],
    ]);
  });
  it.each(['jane @ example.com', 'jane@ example.com', 'jane @example.com', 'jane.doe  @  mail.example.co.uk', 'jane\u2800@\u00A0example.org'])(
    'finds the address with spaces around the at sign %j',
    (email) => {
      expect(found(`mail ${email} now`)).toEqual([['EMAIL', email]]);
    },
  );
  it('does not take "a @ b" in prose, decorators or a matrix product for a spaced address', () => {
    for (const text of [
      'meet a @ b tomorrow, or @ 5pm, price 10 @ 3.5 each',
      'y = x @ self.weights + h @ model.embedding',
      'x = 1\n@app.route("/")\nimport pytest\n\n@pytest.mark.parametrize',
      'jane    @ example.com and (@ example.com)',
    ]) {
      expect(typesIn(text), text).toEqual([]);
    }
  });
  it('rejects things that are not addresses', () => {
    expect(typesIn('user@localhost and @handle and a@b.c and x@1.2.3.4 and .@a.com')).toEqual(['IP_ADDRESS']);
  });
  it('ends an address before an ellipsis, and keeps the dots some carriers allow', () => {
    expect(found('Sending...jane@example.com')).toEqual([['EMAIL', 'jane@example.com']]);
    expect(found('Wait\u2026jane@example.com')).toEqual([['EMAIL', 'jane@example.com']]);
    // Japanese carriers' older addresses: consecutive dots, a dot before the at sign.
    expect(found('from taro..yamada@docomo.ne.jp')).toEqual([['EMAIL', 'taro..yamada@docomo.ne.jp']]);
    expect(found('from taro.@docomo.ne.jp')).toEqual([['EMAIL', 'taro.@docomo.ne.jp']]);
  });
  it('takes a typographic apostrophe in a local part', () => {
    expect(found('to o\u2019brien.mary@example.com')).toEqual([['EMAIL', 'o\u2019brien.mary@example.com']]);
    expect(found('to \u05d2\u05f3\u05d5\u05df@example.com')).toEqual([['EMAIL', '\u05d2\u05f3\u05d5\u05df@example.com']]);
  });
  it('ends a domain where the text glued after it changes script or turns to digits', () => {
    expect(found('邮箱jane@example.com电话13812345678').filter(([t]) => t === 'EMAIL')).toEqual([['EMAIL', '邮箱jane@example.com']]);
    expect(found('jane@example.comまたは090-1234-5678').filter(([t]) => t === 'EMAIL')).toEqual([['EMAIL', 'jane@example.com']]);
    expect(found('mail jane@example.com2024 now')).toEqual([['EMAIL', 'jane@example.com']]);
    expect(found('jane@example.comまたは電話で')).toEqual([['EMAIL', 'jane@example.com']]);
    expect(typesIn('user@host.a1b2 and x@y.c3')).toEqual([]);
  });
  it('takes a replacement character (a letter a decoder could not read) in both parts', () => {
    expect(found('from jos\uFFFD.garc\uFFFDa@example.com')).toEqual([['EMAIL', 'jos\uFFFD.garc\uFFFDa@example.com']]);
    expect(found('to jane@m\uFFFDller.de')).toEqual([['EMAIL', 'jane@m\uFFFDller.de']]);
  });
});

describe('secrets', () => {
  it('finds AWS access keys (AKIA and ASIA) but not other prefixes', () => {
    expect(found('k AKIAIOSFODNN7EXAMPLE and ASIAIOSFODNN7EXAMPLE')).toEqual([
      ['AWS_ACCESS_KEY', 'AKIAIOSFODNN7EXAMPLE'],
      ['AWS_ACCESS_KEY', 'ASIAIOSFODNN7EXAMPLE'],
    ]);
    expect(typesIn('k AKIAIOSFODNN7EXAMPL and XKIAIOSFODNN7EXAMPLE and AKIAIOSFODNN7EXAMPLEX')).toEqual([]);
  });
  it('finds an AWS access key id written in lower case, one case per id', () => {
    expect(found('k akiaiosfodnn7example and asiaiosfodnn7example.')).toEqual([
      ['AWS_ACCESS_KEY', 'akiaiosfodnn7example'],
      ['AWS_ACCESS_KEY', 'asiaiosfodnn7example'],
    ]);
    // Mixed case is a random id; an all-letter lower-case run is a word ("asiapacificnortheast"), as
    // a real id's 16 base32 characters nearly always hold a digit; key_id_1234 is a name.
    expect(typesIn('k AkiaIOSFODNN7EXAMPLE akiaIOSFODNN7EXAMPLE region asiapacificnortheast key_id_1234 akiaiosfodnn7exampl')).toEqual([]);
  });
  it('finds an AWS secret key only as an assigned value, and reports only the value', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    expect(found(`aws_secret_access_key = ${secret}`)).toEqual([['AWS_SECRET_KEY', secret]]);
    expect(found(`{"SecretAccessKey": "${secret}"}`)).toEqual([['AWS_SECRET_KEY', secret]]);
    expect(typesIn(`hash ${secret}`)).toEqual([]);
  });
  it('finds GitHub, Slack, Stripe, Google and JWT tokens', () => {
    const gh = `ghp_${'A1b2'.repeat(9)}`;
    const pat = `github_pat_11ABCDEFG0123456789abc_${'x'.repeat(59)}`;
    const slack = 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx';
    const hook = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
    const stripe = `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`;
    const google = `AIza${'SyA-1234567890abcdefghijklmnopqrstu'}`;
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    expect(found(`${gh} ${pat} ${slack} ${hook} ${stripe} ${google} ${jwt}`)).toEqual([
      ['GITHUB_TOKEN', gh],
      ['GITHUB_TOKEN', pat],
      ['SLACK_TOKEN', slack],
      ['SLACK_TOKEN', hook],
      ['STRIPE_KEY', stripe],
      ['GOOGLE_API_KEY', google],
      ['JWT', jwt],
    ]);
  });
  it('does not report look-alikes', () => {
    expect(typesIn(`ghp_short pk_live_${'a'.repeat(24)} xoxz-1234567890 sk_live_short`)).toEqual([]);
  });
  it('reports a whole PEM private key block, and a truncated one up to where the body ends', () => {
    const block = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7VJTUt9Us8cKjMZfyJ0Yx1hQ+u3pLfvA2cS8m9kQxT7rP0nN\nq0Lx+/==\n-----END RSA PRIVATE KEY-----';
    expect(found(`key:\n${block}\nthanks`)).toEqual([['PRIVATE_KEY', block]]);
    const text =
      'x -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBmN2Q5ZGJkYzE3YzQ0MWI4YTc1ZGM2OTJiODNmZDU1NAAAAJi7Jp0Zuy\n[end of paste]';
    expect(found(text)).toEqual([['PRIVATE_KEY', text.slice(2, -'[end of paste]'.length)]]);
    expect(typesIn('-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----')).toEqual([]);
  });
});

describe('detect()', () => {
  it('returns sorted, non-overlapping findings and prefers the longer match', () => {
    const text =
      'a 4111111111111111 b +1 415 555 2671 c -----BEGIN PRIVATE KEY-----\nAKIAIOSFODNN7EXAMPLE\nMIIEpAIBAAKCAQEA7VJTUt9Us8cKjMZfyJ0Yx1hQ+u3pLfvA2cS8m9kQxT7rP0nN\n-----END PRIVATE KEY----- d 123-45-6789';
    const fs = detect(text);
    for (let i = 1; i < fs.length; i++) expect(fs[i]!.start).toBeGreaterThanOrEqual(fs[i - 1]!.end);
    expect(fs.map((f) => f.type)).toEqual(['CREDIT_CARD', 'PHONE', 'PRIVATE_KEY', 'SSN']);
    expect(text.slice(fs[1]!.start, fs[1]!.end)).toBe('+1 415 555 2671');
  });
  it('counts by type in a stable order', () => {
    const text = 'x@example.com 123-45-6789 y@example.com AKIAIOSFODNN7EXAMPLE';
    const counts = countByType(detect(text));
    expect(counts).toEqual({ SSN: 1, EMAIL: 2, AWS_ACCESS_KEY: 1 });
    expect(Object.keys(counts)).toEqual(['SSN', 'EMAIL', 'AWS_ACCESS_KEY']);
  });
  it('returns nothing for clean text', () => {
    expect(detect('The quarterly report is ready; see page 12 of 2026-05-15.')).toEqual([]);
  });
});

describe('spellings (issue #14): normalized before matching, masked in the original text', () => {
  it.each([
    ['123.45.6789', 'SSN'],
    ['123456789', 'SSN'],
    ['123–45–6789', 'SSN'],
    ['123—45—6789', 'SSN'],
    ['123\u221245\u22126789', 'SSN'],
    ['１２３-４５-６７８９', 'SSN'],
    ['123\u00A045\u00A06789', 'SSN'],
    ['123\u200945\u20096789', 'SSN'],
    ['123\u200B-45-\u200D6789', 'SSN'],
    ['12\u00AD3-45-6789', 'SSN'],
    ['1234\uFEFF56789', 'SSN'],
    ['4111.1111.1111.1111', 'CREDIT_CARD'],
    ['４１１１ １１１１ １１１１ １１１１', 'CREDIT_CARD'],
    ['4111–1111–1111–1111', 'CREDIT_CARD'],
    ['4111\u200C1111\u200C1111\u200C1111', 'CREDIT_CARD'],
    ['jane＠example.com', 'EMAIL'],
    ['jane\uFE6Bexample.com', 'EMAIL'],
    ['ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'EMAIL'],
    ['jane@example\u200B.com', 'EMAIL'],
    ['415–555–2671', 'PHONE'],
    // Enclosed digits without a compatibility decomposition, and the parenthesized / full-stop forms.
    ['❶❷❸-❹❺-❻❼❽❾', 'SSN'],
    ['⓵⓶⓷-⓸⓹-⓺⓻⓼⓽', 'SSN'],
    ['⑴⑵⑶-⑷⑸-⑹⑺⑻⑼', 'SSN'],
    ['➃➀➀➀ ➀➀➀➀ ➀➀➀➀ ➀➀➀➀', 'CREDIT_CARD'],
    // Invisible fillers outside the format category (default-ignorable code points).
    ['4111\u31641111\u31641111\u31641111', 'CREDIT_CARD'],
    ['123\u115F45\uFFA06789', 'SSN'],
    // Line breaks and tabs inside a value separate like a space.
    ['4111 1111\n1111 1111', 'CREDIT_CARD'],
    ['4111 1111\r\n1111 1111', 'CREDIT_CARD'],
    // Wrapped onto an indented line: the break and the indentation are one separator.
    ['4111 1111\n        1111 1111', 'CREDIT_CARD'],
    ['DE89 3704 0044\r\n\t\t0532 0130 00', 'IBAN'],
    ['123-45-\n      6789', 'SSN'],
    ['123\t45\t6789', 'SSN'],
    ['123\u202845\u20296789', 'SSN'],
    ['123\u008545\u00856789', 'SSN'],
    // Blank-looking symbols that are neither spaces nor invisible to Unicode, and control characters.
    ['4111\u28001111\u28001111\u28001111', 'CREDIT_CARD'],
    ['123\u280045\u28006789', 'SSN'],
    ['123\u303F45\u303F6789', 'SSN'],
    ['4111\u00001111\u001F1111\u007F1111', 'CREDIT_CARD'],
    ['123\u008145\u009F6789', 'SSN'],
    // Escapes, as URLs and HTML carry text: percent-encoded bytes, numeric and named references.
    ['alice%40example.com', 'EMAIL'],
    ['alice%40example%2Ecom', 'EMAIL'],
    ['123%2D45%2d6789', 'SSN'],
    ['4111%201111%201111%201111', 'CREDIT_CARD'],
    ['4111%0A1111%091111%201111', 'CREDIT_CARD'],
    // "+" is a space in a form's query string (application/x-www-form-urlencoded).
    ['4111+1111+1111+1111', 'CREDIT_CARD'],
    ['123+45+6789', 'SSN'],
    ['4111%2B1111%2B1111%2B1111', 'CREDIT_CARD'],
    // Non-ASCII characters as browsers put them in a URL: percent-encoded UTF-8 (a fullwidth at sign,
    // a no-break space, en dashes, a zero-width space, fullwidth digits), upper or lower case.
    ['jane%EF%BC%A0example.com', 'EMAIL'],
    ['jane%ef%bc%a0example%EF%BC%8Ecom', 'EMAIL'],
    ['4111%C2%A01111%C2%A01111%C2%A01111', 'CREDIT_CARD'],
    ['123%E2%80%9345%E2%80%936789', 'SSN'],
    ['123%E2%80%8B-45-6789', 'SSN'],
    ['%EF%BC%94%EF%BC%91%EF%BC%91%EF%BC%91 1111 1111 1111', 'CREDIT_CARD'],
    ['123&#45;45&#x2D;6789', 'SSN'],
    ['123&#0045;45&#X2d;6789', 'SSN'],
    // Any number of leading zeros, as HTML reads a reference (and the secret scrubber does).
    ['123&#00000045;45&#x00000002D;6789', 'SSN'],
    ['jane&#x00000040;example.com', 'EMAIL'],
    ['jane&#64;example.com', 'EMAIL'],
    ['jane&commat;example&period;com', 'EMAIL'],
    ['jane&#65312;example.com', 'EMAIL'],
    ['4111&nbsp;1111&nbsp;1111&nbsp;1111', 'CREDIT_CARD'],
    ['123&#8203;-45-6789', 'SSN'],
  ] as const)('finds %j as %s and masks all of it', (value, type) => {
    const text = `value ${value} end`;
    const fs = detect(text);
    expect(fs.map((f) => f.type)).toEqual([type]);
    expect(text.slice(fs[0]!.start, fs[0]!.end)).toBe(value);
  });

  it('reads "+" between digit groups as a form\'s space: it glues no number to the next, as a space does not', () => {
    expect(detectAndMask('GET /pay?card=4111+1111+1111+1111&ssn=123+45+6789').masked).toBe('GET /pay?card=[CREDIT_CARD]&ssn=[SSN]');
    expect(found('q=555+123+45+6789')).toEqual([['SSN', '123+45+6789']]);
    expect(found('total 5+4111111111111111')).toEqual([['CREDIT_CARD', '4111111111111111']]);
    // A leading "+" is still a phone number's, and a bare nine digits after one no SSN.
    expect(found('call +1 415 555 0100')).toEqual([['PHONE', '+1 415 555 0100']]);
    expect(typesIn('1+123456789')).toEqual([]);
  });

  it('takes "+" as a gap only alone: a sum is no value, and a "+" mixed into a gap still ends the number', () => {
    // A form writes no space next to its "+": padded, it is arithmetic.
    expect(typesIn('total = 250 + 15 + 1200')).toEqual([]);
    expect(typesIn('x = 4000 + 3000 + 2000 + 1000')).toEqual([]);
    // Mixed with another separator it is no gap, so it glues nothing on (as before "+" was a gap).
    expect(found('123-45-6789+-1')).toEqual([['SSN', '123-45-6789']]);
    expect(found('1+-123-45-6789')).toEqual([['SSN', '123-45-6789']]);
    expect(found('4111111111111111+-5')).toEqual([['CREDIT_CARD', '4111111111111111']]);
    expect(found('1-+:4111 1111 1111 1111')).toEqual([['CREDIT_CARD', '4111 1111 1111 1111']]);
    expect(detectAndMask('%2-+4111-1111-/1111-1111').masked).toBe('%2-+[CREDIT_CARD]');
  });

  it('reads a phone number written with a form\'s "+" for its spaces as one phone number', () => {
    expect(found('+1+555+12+3456')).toEqual([['PHONE', '+1+555+12+3456']]);
    expect(found('tel=%2B44+20+7946+0958')).toEqual([['PHONE', '%2B44+20+7946+0958']]);
    expect(detectAndMask('GET /call?phone=415+555+0100&x=1').masked).toBe('GET /call?phone=[PHONE]&x=1');
  });

  it('masks an escaped value in the text as written, and leaves what only looks like an escape', () => {
    expect(detectAndMask('mailto:alice%40example.com?subject=hi').masked).toBe('mailto:[EMAIL]?subject=hi');
    expect(detectAndMask('<a>jane&#64;example.com</a>').masked).toBe('<a>[EMAIL]</a>');
    // A byte of UTF-8 alone, a truncated, overlong or surrogate sequence spells nothing (as a decoder
    // reads them), so the text around it is read as written.
    for (const text of [
      '50% of 100%',
      '100%zz',
      'R&D; fish & chips',
      '&#xD800;',
      '&#99999999;',
      '&bogus;x.com',
      'alice%C0%80example.com',
      'jane%BC%A0example.com',
      'jane%EF%BCexample.com',
      'jane%E0%81%80example.com',
      'jane%C1%80example.com',
      'jane%ED%A0%80example.com',
      'jane%F4%90%80%80example.com',
    ])
      expect(typesIn(text), text).toEqual([]);
  });

  // Text written as a JSON string, as logs and pasted payloads carry it: "\n" is a line break, not a
  // letter glued to the value after it; "\u00a0" a no-break space; "\/" a slash (PHP); "\"" a quote
  // (JSON inside JSON). Any depth of backslashes, since JSON inside JSON doubles them.
  it.each([
    ['error:\\n4111111111111111', 'CREDIT_CARD', '4111111111111111'],
    ['card:\\n4111 1111 1111 1111', 'CREDIT_CARD', '4111 1111 1111 1111'],
    ['iban:\\nDE89370400440532013000', 'IBAN', 'DE89370400440532013000'],
    ['x\\n123456789', 'SSN', '123456789'],
    ['{\\"msg\\":\\"ssn\\\\t123-45-6789\\"}', 'SSN', '123-45-6789'],
    ['token\\nghp_abcdefghijklmnopqrstuvwxyz0123456789', 'GITHUB_TOKEN', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'],
    ['k\\nAKIAIOSFODNN7EXAMPLE', 'AWS_ACCESS_KEY', 'AKIAIOSFODNN7EXAMPLE'],
    ['ip\\r\\n10.1.2.3', 'IP_ADDRESS', '10.1.2.3'],
    ['tel\\n+14155552671', 'PHONE', '+14155552671'],
    ['card 4111\\u00a01111\\u00A01111\\u00a01111', 'CREDIT_CARD', '4111\\u00a01111\\u00A01111\\u00a01111'],
    ['ssn 123\\u201345\\u20136789', 'SSN', '123\\u201345\\u20136789'],
    ['jane\\u0040example.com', 'EMAIL', 'jane\\u0040example.com'],
    ['{"email":"\\u0438\\u0432\\u0430\\u043d@example.com"}', 'EMAIL', '\\u0438\\u0432\\u0430\\u043d@example.com'],
    ['a\\ud83d\\ude00b@example.com', 'EMAIL', 'a\\ud83d\\ude00b@example.com'],
    ['"aws_secret_access_key":"wJalrXUtnFEMI\\/K7MDENG\\/bPxRfiCYEXAMPLEKEY"', 'AWS_SECRET_KEY', 'wJalrXUtnFEMI\\/K7MDENG\\/bPxRfiCYEXAMPLEKEY'],
    ['{\\"SecretAccessKey\\":\\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\\"}', 'AWS_SECRET_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
  ] as const)('reads JSON escapes in %j', (text, type, value) => {
    expect(found(text)).toEqual([[type, value]]);
  });

  it('reads a Slack webhook URL written with escaped slashes', () => {
    expect(typesIn('"https:\\/\\/hooks.slack.com\\/services\\/T0ABCDEFG\\/B0ABCDEFG\\/abcdefghijklmnopqrstuvwx"')).toEqual(['SLACK_TOKEN']);
  });

  it('reads an escaped single quote as the quote: the address it stands in is masked whole', () => {
    // SQL's, Python's and JavaScript's way of writing o'brien inside single quotes.
    // (The opening quote goes with it, as for any address: a quote is a local part's character.)
    expect(detectAndMask("WHERE email = 'jane.o\\'brien@example.com'").masked).toBe("WHERE email = [EMAIL]'");
    expect(found("{'to': 'o\\'brien@example.com'}")).toEqual([['EMAIL', "'o\\'brien@example.com"]]);
    // JSON inside JSON doubles the backslash.
    expect(found("o\\\\'brien@example.com")).toEqual([['EMAIL', "o\\\\'brien@example.com"]]);
  });

  it("reads only JSON's own escapes and the quote's: a Windows path or a DOMAIN\\user keeps its letters", () => {
    // "\0", "\v" and "\U" are no JSON escapes: a path's "\0123456789" is no SSN.
    expect(typesIn('C:\\Temp\\0123456789.txt and \\v123456789 and \\U00000040')).toEqual([]);
    // A DOMAIN\user before an address: the letter after the backslash is the address's own, masked.
    expect(detectAndMask('CORP\\nancy.smith@corp.com logged in').masked).toBe('CORP\\[EMAIL] logged in');
    expect(detectAndMask('ACME\\frank.jones@acme.com').masked).toBe('ACME\\[EMAIL]');
    expect(detectAndMask('{"msg":"from:\\njane@example.com"}').masked).toBe('{"msg":"from:\\[EMAIL]"}');
  });

  it('keeps a value at the end of a line whole when the next, indented line starts with a digit', () => {
    expect(found('Phone: 415-555-2671\n    2 attempts failed')).toEqual([['PHONE', '415-555-2671']]);
    expect(found('callers:\n  - 415 555 2671\n    3 calls')).toEqual([['PHONE', '415 555 2671']]);
    expect(found('contact 415.555.2671\n\t42 retries')).toEqual([['PHONE', '415.555.2671']]);
  });

  it('keeps a value at the end of a line whole when the next line starts with a digit, unindented or escaped', () => {
    expect(found('Phone: 415-555-2671\n2 attempts failed')).toEqual([['PHONE', '415-555-2671']]);
    expect(found('Phone: 415-555-2671\r\n2 attempts failed')).toEqual([['PHONE', '415-555-2671']]);
    expect(found('Phone: 415-555-2671\r2 attempts failed')).toEqual([['PHONE', '415-555-2671']]);
    expect(found('{"msg":"Phone: 415-555-2671\\n2 attempts failed"}')).toEqual([['PHONE', '415-555-2671']]);
    expect(found('phone=415-555-2671%0A2+attempts')).toEqual([['PHONE', '415-555-2671']]);
    expect(found('<p>415-555-2671&#10;2 attempts</p>')).toEqual([['PHONE', '415-555-2671']]);
    // Still one gap, written or escaped: a value wrapped onto the next line is found whole.
    expect(found('card 4111 1111 1111\n1111 thanks')).toEqual([['CREDIT_CARD', '4111 1111 1111\n1111']]);
    expect(found('card 4111 1111\\r\\n1111 1111 thanks')).toEqual([['CREDIT_CARD', '4111 1111\\r\\n1111 1111']]);
  });

  it('reads a line break with the blanks around it as one gap, written or escaped, padded or not', () => {
    const cases: Array<[string, string, string]> = [
      ['x 4111 1111\\n  1111 1111 end', 'CREDIT_CARD', '4111 1111\\n  1111 1111'],
      ['x 4111 \\r\\n1111 1111 1111 end', 'CREDIT_CARD', '4111 \\r\\n1111 1111 1111'],
      ['x 123 %0D%0A45 6789 end', 'SSN', '123 %0D%0A45 6789'],
      ['ssn 123-45-%0D%0A6789', 'SSN', '123-45-%0D%0A6789'],
      ['iban DE89 3704 0044\\n  0532 0130 00', 'IBAN', 'DE89 3704 0044\\n  0532 0130 00'],
      ['card 4111 1111 1111  \n1111', 'CREDIT_CARD', '4111 1111 1111  \n1111'],
      ['card 4111 1111 1111 \t\n1111', 'CREDIT_CARD', '4111 1111 1111 \t\n1111'],
      ['card 4111-1111- \n1111-1111', 'CREDIT_CARD', '4111-1111- \n1111-1111'],
      ['card 4111 -\n1111 1111 1111', 'CREDIT_CARD', '4111 -\n1111 1111 1111'],
      ['card 4111\n\n1111 1111 1111', 'CREDIT_CARD', '4111\n\n1111 1111 1111'],
      ['card 4111 1111\\n\\t\\t1111 1111', 'CREDIT_CARD', '4111 1111\\n\\t\\t1111 1111'],
      ['card 4111 1111&#10;&#32;&#32;1111 1111', 'CREDIT_CARD', '4111 1111&#10;&#32;&#32;1111 1111'],
    ];
    for (const [text, type, value] of cases) expect(found(text), text).toEqual([[type, value]]);
    // The whole number is masked, never all but its last group.
    expect(detectAndMask('Tel +44 20 7946 \\r\\n0958 ok').masked).toBe('Tel [PHONE] ok');
    const masked = detectAndMask('x +44 20 7946 \t\n0958\t\n2 y').masked;
    expect(masked).toMatch(/^x \[PHONE\]/);
    expect(masked).not.toContain('0958');
  });

  it('reads an ANSI colour code as a blank, so its letter is not glued to the word after it', () => {
    const S = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    for (const text of [
      `\x1b[33maws_secret_key=${S}`,
      `\x1b[0maws secret key ${S}`,
      `{"msg":"\\u001b[1maws_secret_key: ${S}"}`,
      `\x1b[1;31maws-secret-key: ${S}\x1b[0m`,
    ])
      expect(found(text), JSON.stringify(text)).toEqual([['AWS_SECRET_KEY', S]]);
    expect(detectAndMask('card \x1b[31m4111 1111 1111 1111\x1b[0m ok').masked).toBe('card \x1b[31m[CREDIT_CARD]\x1b[0m ok');
  });

  it('never glues a number at a line end to the next line, whatever the break', () => {
    for (const br of ['\u2028', '\u2029', '\u0085', '\f', '\v', '\r', '\\r', '%0D', '&#13;', ' \n', '\n\n'])
      expect(found(`Phone: 415-555-2671${br}2 attempts failed`), JSON.stringify(br)).toEqual([['PHONE', '415-555-2671']]);
  });

  it('maps findings back to the text after thousands of line breaks, each read as two spaces', () => {
    const lines = '\n'.repeat(5000);
    expect(detectAndMask(`${lines}ssn 123-45-6789\n${lines}mail jane@example.com`).masked).toBe(`${lines}ssn [SSN]\n${lines}mail [EMAIL]`);
  });

  it('ends an international number before a padded gap and a word', () => {
    expect(found('call +44 20 7946 0958  2FA enabled')).toEqual([['PHONE', '+44 20 7946 0958']]);
    expect(found('+1 415 555 2671   2FA on')).toEqual([['PHONE', '+1 415 555 2671']]);
  });

  it('finds an IBAN before an ellipsis', () => {
    expect(found('My IBAN is DE89.3704.0044.0532.0130.00...Thanks')).toEqual([['IBAN', 'DE89.3704.0044.0532.0130.00']]);
  });

  // Defanged, as threat reports and tickets write indicators so that nobody clicks them: the same
  // address, and personal data all the same.
  it.each([
    ['10[.]1[.]2[.]3', 'IP_ADDRESS'],
    ['192.168.1[.]1', 'IP_ADDRESS'],
    ['10(.)1(.)2(.)3', 'IP_ADDRESS'],
    ['2001:db8[:]:1', 'IP_ADDRESS'],
    ['jane[@]example[.]com', 'EMAIL'],
    ['jane(@)example.com', 'EMAIL'],
    ['jane[at]example[dot]com', 'EMAIL'],
    ['jane(at)example(dot)com', 'EMAIL'],
    ['jane [at] example [dot] com', 'EMAIL'],
    ['JANE[AT]EXAMPLE[DOT]COM', 'EMAIL'],
  ] as const)('reads the defanged %j as %s and masks all of it', (value, type) => {
    const text = `ioc ${value} seen`;
    const fs = detect(text);
    expect(fs.map((f) => f.type)).toEqual([type]);
    expect(text.slice(fs[0]!.start, fs[0]!.end)).toBe(value);
  });

  it('reads brackets as defanging only around a dot, a colon, an at sign or the words', () => {
    for (const text of ['meet (at) noon', 'see [dot] notes', 'array[.] and f(.)', 'x [at] y [dot] z', 'a[.]b[.]c', 'log {at} host {dot} local', 'a(.]b']) {
      expect(typesIn(text), text).toEqual([]);
    }
  });

  it('never glues a value to a number by reading a defanged dot between them', () => {
    expect(found('ssn 123-45-6789 (dot) 1 more')).toEqual([['SSN', '123-45-6789']]);
    expect(found('card 4111111111111111 [.] 5')).toEqual([['CREDIT_CARD', '4111111111111111']]);
    expect(found('call 415-555-2671(.) now')).toEqual([['PHONE', '415-555-2671']]);
    expect(found('call 415-555-2671(.)1 now')).toEqual([['PHONE', '415-555-2671']]);
    expect(found('ssn 123-45-6789(.)1')).toEqual([['SSN', '123-45-6789']]);
    expect(found('card 4111111111111111[.]5')).toEqual([['CREDIT_CARD', '4111111111111111']]);
    expect(found('4111 1111 1111 1111(.)2')).toEqual([['CREDIT_CARD', '4111 1111 1111 1111']]);
  });

  it('leaves backslashes that escape nothing as written', () => {
    for (const text of ['C:\\\\Users\\\\build\\\\4111', '\\\\server\\\\share\\\\123', 'regex \\\\d{3}-\\\\d{2}-\\\\d{4}', '\\\\ud800x', '\\\\u12']) {
      expect(typesIn(text), text).toEqual([]);
    }
  });

  it('reads named references for dashes, spaces and invisible characters', () => {
    expect(found('123&ndash;45&ndash;6789')).toEqual([['SSN', '123&ndash;45&ndash;6789']]);
    expect(found('4111&shy;1111&shy;1111&shy;1111')).toEqual([['CREDIT_CARD', '4111&shy;1111&shy;1111&shy;1111']]);
    expect(found('415&mdash;555&mdash;2671')).toEqual([['PHONE', '415&mdash;555&mdash;2671']]);
    expect(found('4111&thinsp;1111&ensp;1111&emsp;1111')).toEqual([['CREDIT_CARD', '4111&thinsp;1111&ensp;1111&emsp;1111']]);
    expect(found('123&minus;45&minus;6789')).toEqual([['SSN', '123&minus;45&minus;6789']]);
  });

  it('reads a replacement character between digit groups as the space it replaced', () => {
    expect(found('card 4111\uFFFD1111\uFFFD1111\uFFFD1111')).toEqual([['CREDIT_CARD', '4111\uFFFD1111\uFFFD1111\uFFFD1111']]);
    expect(found('ssn 123\uFFFD45\uFFFD6789')).toEqual([['SSN', '123\uFFFD45\uFFFD6789']]);
  });

  it('finds both the card and the SSN in "4033 5294 5474 9459 457 01 0001"', () => {
    // The 19-digit reading (…9459 457) passes Luhn and used to swallow the SSN's area.
    expect(found('4033 5294 5474 9459 457 01 0001')).toEqual([
      ['CREDIT_CARD', '4033 5294 5474 9459'],
      ['SSN', '457 01 0001'],
    ]);
  });

  it('does not take dates, times, decimals or long numbers for a bare SSN', () => {
    for (const text of [
      '2026-05-01',
      'at 2026-05-15T10:33:21.123456789Z',
      'pi 3.141592653 and 0.123456789',
      'order 1234567890 and 12345678',
      'id123456789 and 123456789abc and x_123456789',
      'area 987654321, 666123456, 000123456, 123004567, 123450000',
    ]) {
      expect(typesIn(text), text).toEqual([]);
    }
    // After "+" nine digits are an international phone number, not an SSN.
    expect(typesIn('call +123456789 now')).toEqual(['PHONE']);
  });
});

describe('group gaps: underscores, doubled or spaced separators, commas', () => {
  it.each([
    ['123_45_6789', 'SSN'],
    ['4111_1111_1111_1111', 'CREDIT_CARD'],
    ['4111  1111  1111  1111', 'CREDIT_CARD'],
    ['123 - 45 - 6789', 'SSN'],
    ['123--45--6789', 'SSN'],
    ['4111 / 1111 / 1111 / 1111', 'CREDIT_CARD'],
    ['123,45,6789', 'SSN'],
    ['4111,1111,1111,1111', 'CREDIT_CARD'],
    ['123\u2800-\u280045 6789', 'SSN'],
  ] as const)('finds %j as %s', (value, type) => {
    expect(found(`value ${value} end`)).toEqual([[type, value]]);
  });
  it('does not take thousands, CSV rows of numbers or comma lists for an SSN or a card', () => {
    for (const text of [
      'total 1,234,567 and 12,345,678,901 and 4,111,111,111,111,111',
      'row 1,2,3,45,67,890 and 5,123,45,6789,10 and 12,345,67,8901',
      'sizes 123, 45, 6789 and 5500, 1200, 3400, 1000',
      'csv 2023,5500,1200,3400,1000',
      'key_id_1234, v1_123_45_6789, tok_4111_1111_1111_1111',
      'spaced 123    45    6789 and 555 - 123 - 45 - 6789',
    ]) {
      expect(typesIn(text), text).toEqual([]);
    }
  });
  it('still finds a value in a CSV field next to a number', () => {
    expect(found('42,287654321,x 42,123-45-6789,jane 42,4111111111111111,12')).toEqual([
      ['SSN', '287654321'],
      ['SSN', '123-45-6789'],
      ['CREDIT_CARD', '4111111111111111'],
    ]);
  });
});

describe('coverage beyond the common forms', () => {
  it.each(['DE89-3704-0044-0532-0130-00', 'DE89.3704.0044.0532.0130.00', 'GB82-WEST-1234-5698-7654-32'])('finds the IBAN %s', (iban) => {
    expect(found(`to ${iban}.`)).toEqual([['IBAN', iban]]);
  });
  it.each(['de89 3704 0044 0532 0130 00', 'de89370400440532013000', 'gb82-west-1234-5698-7654-32'])('finds the lower-case IBAN %s', (iban) => {
    expect(found(`to ${iban}.`)).toEqual([['IBAN', iban]]);
  });
  it('does not take a mixed-case run for an IBAN (random ids are mixed-case)', () => {
    expect(typesIn('id De89370400440532013000 and GB82WEst12345698765432')).toEqual([]);
  });
  it('does not take the tail of a UUID for a dashed IBAN', () => {
    // "AD90-5077-9A5A-118F00000011": Andorra's 24 characters and a valid checksum, but a dashed or
    // dotted IBAN is grouped by four throughout, and a UUID's last group is twelve long.
    expect(typesIn('id 00000000-AD90-5077-9A5A-118F00000011 and 00000000-ad90-5077-9a5a-118f00000011 x')).toEqual([]);
  });
  it('does not take a dashed IBAN with mixed separators or a longer reference', () => {
    expect(typesIn('to DE89-3704 0044-0532-0130-00 x')).not.toContain('IBAN');
    expect(typesIn('ref DE89-3704-0044-0532-0130-00-17 x')).not.toContain('IBAN');
  });
  it.each([
    ['122000000000003', 'UATP'],
    ['1220 00000 000003', 'UATP printed 4-5-6'],
    ['5019717010103742', 'Dankort'],
    ['2200000000000004', 'Mir'],
    ['9792000000000003', 'Troy'],
  ])('finds %s (%s)', (card) => {
    expect(found(`pay ${card} now`)).toEqual([['CREDIT_CARD', card]]);
  });
  it('still refuses UATP-like numbers of the wrong length or failing Luhn', () => {
    expect(typesIn('n 1111111111111117 x')).toEqual([]);
    expect(typesIn('n 122000000000004 x')).toEqual([]);
  });
  it.each(['::1', 'fe80::', '::ffff', '2001:db8::'])('finds the short IPv6 form %s', (ip) => {
    expect(found(`host ${ip} up`)).toEqual([['IP_ADDRESS', ip]]);
  });
  it('includes a CIDR prefix length with an IPv6 address', () => {
    expect(found('range fe80::/10 and 2001:db8::/32.')).toEqual([
      ['IP_ADDRESS', 'fe80::/10'],
      ['IP_ADDRESS', '2001:db8::/32'],
    ]);
  });
  it('does not take C++ scopes or a bare "::" for IPv6', () => {
    expect(typesIn('std::vector, Foo::bar, a :: b, dead::, face::beef::cafe')).toEqual([]);
  });
  // The last six once lost part of their local part (or the whole address) to a character the scan
  // did not take: an Indic vowel sign (a spacing mark), a letter outside the Basic Multilingual Plane
  // (two UTF-16 units), a pictograph.
  it.each([
    ['a punycode domain', 'jane@xn--bcher-kva.example'],
    ['a punycode top-level domain', 'jane@example.xn--p1ai'],
    ['Latin letters with accents', 'josé@bücher.de'],
    ['Cyrillic letters', 'иван@пример.рф'],
    ['Devanagari vowel signs in the local part', 'अनिल@example.com'],
    ['Tamil vowel signs in the local part', 'குமார்@example.com'],
    ['a Devanagari domain', 'jane@मेरा.com'],
    ['a Devanagari top-level domain', 'jane@example.भारत'],
    ['Adlam letters (outside the BMP)', '𞤀𞤢𞤤@example.com'],
    ['a CJK Extension B letter', '𠀋jane@example.com'],
    ['an emoji inside the local part', 'a😀b@example.com'],
    ['a symbol emoji inside the local part', 'a❤b@example.com'],
    ['an emoji with a skin tone and a joiner', 'x👍🏽\u200d🔥y@example.com'],
  ])('finds the internationalized address with %s', (_name, email) => {
    expect(found(`mail ${email} now`)).toEqual([['EMAIL', email]]);
  });
  it('never cuts a surrogate pair when a local part is longer than 64 units', () => {
    const local = '😀'.repeat(40);
    const [hit] = found(`x ${local}@example.com`);
    expect(hit?.[0]).toBe('EMAIL');
    expect(hit?.[1]).toMatch(/^(?:😀){32}@example\.com$/u);
  });
  it('keeps quotes and trailing emoji out of an address', () => {
    expect(found('“jane@example.com” 😀')).toEqual([['EMAIL', 'jane@example.com']]);
  });
});

describe('linear time on adversarial 1 MiB inputs', () => {
  // Each input targets one detector's worst case: long runs of the characters it scans over, many
  // start positions that almost match, and markers without their closing part.
  const adversarial: Record<string, string> = {
    'local-part chars, no @': fill('a.b-c_'),
    'many @': fill('a.@b.'),
    'marks and pictographs around @': fill('कि😀@मे.'),
    'many @ without dots': fill('a@b '),
    'defanged separators': fill('1[.] [at] (dot){:}a'),
    'many @ after one ellipsis': `...${fill('a@b ')}`,
    'digit groups': fill('4 '),
    'dashed digits': fill('5-'),
    'dotted digits': fill('1.'),
    'hex and colons': fill('ab:'),
    'plus signs': fill('+1 '),
    'token prefixes': fill('ghp_xoxb-sk_live_eyJAIza'),
    'jwt without dots': `eyJ${fill('a')}`,
    'BEGIN without END': fill('-----BEGIN PRIVATE KEY-----\n'),
    'iban starts': fill('DE89 '),
    'secret names': fill('aws_secret_access_key=  '),
    'fullwidth digit groups': fill('４ '),
    'zero-width between letters': fill('a\u200B'),
    'dashes of every kind': fill('1\u2013'),
    'compatibility expansions': fill('\uFDFA1'),
    'digit runs': fill('1'),
    'nine-digit groups': fill('123456789 '),
    'line breaks': fill('4111\r\n'),
    'enclosed digits': fill('❶ ⑴'),
    'braille blanks and controls': fill('4111\u2800\u0001'),
    'lower-case key id prefixes': fill('akiaasiaaaaaaaaa'),
    'spaced at signs': fill('a  @  b.'),
    'underscored digit groups': fill('4_'),
    'spaced dashes between digits': fill('5 - '),
    'doubled separators between digits': fill('1 _ 23--'),
    'comma-separated digits': fill('1,'),
    'comma-separated SSN shapes': fill('123,45,6789,'),
    'spaced at signs before a domain': fill('a @ b.com '),
    'percent escapes': fill('%41%'),
    'character references': fill('&#64;&#x4'),
    'backslash runs': fill(`${'\\'.repeat(20)}u00`),
    'surrogate escapes': fill('\\ud83d\\\\'),
    'json line breaks between digits': fill('4\\n1'),
    'blanks before line breaks': fill('1 \t \n'),
    'escaped CR LF with blanks around': fill(' \\r\\n  1'),
    'breaks and escaped indentation': fill('\n\\t%20&#9;'),
    'separators before breaks': fill('4-\n'),
    'blank lines': fill('\n'),
    'ANSI colour codes': fill('\x1b[1;31m4'),
    'ESC and unfinished codes': fill('\x1b[' + '1;'.repeat(20)),
    'escaped digit groups': fill('4111%20'),
  };
  it.each(Object.keys(adversarial))('%s completes', (name) => {
    const text = adversarial[name]!;
    const findings = detect(text);
    // What every answer holds: findings in order, none empty or overlapping, all inside the text.
    let end = 0;
    const misplaced = findings.filter((f) => {
      const bad = f.start < end || f.end <= f.start || f.end > text.length;
      end = f.end;
      return bad;
    });
    expect(misplaced).toEqual([]);
  });
});
