/**
 * A password given as the value of a name that says so: `DB_PASSWORD=...`, `?password=...`,
 * `"password": "..."`, `Password=...;` in a connection string, `--password=...`, `<password>...</password>`.
 * A password has no shape of its own (see urlPassword.ts); its name is what tells it, as a secret
 * key's name tells it in cloudKeys.ts. Places that need no name: a Go MySQL DSN's user part
 * (`bob:...@tcp(db:3306)/prod`, which has no scheme for urlPassword.ts), SQL (`IDENTIFIED BY '...'`,
 * `SET PASSWORD ... = '...'`, `WITH PASSWORD '...'`) and command lines' password options (mysql's
 * `-p` glued, `docker login -p`, `sshpass -p`, `redis-cli -a`, curl's `-u user:...`). Only the value
 * is reported, so the mask reads `DB_PASSWORD=[PASSWORD]`.
 *
 * Other secrets found by their name, reported as PASSWORD too (one list of names, NAME_CORE, read
 * by the same links and value ends): `secret` as a name's last segment (`client_secret`,
 * `clientSecret`), `SECRET_KEY` (an AWS secret key's names are cloudKeys.ts's) and Rails'
 * `secret_key_base`, `api_key` (any separator, a blank too: `API key`), `signing_key`, `private_key` (a PEM block is privateKey.ts's: its blanks make no secret
 * value here), Azure's `AccountKey`, `SharedAccessKey` and APIM's `Ocp-Apim-Subscription-Key`,
 * frameworks' and vendors' keys (`ENCRYPTION_KEY`, Airflow's `FERNET_KEY`, Laravel's `APP_KEY`,
 * WordPress' `AUTH_KEY`, `VAULT_UNSEAL_KEY`, `DD_APP_KEY`, `NEW_RELIC_LICENSE_KEY`,
 * `ALGOLIA_ADMIN_KEY`, `hmac_key`, `privkey`), a
 * query's `sig` (a SAS URL's), `token` as a name's last
 * segment (`access_token`, `_authToken`, `X-Amz-Security-Token`, `VAULT_TOKEN`; not NOT_SECRET_TOKEN's
 * page, sync or CSRF tokens). Their value must look like a secret (isSecretValue: a password's rules,
 * then 16 characters or more of mixed classes). Places that need no name: `Bearer ...` and
 * `Authorization: Token ...` (schemeFindings), a session cookie in a Cookie or Set-Cookie header
 * (cookieFindings) or curl's `-b`/`--cookie` (cookieOption), Oracle's `user/password@` logon
 * (oracleFindings). Prose names a password or a secret too: `my password is X`, `the password for the
 * prod db is X`, `the API key is: X`, in the password word's language too (PROSE_LINK_WORDS), and
 * `Your password has been reset to X`, `Admin reset the password to X` (SET_TO_SOURCE, SET_BEFORE).
 *
 * The name (NAME_CORE): password, passwd, pwd, passphrase or passcode, or the password word of another language
 * (LOCALIZED_PASSWORD_WORDS: `Passwort`, `contraseña`, `mot de passe`, `mật khẩu`, `пароль`, `كلمة المرور`,
 * `密码`), any case,
 * with any prefix joined by `_`, `.`, `-`, camelCase or glued (`MYSQL_ROOT_PASSWORD`, `spring.datasource.password`, `dbPassword`,
 * `PGPASSWORD`, `--password`; `nopassword` too: its values, `true` and the like, are never one), the
 * prefix's letters of any script (`{"clíent_secret": ...}`: isNameCharAt), the password word also
 * split by `_`, `.` or `-`, or a run of up to three of them (`pass_word`, `pass.word`, `pass_phrase`,
 * `pass__word`; never by a blank: `bus pass phrase: ...`, `result=pass word=...` are prose; not after
 * a letter, mark or digit of any script: `bypass_word`, `Fußpass_word`); and
 * `pass` or `pw` after a prefix and a separator, `_`, `.` or `-` (`DB_PASS`, `ansible_become_pass`,
 * `DB_PW`, `ключ_pass`), or alone as a key (quoted, a query's, starting its line, or before `=`:
 * `{"pass": ...}`, `pw=...`; `--pass`, `boarding pass: ...`, `bypass`, `passport`, and glued after
 * a letter of any script, `Fußpass`, `测试全部pass`, are none: NOT_AFTER_WORD). The password must be the name's last segment, or a segment saying
 * it is one again (REPEAT_WORDS: `password_confirmation`, `passwordConfirm`, `password_new`, `password_old`,
 * in the other languages too: `Passwort_neu`, `senha_atual`, `kata_sandi_baru`):
 * `password_hash`, `password_reset`, `passwordPolicy`, `password-stdin`, `password_file` name
 * something else (one digit may follow, as Django's `password1` and `password2`; and up to two
 * segments numbering it or naming its environment, SUFFIX_SEGMENT: `API_KEY_1`, `client_secret_2024`,
 * `clientSecretV2`, `ApiKeyProd`, `API_KEY_PROD_2`). A name right after
 * `/` or `\` is a path's (`/etc/passwd:bob:x:...`) or a URL's user (`postgres://db_password:...@`,
 * urlPassword.ts reads that one).
 *
 * Between name and value (link): `=`, `:`, `:=`, `=>`, padded; the quoted name's closing quote and a
 * subscript's `]` before it (`os.environ["DB_PASSWORD"] = ...`); a call's quoted first argument and
 * its comma (`define('DB_PASSWORD', '...')`); an XML element's `>`; a flag's space (`--password X`);
 * a YAML block scalar's header and a line break (`password: |`, `password: !!str >- # db`, the value
 * the next, more indented line; read in the text as written only, see blockScalarValue);
 * a name/value pair's `value` (Kubernetes' `- name: DB_PASSWORD` then `value: ...`, .NET's
 * `<add key="DbPassword" value="..."/>`); Markdown's bold around the name.
 *
 * The value: quoted, up to its closing quote (not one escaped, `\"`, nor SQL's doubled `''`, nor one
 * a letter, digit or `-_@#$%^~*` follows: decoded JSON's `"Hun"ter2"`); ODBC's braces after `=` in a
 * connection string (`Pwd={...};`, the braces stay); else up to where its context ends it (see
 * Context: a blank always; `&` `#` in a query string, `;` in a `k=v;` pair, `,` `}` after a quoted
 * name; a name starting its line reads to the line's end). Then it must look like a password and not
 * like what names fill in besides one (see isStandIn and isPasswordValue): this is where prose
 * (`password: required`), code (`password = os.getenv(...)`, `password: string`) and templates
 * (`${DB_PASSWORD}`, `[PASSWORD]`, the project's own mask) are told apart. The rules, each a test
 * case in namedPassword.test.ts:
 * - never a placeholder (urlPassword.ts's isPlaceholder, and PLACEHOLDER_WORD below: `changeme`,
 *   `example`, `required`, `string`... are defaults and labels every README prints), a template or
 *   printf verb anywhere in it (`%s`, `%[1]s`, `{}`, `{0}`, `{{x}}`), a value holding the word
 *   password (`"Password:"`, `PasswordInput`) or, whole, another language's (`"Passwort:"`, never
 *   `Passwort123!`: LOCALIZED_LABEL), validation rules (`required|min:8`), a secret manager's
 *   reference (`op://...`, `vault:...`, `arn:...`, `env:X`, `file:...`), a date, a version (`v1.2.3`)
 *   or an algorithm's name (`sha-256`, `argon2id`, `utf8mb4`);
 * - blanks only quoted or on a name's own line, and then every word has a digit or a symbol
 *   (`"Zq8v T2xk!"`; `"Enter your password"`, `"Mot de passe"` are labels);
 * - unquoted, never a reference or code: a variable (`$X`, `$_POST[...]`; `$ecr3t` is the price, as a
 *   shell would expand it anyway), a substitution or structure (`${...}`, `$(...)`, `{`, `[`, `(`, `<`),
 *   a YAML tag, anchor or alias (`!vault`, `&x`, `*x`), a dotted path (`process.env.X`, `this.password`),
 *   a call or subscript (`os.getenv("X")`, `request.form['password']`, `Optional[str]`), a file path
 *   (`/run/secrets/db`, `.\build`; `PWD=/home/bob`, the shell's working directory), a SQL bind
 *   (`:password`, `@Password`);
 * - 6 characters or more, and a letter with a digit or a symbol (`_`, `-`, `.` and `|` join words
 *   and types, `auto-generated`, `password_input`, `string|null`, so they count for neither), or digits
 *   only (`123456` is the commonest password there is). Letters alone never (`"SecureString"`,
 *   `"Passwort"`): a label or a type's name as often as a password;
 * - after a name written in CJK or Thai, a value holding a letter of theirs must have a run between
 *   those letters that is one (their prose has no blanks: `密码：已于2024年5月1日重置` is a sentence,
 *   `密码：Hunter2x，请妥善保管` a password). After any other name the value is judged whole, as
 *   before the CJK names were read (`password=张三李四2024` is one).
 * A command's option and a DSN's user part are certain places: their value needs only to be no
 * stand-in (isStandIn), whatever its length or shape. A percent-encoded value is judged decoded.
 *
 * detect() also reads the text as written (detectWrittenNamedPasswords) when normalizing changed it,
 * with a Turkish-cased name's `İ` and `ı` read as the normalizer reads them (foldTurkishI),
 * for values holding a percent escape or an escaped quote that, decoded, ended them early, and for
 * YAML block scalars' values, which only the written line breaks and indentation tell.
 *
 * Cost: the privacy guard runs every detector on every short field of every audit record, so one
 * case-insensitive search (GATE) decides first, and a field without `pass`, `pw`, `secret`, `key`,
 * `token`, `auth`, `bearer`, `sig`, `cookie`, `@tcp(`-like, a command or a password word of another
 * language pays only for it.
 *
 * Linear time: each name, DSN or command is read over a bounded window (MAX_NAME, MAX_PAD,
 * MAX_VALUE, MAX_COMMAND, MAX_LINE, MAX_INDENT), the ends of values are found by shared forward scans (StopScan), and the
 * regexes have bounded quantifiers anchored on the previous character.
 */
import type { Finding } from '../findings.js';
import { isAsciiLetter, isDigit } from './common.js';
import { foldTurkishI } from '../normalize.js';
import { isPlaceholder } from './urlPassword.js';
import { detectEmails } from './email.js';

const MAX_NAME = 64;
const MAX_PAD = 32;
/** Longer than any password: a longer value is one only as a single run of a token's characters (LONG_TOKEN). */
const MAX_VALUE = 256;
/**
 * Longer than any credential pasted under its name (an AWS session token is about 1,000 characters,
 * a service account's JWT under 2,000); a longer run is a blob. The ends of values are looked for this
 * far (StopScan), once per text.
 */
const MAX_TOKEN_VALUE = 4096;
/** What a token of more than MAX_VALUE characters is written in: base64, base64url, hex, a JWT's dots, percent escapes. */
const isTokenChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9+/=_.~%-]/.test(c);
/** How far after a command its password option may stand. */
const MAX_COMMAND = 256;
const MIN_LENGTH = 6;
/** Words a value with blanks may have (a passphrase of a few words, not a sentence). */
const MAX_WORDS = 4;

// The password words after "pass": password, passwd, passphrase, passcode. Glued ("password", "PGPASSWORD"),
// or split by a separator, "_", "." or "-", or a short run of them ("pass_word", "pass-word",
// "pass.word", "pass_phrase", "pass__word"); never by a blank ("bus pass phrase: Zone2-Monthly",
// "result=pass word=Wrong1234" are prose and a test's verdict). The split one only after no letter,
// mark or digit of any script ("bypass_word", "Fußpass_word" are other words).
const PASSWORD_WORD_END = String.raw`(?:w(?:or)?d|phrase|code)`;
const PASSWORD_SEPARATOR = String.raw`[_.\-]{1,3}`;
/**
 * The combining marks of the BMP (\p{M} below U+10000) as explicit ranges, for the patterns that hold
 * them many times. V8 builds a property class from ICU at every occurrence of \p{M}, in the two-byte
 * compilation a pattern gets the first time it reads a text with a character past Latin-1: the word
 * patterns hold one after every letter (letterSource), and the first such text a process read
 * ("пароль: …", "APİ_KEY=…") held its event loop 5-37 s compiling them (a busy 2-core machine). As
 * ranges of the BMP they compile in under a second; with the astral marks too, still five times
 * slower. An astral mark inside a password word (a musical symbol's, a variation selector of plane 14)
 * is read past by pastAstralMarks, in both readings.
 * namedPassword.test.ts checks the ranges against \p{M} at every code point of the BMP.
 */
function bmpMarkRanges(): string {
  const hex = (c: number) => `\\u${c.toString(16).padStart(4, '0')}`;
  let source = '';
  // One pass of one pattern over the BMP's code points in order (a few ms, once per process): a run of
  // marks is a range.
  let bmp = '';
  for (let c = 0; c <= 0xffff; c++) if (c < 0xd800 || c > 0xdfff) bmp += String.fromCharCode(c);
  for (const { 0: run, index } of bmp.matchAll(/\p{M}+/gu)) {
    const [first, last] = [bmp.charCodeAt(index), bmp.charCodeAt(index + run.length - 1)];
    source += first === last ? hex(first) : `${hex(first)}-${hex(last)}`;
  }
  return source;
}
export const MARK_RANGES = bmpMarkRanges();
// What "pass" and "pw" may not follow to be a name's own segment, or a name alone: a letter, a mark
// or a digit of any script ("bypass", "Reisepass", "Fußpass", "测试全部pass", "登机牌pass" are words
// of their own, "Kaffeépass" in NFD too). So a prefix before them ends in a separator, "_", "." or
// "-" ("DB_PASS", "ключ_pass"): skipBack reads letters of any script into a name's prefix.
const NOT_AFTER_WORD = String.raw`(?<![\p{L}\p{N}${MARK_RANGES}])`;
/**
 * The password's name in other languages, one list: each read as "password" is (any case, glued after
 * a prefix of any script, `_`, `.`, `-` or camelCase, a quoted key, the same links and values). Its
 * words are joined by a blank, a separator, a form body's "+" (its encoded blank: "mot+de+passe=") or
 * nothing ("mot de passe", "mot_de_passe", "motDePasse", "kata sandi", "كلمة المرور"). urlSecrets.ts
 * names a URL's credential parameters by it too.
 * `alone`: only after no letter, mark or digit, as "pass", or after camelCase's lower-case letter
 * (isAloneWordAt): the word ends ordinary words ("resenha", a review; "deşifre", to decode; Indonesian
 * "berkata Sandi", said to Sandi), and "novaSenha", "yeniŞifre", "userKataSandi" are names. Each letter
 * is read with its accent and without (letterSource): the normalizer drops a combining mark, so an
 * accent typed as one (NFD, as macOS writes it) reads as none, and people type "contrasena",
 * "losenord", "mat khau" as often; the text as written keeps the mark, so up to three may follow any
 * letter ("contrasen\u0303a"). A word's own marks are read so too: Thai's vowels and tones, Hebrew's
 * points, Devanagari's virama are dropped by the normalizer ("รหัสผ่าน" reads "รหสผาน").
 * And as typed: a Hangul syllable also as its jamo (NFD, as macOS writes Korean, or a syllable then
 * its final jamo: equal under NFC, and the normalizer composes nothing), an Arabic letter drawn out
 * by tatweel after it ("كلمـة المـرور": TATWEEL), in both the normalized text and the text as
 * written. Spellings that are not one letter for another are entries of their own: "ه" typed for
 * the final "ة" ("كلمه"), the indefinite "كلمة مرور", the "ß" of "Paßwort" (its capital "ẞ" matches
 * under the "i" flag's case folding; urlSecrets.ts's toLowerCase reads it as "ß").
 * Left out: words that are also ordinary words, followed by ":" and a value in prose: Italian "parola"
 * (a word; Turkish's password), Polish "hasło" and Czech and Slovak "heslo" (a slogan, a dictionary's
 * headword, a crossword's answer: "Heslo: „Pravda vítězí"", its „ a symbol to isPasswordValue; these
 * two and Romanian "parola" are read before their own language's verb only: PROSE_ONLY_WORDS),
 * Spanish "clave" (a key, any key), Chinese "口令" (a command word), Greek "κωδικός" alone (a code, any
 * code: a product's, a postal one; "κωδικός πρόσβασης", an access code, is the password), Hebrew's
 * "סיסמת" (a slogan's construct form as often). Read, each weighed: Hebrew "סיסמה", a slogan as
 * well, which typed text quotes in ASCII quotes, and a quoted value of words of letters is no password
 * (`סיסמה: "עם ישראל חי"`; one word in the typographic ״ ״ would be one); Japanese "暗証番号", a PIN,
 * a secret as a password is (a four-digit one is shorter than MIN_LENGTH and passes; English "pin" is
 * no name here, a map's or a version's pin as often). Inflected forms are not read ("κωδικού
 * πρόσβασης", "Passwörter"): a label or a key names it in its base form. But for `endings`, glued on
 * where a sentence, a form or a message names the password so as often as by its base form: the
 * article of Swedish, Norwegian and Danish ("lösenordet", the password), the owner of Turkish and
 * Finnish ("şifreniz", your password: how a one-time password arrives by SMS; "salasanasi").
 */
export const LOCALIZED_PASSWORD_WORDS: ReadonlyArray<{ words: readonly string[]; language: string; alone?: boolean; endings?: readonly string[] }> = [
  { words: ['passwort'], language: 'German' },
  { words: ['paßwort'], language: 'German' }, // spelled before 1996 and still typed so
  { words: ['kennwort'], language: 'German' }, // Windows'
  { words: ['wachtwoord'], language: 'Dutch' },
  { words: ['contraseña'], language: 'Spanish' },
  { words: ['senha'], alone: true, language: 'Portuguese' },
  { words: ['mot', 'de', 'passe'], language: 'French' },
  { words: ['lösenord'], endings: ['et'], language: 'Swedish' },
  { words: ['passord'], endings: ['et'], language: 'Norwegian' },
  { words: ['adgangskode'], endings: ['n'], language: 'Danish' },
  { words: ['kodeord'], endings: ['et'], language: 'Danish' }, // Norwegian's too
  { words: ['salasana'], endings: ['ni', 'si', 'mme', 'nne'], language: 'Finnish' },
  { words: ['jelszó'], language: 'Hungarian' },
  { words: ['şifre'], alone: true, endings: ['m', 'n', 'si', 'miz', 'niz'], language: 'Turkish' },
  { words: ['mật', 'khẩu'], language: 'Vietnamese' },
  { words: ['kata', 'sandi'], alone: true, language: 'Indonesian' },
  { words: ['kata', 'laluan'], alone: true, language: 'Malay' },
  { words: ['κωδικός', 'πρόσβασης'], language: 'Greek' },
  { words: ['пароль'], language: 'Russian' }, // Ukrainian's too (PROSE_LINK_WORDS)
  { words: ['סיסמה'], language: 'Hebrew' },
  { words: ['סיסמא'], language: 'Hebrew' }, // the common spelling
  { words: ['كلمة', 'المرور'], language: 'Arabic' },
  { words: ['كلمه', 'المرور'], language: 'Arabic' }, // "ه" typed for the final "ة"
  { words: ['كلمة', 'مرور'], language: 'Arabic' }, // indefinite
  { words: ['كلمه', 'مرور'], language: 'Arabic' }, // indefinite, "ه" for "ة"
  { words: ['كلمة', 'السر'], language: 'Arabic' },
  { words: ['كلمه', 'السر'], language: 'Arabic' }, // "ه" for "ة"
  { words: ['पासवर्ड'], language: 'Hindi' },
  { words: ['รหัสผ่าน'], language: 'Thai' },
  { words: ['密码'], language: 'Chinese' }, // simplified
  { words: ['密碼'], language: 'Chinese' }, // traditional
  { words: ['パスワード'], language: 'Japanese' },
  { words: ['暗証番号'], language: 'Japanese' }, // a PIN
  { words: ['비밀번호'], language: 'Korean' },
  { words: ['비밀', '번호'], language: 'Korean' }, // as often typed with a blank ("비밀 번호")
  { words: ['패스워드'], language: 'Korean' }, // the loanword
];
const MARK = /\p{M}/u;
/**
 * Words that name a password only before their own language's verb (PROSE_LINK_WORDS, without
 * English's): as a name they name ordinary things too (see "Left out" above), but "Twoje nowe hasło
 * to: X", "Vaše heslo je X", "Parola ta este X" are how account e-mails give one. Not before
 * English's verbs, nor Italian's: "la parola è X" is "the word is X".
 */
const PROSE_ONLY_WORDS: ReadonlyArray<{ words: readonly string[]; language: string }> = [
  // "ł" is no "l" with a mark (nothing decomposes it), and typed as one as often.
  { words: ['hasło', 'haslo'], language: 'Polish' },
  { words: ['heslo'], language: 'Czech' }, // Slovak's too
  { words: ['parolă'], language: 'Romanian' }, // and "parola", the password, read as its "ă" is (letterSource)
];
/**
 * Arabic's tatweel (kashida, U+0640): draws a word out in print ("كلمـة", "المـــرور") and is no letter
 * of it. Neither NFKC nor the normalizer drops it (a letter to Unicode, Lm), so a word of the Arabic
 * script reads it after each letter (letterSource), up to MAX_TATWEEL with the letter's marks;
 * urlSecrets.ts drops it from a name, as it drops marks.
 */
export const TATWEEL = '\u0640';
// Justified text draws a letter out by a dozen or more; anchored on the letter before it, a long run costs little.
const MAX_TATWEEL = 32;
const ARABIC_LETTER = /\p{sc=Arabic}/u;
/**
 * Letters a keyboard of another language of the script types for the word's own: Persian keyboards
 * type keheh "ک" for kaf "ك" and Farsi yeh "ی" for yeh "ي" ("کلمة المرور"). Read either way, here and
 * in urlSecrets.ts (foldArabicVariants).
 */
export const ARABIC_LETTER_VARIANTS: Readonly<Record<string, string>> = { ك: 'ک', ي: 'ی' };
const ARABIC_VARIANT_OF = new RegExp(`[${Object.values(ARABIC_LETTER_VARIANTS).join('')}]`, 'gu');
const ARABIC_LETTER_OF = Object.fromEntries(Object.entries(ARABIC_LETTER_VARIANTS).map(([letter, variant]) => [variant, letter]));
/** A text with the variants of ARABIC_LETTER_VARIANTS read as the letters of the password words. */
export const foldArabicVariants = (text: string): string => text.replace(ARABIC_VARIANT_OF, (v) => ARABIC_LETTER_OF[v]!);
/**
 * A letter with its accent and without, and with any part of its accents (Vietnamese "ậ": "a", "ạ",
 * "â"; a keyboard may type "â" and the tone's combining mark, and the normalizer keeps the one and
 * drops the other; "パ" and "ハ"), then the combining marks the text as written may carry (a bounded
 * run), as a regex source. A mark of the word's own is nothing: the letter before it reads it. A
 * letter that decomposes into letters, no mark (a Hangul syllable: "밀" is "ᄆ", "ᅵ", "ᆯ"), also in
 * each of its canonically equal spellings, its first letters composed and the rest not ("밀", "미" and
 * "ᆯ", the three jamo). An Arabic letter takes tatweel among its marks (TATWEEL).
 */
function letterSource(c: string, withMarks = true): string {
  const nfd = [...c.normalize('NFD')];
  const base = nfd.filter((x) => !MARK.test(x)).join('');
  if (base === '') return '';
  const marks = nfd.filter((x) => MARK.test(x));
  const marksAfter = withMarks ? MARK_RANGES : '';
  const after = ARABIC_LETTER.test(c) ? `[${marksAfter}${TATWEEL}]{0,${MAX_TATWEEL}}` : withMarks ? `[${marksAfter}]{0,3}` : '';
  const variant = ARABIC_LETTER_VARIANTS[c];
  if (variant !== undefined) return `[${c}${variant}]${after}`;
  if (marks.length === 0 && nfd.length > 1) {
    const composedTo = (k: number) => nfd.slice(0, k).join('').normalize('NFC') + nfd.slice(k).join('');
    const spellings = new Set(nfd.map((_, k) => composedTo(k + 1)));
    return `(?:${[...spellings].join('|')})${after}`;
  }
  const forms = new Set<string>();
  for (let subset = 0; subset < 1 << marks.length; subset++) forms.add((base + marks.filter((_, i) => (subset >> i) & 1).join('')).normalize('NFC'));
  return (forms.size === 1 ? c : `[${[...forms].join('')}]`) + after;
}
/** A word of LOCALIZED_PASSWORD_WORDS, or of REPEAT_WORDS, letter by letter (letterSource). */
const wordSource = (w: string, withMarks = true) => [...w].map((c) => letterSource(c, withMarks)).join('');
/** LOCALIZED_PASSWORD_WORDS (or only the `alone` ones) as one alternation. */
function localizedSource(onlyAlone = false, withMarks = true): string {
  return (
    LOCALIZED_PASSWORD_WORDS.filter(({ alone }) => !onlyAlone || alone === true)
      // Tatweel may also draw out a word's first letter, after the blank ("كلمة ـالمرور").
      .map(({ words }) => words.map((w) => wordSource(w, withMarks)).join(String.raw`[ _.+\-]?${TATWEEL}{0,${MAX_TATWEEL}}`))
      .join('|')
  );
}
/** The `alone` words, a whole core (see isAloneWordAt). */
const ALONE_CORE = new RegExp(String.raw`^(?:${localizedSource(true)})$`, 'iu');
/**
 * Where an `alone` word stands as a name's own segment: after no letter, mark or digit of any script
 * (NOT_AFTER_WORD's rule: "resenha", "deşifre" are other words), or at a camelCase boundary, a
 * lower-case letter then its upper-case first letter as written ("novaSenha", "yeniŞifre"). Sticky,
 * tried at the word's index, and without the "i" flag, under which \p{Lu} and \p{Ll} match either case.
 */
const ALONE_AT = new RegExp(String.raw`${NOT_AFTER_WORD}|(?<=\p{Ll})(?=\p{Lu})`, 'uy');
function isAloneWordAt(text: string, k: number): boolean {
  ALONE_AT.lastIndex = k;
  return ALONE_AT.test(text);
}

// Everything any finding needs, in one case-insensitive search: cheap enough for every field. The
// words of other languages without their marks, and any text with a mark of the BMP passes (a word
// with one in it; an astral one is gone: pastAstralMarks): the words' mark slots, hundreds of classes,
// made every field's search twice as slow, and a text in the scripts that write marks is read whole.
const GATE = new RegExp(
  String.raw`pass|pw|secret|key|token|auth|bearer|sig|cookie|oracle|sqlplus|@(?:tcp6?|udp|unix)\(|mysql|mariadb|curl|login|redis-cli|identified|sqlcmd|mongo|ldap|psexec|twine|zip|7z|${localizedSource(false, false)}|has[lł]o|heslo|parol|[${MARK_RANGES}]`,
  'iu',
);
// The names (see the header): a password's first, then a secret's. "pass" and "pw" only as a name's
// last segment ("DB_PASS", "ansible_become_pass", "pw") or a name alone ("pass", not "bypass",
// "passport"); "sig" only as a query's parameter (an Azure SAS URL's signature). Unicode-aware ("u")
// for NOT_AFTER_WORD's classes; its case folding adds only the long s and the Kelvin sign, which
// NFKC reads as "s" and "K" anyway.
// The words of other languages first: "pass" alone would take the start of "Passwort". Their `alone`
// ones are matched after any letter too, and namedFindings drops those isAloneWordAt refuses: whether a
// camelCase boundary stands before them needs case, which the "i" flag erases.
const NAME_CORE = new RegExp(
  String.raw`${localizedSource()}|(?:${NOT_AFTER_WORD}pass${PASSWORD_SEPARATOR}|pass)${PASSWORD_WORD_END}|pwd|${NOT_AFTER_WORD}(?:pass|pw)|secret(?:[_.\-]?(?:access[_.\-]?)?key(?:[_.\-]?base)?)?|api[_. \-]?key|(?:account|shared[_.\-]?access|master|signing|private|priv|subscription|encryption|fernet|app|auth|unseal|license|admin|hmac)[_.\-]?key|token|(?<=[?&])sig`,
  'giu',
);
/** The password words, glued or split ("password", "pass_word", "passphrase"), and in other languages ("Passwort"). */
const PASSWORD_WORD_SOURCE = String.raw`pass(?:${PASSWORD_SEPARATOR})?${PASSWORD_WORD_END}|${localizedSource()}`;
/** The cores that name a password (its value judged by isPasswordValue); any other names a secret. */
const PASSWORD_CORE = new RegExp(String.raw`^(?:${PASSWORD_WORD_SOURCE}|pwd|pass|pw)$`, 'iu');
/** A secret key's core, and the prefixes that make it an AWS one ("aws_secret_access_key", "fs.s3a.secret.key"). */
const AWS_KEY_CORE = /^secret[_.-]?(?:access[_.-]?)?key$/i;
const AWS_PREFIX = /aws|s3|amazon|access/i;
/** The password words prose names it with ("my password is ...", "my pass_phrase is ..."): not "pass", "pwd" or "pw". */
const PROSE_CORE = new RegExp(String.raw`^(?:${PASSWORD_WORD_SOURCE})$`, 'iu');
/**
 * Tokens that are no credential: a page's, a sync's, a form's CSRF token (the frameworks' own field
 * names too: Django's csrfmiddlewaretoken, Rails' authenticity_token, ASP.NET's
 * __RequestVerificationToken, an anti_forgery_token, Laravel's `_token`, one underscore; not a bare
 * "verification" token: Slack's and Zoom's are shared secrets), a device's push
 * token, a trace's, and a .NET assembly's PublicKeyToken (a hash of its public key, in every load
 * error). Etag, watermark, start, trace and correlation only as words of their own: a
 * kickstart_token is a secret's name.
 */
const NOT_SECRET_TOKEN =
  /^_$|(?:page|cursor|continuation|continue|skip|resumption|captcha|turnstile|sync|csrf(?:middleware)?|xsrf|authenticity|requestverification|forgery|next|resume|idempotency|request|cancel(?:lation)?|delta|pagination|push|device|registration|fcm|apns|change|state|lock|batch|public[_.-]?key|(?:^|[_.-])(?:etag|watermark|start(?:ing)?|trace|correlation))[_.-]?$/i;
/**
 * Segments after the password word that say it is a password again (a form's confirmation, a change's
 * old and new one); any other segment names something else ("password_hash"). By language, each read
 * after any password or secret name ("password_confirmation", "Passwort_neu", "senha_atual",
 * "kata_sandi_baru", Thai's glued "รหัสผ่านใหม่"; code mixes languages: "senha_confirm",
 * "password_nuevo", "passwordNeu"), but for the words that are also English words of another meaning
 * (ENGLISH_HOMOGRAPH_SEGMENT: "password_alt", an icon's alt text; "password_actual", a test's actual value),
 * read only after a password word of their own language's kind (LOCALIZED_PASSWORD_WORDS:
 * "Passwort_alt", "contraseña_actual"). Only the languages
 * whose names put the word first; accents optional as the password words' (wordSource), German also
 * spelled without its umlaut as code writes it ("passwort_bestaetigen"). The names that put it after
 * ("neues_Passwort", "nova_senha") read as any prefix does. Joined as a name's segments are (`_`, `.`,
 * `-`, camelCase, or glued as Thai writes); not read after a blank (Vietnamese "mật khẩu mới", Hebrew
 * "סיסמה חדשה", Arabic "كلمة المرور الجديدة": the blank may as well start prose).
 */
const REPEAT_WORDS = {
  English: ['confirmation', 'confirmed', 'confirm', 'new', 'old', 'again', 'repeat', 'retype', 'verify', 'current', 'plaintext', 'plain'],
  German: ['neu', 'alt', 'aktuell', 'bestätigung', 'bestätigen', 'bestaetigung', 'bestaetigen', 'wiederholung', 'wiederholen'],
  Dutch: ['nieuw', 'oud', 'huidig', 'bevestiging', 'bevestigen', 'herhaling', 'herhalen'],
  // actual, atual: the current one.
  Spanish: ['nueva', 'nuevo', 'actual', 'anterior', 'antigua', 'confirmación', 'confirmar', 'repetir', 'repetida'],
  Portuguese: ['nova', 'novo', 'atual', 'anterior', 'antiga', 'antigo', 'confirmação', 'confirmar', 'repetir'],
  French: ['nouveau', 'actuel', 'ancien', 'confirmer', 'répéter'],
  Swedish: ['ny', 'nytt', 'gammalt', 'nuvarande', 'upprepa', 'bekräfta'],
  Norwegian: ['ny', 'nytt', 'gammel', 'gammelt', 'nåværende', 'gjenta', 'bekreft'],
  Danish: ['ny', 'nyt', 'gammel', 'nuværende', 'gentag', 'bekræft'],
  Finnish: ['uusi', 'vanha', 'nykyinen'],
  Hungarian: ['új', 'régi', 'jelenlegi'],
  Turkish: ['yeni', 'eski', 'mevcut'],
  Vietnamese: ['mới', 'cũ'],
  Indonesian: ['baru', 'lama'],
  Malay: ['baharu', 'lama', 'semasa'],
  Greek: ['νέος', 'νέο', 'παλιός', 'τρέχων'],
  // Russian, Ukrainian.
  Russian: ['новый', 'старый', 'текущий', 'новий', 'старий', 'поточний'],
  Hebrew: ['חדשה', 'ישנה', 'נוכחית'],
  Arabic: ['الجديدة', 'الحالية', 'القديمة'],
  Thai: ['ใหม่', 'เดิม'],
} satisfies Record<string, readonly string[]>;
// Longest first: the alternation takes the first that matches, and "confirm" would take the start of
// "confirmation", the rest then read as another segment.
const repeatSegment = (words: readonly string[]) =>
  new RegExp(
    String.raw`(?:[_.+\-]?(?:${[...new Set(words)]
      .sort((a, b) => b.length - a.length)
      .map((w) => wordSource(w))
      .join('|')}))?`,
    'iuy',
  );
/** Repeat words that are English words of another meaning: after an English name they name that. */
const ENGLISH_HOMOGRAPH_SEGMENT = /^[_.-]?(?:alt|actual)$/i;
/**
 * The segment, and whether a core is a password word of LOCALIZED_PASSWORD_WORDS (after which
 * ENGLISH_HOMOGRAPH_SEGMENT counts), compiled on first use: compiling them (case-insensitive, Unicode, every
 * letter's accented forms) took 60-80 ms, at every start of every process and thread that imports the
 * guard, most of which never read a name.
 */
let repeatSegmentRe: RegExp | null = null;
let localizedCoreRe: RegExp | null = null;
const REPEAT_SEGMENT = () => (repeatSegmentRe ??= repeatSegment(Object.values(REPEAT_WORDS).flat()));
const LOCALIZED_CORE = () => (localizedCoreRe ??= new RegExp(String.raw`^(?:${localizedSource()})$`, 'iu'));
// Segments after the name that number it or name its environment: the same secret again, one of
// several (`API_KEY_1`, `DB_PASSWORD_2`, `client_secret_2024`, `client_secret_v2`, `clientSecretV2`,
// `SECRET_KEY_PROD`, `ApiKeyProd`, `API_KEY_PROD_2`), up to MAX_SUFFIXES of them. Any other segment
// still names something else (`password_hash`, `api_key_id`). Joined by a separator in any case, or
// CamelCase (CAMEL_SUFFIX, case-sensitive: `ApiKeyProd`, not `apikeyprod`).
const ENV_WORDS = [
  'production',
  'development',
  'secondary',
  'sandbox',
  'staging',
  'primary',
  'backup',
  'stage',
  'local',
  'prod',
  'test',
  'live',
  'dev',
  'uat',
  'qa',
];
const SUFFIX_SEGMENT = new RegExp(String.raw`[_.+-]?v\d{1,4}|[_.+-](?:\d{1,4}|${ENV_WORDS.join('|')})`, 'iy');
const CAMEL_SUFFIX = new RegExp(String.raw`(?<=[a-z0-9])(?:V\d{1,4}|${ENV_WORDS.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('|')})`, 'y');
const MAX_SUFFIXES = 2;

/** Characters a name is made of (`MYSQL_ROOT_PASSWORD`, `spring.datasource.password`, `--password`). */
function isNameChar(c: string | undefined): boolean {
  return isAsciiLetter(c) || isDigit(c) || c === '_' || c === '.' || c === '-';
}

const LETTER_OR_MARK = /[\p{L}\p{M}]/u;

/**
 * Whether the code unit at `k` is a name's character: isNameChar's, or a letter or mark of any script
 * (either half of a surrogate pair outside the BMP). A name's prefix may be spelled in another script
 * or with an accent ("clíent_secret", "ключ_api_key"): its last segment still says what it holds.
 * Ended at such a letter, a quoted name lost its opening quote, and `{"clíent_secret": "..."}` was
 * read as no assignment.
 */
function isNameCharAt(text: string, k: number): boolean {
  const c = text.charCodeAt(k);
  // ASCII, or past the text's end (NaN).
  if (!(c >= 0x80)) return isNameChar(text[k]);
  const cp = c >= 0xdc00 && c <= 0xdfff && k > 0 ? (text.codePointAt(k - 1) as number) : (text.codePointAt(k) as number);
  return LETTER_OR_MARK.test(String.fromCodePoint(cp));
}

/** The separators of a name's segments ("DB_PASS", "spring.datasource.password", "x-api-key"). */
function isSeparator(c: string | undefined): boolean {
  return c === '_' || c === '.' || c === '-';
}

function isQuote(c: string | undefined): c is '"' | "'" | '`' {
  return c === '"' || c === "'" || c === '`';
}

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

// The runs skipRun reads, made once (a closure per call was a fair part of the time per name).
const isPad = (c: string | undefined) => c === ' ' || c === '\t';
const isSpace = (c: string | undefined) => c === ' ';
const isStar = (c: string | undefined) => c === '*';
const isBackslash = (c: string | undefined) => c === '\\';
const isShellWordChar = (c: string | undefined) => c !== undefined && !isBlank(c) && c !== ';' && c !== '|' && c !== '&';

/** Where the run of `c` starting at `p` ends, at most `max` long. */
function skipRun(text: string, p: number, max: number, isRun: (c: string | undefined) => boolean): number {
  let k = p;
  while (k - p < max && isRun(text[k])) k++;
  return k;
}

// A word that names the field instead of filling it, or a default every README prints: "your_password",
// "changeme", "password_here", "required", "string" (a type), "example".
const PLACEHOLDER_WORD =
  /^(?:(?:your|my|the|a|new|old|some|enter|db|database|user|admin)[-_. ]?)?(?:password|passwd|pass|pwd|passphrase|passcode|secret|token|null|nil|none|undefined|empty|changeme|change[-_.]?me|changeit|example|sample|dummy|test|required|optional|string|str|text|hidden|masked|redacted|value|here|true|false|yes|no)(?:[-_.]?(?:here|goes[-_.]?here))?$/i;
// A template anywhere in a value: "${PREFIX}-x", "{{ .Values.db.password }}", f"{a}{b}", "{}", and
// printf's verbs ("%s", "%v", "%[1]s": a Go DSN built with fmt.Sprintf).
const TEMPLATE = /\$\{|\{\{|#\{|%\(|%(?:\[\d{1,2}\])?[-+#]?[svdqx](?![A-Za-z0-9])|\{[A-Za-z0-9_.]*\}/;
// References and code an unquoted value may be (see the header).
const VARIABLE_OR_STRUCTURE = /^(?:\$[A-Za-z_{(]|[{[(<])/;
const YAML_NODE = /^(?:!{1,2}|[&*])[A-Za-z_][\w-]*$/;
const DOTTED_PATH = /^@?[A-Za-z_$][\w$]*(?:(?:\.|->|::|\?\.)[A-Za-z_$][\w$]*)+[!?]?$/;
const CALL_OR_SUBSCRIPT = /^[A-Za-z_$@][\w$.:>-]*[([]/;
const FILE_PATH = /^(?:~?\/[A-Za-z0-9_.~-]|\.{1,2}[\\/]|[A-Za-z]:[\\/])/;
/** A SQL bind parameter: `:password`, `@Password`, `@p_password1`. */
const BIND = /^[:@][A-Za-z_]\w*$/;
/** A secret manager's or a URL's reference: `op://...`, `vault:secret/...`, `arn:aws:...`, `env:X`. */
const SECRET_REFERENCE = /^(?:[a-z][a-z0-9+.-]*:\/|(?:arn|env|file|vault|secretRef|secretref):)/;
/** A framework's validation rules: `required|string|min:8|confirmed`. */
const RULES = /^[A-Za-z_]+(?::[^|\s]*)?(?:\|[A-Za-z_]+(?::[^|\s]*)?)+$/;
/** The label or type a form names the field with: "Password:", "PasswordInput", "new_password". */
const PASSWORD_WORD = /passw(?:or)?d/i;
/**
 * A label in another language: the whole value one of LOCALIZED_PASSWORD_WORDS, maybe with a colon
 * (fullwidth too; French puts a blank before it) and blanks: a translation file's
 * `"password": "Passwort:"`. Never the word inside a value: "Passwort123!", "Nasenhaar2024!" are
 * passwords (a secret's letters hold these words as often).
 */
const LOCALIZED_LABEL = new RegExp(String.raw`^(?:${localizedSource()})(?:[ \t]?[:\uFF1A])?[ \t]*$`, 'iu');
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const VERSION = /^v\d+(?:\.\d+){1,3}(?:[-+][\w.]+)?$/i;
const ALGORITHM =
  /^(?:sha-?(?:1|224|256|384|512)|sha3-\d{3}|md5|aes-?\d{3}(?:-[a-z]{3})?|argon2(?:id|i|d)?|pbkdf2(?:[-_]sha\d{1,3})?|base(?:64|32|58)(?:url)?|utf-?(?:8|16)(?:mb4)?|x86[-_]64|amd64|arm64|aarch64|i[3-6]86|latin-?1|rsa-?\d{0,4}|ed25519|[hre]s(?:256|384|512))$/i;
const LETTER = /\p{L}/u;
const DIGIT = /\p{N}/u;
const DIGITS_ONLY = /^[0-9]+$/;
/** Characters that join words and types, counting as no symbol: `auto-generated`, `string|null`. */
const JOINERS = '_-.|';
const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;

/**
 * Whether a value holds a symbol: no letter, digit or joiner. A mark after a letter of a script that
 * writes its vowels as marks (Devanagari's vowel signs and virama, "बदला", "समाप्त"; Thai's) is part of
 * the letter: Hindi prose after its name is words of letters, no passphrase. After a Latin, Greek or
 * Cyrillic letter, or none, a mark is a symbol as before: the normalizer has dropped the accents those
 * scripts take, so a mark left there is put there ("Hunterःxyz").
 */
function hasSymbol(value: string): boolean {
  let afterMarkedLetter = false;
  for (const c of value) {
    if (LETTER.test(c)) afterMarkedLetter = !UNMARKED_SCRIPT.test(c);
    else if (!(afterMarkedLetter && MARK.test(c))) {
      if (!DIGIT.test(c) && !JOINERS.includes(c)) return true;
      afterMarkedLetter = false;
    }
  }
  return false;
}
/** Scripts whose letters take no spacing mark in normalized text (see hasSymbol). */
const UNMARKED_SCRIPT = /[\p{sc=Latin}\p{sc=Greek}\p{sc=Cyrillic}]/u;

/**
 * A value with blanks is a passphrase only when each word holds a digit or a symbol ("Zq8v T2xk!"):
 * a word of letters alone makes it prose or a label ("Enter your password", "at least 8 characters").
 */
function isPhraseOfSecrets(value: string): boolean {
  const words = value.split(/\s+/).filter((w) => w !== '');
  // A later word that is a name assigned ("key=...", "user:", "PAẞWORT=", "كلمه_مرور=") starts the next pair, not more of it.
  return words.length <= MAX_WORDS && words.every((w) => DIGIT.test(w) || hasSymbol(w)) && !words.slice(1).some((w) => NEXT_PAIR.test(w));
}
// An ASCII name, or a name of any script that ends in a password word ("PAẞWORT=", "كلمه_مرور="): not any
// word of other letters, which a passphrase's own words often are ("Zq8v Жук=7!", "Sonne7 Straße:12"), and
// a value judged no passphrase goes unmasked (isStandIn) or loses its later words.
const NEXT_PAIR = new RegExp(String.raw`^(?:[A-Za-z_][\w.-]{0,63}|[\p{L}\p{N}${MARK_RANGES}_.-]{0,63}?(?:${PASSWORD_WORD_SOURCE}))[=:]`, 'iu');

/**
 * A percent-encoded value is judged decoded (a form body's "Ab1%23xyz99" is "Ab1#xyz99"), an encoded
 * blank as a joiner: the encoding says the value is one.
 */
function decoded(value: string): string {
  if (!PERCENT_ESCAPE.test(value)) return value;
  try {
    return decodeURIComponent(value).replace(/\s/g, '_');
  } catch {
    return value;
  }
}

/**
 * The value as judged, and whether it is quoted: decoded, and a decoded value in quotes
 * ("%22abcdefg%22") is the quoted value inside them, as the normalized text reads it.
 */
function judged(raw: string, quoted: boolean): [string, boolean] {
  const value = decoded(raw);
  const q = value[0];
  return value.length >= 2 && isQuote(q) && value.endsWith(q) && value !== raw ? [value.slice(1, -1), true] : [value, quoted];
}

/**
 * Whether a value stands where a password is certain to stand (a command's password option, a DSN's
 * user part) and is a reference, template, label or placeholder instead (see the header's rules).
 */
export function isStandIn(raw: string, rawQuoted: boolean): boolean {
  const [value, quoted] = judged(raw, rawQuoted);
  if (value === '' || isPlaceholder(raw) || isPlaceholder(value) || PLACEHOLDER_WORD.test(value)) return true;
  if (/\s/.test(value) && (!quoted || !isPhraseOfSecrets(value))) return true;
  if (TEMPLATE.test(value) || PASSWORD_WORD.test(value) || LOCALIZED_LABEL.test(value) || RULES.test(value) || SECRET_REFERENCE.test(value)) return true;
  if (DATE_TIME.test(value) || VERSION.test(value) || ALGORITHM.test(value)) return true;
  return (
    !quoted &&
    (VARIABLE_OR_STRUCTURE.test(value) ||
      YAML_NODE.test(value) ||
      (DOTTED_PATH.test(value) && !hasRandomSegment(value)) ||
      CALL_OR_SUBSCRIPT.test(value) ||
      FILE_PATH.test(value) ||
      BIND.test(value))
  );
}

/**
 * Whether a value given to a password's name looks like one (see the header's rules); `unspacedName`:
 * the name is written in CJK or Thai, so its value may be the rest of a sentence written without blanks.
 */
export function isPasswordValue(raw: string, quoted: boolean, unspacedName = false): boolean {
  // The cheap test first: most names of a hostile text have a short value.
  if (raw.length < MIN_LENGTH || isStandIn(raw, quoted)) return false;
  const [value] = judged(raw, quoted);
  if (!unspacedName || !UNSPACED_LETTER.test(value)) return hasPasswordShape(value);
  // CJK and Thai write no blanks: after such a name the rest of the sentence is one value ("已于2024年5月1日重置",
  // "8文字以上（英数字）"). Its letters part words as blanks do, so it holds a password only where a run
  // between them is one ("Hunter2x，请妥善保管", "密码123456"); the brackets and the colon or comma
  // of the prose around a run are none of it ("（操作人：admin）").
  for (const run of value.split(UNSPACED_LETTERS)) {
    const word = run.replace(PROSE_PUNCTUATION, '');
    if (word.length >= MIN_LENGTH && !isStandIn(word, quoted) && hasPasswordShape(word)) return true;
  }
  return false;
}

/** 6 characters or more: digits only, or a letter with a digit or a symbol. */
function hasPasswordShape(value: string): boolean {
  if (value.length < MIN_LENGTH) return false;
  if (DIGITS_ONLY.test(value)) return true;
  return LETTER.test(value) && (DIGIT.test(value) || hasSymbol(value));
}
// A letter of Chinese, Japanese or Korean (Script_Extensions: "ー" is kana's too), and a run of them;
// and of Thai, which writes no blanks between words either ("รหัสผ่าน: อย่างน้อย8ตัวอักษร", at least 8
// characters), its vowels and tones marks of the run (the text as written keeps them).
const UNSPACED_LETTER_SOURCE = String.raw`(?=\p{L})[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}\p{scx=Thai}]`;
const UNSPACED_LETTER = new RegExp(UNSPACED_LETTER_SOURCE, 'u');
const UNSPACED_LETTERS = new RegExp(String.raw`(?:${UNSPACED_LETTER_SOURCE}\p{M}{0,3})+`, 'u');
/** Prose's brackets, colons and commas around a run between those letters (fullwidth ones read as ASCII). */
const PROSE_PUNCTUATION = /^[()[\]{}<>:;,、。「」『』【】〈〉《》]+|[()[\]{}<>:;,、。「」『』【】〈〉《》]+$/gu;

/** Shorter than any API key, client secret or session token a server issues. */
const MIN_SECRET_LENGTH = 16;
/** A segment of a value that is a word or a number: a label's ("my-secret-api-key-2024"), no key's. */
const PLAIN_WORD = /^(?:[A-Za-z][a-z]*|[A-Z]+|[0-9]+)$/;
/** A segment's number at either end ("credentials01", "2024report"), and its CamelCase words' boundaries. */
const END_DIGITS = /^[0-9]+|[0-9]+$/g;
const CAMEL_BOUNDARY = /(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/;
/** Hex with letters and digits both: random, whatever its runs ("550e8400", a UUID's first segment). */
const MIXED_HEX = /^(?=[0-9]*[a-f])(?=[a-f]*[0-9])[0-9a-f]+$|^(?=[0-9]*[A-F])(?=[A-F]*[0-9])[0-9A-F]+$/;
/** Shorter than a word of a name: "Ab" and "Cd" of "AbCdEf..." are a random run's letters. */
const MIN_WORD = 3;
/** Longer than a word of a name ("certificate", "credentials"): 16 random lower-case letters are none. */
const MAX_WORD = 12;
/** A word has a vowel, and no five consonants in a row ("XUWTRQDW", "zjc" are a random run's). */
const VOWEL = /[aeiouy]/i;
const CONSONANT_RUN = /[b-df-hj-np-tv-xz]{5}/i;
const isWordPart = (part: string) =>
  part.length >= MIN_WORD && part.length <= MAX_WORD && PLAIN_WORD.test(part) && VOWEL.test(part) && !CONSONANT_RUN.test(part);

/**
 * Whether a segment of a value is a random run: 8 characters or more, and no word or number. Words
 * with a number at either end and CamelCase words are none ("credentials01", "Secrets01",
 * "Function1234567890", "TlsCertificate"); mixed hex always is one. A word is 3 to 12 letters with a
 * vowel and no five consonants in a row, so random letters with digits at an end
 * ("kcbkyiigophkofuivpvl2676", "zjcDleYqzlXUWTRQDW89") are still random.
 */
function isRandomSegment(w: string): boolean {
  if (w.length < MIN_RANDOM_SEGMENT || PLAIN_WORD.test(w)) return false;
  if (MIXED_HEX.test(w)) return true;
  const core = w.replace(END_DIGITS, '');
  return !core.split(CAMEL_BOUNDARY).every(isWordPart);
}
const SEGMENT_JOINERS = /[-_.|/:+~]/;
/** A random run a key has somewhere, between its prefix's joiners ("sk-ant-api03-" is a prefix). */
const MIN_RANDOM_SEGMENT = 8;
/** A value cut short for display ("sk-ant-api03-...", "AKIA…"): no key. */
const ELIDED = /\.\.\.|\u2026/;
/**
 * A value filled in for show: a run of one character ("sk-proj-xxxxxxxx...", "0000000000"), or a
 * documentation's example ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", AWS's own).
 */
const FILLER_RUN = /(.)\1{5,}/g;
const EXAMPLE = /example/i;
/**
 * Filled in for show: AWS's example word, or runs of one character that make a third of the value or
 * more. A real token may hold a run (an AWS session token's "//////////", base64's "AAAAAA" for zero
 * bytes) in plenty of random characters; a sample is mostly its run ("ghp_xxxx...", "sk_live_0000...").
 */
function isFiller(value: string): boolean {
  if (EXAMPLE.test(value)) return true;
  let run = 0;
  for (const m of value.matchAll(FILLER_RUN)) run += m[0].length;
  return run * 3 >= value.length;
}
/** A digest with its algorithm ("sha256:9f86d0...", an image's or a file's): no secret. */
const DIGEST = /^(?:sha-?(?:1|224|256|384|512)|sha3-\d{3}|md5|blake2[bs]?|blake3)[:=][0-9a-f]{16,}$/i;
/** A segment that says the value was masked: "REDACTED", "[redacted]", "hidden". */
const MASK_WORD = /^\W*(?:redacted|masked|hidden|removed|omitted|elided|truncated|snip(?:ped)?)\W*$/i;
/**
 * Whether a dotted value has a segment of 16 characters or more with both cases and a digit: random,
 * no property path's ("hvs.CAESIJ...", a Vault token; "settings.SECRET_KEY" is a path).
 */
function hasRandomSegment(value: string): boolean {
  return value.split('.').some((w) => w.length >= MIN_SECRET_LENGTH && /[A-Z]/.test(w) && /[a-z]/.test(w) && /[0-9]/.test(w));
}

/** At least two of upper case, lower case and digits (a key's random alphabet). */
function twoClasses(value: string): boolean {
  return (/[A-Z]/.test(value) ? 1 : 0) + (/[a-z]/.test(value) ? 1 : 0) + (/[0-9]/.test(value) ? 1 : 0) >= 2;
}

/**
 * Whether a value given to a secret's name (an API key's, a token's, a client secret's) or after
 * `Bearer` looks like one: a password's rules (isPasswordValue), and then 16 characters or more, no
 * blank, two of upper case, lower case and digits, a run of 8 between joiners that is no word or
 * number (isRandomSegment: "my-secret-api-key-2024", "auto-generated-token-1", "sk-ant-api03-",
 * "db-credentials01" are none), not elided ("sk-ant-api03-...") nor filled in for show (isFiller), no
 * part masked (MASK_WORD: a JWT's "eyJ....REDACTED.REDACTED"), no digest with its algorithm
 * (DIGEST). `token expired`, `secret: REDACTED`, `api_key: abc123` are none.
 */
export function isSecretValue(raw: string, quoted: boolean): boolean {
  if (raw.length < MIN_SECRET_LENGTH || !isPasswordValue(raw, quoted)) return false;
  const [value] = judged(raw, quoted);
  if (value.length < MIN_SECRET_LENGTH || /\s/.test(value) || !twoClasses(value) || ELIDED.test(value) || isFiller(value) || DIGEST.test(value)) return false;
  const segments = value.split(SEGMENT_JOINERS);
  // A value masked in part ("eyJhbGciOi....REDACTED.REDACTED", a JWT's claims and signature taken out).
  if (segments.some((w) => MASK_WORD.test(w))) return false;
  return segments.some(isRandomSegment);
}

/**
 * The end of [start, end) less the closing `)` and `]` the value does not open (the call or list
 * around the assignment). One pass: the brackets are counted once, then the trailing ones dropped
 * while they outnumber their openers.
 */
function withoutUnbalancedClose(text: string, start: number, end: number): number {
  const last = text[end - 1];
  if (last !== ')' && last !== ']') return end;
  let paren = 0;
  let square = 0;
  for (let k = start; k < end; k++) {
    const c = text[k];
    if (c === '(') paren++;
    else if (c === ')') paren--;
    else if (c === '[') square++;
    else if (c === ']') square--;
  }
  let e = end;
  while (e > start) {
    const c = text[e - 1];
    if (c === ')' && paren < 0) paren++;
    else if (c === ']' && square < 0) square++;
    else break;
    e--;
  }
  return e;
}

/**
 * The first stop at or after a position, for starts that mostly move forward: no stop lies in
 * [from, clearTo), so a later start inside that range resumes at clearTo instead of reading the run
 * again. Every value of "pwd=pwd=pwd=..." shares the one run, and the scan stays linear with a small
 * constant (a 256-character read per name cost 0.7 s on 1 MiB).
 */
class StopScan {
  private from = -1;
  private clearTo = -1;

  constructor(
    private readonly text: string,
    private readonly stop: (k: number) => boolean,
  ) {}

  /** The first stop at or after `p`, the text's end, or an index past p + MAX_TOKEN_VALUE (none near). */
  next(p: number): number {
    let k = p;
    if (p >= this.from && p <= this.clearTo) k = this.clearTo;
    else this.from = p;
    while (k < this.text.length && k - p <= MAX_TOKEN_VALUE && !this.stop(k)) k++;
    this.clearTo = k;
    return k;
  }
}

/**
 * Where an unquoted value ends, by the place its name stands in (valueOfName): `query`, a URL's query
 * string (`&` and `#`); `conn`, a connection string's `k=v;` pair (`;`); `json`, after a quoted name
 * (`,` and `}`); `line`, a name starting its line in an env file, YAML, INI or properties (the line's
 * end: a blank, or a `;` starting the next `k=` pair); `plain`, anywhere else (`,`, `;` and `}` only
 * before a blank or the end, a quote only before neither a letter nor a digit, `<`); `xml`, an
 * element's text (`<`). A blank ends every one of them: a line's further words are looked at after.
 */
type Context = 'query' | 'conn' | 'json' | 'line' | 'plain' | 'xml';

/**
 * Whether a long run starting at `start` reads as random, as a token's characters do: a dozen
 * different characters in its first 64, and its first 16 not repeated within the next 80 (a name
 * repeated, "pass_word=pass_word=...", or "a1a1..." is a pattern, no credential). Looks at a bounded
 * window, so a text of many names before one long run costs the same per name.
 */
function looksRandom(text: string, start: number): boolean {
  const head = text.slice(start, start + 16);
  if (text.slice(start + 1, start + 96).includes(head)) return false;
  return new Set(text.slice(start, start + 64)).size >= 12;
}

/** One set of scans per text (see StopScan), made once: a closure per name cost a third of the time. */
class Scans {
  private readonly ends: Record<Context, StopScan>;
  private readonly doubleQuote: StopScan;
  private readonly singleQuote: StopScan;
  private readonly backQuote: StopScan;
  private readonly escapedQuote: StopScan;
  private readonly brace: StopScan;
  private readonly tokenRun: StopScan;

  constructor(private readonly text: string) {
    const at = (k: number) => text[k] as string;
    const scan = (stop: (k: number) => boolean) => new StopScan(text, stop);
    this.ends = {
      query: scan((k) => isBlank(at(k)) || isQuote(at(k)) || at(k) === '<' || at(k) === '&' || at(k) === '#'),
      conn: scan((k) => isBlank(at(k)) || isQuote(at(k)) || at(k) === '<' || at(k) === ';'),
      json: scan((k) => isBlank(at(k)) || isQuote(at(k)) || at(k) === '<' || at(k) === ',' || at(k) === '}'),
      line: scan((k) => isBlank(at(k)) || (at(k) === ';' && pairStartsAt(text, k + 1))),
      xml: scan((k) => at(k) === '<'),
      plain: scan((k) => isPlainEnd(text, k)),
    };
    this.doubleQuote = scan((k) => at(k) === '"' && !escapedAt(text, k) && !continuesWord(text[k + 1]));
    this.singleQuote = scan((k) => at(k) === "'" && text[k + 1] !== "'" && !continuesWord(text[k + 1]));
    this.escapedQuote = scan((k) => at(k) === '"' && escapedAt(text, k) && !continuesWord(text[k + 1]));
    this.backQuote = scan((k) => at(k) === '`' && !continuesWord(text[k + 1]));
    this.brace = scan((k) => at(k) === '}' && (k + 1 === text.length || text[k + 1] === ';' || isBlank(text[k + 1]) || isQuote(text[k + 1])));
    this.tokenRun = scan((k) => !isTokenChar(at(k)));
  }

  /**
   * Whether [start, end) is long enough to be read as a value: MAX_VALUE characters, or up to
   * MAX_TOKEN_VALUE of a token's characters alone (a session token, a long bearer token: prose,
   * lists and blobs with blanks are none).
   */
  fits(start: number, end: number): boolean {
    const n = end - start;
    return n <= MAX_VALUE || (n <= MAX_TOKEN_VALUE && this.tokenRun.next(start) >= end && looksRandom(this.text, start));
  }

  /** The end of an unquoted value in its context. */
  end(context: Context, p: number): number {
    return this.ends[context].next(p);
  }

  /**
   * The quote closing the one at `open`, or -1: the first one neither escaped (`\"`, written), nor
   * doubled (SQL's `''`), nor followed by a letter, a digit or a character that goes on a word (a
   * JSON string's escaped quote reads as a quote once normalized: `"Hun\"ter2"` reads `"Hun"ter2"`).
   */
  closingQuote(open: number): number {
    const q = this.text[open];
    const close = (q === '"' ? this.doubleQuote : q === "'" ? this.singleQuote : this.backQuote).next(open + 1);
    return close < this.text.length && this.fits(open + 1, close) ? close : -1;
  }

  /** The escaped `\\"` closing the one whose quote is at `open`, or -1 (its quote's index). */
  closingEscapedQuote(open: number): number {
    const close = this.escapedQuote.next(open + 1);
    return close < this.text.length && this.fits(open + 1, close) ? close : -1;
  }

  /**
   * The `}` closing ODBC's braced value opened at `open`, or -1: the one that ends the pair (before a
   * `;`, a blank, a quote or the end), so `}}`, a brace inside it, does not.
   */
  closingBrace(open: number): number {
    const close = this.brace.next(open + 1);
    return close < this.text.length && this.fits(open + 1, close) ? close : -1;
  }
}

/** A character after a quote that makes the quote part of a word, not its end. */
function continuesWord(c: string | undefined): boolean {
  return isAsciiLetter(c) || isDigit(c) || (c !== undefined && '-_@#$%^~*'.includes(c));
}

/** Whether the character at `k` follows an odd run of backslashes. */
function escapedAt(text: string, k: number): boolean {
  let j = k;
  while (k - j < 16 && text[j - 1] === '\\') j--;
  return (k - j) % 2 === 1;
}

/** Whether a `k=` pair starts at `k` (a connection string's next one): a short name, then `=`. */
function pairStartsAt(text: string, k: number): boolean {
  let j = k;
  while (j - k < 32 && (isAsciiLetter(text[j]) || isDigit(text[j]) || text[j] === '_' || text[j] === ' ')) j++;
  return j > k && text[j] === '=' && isAsciiLetter(text[k]);
}

/** See Context's `plain`. */
function isPlainEnd(text: string, k: number): boolean {
  const c = text[k];
  if (isBlank(c) || c === '<') return true;
  const next = text[k + 1];
  if (isQuote(c)) return !isAsciiLetter(next) && !isDigit(next);
  if (c === ',' || c === ';' || c === '}') return next === undefined || isBlank(next) || isQuote(next) || (c === ';' && pairStartsAt(text, k + 1));
  return false;
}

interface ValueSpan {
  start: number;
  end: number;
  quoted: boolean;
  /** A YAML block scalar's (blockScalarValue): read in the text as written only. */
  block?: boolean;
  /** The new password after the old one's value ("changed from X to Y": FROM_TO_LINK). */
  next?: ValueSpan;
}

/** A form's next parameter, bracketed or percent-encoded too ("&commit=", "&user[email]=", "&user%5Bemail%5D="). */
const NEXT_FORM_PARAMETER = /&[A-Za-z_][\w.%[\]-]{0,63}=/y;

/** The value starting at `p` (quoted up to its closing quote, or unquoted up to its context's end). */
function valueAt(text: string, p: number, context: Context, scans: Scans, op = ''): ValueSpan | null {
  const q = text[p];
  if (isQuote(q) && context !== 'xml') {
    const close = scans.closingQuote(p);
    return close === -1 ? null : { start: p + 1, end: close, quoted: true };
  }
  // A JSON string's escaped quotes around the value, in the text as written: password=\"x\".
  if (q === '\\' && text[p + 1] === '"') {
    const close = scans.closingEscapedQuote(p + 1);
    return close === -1 ? null : { start: p + 2, end: close - 1, quoted: true };
  }
  // ODBC's braced value ("Pwd={Zq8v;T2xk};"): its braces stay, the value is masked.
  if (q === '{' && op === '=' && (context === 'conn' || context === 'line')) {
    const close = scans.closingBrace(p);
    const after = text[close + 1];
    if (close !== -1 && (after === undefined || after === ';' || isBlank(after) || isQuote(after)) && !/\s/.test(text.slice(p + 1, close)))
      return { start: p + 1, end: close, quoted: true };
  }
  // A form's empty value, the next parameter right after it ("password=&commit=Log+in", "&user[remember_me]=0").
  if (q === '&') {
    NEXT_FORM_PARAMETER.lastIndex = p;
    if (NEXT_FORM_PARAMETER.test(text)) return null;
  }
  const e = scans.end(context, p);
  if (!scans.fits(p, e) || (context === 'xml' && text[e] !== '<')) return null;
  let start = p;
  let end = withoutUnbalancedClose(text, p, e);
  // Markdown's bold around the value ("Password: **Hunter2!**").
  if (text.startsWith('**', start) && end - start > 4 && text.startsWith('**', end - 2)) {
    start += 2;
    end -= 2;
  }
  if (context === 'line' && end === e) {
    if (text[e] === ' ' && text[e + 1] !== ' ') {
      const phrase = restOfLine(text, start, e);
      if (phrase !== null) return { start, end: phrase, quoted: true };
    }
    // A statement's end ("password: string;", "DB_PASSWORD=x; then ...").
    if (end - start > 1 && (text[end - 1] === ';' || text[end - 1] === ',')) end--;
  }
  return { start, end, quoted: false };
}

/**
 * Where a line's value with blanks ends ("POSTGRES_PASSWORD: Zq8v T2xk!"), when the words after the
 * first one make a passphrase with it; else null (the first word is the value:
 * "PGPASSWORD=x psql -h db"). A line ends at a line break (two spaces once normalized), a trailing
 * " #comment" is none of it. The walk stops past MAX_WORDS words: every name starting a line after a
 * blank is then walked over a few words, not a whole window ("key: pwd=a1 key: pwd=a1 ...").
 */
function restOfLine(text: string, start: number, firstEnd: number): number | null {
  let k = firstEnd;
  let words = 1;
  for (; k < text.length && k - start <= MAX_VALUE; k++) {
    const c = text[k];
    if (c === '\n' || c === '\r' || (c === ' ' && (text[k + 1] === ' ' || text[k + 1] === '#'))) break;
    if (c === ' ' && ++words > MAX_WORDS) return null;
  }
  if (k - start > MAX_VALUE) return null;
  while (k > firstEnd && isBlank(text[k - 1])) k--;
  return k > firstEnd && isPhraseOfSecrets(text.slice(start, k)) ? k : null;
}

// A name/value pair's value after the name (Kubernetes' env list, JSON's {"name":...,"value":...},
// .NET's appSettings key/value): blanks, maybe a line break as written (raw or a JSON string's
// escaped one; normalized, it reads as blanks), maybe a comma, then "value" assigned, or a change
// record's old or new one ("old_value", "newValue"). A JSON record's other members are read by
// pairMembers first.
const PAIR_VALUE_KEY = String.raw`(?:(?:old|new|prev|previous|current)[_-]?)?value`;
const VALUE_LINK = new RegExp(
  String.raw`[ \t]{0,64}(?:(?:\r\n?|\n|\\{1,8}[rn])[ \t]{0,64})?,?[ \t]{0,64}(?:["']${PAIR_VALUE_KEY}["']|${PAIR_VALUE_KEY})[ \t]{0,8}[:=][ \t]{0,8}`,
  'iy',
);

/** What stands before a .netrc's password: its login and the user. */
const NETRC_LOGIN = /(?:^|\s)login[ \t]{1,4}\S{1,64}[ \t]{1,4}$/;

/**
 * Whether the name starting at `nameStart` starts its line (after indentation or `export `): the
 * text's start, a line break, or, once normalized, the two spaces a break reads as, or one after a
 * YAML parent key's ":".
 */
function startsLine(text: string, nameStart: number): boolean {
  let k = nameStart;
  if (text.slice(k - 7, k) === 'export ') k -= 7;
  const blanks = k - skipBackRun(text, k, MAX_PAD, isPad);
  const j = k - blanks;
  return j === 0 || breakBefore(text, j) || blanks >= 2 || (blanks === 1 && text[j - 1] === ':');
}

/** Whether a line break, raw or a string's escaped one ("\\n"), ends right before `k`. */
function breakBefore(text: string, k: number): boolean {
  const c = text[k - 1];
  return c === '\n' || c === '\r' || (text[k - 2] === '\\' && (c === 'n' || c === 'r'));
}

function skipBackRun(text: string, p: number, max: number, isRun: (c: string | undefined) => boolean): number {
  let k = p;
  while (p - k < max && k > 0 && isRun(text[k - 1])) k--;
  return k;
}

/** The context a value given to the name at `nameStart` ends by (see Context). */
function contextOf(text: string, nameStart: number): Context {
  const before = text[nameStart - 1];
  // A form's bracketed parameter ("user[password]=", "user%5Bpassword%5D=") is a query's too.
  if (before === '?' || before === '&' || before === '[' || PERCENT_OPEN_BRACKET.test(text.slice(nameStart - 3, nameStart))) return 'query';
  if (before === ';') return 'conn';
  if (isQuote(before)) return 'json';
  return startsLine(text, nameStart) ? 'line' : 'plain';
}

/**
 * The verbs that report a password set to its value ("Your password has been successfully reset to X",
 * "password changed to: X", "Password was reset by the admin to X", "set as X" (only "set": "reset as
 * user01" names who), "changed into X", "reset to the following value: X", "changed from X to Y",
 * "was reset and is now X"), after their auxiliaries (with an adverb: "has
 * successfully been", "is now"; "got", "'s been", "should be", "needs to be"): a link of every
 * language's, as English's "is" is. And, before the word (SET_BEFORE), the same verbs of an actor
 * ("Admin reset the password to X"). Patterns, not lists of phrases: the fifty words of the first list
 * cost 40 ms more to compile on a process's first text.
 */
const SET_VERB = String.raw`(?:re)?set|changed|updated|modified|rotated|regenerated|reverted|switched`;
/** The same verbs in every form an actor uses before the word ("reset", "resetting", "change", "rotate": SET_BEFORE). */
const SET_VERB_FORMS = String.raw`(?:re)?set(?:ting)?|chang(?:e|ed|ing)|updat(?:e|ed|ing)|modif(?:y|ied|ying)|rotat(?:e|ed|ing)|regenerat(?:e|ed|ing)|revert(?:ed|ing)?|switch(?:ed|ing)?`;
const ADVERB = String.raw`successfully|temporarily|just|now|automatically|manually|already|recently|also|again`;
const B = String.raw`[ \t]{1,4}`;
const AUXILIARY = String.raw`(?:ha(?:s|ve|d)(?:${B}(?:${ADVERB}))?${B}been|'s${B}been|(?:is|was)${B}being|(?:will|should|can|must|would|could|may|might|shall)${B}be|(?:needs?|ha(?:s|ve|d))${B}to${B}be|is|was|has|have|had|got|gets)`;
const SET_TO_SOURCE = String.raw`(?:(?:${AUXILIARY}(?:${B}(?:${ADVERB}))?|${ADVERB})${B})?(?:(?:${SET_VERB})(?:${B}(?:(?:by|via)(?:${B}[^\s:]{1,32}){1,2}|back|today|yesterday|earlier|${ADVERB}))?(?:${B}(?:for|on|of)(?:${B}[^\s=:]{1,32}){1,3}?)?${B}(?:to${B}the${B}following(?:${B}(?:value|code|password|one|credentials?))?|to${B}be|to|into|from|and${B}is(?:${B}now)?)|set${B}as)`;
const SHORT_NAME = /^(?:pass|pw|pwd)$/i;
/** SET_TO_SOURCE as a link of its own: after a name's colon ("password: changed to X") or a short name ("pw reset to X"). */
const SET_LINK = new RegExp(String.raw`[ \t]{1,4}(?:${SET_TO_SOURCE})(?:[ \t]{0,4}:[ \t]{0,4}|[ \t]{1,4})`, 'iy');

/**
 * Prose's links between a password word and its value, by the word's language (LOCALIZED_PASSWORD_WORDS;
 * English's for the English words and every other name, and with any language's own, as code and
 * chat mix English in): `is`, the verb ("my password is X", "das Passwort lautet X", "пароль — X":
 * Russian and Ukrainian write a dash for it), maybe after words that follow the noun in the
 * languages that put them after it (`after`, and REPEAT_WORDS: "la contraseña temporal es X",
 * "mật khẩu mới là X"), the owner ("kata sandi Anda adalah X") and `for`, a word naming what the
 * password opens and a few more ("le mot de passe du wifi est X", "пароль от почты — X"). Only the
 * word's own language: Finnish's "on" and Russian's dash are English words and page titles' dashes
 * ("Failed to update password on db-prod-2", "Reset Password - Office365").
 * The languages that write no blank between words glue them on (`glued`: "密码是X", "密码已重置为X",
 * "パスワードはX", "비밀번호는 X", "รหัสผ่านของคุณคือ X"); the value is then the run up to the next
 * letter of theirs or their punctuation, not the rest of the clause ("密码为空（错误码：ERR_1001）" holds
 * none). The subject's particles (Japanese "が", Korean "가") only before a copula or "changed to"
 * ("仮パスワードがXです", "비밀번호가 X로 변경되었습니다"; not "パスワードがuser01により変更されました",
 * changed by user01). Read with or without accents, as the password words
 * are (wordSource). Not read: verbs that are suffixes ("şifresi X'tir"), Hungarian's omitted one,
 * Hindi's after the value.
 */
const PROSE_LINK_WORDS: Readonly<
  Record<
    string,
    {
      is: readonly string[];
      /** A password to come ("Your temporary password will be X", "sera", "sarà"): read as `is`, its value as a set verb's (SETS_A_VALUE). */
      future?: readonly string[];
      for?: readonly string[];
      after?: readonly string[];
      owner?: readonly string[];
      now?: readonly string[];
      subject?: readonly string[];
      glued?: boolean;
      /** For PROSE_ONLY_WORDS: the owners and adjectives that make the word a label before a colon, on either side of it ("Nowe hasło: X", "Parola ta: X"). */
      label?: readonly string[];
      /**
       * The language's verbs that set a password, as SET_TO_SOURCE is English's: maybe an auxiliary
       * (`aux`), a participle (`verb`), then the word leading to the value: `to`, which reset e-mails
       * write for "to" ("mot de passe changé en X", "wurde auf X zurückgesetzt", "redefinida para X";
       * a host or user after German "auf", Spanish "a" or Portuguese "para" reads as a password there:
       * a leak weighs more), or `strongTo`, which means on or as as often ("modifié sur srv-02",
       * "cambiata su srv-02", "gewijzigd op srv-02", "geändert in AD-Prod2"), its value then one whose
       * shape or quotes say password (STRONG_SHAPE). `bare`: an auxiliary and its word with the participle
       * after the value ("Ihr Passwort wurde auf X zurückgesetzt": PHRASE_GOES_ON ends the phrase at it). `adverb`: one
       * that may stand after the auxiliary or after the participle ("a été temporairement
       * réinitialisé à X", "è stata reimpostata correttamente a X", "foi alterada com sucesso para X").
       */
      set?: {
        aux: readonly string[];
        adverb: readonly string[];
        verb: readonly string[];
        to: readonly string[];
        strongTo: readonly string[];
        bare?: readonly string[];
      };
    }
  >
> = {
  // And Italian's, which names the password with the English word ("la password temporanea del wifi è
  // X"): its "è" keeps its accent (wordsSource), "e" is "and".
  English: {
    is: ['is', 'was', 'è', 'era'],
    future: ['will be', 'would be', 'should be', 'shall be', 'sarà'],
    // Not "per" alone: English's too ("The password per user is rotated-90d"); Italian's with its article.
    for: ['for', 'di', 'del', 'della', 'dello', 'per il', 'per la', 'per lo', 'per i', 'per gli', 'per le'],
    after: ['temporanea', 'provvisoria', 'nuova', 'attuale'],
    now: ['now', 'ora', 'adesso'],
    // Italian's ("la password è stata reimpostata a X"); English's are SET_TO_SOURCE.
    set: {
      aux: ['è stata', 'è stato', 'è', 'viene'],
      adverb: ['correttamente', 'temporaneamente', 'con successo'],
      verb: [
        'reimpostata',
        'reimpostato',
        'cambiata',
        'cambiato',
        'modificata',
        'modificato',
        'impostata',
        'impostato',
        'aggiornata',
        'aggiornato',
        'resettata',
        'resettato',
      ],
      to: ['a', 'in'],
      strongTo: ['su', 'come'],
    },
  },
  German: {
    is: ['ist', 'war', 'lautet', 'lautete'],
    for: ['für', 'fuer', 'von', 'vom', 'zum', 'zur'],
    now: ['jetzt', 'nun', 'ab sofort'],
    set: {
      aux: ['wurde', 'wurden', 'wird', 'ist'],
      adverb: ['erfolgreich', 'soeben', 'temporär', 'vorübergehend'],
      verb: ['zurückgesetzt', 'zurueckgesetzt', 'geändert', 'geaendert', 'gesetzt', 'festgelegt', 'aktualisiert'],
      to: ['zu', 'auf'],
      strongTo: ['in'],
      bare: ['wurde auf', 'wurde erfolgreich auf', 'wird auf', 'ist auf'],
    },
  },
  Dutch: {
    is: ['is', 'was', 'luidt'],
    for: ['voor', 'van'],
    now: ['nu'],
    set: {
      aux: ['is', 'werd'],
      adverb: ['succesvol', 'opnieuw', 'tijdelijk'],
      verb: ['gewijzigd', 'gereset', 'ingesteld', 'veranderd', 'bijgewerkt', 'teruggezet'],
      to: ['in', 'naar'],
      strongTo: ['op'],
    },
  },
  // Not "por" (by: "cambiada por jperez2"), nor "en" (on: "cambiada en srv02").
  Spanish: {
    is: ['es', 'era', 'fue'],
    future: ['será'],
    for: ['de', 'del', 'para'],
    after: ['temporal', 'provisional'],
    now: ['ahora'],
    set: {
      aux: ['ha sido', 'fue', 'se ha', 'se', 'ha', 'está'],
      adverb: ['correctamente', 'temporalmente', 'con éxito'],
      verb: [
        'restablecida',
        'restablecido',
        'restableció',
        'cambiada',
        'cambiado',
        'cambió',
        'modificada',
        'modificado',
        'establecida',
        'establecido',
        'actualizada',
        'actualizado',
        'reiniciada',
        'reiniciado',
        'configurada',
        'configurado',
      ],
      to: ['a'],
      strongTo: ['como'],
    },
  },
  Portuguese: {
    is: ['é', 'era', 'foi'],
    future: ['será'],
    for: ['de', 'do', 'da', 'para'],
    after: ['temporária', 'provisória'],
    now: ['agora'],
    set: {
      aux: ['foi', 'foi alterada', 'foi alterado', 'está'],
      adverb: ['com sucesso', 'temporariamente', 'corretamente'],
      verb: [
        'redefinida',
        'redefinido',
        'alterada',
        'alterado',
        'definida',
        'definido',
        'atualizada',
        'atualizado',
        'modificada',
        'modificado',
        'trocada',
        'trocado',
        'mudada',
        'mudado',
      ],
      to: ['para'],
      strongTo: ['como'],
    },
  },
  // Not "par" (by: "changé par jdupont2"), nor "pour" (for: "changé pour l'utilisateur").
  French: {
    is: ['est', 'était'],
    future: ['sera'],
    for: ['de', 'du', 'pour'],
    after: ['provisoire', 'temporaire', 'nouvelle', 'actuelle'],
    now: ['désormais', 'maintenant'],
    set: {
      aux: ['a été', 'a bien été', 'est'],
      adverb: ['temporairement', 'correctement', 'avec succès'],
      verb: [
        'réinitialisé',
        'réinitialisée',
        'changé',
        'changée',
        'modifié',
        'modifiée',
        'défini',
        'définie',
        'mis à jour',
        'mise à jour',
        'remplacé',
        'remplacée',
      ],
      to: ['à', 'en'],
      strongTo: ['sur'],
    },
  },
  Swedish: { is: ['är', 'var'], for: ['för', 'till'], now: ['nu'] },
  Norwegian: { is: ['er', 'var'], for: ['for', 'til'], now: ['nå'] },
  Danish: { is: ['er', 'var'], for: ['for', 'til'], now: ['nu'] },
  Finnish: { is: ['on', 'oli'], now: ['nyt'] },
  // The words read before their verb only (PROSE_ONLY_WORDS).
  Polish: {
    is: ['to', 'jest', 'brzmi', 'było'],
    for: ['do', 'dla', 'od'],
    after: ['tymczasowe', 'jednorazowe'],
    now: ['teraz'],
    label: ['nowe', 'twoje', 'wasze', 'tymczasowe', 'jednorazowe', 'stare', 'aktualne', 'obecne', 'początkowe'],
  },
  Czech: {
    is: ['je', 'bylo', 'zní'],
    for: ['k', 'ke', 'pro', 'do', 'od'],
    after: ['dočasné'],
    now: ['nyní', 'teď'],
    label: ['nové', 'vaše', 'tvoje', 'dočasné', 'jednorázové', 'staré', 'aktuální', 'současné', 'počáteční'],
  },
  // Not "era" (was): Italian's too, after "parola" (a word: "La parola era Ciao2024").
  Romanian: {
    is: ['este', 'a fost'],
    for: ['pentru', 'de'],
    after: ['temporară', 'nouă', 'actuală'],
    owner: ['ta', 'mea', 'dvs', 'dumneavoastră'],
    now: ['acum'],
    label: ['nouă', 'ta', 'dvs', 'mea', 'temporară', 'actuală', 'veche', 'inițială'],
  },
  Vietnamese: { is: ['là'], for: ['của', 'cho'], after: ['tạm thời', 'hiện tại', 'wifi'] },
  Indonesian: { is: ['adalah', 'ialah', 'yaitu'], for: ['untuk', 'dari'], after: ['sementara'], owner: ['anda', 'kamu', 'saya'] },
  Malay: { is: ['ialah', 'adalah'], for: ['untuk', 'bagi'], after: ['sementara'], owner: ['anda', 'awak', 'saya'] },
  // The owner after the noun ("ο κωδικός πρόσβασης σας"; written with the noun's second accent it
  // takes there, "πρόσβασής", the word is not read: the list holds its base form).
  Greek: { is: ['είναι', 'ήταν'], for: ['για', 'του', 'της'], owner: ['σας', 'σου', 'μου'] },
  // The dash prose writes for "is" ("Пароль — X"), read as the normalizer writes every dash, "-": a
  // title's hyphen reads the same ("Сменить пароль - Office365" masks its product's name if it holds a
  // digit). A leak weighs more; English, which has its verb, reads no dash.
  Russian: { is: ['- это', 'это', 'был', '-', 'теперь', 'це', 'був'], for: ['от', 'для', 'к', 'від', 'до'] },
  Hebrew: { is: ['היא', 'הוא'], for: ['של', 'עבור'], after: ['החדשה', 'הזמנית', 'הנוכחית'], owner: ['שלך', 'שלי', 'שלכם'] },
  Arabic: { is: ['هي', 'هى'], after: ['المؤقتة', 'الخاصة بك', 'الخاصة بي'] },
  Chinese: {
    is: ['是', '为', '為'],
    // Said before the verb: "就是", "应该是", and a reset's "已重置为", "设置为", "改为".
    after: ['就', '应该', '應該', '已经', '已經', '已', '被', '重置', '重設', '设置', '設置', '设定', '設定', '更改', '修改', '改'],
    glued: true,
  },
  // The subject's particle as well, but its value only before a copula ("仮パスワードがXです",
  // "パスワードがXに変更されました"): anything else after it is a clause (SUBJECT_FOLLOW).
  Japanese: { is: ['は'], subject: ['が'], glued: true },
  // After a vowel, as every Korean password word ends.
  Korean: { is: ['는'], subject: ['가'], glued: true },
  Thai: { is: ['คือ', 'เป็น'], after: ['ใหม่', 'ชั่วคราว', 'ปัจจุบัน'], owner: ['ของคุณ', 'ของฉัน'], glued: true },
};
/**
 * Words as one alternation, longest first ("lautete" before "lautet"), each with and without its
 * accents (wordSource) but no mark slots: the normalized text, which has none, reads them (a mark
 * typed after a letter, NFD, is dropped there), and slots for hundreds of marks after every letter
 * would make the patterns' first compilation cost what the password words' does.
 */
const wordsSource = (words: readonly string[]) =>
  [...new Set(words)]
    .sort((a, b) => b.length - a.length)
    // A one-letter word keeps its accent: Portuguese "é" (is) without it is "e" (and), in Italian too.
    .map((w) => ([...w].length === 1 && MARK.test(w.normalize('NFD')) ? w : wordSource(w, false)))
    // A phrase's blank as the links' (up to four: "пароль -  это").
    .map((source) => source.replaceAll(' ', BLANKS))
    .join('|');
const BLANKS = String.raw`[ \t]{1,4}`;
const optionalWords = (words: readonly string[], blank: string, max = 1) => (words.length === 0 ? '' : `(?:(?:${wordsSource(words)})${blank}){0,${max}}`);

interface ProseLinks {
  /** Blanks, then the words up to the verb, then a colon or a blank ("my password is X"). */
  spaced: RegExp;
  /** The words glued on, maybe a colon or a comma, maybe blanks ("密码是X", "密码为：X", "パスワードは、X"); null for a language that writes blanks. */
  glued: RegExp | null;
  /** The subject's particle glued on ("パスワードがX"), its value only before a copula; null for a language without. */
  subject: RegExp | null;
  /** Whether a spaced link ends in a word after which the value needs a password's shape (PROSE_LINK_WORDS' `strongTo`); null: none does. */
  strongEnd: RegExp | null;
}
/** Each language's links, compiled on first use; and the language of each password word. */
const proseLinksOf = new Map<string, ProseLinks>();

/** A language's set verbs (PROSE_LINK_WORDS' `set`) as one pattern: "foi redefinida para", "changé en", "wurde auf". */
function setSource(set: SetVerbs): string {
  const adverb = String.raw`(?:(?:${wordsSource(set.adverb)})${BLANKS})?`;
  const phrase = String.raw`(?:(?:${wordsSource(set.aux)})${BLANKS}${adverb})?(?:${wordsSource(set.verb)})${BLANKS}${adverb}(?:${wordsSource([...set.to, ...set.strongTo])})`;
  return set.bare === undefined ? phrase : `${phrase}|${wordsSource(set.bare)}`;
}
type SetVerbs = NonNullable<(typeof PROSE_LINK_WORDS)[string]['set']>;
/** A link ending in a set verb's `strongTo` word or a `bare` phrase (see PROSE_LINK_WORDS' `set`). */
function strongEndSource(sets: readonly SetVerbs[]): string | null {
  const words = sets.flatMap((set) => set.strongTo);
  return words.length === 0 ? null : String.raw`(?<![\p{L}\p{N}])(?:${wordsSource(words)})[ \t]*:?[ \t]*$`;
}

function proseLinks(language: string, withEnglish = true): ProseLinks {
  const key = withEnglish ? language : `${language} alone`;
  let links = proseLinksOf.get(key);
  if (links !== undefined) return links;
  const english = withEnglish ? PROSE_LINK_WORDS.English! : { is: [] };
  const own = PROSE_LINK_WORDS[language] ?? PROSE_LINK_WORDS.English!;
  const repeat = (REPEAT_WORDS as Record<string, readonly string[]>)[language] ?? [];
  // "now" before the verb too ("Tu contraseña ahora es X"), and after it ("Je wachtwoord is nu X").
  const after = [...repeat, ...(own.after ?? []), ...(own.now ?? [])];
  const owner = own.owner ?? [];
  const of = [...(own.for ?? []), ...(english.for ?? [])];
  const forClause = String.raw`(?:(?:${wordsSource(of)})[ \t]{1,4}(?:[^\s=:]{1,32}[ \t]{1,4}){1,5}?)?`;
  // Tried first: "is" alone would take "Your password is now set to X"'s "set" for its value.
  const setVerbs = [own.set, english.set].filter((x, i, all): x is SetVerbs => x !== undefined && all.indexOf(x) === i);
  const is = `${withEnglish ? `${SET_TO_SOURCE}|` : ''}${setVerbs.map((x) => `${setSource(x)}|`).join('')}${wordsSource([...own.is, ...english.is, ...(own.future ?? []), ...(english.future ?? [])])}`;
  const strongEnd = strongEndSource(setVerbs);
  const now = wordsSource([...(own.now ?? []), ...(english.now ?? [])]);
  links = {
    spaced: new RegExp(
      // Or no blank, before "'s been" ("Your password's been reset to X").
      String.raw`(?:[ \t]{1,4}|(?='s[ \t]))${own.glued ? '' : optionalWords(after, BLANKS, 2)}${own.glued ? '' : optionalWords(owner, String.raw`\.?${BLANKS}`)}${forClause}(?:${is})(?:${BLANKS}(?:${now}))?(?:[ \t]{0,4}:[ \t]{0,4}|[ \t]{1,4})`,
      'iuy',
    ),
    glued:
      own.glued === true
        ? new RegExp(
            String.raw`[ \t]{0,4}${optionalWords(after, '', 3)}${optionalWords(owner, '')}(?:${wordsSource(own.is)})(?:[ \t]{0,4}[:、,])?[ \t]{0,4}`,
            'iuy',
          )
        : null,
    subject:
      own.glued === true && own.subject !== undefined
        ? new RegExp(String.raw`[ \t]{0,4}${optionalWords(after, '', 3)}(?:${wordsSource(own.subject)})[ \t]{0,4}`, 'iuy')
        : null,
    strongEnd: strongEnd === null ? null : new RegExp(strongEnd, 'iu'),
  };
  proseLinksOf.set(key, links);
  return links;
}

/**
 * A password word as matched, spelled plainly: lower case, without marks, tatweel or the joiners of
 * its words, Arabic's variant letters as the list's ("كلمة_المـرور", "MẬT KHẨU", "비밀 번호" typed as
 * jamo read as the list's "كلمةالمرور", "matkhau", "비밀번호"). A lookup, not a pattern per word: the
 * words' patterns with their mark slots compile for a quarter of a second on a process's first text
 * past Latin-1 (docs/BENCHMARKS.md, forty-first session).
 */
const JOINER_OR_MARK = /[\p{M}\u0640 _.+-]/gu;
const plainSpelling = (word: string) => foldArabicVariants(word.toLowerCase()).normalize('NFD').replace(JOINER_OR_MARK, '').normalize('NFC');
/** LOCALIZED_PASSWORD_WORDS by plain spelling, built on first use. */
let localizedBySpelling: Map<string, LocalizedWord> | null = null;
type LocalizedWord = (typeof LOCALIZED_PASSWORD_WORDS)[number];
/**
 * The words as matched, read before (a text repeats its few spellings, and a hostile one repeats one
 * a million times: spelling it plainly costs more than the rest of reading a name); up to a bound.
 */
const entryOfMatched = new Map<string, LocalizedWord | null>();
const MAX_MATCHED = 1024;
function localizedEntry(core: string): LocalizedWord | undefined {
  const known = entryOfMatched.get(core);
  if (known !== undefined) return known ?? undefined;
  localizedBySpelling ??= new Map(LOCALIZED_PASSWORD_WORDS.map((entry) => [plainSpelling(entry.words.join('')), entry]));
  const entry = localizedBySpelling.get(plainSpelling(core));
  if (entryOfMatched.size < MAX_MATCHED) entryOfMatched.set(core, entry ?? null);
  return entry;
}

/** The language of a password word as matched (LOCALIZED_PASSWORD_WORDS), English for any other name. */
function languageOf(core: string): string {
  return localizedEntry(core)?.language ?? 'English';
}

/**
 * Whether the password word `core`, running on at `k` into a letter of the languages that glue, is
 * followed by a glued link and something that may start a value ("密码是X", not "密码是必填项"): read
 * for every such word in a text, so the cheap tests first, and nothing more for a run of them.
 */
function gluedValueAfter(text: string, core: string, k: number): boolean {
  if (!UNSPACED_LETTER.test(text[k] ?? '') || !PROSE_CORE.test(core)) return false;
  const link = gluedLinkAt(text, k, languageOf(core));
  if (link === null) return false;
  const v = k + link.length;
  if (CLOSING_OF[text[v] ?? ''] !== undefined || isQuote(text[v])) return true;
  // A run shorter than any password is none (isPasswordValue): nothing more to read for it.
  const end = gluedRunEnd(text, v, link.follow);
  return end !== -1 && end - v >= MIN_LENGTH;
}

/** What may follow a glued link's value: GLUED_FOLLOW's, or after a subject's particle a copula only (SUBJECT_FOLLOW). */
type GluedFollow = 'any' | 'copula';

/** The glued link at `k` after a password word of `language` ("密码|是X"), its length and what may follow its value; or null. */
function gluedLinkAt(text: string, k: number, language: string): { length: number; follow: GluedFollow } | null {
  const { glued, subject } = proseLinks(language);
  for (const [re, follow] of [
    [glued, 'any'],
    [subject, 'copula'],
  ] as const) {
    if (re === null) continue;
    re.lastIndex = k;
    if (re.test(text)) return { length: re.lastIndex - k, follow };
  }
  return null;
}

/**
 * The brackets and quotes prose sets a value in, and what closes each ("le mot de passe est « X »",
 * "das Passwort ist „X“", "パスワードは「X」です"): the value is what they hold, blanks and all, as a
 * quoted value is (`"...` is valueAt's). Swedish and Finnish close with the mark they open with
 * ("”…”", "»…»"), Danish turns the guillemets round ("»…«"), German opens low ("„…“", "‚…‘").
 */
const CLOSING_OF: Readonly<Record<string, string>> = {
  '«': '»',
  '»': '«»',
  '„': '“”',
  '‚': '‘’',
  '“': '”',
  '”': '”',
  '‹': '›',
  '「': '」',
  '『': '』',
  '（': '）',
  '(': ')',
  '【': '】',
  '〈': '〉',
  '《': '》',
  '[': ']',
  '<': '>',
};
/**
 * Punctuation that may end a glued link's value (the languages' own, and ASCII's, which the normalizer
 * writes for the fullwidth forms: "，" reads ","), with the quotes and brackets that close one.
 */
const UNSPACED_PUNCTUATION = /[，。、；：！？」』）】〉》”»,.;:!?)\]'"（(【]/u;
// The copulas and "changed to" a value may end before, after either particle (SUBJECT_FOLLOW), and
// the polite endings and connectives only after a topic's (GLUED_FOLLOW): Japanese business mail's
// endings; Korean's, and its "changed to X" ("…로 변경").
const COPULAS = ['です', 'でした', 'となります', 'になります', 'でございます', 'に変更', '입니다', '이다', '이에요', '예요', '임', '로 변경', '으로 변경'];
const TOPIC_ENDINGS = ['だ', '요', '이며', '이고', 'ครับ', 'ค่ะ', 'คะ', 'นะ'];
/**
 * What may follow a glued link's value: the text's end, a blank, punctuation, or the sentence's
 * copula or polite ending ("…です", "…입니다", "…ครับ"). Anything else makes the run no value but a
 * clause's word, the topic particle's other uses: "パスワードはuser01さんが変更しました" (user01
 * changed it), "密码为user01生成" (为, for), "비밀번호는 admin01님이 변경했습니다".
 */
let gluedFollowRe: RegExp | null = null;
const GLUED_FOLLOW = () => (gluedFollowRe ??= new RegExp(String.raw`$|\s|${UNSPACED_PUNCTUATION.source}|${wordsSource([...COPULAS, ...TOPIC_ENDINGS])}`, 'uy'));

/** After a subject's particle: a copula, or "changed to" ("パスワードがXに変更されました", "비밀번호가 X로 변경되었습니다"). */
let subjectFollowRe: RegExp | null = null;
const SUBJECT_FOLLOW = () => (subjectFollowRe ??= new RegExp(wordsSource(COPULAS), 'uy'));

/**
 * Where a glued link's value that starts at `p` ends, or -1 when there is none: the run up to a
 * blank, a letter of the languages that glue, or their punctuation before one of those or the end
 * (a password may hold a "、", an address "::": "Zq8v、T2xk9", "2001:db8::1"), and then only before what
 * GLUED_FOLLOW allows.
 */
function gluedRunEnd(text: string, p: number, after: GluedFollow): number {
  let e = p;
  while (e < text.length && e - p <= MAX_VALUE) {
    const c = text[e]!;
    if (/\s/.test(c) || UNSPACED_LETTER.test(c)) break;
    if (UNSPACED_PUNCTUATION.test(c)) {
      const next = text[e + 1];
      if (next === undefined || /\s/.test(next) || UNSPACED_LETTER.test(next)) break;
    }
    e++;
  }
  if (e === p || e - p > MAX_VALUE) return -1;
  const follow = after === 'copula' ? SUBJECT_FOLLOW() : GLUED_FOLLOW();
  follow.lastIndex = e;
  if (follow.test(text)) return e;
  if (after === 'copula') return -1;
  // Punctuation before a digit went on ("Zq8vT2xk9，5分钟内有效"): the value ends at the run's last one.
  for (let k = e - 1; k > p; k--) if (UNSPACED_PUNCTUATION.test(text[k]!)) return k;
  return -1;
}

// An unquoted value holding a URL with a user is read by urlPassword.ts's rules: read as prose's it would be cut
// where those read on ("password is DATABASE_URL=mysql://root:Zq8v%20T2xk9@db", its blank decoded).
const URL_IN_VALUE = /[A-Za-z][\w+.-]*:\/\/[^\s@/]*[:@]/;
const NAMED_IN_VALUE = /^(?:[A-Za-z_][\w.-]{0,58}[_.-])?(?:password|passwd|pwd|pass|pw)=(?=[^=])/i;
// An HTML element around the value, as reset e-mails set it ("is: <strong>X</strong>").
const OPENING_TAG = /<(?:b|strong|em|i|u|code|kbd|samp|tt|mark|span)(?:\s[^<>]{0,64})?>/iy;

/** The value after a prose link ending at `v`: what brackets or quotes hold, else a word, and for a glued link its run (gluedRunEnd). */
function proseValue(text: string, v: number, glued: GluedFollow | null, scans: Scans): ValueSpan | null {
  // What an element, brackets or quotes hold, when it is a password; else the word as written,
  // brackets and all (a closer may be one of its characters: "„Zq8v”T2xk9“", "«Zq8v»T2xk9»").
  const held = heldValue(text, v);
  if (held !== null && isPasswordValue(text.slice(held.start, held.end), true)) return held;
  let value: ValueSpan | null;
  if (glued !== null && !isQuote(text[v])) {
    const end = gluedRunEnd(text, v, glued);
    value = end === -1 ? null : { start: v, end, quoted: false };
  } else value = valueAt(text, v, 'plain', scans);
  if (value === null || (!value.quoted && URL_IN_VALUE.test(text.slice(value.start, value.end)))) return null;
  // A password's name and its value ("my password is pwd=483920"): the value is what follows it, as
  // the name's own reading has it, so its repeats are masked too; only when that is a password, and
  // the name a whole password name ("Monkey=123abcXY", "Passw0rd=1" are passwords whole).
  const named = value.quoted ? null : NAMED_IN_VALUE.exec(text.slice(value.start, value.end));
  if (named !== null && isPasswordValue(text.slice(value.start + named[0].length, value.end), false)) value.start += named[0].length;
  withoutFullStop(text, value);
  return value;
}

/** The value an HTML element, brackets or quotes at `v` hold (see CLOSING_OF), or null. */
function heldValue(text: string, v: number): ValueSpan | null {
  let p: number;
  let closers: string | undefined;
  OPENING_TAG.lastIndex = v;
  if (OPENING_TAG.test(text)) {
    p = OPENING_TAG.lastIndex;
    closers = '<';
  } else {
    closers = CLOSING_OF[text[v] ?? ''];
    p = v + 1;
  }
  if (closers === undefined) return null;
  // Within a value's length: a search to the text's end for every opening bracket would be quadratic.
  const held = text.slice(p, p + MAX_VALUE);
  let end = -1;
  for (const c of closers) {
    const at = held.indexOf(c);
    if (at !== -1 && (end === -1 || at < end)) end = at;
  }
  if (end === -1 || /[\r\n]/.test(held.slice(0, end))) return null;
  let start = p;
  let stop = p + end;
  while (start < stop && /\s/.test(text[start]!)) start++;
  while (stop > start && /\s/.test(text[stop - 1]!)) stop--;
  return stop > start ? { start, end: stop, quoted: true } : null;
}

/** The value given to the name at [nameStart, nameEnd), or null; `prose`: the language of its prose links, if it has any. */
const PERCENT_OPEN_BRACKET = /%5b$/i;
const PERCENT_CLOSE_BRACKET = /^%5d$/i;

function valueOfName(text: string, nameStart: number, nameEnd: number, scans: Scans, prose: string | null = null): ValueSpan | null {
  const before = text[nameStart - 1];
  const flag = text[nameStart] === '-';
  let p = nameEnd;
  // Markdown's bold around the name ("**Password**:").
  p = skipRun(text, p, 2, isStar);
  if (isQuote(before) && text[p] === before) {
    p++;
    if (text[p] === ']') p++;
    // A call's first argument, its value the second ("define('DB_PASSWORD', 'x')").
    const comma = skipRun(text, p, MAX_PAD, isSpace);
    if (text[comma] === ',' && text[skipBackRun(text, nameStart - 1, MAX_PAD, isSpace) - 1] === '(') {
      const v = skipRun(text, comma + 1, MAX_PAD, isSpace);
      if (isQuote(text[v])) return valueAt(text, v, 'json', scans);
    }
  }
  // A form's bracketed parameter (Rails' and PHP's "user[password]=X", "form[_password]=X"), its
  // brackets percent-encoded as a form body sends them ("user%5Bpassword%5D=X").
  if (before === '[' && text[p] === ']') p++;
  else if (PERCENT_CLOSE_BRACKET.test(text.slice(p, p + 3)) && PERCENT_OPEN_BRACKET.test(text.slice(nameStart - 1, nameStart + 2))) p += 3;
  if (before === '<' && text[p] === '>') return valueAt(text, p + 1, 'xml', scans);
  // A JSON Patch's path ("/password", "/users/0/password"): its value only as a pair's.
  const pointer = before === '/';
  if (pointer) {
    if (text[p] !== '"') return null;
    p++;
  }
  // A JSON record naming the password, its values in the members after the name.
  // A pointer's value only there: a path after any other key is a route's ("/account/password").
  if (pointer) return pairMembers(text, nameStart, p, scans, true) ?? null;
  if (isQuote(before) && text[p - 1] === before) {
    const members = pairMembers(text, nameStart, p, scans, false);
    if (members !== undefined) return members;
  }
  const context = contextOf(text, nameStart);
  VALUE_LINK.lastIndex = p;
  const pair = VALUE_LINK.exec(text);
  if (pair !== null) {
    const v = p + pair[0].length;
    return keyValue(text, v, v, context, scans, '');
  }
  const afterPad = skipRun(text, p, MAX_PAD, isPad);
  const c = text[afterPad];
  const c2 = text[afterPad + 1];
  let op = '';
  if (c === ':' && c2 === '=') op = ':=';
  else if (c === '=' && c2 === '>') op = '=>';
  else if (c === '=' && c2 !== '=') op = '=';
  // Not a scope ("Password::Create") nor a URL ("password://").
  else if (c === ':' && c2 !== ':' && c2 !== '/') op = ':';
  // An audit diff's "password: changed from X to Y", "password: reset to X": the verb after the colon.
  if (op === ':') {
    const set = setLinkAfter(text, afterPad + 1);
    if (set !== -1) return proseLinkValue(text, afterPad, set, scans);
  }
  if (op !== '') {
    const v = skipRun(text, afterPad + op.length, MAX_PAD, isPad);
    const change = changeValues(text, v, scans);
    if (change !== undefined) return change;
    if (op !== ':') return withArrowChange(text, valueAt(text, v, context, scans, op), context, scans, op);
    // A mapping nested under the name ("password:" then "  required: true", normalized onto one
    // line): its first key is no value.
    NEXT_KEY.lastIndex = v;
    const child = context === 'line' ? NEXT_KEY.exec(text) : null;
    if (child === null) return withArrowChange(text, keyValue(text, nameStart, v, context, scans, op), context, scans, op);
    if (!CHILD_VALUE.test(child[1]!)) return null;
    return keyValue(text, v, skipRun(text, v + child[0].length, MAX_PAD, isPad), context, scans, op);
  }
  // A .netrc's "machine host login bob password X": the word after a space, after a login.
  if (afterPad === p + 1 && text[p] === ' ' && NETRC_LOGIN.test(text.slice(Math.max(0, nameStart - MAX_NAME - 8), nameStart)))
    return valueAt(text, afterPad, 'plain', scans);
  // A flag's value after a space ("--password X"); its value must pass the same rules.
  if (flag && afterPad > p && afterPad - p <= 4) return valueAt(text, afterPad, 'plain', scans);
  // SQL's "WITH PASSWORD 'x'", "ALTER USER u PASSWORD 'x'": the bare word, a blank, a quoted value.
  if (afterPad === p + 1 && isQuote(c) && nameEnd - nameStart === 8 && /^password$/i.test(text.slice(nameStart, nameEnd)))
    return valueAt(text, afterPad, 'plain', scans);
  if (prose !== null) {
    const links = proseLinks(prose);
    links.spaced.lastIndex = p;
    if (links.spaced.test(text)) {
      const value = proseLinkValue(text, p, links.spaced.lastIndex, scans);
      // After a word that also means on, for or as ("modifié sur srv-02"): only a value whose shape or quotes say password.
      if (
        value !== null &&
        links.strongEnd?.test(text.slice(p, links.spaced.lastIndex)) === true &&
        !value.quoted &&
        !STRONG_SHAPE.test(text.slice(value.start, value.end))
      )
        return null;
      return value;
    }
    const glued = gluedLinkAt(text, p, prose);
    if (glued !== null) return proseValue(text, p + glued.length, glued.follow, scans);
  }
  // "pw reset to X", "DB_PASS changed to X": the verbs after a name prose reads no other link of.
  else {
    const set = setLinkAfter(text, p);
    const value = set === -1 ? null : proseLinkValue(text, p, set, scans);
    // "pass", "pw" and "pwd" alone are a stage's, Playwright's, a shell's as often ("pwd reset to
    // build-2024", "pass set to stage2"): after them, only a value whose shape or quotes say password.
    if (value !== null && SHORT_NAME.test(text.slice(nameStart, nameEnd)) && !value.quoted && !STRONG_SHAPE.test(text.slice(value.start, value.end)))
      return null;
    if (value !== null) return value;
  }
  // "Admin reset the password to X", "reset my pw to X": after any name, "pass" and "pw" too.
  const to = setLinkEnd(text, nameStart, p);
  return to === -1 ? null : proseLinkValue(text, p, to, scans);
}

/**
 * A change's arrow after an assigned value: Terraform's plan (`~ password = "A" -> "B"`), a diff's
 * `=>` or `→`. The new value is read as the old one was, as `next` (the old one may be empty, null or
 * hidden: `"" -> "B"`, `"********" -> "B"`); after a quoted old value, only a new one in the same
 * quotes (a quote closing a string around the assignment, `'password = "a1" -> '`, starts no value).
 */
const CHANGE_ARROW = /["'`]?[ \t]{1,4}(?:->|=>|→)[ \t]{1,4}/y;
/** Where the new value starts after a change's arrow at `end` (CHANGE_ARROW), or -1. */
function afterArrow(text: string, end: number): number {
  CHANGE_ARROW.lastIndex = end;
  return CHANGE_ARROW.test(text) ? CHANGE_ARROW.lastIndex : -1;
}
function withArrowChange(text: string, value: ValueSpan | null, context: Context, scans: Scans, op: string): ValueSpan | null {
  if (value === null || value.next !== undefined || value.block === true) return value;
  const v = afterArrow(text, value.end);
  if (v === -1) return value;
  const quote = value.quoted && isQuote(text[value.end]) ? text[value.end] : null;
  if (quote !== null && text[v] !== quote) return value;
  const next = valueAt(text, v, context, scans, op);
  if (next !== null) value.next = next;
  return value;
}

/**
 * The keys a change's object gives its old and new values under (`{"old": A, "new": B}`, `from`/`to`,
 * `before`/`after`, `old_value`/`newValue`), or the value itself (`{"value": X}`, `plaintext`, Prisma's
 * update `{"set": X}`). Other
 * members are passed over (`changed_at`); a schema's (`type`, `minLength`) give nothing.
 */
const CHANGE_KEY = /^(?:old|new|from|to|before|after|prev|previous|current|original|value|set|plain(?:text)?|(?:old|new|prev|previous|current)[_-]?value)$/i;
/** A record's keys for the value of the field it names ("value", "old_value", "newValue"): PAIR_VALUE_KEY. */
const PAIR_KEY = new RegExp(String.raw`^${PAIR_VALUE_KEY}$`, 'i');
/** A member's key, quoted or not (YAML's flow mapping), and its colon. */
const MEMBER_KEY = /[ \t]{0,8}(["']?)([A-Za-z_][\w-]{0,31})\1[ \t]{0,8}:[ \t]{0,8}/y;
/** Members read of an object; a change log's array holds two values (old, new) at most. */
const MAX_MEMBERS = 8;
const MAX_CHANGE_VALUES = 2;
/** A validation rule with its arguments ("min:12", "max:255"): an array holding one is a rules list, no change. */
const RULE_WITH_ARGUMENTS = /^[a-z_]+:[\w,.|-]+$/;

/** The values members hold under the keys taken, chained by `next`, and where the reading ended (after the closing bracket, or -1 when it stopped before one). */
interface Members {
  first: ValueSpan;
  last: ValueSpan;
  end: number;
}

/**
 * The members of an object (`open` "{", from `k` after the brace or after a member's comma) or an
 * array ("[") up to its close: the values of the keys `take` takes (every element of an array). An
 * array holds at most two values, none a rule with arguments, or it is no change (undefined). An
 * object's reading stops at its eighth member or at one it cannot read (a nested object), keeping the
 * values taken before. Undefined when nothing was taken.
 */
function readMembers(text: string, k: number, open: '{' | '[', scans: Scans, take: (key: string) => boolean): Members | undefined {
  const close = open === '{' ? '}' : ']';
  const values: ValueSpan[] = [];
  let end = -1;
  for (let members = 0; members < (open === '{' ? MAX_MEMBERS : MAX_CHANGE_VALUES + 1); members++) {
    let taken = true;
    if (open === '{') {
      MEMBER_KEY.lastIndex = k;
      const key = MEMBER_KEY.exec(text);
      if (key === null) break;
      taken = take(key[2]!);
      k = MEMBER_KEY.lastIndex;
    } else k = skipRun(text, k, MAX_PAD, isPad);
    let value: ValueSpan;
    if (isQuote(text[k])) {
      const quoteEnd = scans.closingQuote(k);
      if (quoteEnd === -1) break;
      value = { start: k + 1, end: quoteEnd, quoted: true };
      k = quoteEnd + 1;
    } else {
      // A scalar (null, a number, YAML's unquoted value) up to the next member or the end.
      let e = k;
      while (e < text.length && e - k <= MAX_VALUE && !',}]{['.includes(text[e]!)) e++;
      if (e - k > MAX_VALUE || text[e] === '{' || text[e] === '[') break;
      let valueEnd = e;
      while (valueEnd > k && isBlank(text[valueEnd - 1])) valueEnd--;
      value = { start: k, end: valueEnd, quoted: false };
      k = e;
    }
    if (open === '[' && RULE_WITH_ARGUMENTS.test(text.slice(value.start, value.end))) return undefined;
    if (taken && value.end > value.start) values.push(value);
    k = skipRun(text, k, MAX_PAD, isPad);
    if (text[k] === close) {
      end = k + 1;
      break;
    }
    if (text[k] !== ',') break;
    k++;
  }
  if (values.length === 0 || (open === '[' && end === -1)) return undefined;
  for (let i = values.length - 1; i > 0; i--) values[i - 1]!.next = values[i];
  return { first: values[0]!, last: values[values.length - 1]!, end };
}

/**
 * The values of a change under a password's name: an object's (CHANGE_KEY: `{"old": "A", "new":
 * "B"}`, `{old: A, new: B}`) or an array's of at most two (a change log's `["A", "B"]`, `[null, "B"]`),
 * chained by `next`, and the new one after an arrow past it (`[REDACTED] -> B`); undefined when the
 * value is neither or holds none (then read as before: a structure is no value). Each value is judged
 * by the name's rules afterwards, so `null`, `"********"` and `"[REDACTED]"` are none.
 */
function changeValues(text: string, v: number, scans: Scans): ValueSpan | undefined {
  const members = changeMembers(text, v, scans);
  if (members === undefined) return undefined;
  // One arrow past the bracket (old -> new), not a chain: a chain of a hostile text's arrows would
  // read without end (an attacker review's 44 KB of "[a] -> " took the stack).
  const w = members.end === -1 ? -1 : afterArrow(text, members.end);
  if (w !== -1) {
    const next = changeMembers(text, w, scans)?.first ?? valueAt(text, w, 'plain', scans);
    if (next !== null) members.last.next = next;
  }
  return members.first;
}

/** An object's or array's change values at `v` (readMembers), or undefined. */
function changeMembers(text: string, v: number, scans: Scans): Members | undefined {
  const open = text[v];
  return open === '{' || open === '[' ? readMembers(text, v + 1, open, scans, (key) => CHANGE_KEY.test(key)) : undefined;
}

/**
 * A JSON record's key naming the field its other members give values of: `{"field": "password",
 * "old": A, "new": B}` (Django's, Azure's `displayName`, an ORM's `column`). After one of these, a
 * change's keys (CHANGE_KEY) give the field's values; after any other, only PAIR_KEY's ("value",
 * "old_value", "newValue"); after a JSON Patch's "path", only "value" ("from" is a pointer there).
 */
const FIELD_KEY_BEFORE = /["']?(?:field|field_?name|attribute|attr|column|name|key|property|prop|setting|display_?name)["']?[ \t]{0,8}:[ \t]{0,8}$/i;
const PATH_KEY_BEFORE = /["']path["'][ \t]{0,8}:[ \t]{0,8}$/i;
const MAX_KEY_BEFORE = 32;

/**
 * The values the members after a JSON record's name give (`{"field": "password", "old_value": null,
 * "changed_at": "...", "new_value": "B"}`; a JSON Patch's `{"path": "/password", "value": "B"}`), read
 * from `p` after the name's closing quote; undefined when the name is followed by no member or none
 * gives a value.
 */
function pairMembers(text: string, nameStart: number, p: number, scans: Scans, pointer: boolean): ValueSpan | undefined {
  const k = skipRun(text, p, MAX_PAD, isPad);
  if (text[k] !== ',') return undefined;
  const quoteAt = pointer ? text.lastIndexOf('"', nameStart - 1) : nameStart - 1;
  const before = text.slice(Math.max(0, quoteAt - MAX_KEY_BEFORE), quoteAt);
  if (pointer && !PATH_KEY_BEFORE.test(before)) return undefined;
  const field = !pointer && FIELD_KEY_BEFORE.test(before);
  const take = pointer ? (key: string) => /^value$/i.test(key) : field ? (key: string) => CHANGE_KEY.test(key) : (key: string) => PAIR_KEY.test(key);
  return readMembers(text, k + 1, '{', scans, take)?.first;
}

/**
 * Where "to" after the name at [nameStart, p) ends, when a verb of SET_VERB's stands before the name
 * (SET_BEFORE); else -1.
 */
function setLinkEnd(text: string, nameStart: number, p: number, owned = false): number {
  TO_LINK.lastIndex = p;
  if (!TO_LINK.test(text)) return -1;
  const before = owned ? SET_BEFORE_OWNED : SET_BEFORE;
  before.lastIndex = nameStart;
  return before.test(text) ? TO_LINK.lastIndex : -1;
}

/** Where a verb that sets a password ends after the name ending at `p` (SET_TO_SOURCE: "pw reset to X"), or -1. */
function setLinkAfter(text: string, p: number): number {
  SET_LINK.lastIndex = p;
  return SET_LINK.test(text) ? SET_LINK.lastIndex : -1;
}

/**
 * "to", maybe after a clause ("reset the password for db-prod-2 to X", "on db-prod-2", "of bob"),
 * "back to", "to be", "from" (a diff's: "changed the password from X to Y"): the link of a verb before
 * the word (SET_BEFORE).
 */
const TO_LINK =
  /[ \t]{1,4}(?:(?:for|on|of|in|at)[ \t]{1,4}(?:[^\s=:]{1,32}[ \t]{1,4}){1,5}?)?(?:(?:back[ \t]{1,4})?to(?:[ \t]{1,4}be)?|from)(?:[ \t]{0,4}:[ \t]{0,4}|[ \t]{1,4})/iy;
/**
 * A verb of SET_VERB's (or its present form: "set", "resetting", "change", "rotate") ending at most
 * three words before the word, one blank apart and with no punctuation between ("reset bob's
 * password", "reset j.doe's password", "set the new root password"; not "Settings updated. Password":
 * a word may hold a dot, not end in one; nor across a line break, which the normalizer writes as two
 * blanks). A lookbehind tried at the name's start: read backwards from there, its cost is its own
 * length, whatever the text before.
 */
const SET_BEFORE = new RegExp(String.raw`(?<=(?<![\p{L}\p{N}_])(?:${SET_VERB_FORMS})(?:[ \t](?:[^\s,;:!?]{0,31}[^\s.,;:!?])){0,3}[ \t])`, 'iuy');
/**
 * The verb before "pass" alone, which names a boarding, season or hall pass as often: only with an
 * owner right before it ("reset my pass to X"; not "changed my boarding pass to BA2490").
 */
const SET_BEFORE_OWNED = new RegExp(
  String.raw`(?<=(?<![\p{L}\p{N}_])(?:${SET_VERB_FORMS})[ \t](?:my|your|the|his|her|their|our)[ \t](?:(?:new|temporary|temp|old|current)[ \t])?)`,
  'iuy',
);
/** A link ending in "to" names whom a message went to as often as what a password became: an address after it is no value. */
const ENDS_IN_TO = /to[ \t]*:?[ \t]*$/i;
/** "changed from X to Y": the link ends in "from", and "to" (or an arrow) after the old value leads to the new. */
const ENDS_IN_FROM = /from[ \t]*:?[ \t]*$/i;
const FROM_TO_LINK = /[\p{Pf}\p{Pe}'"`]?(?:[ \t]{0,4},)?[ \t]{1,4}(?:to|->|=>|→)(?:[ \t]{0,4}:[ \t]{0,4}|[ \t]{1,4})/uy;
/**
 * A link that sets a value (SET_TO_SOURCE, TO_LINK, another language's `set`: "redefinida para", "wurde
 * auf"): its value is read more strictly than after "is" (setValueOk). A whole word: "was" ends in
 * "as", and sets nothing; no language's "is" or "now" is one of these words.
 */
let setsAValueRe: RegExp | null = null;
const SETS_A_VALUE = () => {
  if (setsAValueRe !== null) return setsAValueRe;
  // English's own ends (SET_TO_SOURCE, TO_LINK), every language's `set` words, each future's last word ("be", "sera").
  const ends = ['to', 'into', 'as', 'from', 'be', 'following', 'value', 'code', 'password', 'one', 'credential', 'credentials'];
  for (const words of Object.values(PROSE_LINK_WORDS)) {
    if (words.set !== undefined) ends.push(...words.set.to, ...words.set.strongTo);
    for (const future of words.future ?? []) ends.push(future.split(' ').at(-1)!);
  }
  return (setsAValueRe = new RegExp(String.raw`(?<![\p{L}\p{N}])(?:${wordsSource(ends)})[ \t]*:?[ \t]*$`, 'iu'));
};
/**
 * What prose sets a password's policy to, not a password: a number and its unit, then words only
 * ("6-digit PIN", "90-day", "16chars", "10char-min", "1st-login", "2FA-enabled", "10req/min", "2024Q3",
 * "1200px"), a quarter ("Q2-2024"), a service desk's ticket ("INC0012345", "INC-20391"). Each has a
 * password's shape; whole values only: "7s3cr3t!", "4x4-Truck", "1st-Avenue!" are passwords. And a
 * technical name with a participle or an adjective after a hyphen ("will be SHA256-hashed", "should be
 * Base64-encoded", "v2-compatible", "Win11-ready"); only those: "Hunter2-protected", "Welcome1-Red" are
 * passwords.
 */
const POLICY_VALUE =
  /^\d+[-_ ]?(?:st|nd|rd|th|fa|q[1-4]|digits?|chars?|characters?|letters?|symbols?|numbers?|words?|days?|d|weeks?|wk|months?|mo|years?|yr|hours?|hrs?|h|mins?|minutes?|secs?|seconds?|s|ms|us|µs|ns|req|reqs|requests?|times|x|attempts?|tries|retries|bits?|bytes?|kb|mb|gb|factor|steps?|px|pt|em|rem|dpi|ppi|hz|khz|mhz|ghz)(?:[-_/][a-z]+)*$|^q[1-4][-_ ]?\d{2,4}$|^(?:inc|chg|ritm|req|prb|task|sr|cs)-?\d{5,}$|^(?:sha-?\d*|md5|base\d+|v\d+(?:\.\d+)*|bcrypt\d*|aes-?\d*|pbkdf2|argon2\w*|scrypt|utf-?8|fips\d*|iso\d+|pci(?:-dss)?\d*|mfa\d*|2fa|win\d+|tls\d*(?:\.\d+)?|ssl\d*)-(?:hashed|encoded|salted|encrypted|enabled|compatible|compliant|ready|backed|protected|based|only|safe|aware|capable)$/i;
/**
 * What else a verb sets a password's field to, no password: an English contraction ("to what's in
 * the vault"), a path or a git reference in lower case ("origin/main", "secret/data/prod", "HEAD~1"),
 * a Wi-Fi security mode ("WPA3-SAE"), a password hashing method ("scram-sha-256").
 */
const SET_NON_VALUE = /^[a-z]+'[a-z]{1,2}$|^[a-z0-9._-]+(?:\/[a-z0-9._-]+)+$|^[A-Za-z]+~\d+$|^wpa[23]?(?:-[a-z]+)*$|^scram-sha-\d+$/i;
/**
 * A value whose shape alone says password: a symbol (besides the joiners of names and paths) with a
 * letter and a digit ("Kot!2024x", "7s3cr3t!"), or quoted, bracketed or in an element. Whatever follows
 * it, it is one; a value of letters, digits and joiners only ("Hunter2Secret", "vault-2024") must end
 * its phrase (PHRASE_GOES_ON).
 */
const STRONG_SHAPE = /^(?=.*[^\p{L}\p{N}\-_/.~'])(?=.*\p{L})(?=.*\p{N})/u;
/**
 * A word after a value of letters, digits and joiners that continues the value's own phrase: "rotated
 * to vault-2024 path", "reset to default-2024 policy", "reset to INC-20391 per request" set no
 * password. A blank then a plain word (letters only, ending at a blank, punctuation or the text's
 * end), but not one that starts another clause or closes a message ("reset to X and", "by admin",
 * "please", "thanks", "yesterday"). Anything else after the value ends its phrase: the text's end,
 * punctuation, markup, a line break (two blanks, as normalized), a tab, "user=bob".
 */
const PHRASE_GOES_ON =
  /[ ](?!(?:and|or|but|for|by|on|at|in|via|from|with|please|pls|plz|so|then|until|which|that|successfully|now|today|yesterday|earlier|again|as|after|before|since|because|when|if|you|your|use|log|login|sign|to|thanks|thank|thx|ty|cheers|ok|okay|done|here|btw|lmk|let|kindly|regards|best|sent|click|username|user|temporarily|asap|exactly|all|without|lol|hope|is|was|it|i|we|per|fyi|too|also|everywhere|initially|instead|tonight|tomorrow|once|effective|haha|remember|zurückgesetzt|zuruckgesetzt|zurueckgesetzt|gesetzt|festgelegt|et|ou|y|e|en|und|oder|merci|danke|bitte|gracias|obrigado|obrigada|grazie|bedankt|par|por|pour|door|von)(?![\p{L}\p{N}]))\p{L}+(?=$|[\s.,;:!?)\]}])/iuy;

/** Whether a value a verb set is one (SETS_A_VALUE): no policy nor other non-value, and a strong shape or the end of its phrase. */
function setValueOk(text: string, value: ValueSpan, raw: string): boolean {
  if (POLICY_VALUE.test(raw) || SET_NON_VALUE.test(raw)) return false;
  if (value.quoted || STRONG_SHAPE.test(raw)) return true;
  // Before the sentence's end the value kept ("Can you change my password to X? I typed X twice").
  let end = value.end;
  while (end > value.start + 1 && SENTENCE_END_MARKS.includes(text[end - 1]!)) end--;
  PHRASE_GOES_ON.lastIndex = end;
  return !PHRASE_GOES_ON.test(text);
}
/** The punctuation a sentence may end on right after a value it ends with (detect.ts reads repeats without it too). */
export const SENTENCE_END_MARKS = '?!.,;:…';

/**
 * The value after the prose link at [linkStart, v) (proseValue). After a link that sets one
 * (SETS_A_VALUE; `verbs` false: the link is no English verb), none that sets a policy or does not end
 * its phrase (setValueOk), nor an address after "to" (a recipient). After one ending in "from", the
 * old value with the new one after its "to" as `next` (the new one alone when the old one is a
 * policy); with no "to", the old value only when its shape or quotes say password.
 */
function proseLinkValue(text: string, linkStart: number, v: number, scans: Scans, verbs = true): ValueSpan | null {
  const value = proseValue(text, v, null, scans);
  const link = text.slice(linkStart, v);
  if (ENDS_IN_FROM.test(link)) {
    // To the end of the old value's word: its closing quote or marks, or the word itself when it is
    // none at all ("from ******** to X", "from \"\" to X").
    let oldEnd = value?.end ?? v;
    while (oldEnd < text.length && oldEnd - v < MAX_VALUE && !/\s/.test(text[oldEnd]!)) oldEnd++;
    FROM_TO_LINK.lastIndex = oldEnd;
    // With no "to" after it, "from" names a host as often ("changed from host01"): only a value whose
    // shape or quotes say password ("Password changed from Kot!2024x").
    if (!FROM_TO_LINK.test(text))
      return value !== null && (value.quoted || STRONG_SHAPE.test(text.slice(value.start, value.end))) && !POLICY_VALUE.test(text.slice(value.start, value.end))
        ? value
        : null;
    const next = proseLinkValue(text, oldEnd, FROM_TO_LINK.lastIndex, scans);
    if (value === null || POLICY_VALUE.test(text.slice(value.start, value.end))) return next;
    if (next !== null) value.next = next;
    return value;
  }
  if (value === null) return null;
  const raw = text.slice(value.start, value.end);
  if (!verbs || !SETS_A_VALUE().test(link)) return value;
  if (!setValueOk(text, value, raw)) return null;
  if (!ENDS_IN_TO.test(link)) return value;
  const address = detectEmails(raw);
  return address.length === 1 && address[0]!.start === 0 && address[0]!.end === raw.length ? null : value;
}

/**
 * The value of the key on the line holding `keyAt`, at `v` after its ":" (or "="): a block scalar's
 * (blockScalarValue, the written text's), else the value on the line. A block indicator standing
 * alone is a header whose value no line after it gave (`password: |` then a line indented no further;
 * normalized, where the indentation is lost: `password: | user: bob`), so no value; one joined to
 * more is a value (`password: |\Zq8v...`).
 */
function keyValue(text: string, keyAt: number, v: number, context: Context, scans: Scans, op: string): ValueSpan | null {
  const block = blockScalarValue(text, keyAt, v);
  if (block !== null) return block;
  BLOCK_INDICATOR.lastIndex = v;
  if (!BLOCK_INDICATOR.test(text)) return valueAt(text, v, context, scans, op);
  // One blank, then more on the line: no header but a value after the indicator, as written
  // ("password: >- Zq8v..."; normalized, a break after ">-" reads as one blank too, and its value is
  // the same). Not a next key ("password: >-" then "username: bob").
  const after = BLOCK_INDICATOR.lastIndex + 1;
  NEXT_KEY.lastIndex = after;
  return isPad(text[after - 1]) && !isBlank(text[after]) && after < text.length && !NEXT_KEY.test(text) ? valueAt(text, after, context, scans, op) : null;
}

/** A key starting the next line of a mapping ("required:", "description:"), see valueOfName. */
const NEXT_KEY = /([A-Za-z_][\w.-]{0,63}):(?=[ \t\r\n]|$)/y;
/** A child key that holds the value itself ("password:" then "  value: ..."), read by the name's rules. */
const CHILD_VALUE = /^(?:value|default|plain(?:text)?|secret|data|text|string)$/i;

// A YAML block scalar's header and the line break after it: maybe a tag and an anchor ("!!str",
// "&pw"), its indicator ("|", ">-", "|2", "|+"), maybe a comment, then a break, raw or a JSON
// string's escaped one ("\n", "\\n" in JSON inside JSON). One grammar: read after a name's ":"
// (BLOCK_HEADER) and, after any key's ":", the written pass's gate (BLOCK_GATE).
const BLOCK_INDICATOR_SOURCE = String.raw`[|>](?:[1-9][+-]?|[+-][1-9]?)?`;
const BLOCK_HEADER_SOURCE =
  String.raw`(?:(?:!!?[\w-]{0,32}|&[\w-]{1,32})[ \t]{1,4}){0,2}` +
  BLOCK_INDICATOR_SOURCE +
  String.raw`(?:[ \t]{1,32}#[^\r\n]{0,256}?|[ \t]{0,32})(?:\r\n?|\n|\\{1,8}[rn])`;
const BLOCK_HEADER = new RegExp(BLOCK_HEADER_SOURCE, 'y');
/** An indicator standing alone: a header, its value (if any) on a later line. */
const BLOCK_INDICATOR = new RegExp(BLOCK_INDICATOR_SOURCE + String.raw`(?=[ \t\r\n]|\\[rn]|$)`, 'y');
// A key may end in a letter of any script ("пароль: |", "密码: |").
const BLOCK_GATE = new RegExp(String.raw`[\w.\-\p{L}\p{M}]["']?[ \t]{0,32}:[ \t]{0,32}` + BLOCK_HEADER_SOURCE, 'u');
/** Blank lines a block scalar's value may follow its header by. */
const MAX_BLANK_LINES = 4;
/** Indentation read; deeper than any YAML written by hand or by a tool. */
const MAX_INDENT = 128;
/** How far back the start of a key's line is looked for (lineIndent). */
const MAX_LINE = 256;

/**
 * The length of the line break at `k`, or 0: raw (CR LF, LF, CR) when `slashes` is 0, else escaped
 * with that many backslashes ("\n" in a JSON string, "\\n" in JSON inside one).
 */
function lineBreakAt(text: string, k: number, slashes: number): number {
  if (slashes === 0) return text[k] === '\r' ? (text[k + 1] === '\n' ? 2 : 1) : text[k] === '\n' ? 1 : 0;
  let j = k;
  while (j - k < slashes && text[j] === '\\') j++;
  return j - k === slashes && (text[j] === 'n' || text[j] === 'r') ? slashes + 1 : 0;
}

/**
 * Whether the string a block scalar's escaped line stands in closes at `k`: a quote behind exactly
 * one backslash fewer than the line break's (`"` in a JSON string, `\"` in JSON inside one), those
 * backslashes starting at `k`; a single quote only before no word's character (a Python repr's
 * `'...'`, where `"` may stand inside).
 */
function closesString(text: string, k: number, slashes: number): boolean {
  if (isBackslash(text[k - 1])) return false;
  const quote = skipRun(text, k, MAX_ESCAPES, isBackslash);
  const c = text[quote];
  if ((c !== '"' && c !== "'") || !delimitsString(quote - k, slashes)) return false;
  return c === '"' || !continuesWord(text[quote + 1]);
}

/** Backslashes read before a quote. */
const MAX_ESCAPES = 16;

/**
 * Whether a quote behind `run` backslashes opens or closes the string a break of `slashes`
 * backslashes stands in, or one around it: each level doubles the backslashes (a literal one is
 * `\\\\` one level down) and adds one, so a level-j delimiter's run is 2^j - 1 plus a multiple of
 * 2^(j+1), i.e. the lowest set bit of run + 1 is 2^j; a deeper string's quote (`\\\"` inside
 * JSON inside JSON) is none.
 */
function delimitsString(run: number, slashes: number): boolean {
  const r = run + 1;
  return (r & -r) <= slashes;
}

/** Whether the quote at `q` opens or closes a string at or around the level `slashes` stands in (delimitsString). */
function quoteDelimits(text: string, q: number, slashes: number): boolean {
  if (text[q] !== '"' && text[q] !== "'") return false;
  return delimitsString(q - skipBackRun(text, q, MAX_ESCAPES, isBackslash), slashes);
}

/**
 * The indentation of the line holding `p` (its leading blanks), its start looked for up to MAX_LINE
 * back. In a string (`slashes` > 0, its breaks escaped), the line starts at the string's opening
 * quote too: the JSON line's own indentation around it is none of the YAML's.
 */
function lineIndent(text: string, p: number, slashes: number): number {
  let k = p;
  while (k > 0 && p - k < MAX_LINE && !breakBefore(text, k) && !(slashes > 0 && quoteDelimits(text, k - 1, slashes))) k--;
  return skipRun(text, k, MAX_INDENT, isPad) - k;
}

/**
 * A YAML block scalar's value (`password: |`, then the value on the next line, indented more than the
 * line holding `keyAt`; BLOCK_HEADER at `from`), or null when no header stands there: that line,
 * after up to MAX_BLANK_LINES blank ones. Only the text as written has the line break and the
 * indentation (normalized, a break and the blanks around it read as blanks, whatever the
 * indentation), so detectWrittenNamedPasswords keeps these findings. A line indented no further ends
 * the scalar empty (`password: |` then `user: bob`). An escaped break's line ends where its string
 * does too (closesString): the fields after it are no part of it. With blanks, the line is judged as
 * a quoted value (a passphrase's rules) when it is one, else its first word is the value, as a
 * line's (restOfLine). A value over several lines is masked on its first line only.
 */
function blockScalarValue(text: string, keyAt: number, from: number): ValueSpan | null {
  BLOCK_HEADER.lastIndex = from;
  if (!BLOCK_HEADER.test(text)) return null;
  let k = BLOCK_HEADER.lastIndex;
  // The break's backslashes: 0 for a raw one.
  const slashes = text[k - 1] === 'n' || text[k - 1] === 'r' ? k - 1 - skipBackRun(text, k - 1, 8, isBackslash) : 0;
  for (let i = 0; i < MAX_BLANK_LINES; i++) {
    const blank = skipRun(text, k, MAX_INDENT, isPad);
    const lineBreak = lineBreakAt(text, blank, slashes);
    if (lineBreak === 0) break;
    k = blank + lineBreak;
  }
  const start = skipRun(text, k, MAX_INDENT, isPad);
  const indent = lineIndent(text, keyAt, slashes);
  // In a string, a value as deep as its key is taken too (a YAML body flattened into a log's field
  // loses its nesting), unless it is the next key ("password: |" then "user: bob").
  NEXT_KEY.lastIndex = start;
  if (slashes > 0 ? start - k < Math.max(1, indent) || NEXT_KEY.test(text) : start - k <= indent) return null;
  let end = start;
  while (end < text.length && end - start <= MAX_VALUE && lineBreakAt(text, end, slashes) === 0 && !(slashes > 0 && closesString(text, end, slashes))) end++;
  if (end - start > MAX_VALUE) return null;
  while (end > start && isBlank(text[end - 1])) end--;
  const line = text.slice(start, end);
  if (!/\s/.test(line) || isPhraseOfSecrets(line)) return { start, end, quoted: /\s/.test(line), block: true };
  let first = start;
  while (first < end && !isBlank(text[first])) first++;
  return { start, end: first, quoted: false, block: true };
}

/** terraform init's s3 backend setting right before a name (cloudKeys.ts's AWS_BACKEND_CONFIG_SECRET_RE). */
const BACKEND_CONFIG = /-backend-config(?:=|[ \t]{1,16}(?:\\[ \t]{1,16})?)[`"']?$/;

/** A sentence's full stop after an unquoted value is no part of it ("CI_JOB_TOKEN=glcbt-....", "my password is X."). */
function withoutFullStop(text: string, value: ValueSpan): void {
  if (!value.quoted && value.end - value.start > 1 && text[value.end - 1] === '.') value.end--;
}

/** Each word's `endings` (LOCALIZED_PASSWORD_WORDS) as a pattern, compiled on first use. */
const endingsOf = new Map<readonly string[], RegExp>();
/** The length of the ending glued on the password word `core` at `k` ("şifre|niz"), or 0: only one that ends the word. */
function endingAt(text: string, core: string, k: number): number {
  // Most names end where their word does: no lookup for them.
  if (!isNameCharAt(text, k)) return 0;
  const endings = localizedEntry(core)?.endings;
  if (endings === undefined) return 0;
  let ending = endingsOf.get(endings);
  if (ending === undefined) endingsOf.set(endings, (ending = new RegExp(wordsSource(endings), 'iuy')));
  ending.lastIndex = k;
  const m = ending.exec(text);
  if (m === null) return 0;
  // The word ends with it: no letter after it (a number or a segment may follow: "şifreniz2", "lösenordet_prod").
  const after = k + m[0].length;
  const letterAfter = isAsciiLetter(text[after]) || (text.charCodeAt(after) >= 0x80 && isNameCharAt(text, after));
  return letterAfter ? 0 : m[0].length;
}

/**
 * Where the name whose core ends at `coreEnd` ends (past an ending glued on its word, endingAt): past a segment saying it is a password again
 * (REPEAT_SEGMENT; an English homograph only after another language's password word, `core`), its
 * numbers and environments (SUFFIX_SEGMENT, CAMEL_SUFFIX) and one digit (Django's password1 and
 * password2); -1 when more of the name follows ("password_hash"). Every segment starts with a name's
 * character, so taking each greedily loses no shorter reading.
 */
function nameEnd(text: string, core: string, wordEnd: number): number {
  const coreEnd = wordEnd + endingAt(text, core, wordEnd);
  const repeat = REPEAT_SEGMENT();
  repeat.lastIndex = coreEnd;
  const segment = repeat.exec(text)![0];
  // An English homograph ("_alt", "_actual") is a repeat word only after another language's password word.
  let end = ENGLISH_HOMOGRAPH_SEGMENT.test(segment) && !LOCALIZED_CORE().test(core) ? coreEnd : coreEnd + segment.length;
  for (let i = 0; i < MAX_SUFFIXES; i++) {
    SUFFIX_SEGMENT.lastIndex = end;
    CAMEL_SUFFIX.lastIndex = end;
    const suffix = SUFFIX_SEGMENT.exec(text) ?? CAMEL_SUFFIX.exec(text);
    if (suffix === null) break;
    end += suffix[0].length;
  }
  if (isDigit(text[end]) && !isNameCharAt(text, end + 1)) end++;
  return isNameCharAt(text, end) ? -1 : end;
}

/** Segments a JSON Pointer before a name is read back over ("/users/0/password"), and their length. */
const MAX_POINTER_SEGMENTS = 8;
const MAX_POINTER_SEGMENT = 64;
/**
 * Whether the name at `start` ends a JSON Pointer opened by a quote ("/password", "/users/0/password",
 * a JSON Patch's path): its value is the pair's (valueOfName), where any other name after a "/" is a
 * path's or a URL's and none.
 */
function pointerBefore(text: string, start: number): boolean {
  let k = start;
  for (let segments = 0; segments < MAX_POINTER_SEGMENTS && text[k - 1] === '/'; segments++) {
    k--;
    if (text[k - 1] === '"') return true;
    const segmentEnd = k;
    while (segmentEnd - k < MAX_POINTER_SEGMENT && k > 0 && /[\w.~-]/.test(text[k - 1]!)) k--;
  }
  return false;
}

function namedFindings(text: string, out: Finding[], scans: Scans, blocks: Set<Finding> | null): void {
  NAME_CORE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = NAME_CORE.exec(text)) !== null) {
    if (ALONE_CORE.test(m[0]) && !isAloneWordAt(text, m.index)) continue;
    let end = nameEnd(text, m[0], m.index + m[0].length);
    // "密码是X": the word runs on into prose's glued verb, no longer name (valueOfName reads the verb).
    if (end === -1 && gluedValueAfter(text, m[0], m.index + m[0].length)) end = m.index + m[0].length;
    if (end === -1) continue;
    let start = skipBack(text, m.index);
    // A JSON string's escaped break or tab right before the name ("\\npassword: |"): its letter is
    // the escape's, no part of the name, and the backslash no path's.
    if (start < m.index && text[start - 1] === '\\' && (text[start] === 'n' || text[start] === 'r' || text[start] === 't')) start++;
    else if ((text[start - 1] === '/' && !pointerBefore(text, start)) || text[start - 1] === '\\') continue;
    // "pass" and "pw" need a name of their own: "--pass", "-pass" are a flag named "pass" alone. (A
    // name starting with a letter of another script is one: skipBack stops at no other non-ASCII.)
    // After a prefix, a real separator before them (NOT_AFTER_WORD): "ключ_pass", never "ключpass".
    if (m[0].length <= 4 && /^p(?:ass|w)$/i.test(m[0])) {
      if (start < m.index && !isSeparator(text[m.index - 1])) continue;
      if (!isAsciiLetter(text[start]) && !isDigit(text[start]) && text.charCodeAt(start) < 0x80) continue;
      // Alone, a key's: quoted, a query's, starting its line, or given with "=" ("pw=..."); not
      // prose's "boarding pass: ..." nor a test runner's "--- PASS: TestParse2".
      // Nor is one after a verb that sets it ("reset my pw to X", "reset my pass to X": setLinkEnd;
      // "pass" with its owner only), nor "pw" before one ("pw reset to X").
      if (
        start === m.index &&
        contextOf(text, start) === 'plain' &&
        text[skipRun(text, end, MAX_PAD, isPad)] !== '=' &&
        setLinkEnd(text, start, end, m[0].toLowerCase() === 'pass') === -1 &&
        (m[0].toLowerCase() !== 'pw' || setLinkAfter(text, end) === -1)
      )
        continue;
    }
    const password = PASSWORD_CORE.test(m[0]);
    // "pass" or "pw" alone names other things too: a test's, a size's.
    const bare = start === m.index && m[0].length <= 4 && /^p(?:ass|w)$/i.test(m[0]);
    if (!password && /^token$/i.test(m[0]) && NOT_SECRET_TOKEN.test(text.slice(start, m.index))) continue;
    // An AWS secret key's names are cloudKeys.ts's, which reads their values by the key's own shape:
    // with "aws", "s3" or "access" in them, and a bare "secret_key" given to terraform init's s3
    // backend (-backend-config="secret_key=..."). Any other bare "secret_key" is read here too (Flask's,
    // any app's): inside a Terraform aws block cloudKeys.ts reports the same value as AWS_SECRET_KEY,
    // which wins the tie (detect.ts's SPECIFICITY); anywhere else it is a secret by its name alone.
    if (
      !password &&
      AWS_KEY_CORE.test(m[0]) &&
      (AWS_PREFIX.test(text.slice(Math.max(0, start - 4), end)) || BACKEND_CONFIG.test(text.slice(Math.max(0, start - 48), start)))
    )
      continue;
    // A shell's default ("${API_KEY:-...}") is no assignment.
    if (text[start - 1] === '{' && text[start - 2] === '$') continue;
    // Prose names a secret as it names a password ("the API key is X"): not "pass", "pwd" or "pw".
    const value = valueOfName(text, start, end, scans, !password ? 'English' : PROSE_CORE.test(m[0]) ? languageOf(m[0]) : null);
    if (value === null) continue;
    // A diff's new password, whatever its old one is ("changed from ******** to X"), and each value
    // of a change after the first ({"old": null, "new": X}).
    for (let next = value.next; next !== undefined; next = next.next)
      if ((password ? isPasswordValue : isSecretValue)(text.slice(next.start, next.end), next.quoted))
        out.push({ type: 'PASSWORD', start: next.start, end: next.end });
    if (!password) withoutFullStop(text, value);
    const raw = text.slice(value.start, value.end);
    if (!(password ? isPasswordValue(raw, value.quoted, UNSPACED_LETTER.test(m[0])) : isSecretValue(raw, value.quoted))) continue;
    if (bare && SIZE.test(raw)) continue;
    const finding: Finding = { type: 'PASSWORD', start: value.start, end: value.end };
    if (value.block) blocks?.add(finding);
    out.push(finding);
  }
}

/** PROSE_ONLY_WORDS as one pattern, each a whole word; and their languages by plain spelling. Built on first use. */
let proseOnlyRe: RegExp | null = null;
let proseOnlyLanguages: Map<string, string> | null = null;

/** The passwords PROSE_ONLY_WORDS give before their language's verb ("Vaše heslo je X"). */
function proseOnlyFindings(text: string, out: Finding[], scans: Scans): void {
  proseOnlyRe ??= new RegExp(
    // No mark slots (wordSource's withMarks): read in the normalized text, which has none.
    String.raw`${NOT_AFTER_WORD}(?:${PROSE_ONLY_WORDS.flatMap(({ words }) => words.map((w) => wordSource(w, false))).join('|')})(?![\p{L}\p{N}${MARK_RANGES}])`,
    'giu',
  );
  proseOnlyLanguages ??= new Map(
    PROSE_ONLY_WORDS.flatMap(({ words, language }) => words.flatMap((w) => [[w, language] as const, [plainSpelling(w), language] as const])),
  );
  proseOnlyRe.lastIndex = 0;
  let nextColon = 0;
  let m: RegExpExecArray | null;
  while ((m = proseOnlyRe.exec(text)) !== null) {
    // As written first (a text repeats its one spelling), then spelled plainly.
    const language = proseOnlyLanguages.get(m[0].toLowerCase()) ?? proseOnlyLanguages.get(plainSpelling(m[0]));
    if (language === undefined) continue;
    const links = proseLinks(language, false);
    const end = m.index + m[0].length;
    links.spaced.lastIndex = end;
    let value: ValueSpan | null = null;
    // Their links are no English verb, though Polish's "to" is spelled as one.
    if (links.spaced.test(text)) value = proseLinkValue(text, end, links.spaced.lastIndex, scans, false);
    // A label has its colon within a few words (the cheap test first: a hostile text of the word
    // alone). The next colon, found once for all the matches before it: a search per match would be
    // quadratic in a text with none.
    else {
      if (nextColon !== -1 && nextColon < end) nextColon = text.indexOf(':', end);
      if (nextColon === -1 || nextColon - end > MAX_LABEL) continue;
      const v = labelEnd(text, m.index, end, language);
      if (v !== -1) value = proseValue(text, v, null, scans);
    }
    if (value === null) continue;
    const raw = text.slice(value.start, value.end);
    // A slogan's hashtag ("Hasło dla akcji to #Polska2024"): these words name slogans too.
    if (raw.startsWith('#') || SET_NON_VALUE.test(raw) || !isPasswordValue(raw, value.quoted)) continue;
    out.push({ type: 'PASSWORD', start: value.start, end: value.end });
  }
}

/** The longest a label's words after the word run: a "for" clause of three words of 32 characters. */
const MAX_LABEL = 4 * 36;
/** Each language's label patterns (`label`): a word before the word (up to two), and a word after it then the colon. */
const labelsOf = new Map<string, { before: RegExp; after: RegExp } | null>();
const LABEL_COLON = /[ \t]{0,4}:[ \t]{0,4}/y;

/** Where the colon of "Nowe hasło: X" or "Parola ta: X" ends (the word at [start, end), of `language`), or -1. */
function labelEnd(text: string, start: number, end: number, language: string): number {
  let labels = labelsOf.get(language);
  if (labels === undefined) {
    const words = PROSE_LINK_WORDS[language]?.label;
    const of = PROSE_LINK_WORDS[language]?.for ?? [];
    labels =
      words === undefined
        ? null
        : {
            before: new RegExp(String.raw`(?<=${NOT_AFTER_WORD}(?:${wordsSource(words)})[ \t]{1,4}(?:(?:${wordsSource(words)})[ \t]{1,4})?)`, 'iuy'),
            after: new RegExp(
              // Or its "for" clause ("Hasło do konta: X", "Heslo k Wi-Fi: X").
              String.raw`[ \t]{1,4}(?:(?:${wordsSource(words)})|(?:${wordsSource(of)})(?:[ \t]{1,4}[^\s=:]{1,32}){1,3}?)[ \t]{0,4}:[ \t]{0,4}`,
              'iuy',
            ),
          };
    labelsOf.set(language, labels);
  }
  if (labels === null) return -1;
  labels.after.lastIndex = end;
  if (labels.after.test(text)) return labels.after.lastIndex;
  labels.before.lastIndex = start;
  if (!labels.before.test(text)) return -1;
  LABEL_COLON.lastIndex = end;
  return LABEL_COLON.test(text) ? LABEL_COLON.lastIndex : -1;
}

/**
 * What `pw` or `pass` alone names besides a password: a screen's or an image's size ("pw=1920x1080").
 * Not words joined with a number ("pass: check_schema_v2" reads as a password): that is the shape of
 * the passwords most often leaked ("Summer_2024", "admin_123", "Welcome-2024").
 */
const SIZE = /^\d{1,5}x\d{1,5}$/;

/** Where the name holding the core at `core` starts (its prefix, up to MAX_NAME). */
function skipBack(text: string, core: number): number {
  let k = core;
  while (k > 0 && core - k < MAX_NAME && isNameCharAt(text, k - 1)) k--;
  return k;
}

// SQL's "IDENTIFIED BY 'x'" (MySQL, Oracle, also "IDENTIFIED WITH plugin BY 'x'") and "SET PASSWORD
// [FOR u] = 'x'": only a quoted value.
const SQL_PASSWORD =
  /\bidentified[ \t]{1,8}(?:with[ \t]{1,8}\w{1,64}[ \t]{1,8})?by[ \t]{1,8}(?=['"])|\bset[ \t]{1,8}password[ \t]{1,8}(?:for[ \t]{1,8}[^\s=]{1,128}[ \t]{0,8})?=[ \t]{0,8}(?=['"])/gi;

function sqlFindings(text: string, out: Finding[], scans: Scans): void {
  SQL_PASSWORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = SQL_PASSWORD.exec(text)) !== null) {
    const value = valueAt(text, m.index + m[0].length, 'plain', scans);
    if (value !== null && isPasswordValue(text.slice(value.start, value.end), true)) out.push({ type: 'PASSWORD', start: value.start, end: value.end });
  }
}

// Go's MySQL driver DSN, "user:password@protocol(address)/dbname": no scheme, so urlPassword.ts misses
// it, and "user:password@host" alone is too common in prose to read without the protocol. The user
// starts after a blank, a quote, "=" or the start (anchored, so each start is one bounded attempt).
// The user holds no "=": it may start after one, and a user that could also hold them would be tried
// again from each "=" of a run, 200 steps each.
const GO_DSN = /(?<![^\s"'`=])[^\s:@/"'`()=]{1,64}:([^\s@"'`]{1,128})@(?:tcp6?|udp|unix)\(/dg;

const DSN_PROTOCOL = /@(?:tcp6?|udp|unix)\(/;

function dsnFindings(text: string, out: Finding[]): void {
  // The protocol first: GO_DSN tries a user at every blank, quote and "=".
  if (!DSN_PROTOCOL.test(text)) return;
  GO_DSN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = GO_DSN.exec(text)) !== null) {
    const [start, end] = m.indices![1]!;
    // The place says it is a password, as a URL's user part does: anything but a stand-in.
    if (!isStandIn(m[1]!, false)) out.push({ type: 'PASSWORD', start, end });
  }
}

/**
 * Command lines that take a password as an option, and where: mysql's `-p` glued to its value
 * (`-p` is a port to psql and ssh, and `-p` alone asks for it); `docker login -p X`; `sshpass -p X`;
 * `redis-cli -a X`; curl's `-u user:password` (the part after the first `:`; without one, curl asks);
 * `sqlcmd -P X`; `mongosh -p X`; `ldapsearch -w X`. And curl's cookies, `-b 'session=X'` or
 * `--cookie "sid=X"`: a session cookie's value, as in a Cookie header (cookiePairs), the walk going on after it.
 * `glued`: the flags whose value is glued to them; `spaced`: the word after them.
 */
interface CommandRule {
  glued: readonly string[];
  spaced: readonly string[];
  userPair?: boolean;
  /** The options taking cookies, `name=value; ...` (curl's `-b`, `--cookie`; `-b` glued too). */
  cookie?: readonly string[];
  /** Words the command takes before or between its options: a subcommand, a host, an archive (`7z a x.7z -p...`). */
  positional?: number;
  /**
   * The value must have a password's shape (isPasswordValue): these commands are named in prose too,
   * and "zip -P argument" or "psexec -p on the command line" is none.
   */
  shaped?: boolean;
}
const MYSQL_RULE: CommandRule = { glued: ['-p'], spaced: [] };
const COMMAND_RULES: ReadonlyArray<readonly [RegExp, CommandRule]> = [
  [/^(?:mysql(?:dump|admin|import|check|show|slap)?|mariadb(?:-dump|-admin|-import|-check|-show)?)$/, MYSQL_RULE],
  [/^(?:docker|podman|nerdctl)[ \t]{1,8}login$/, { glued: ['-p'], spaced: ['-p'] }],
  [/^sshpass$/, { glued: ['-p'], spaced: ['-p'] }],
  [/^redis-cli$/, { glued: [], spaced: ['-a'] }],
  [/^curl$/, { glued: ['-u'], spaced: ['-u', '--user'], userPair: true, cookie: ['-b', '--cookie'] }],
  // SQL Server's sqlcmd (-P), MongoDB's shells (-p), OpenLDAP's clients (-w; -W asks instead).
  [/^sqlcmd$/, { glued: [], spaced: ['-P'] }],
  [/^(?:mongosh|mongo)$/, { glued: [], spaced: ['-p'] }],
  [/^ldap(?:search|modify|add|delete|passwd|whoami|compare|modrdn)$/, { glued: ['-w'], spaced: ['-w'] }],
  // Azure CLI's service-principal login, Sysinternals' PsExec, PyPI's twine (-p), Info-ZIP's zip
  // (-P) and 7-Zip (-p glued to the password, as its manual writes it).
  [/^az[ \t]{1,8}login$/, { glued: [], spaced: ['-p'], shaped: true }],
  [/^[Pp]s[Ee]xec(?:64)?$/, { glued: [], spaced: ['-p'], positional: 1, shaped: true }],
  [/^twine$/, { glued: [], spaced: ['-p'], positional: 1, shaped: true }],
  [/^zip$/, { glued: [], spaced: ['-P'], shaped: true }],
  [/^7za?$/, { glued: ['-p'], spaced: [], positional: 2, shaped: true }],
];
// Any command of COMMAND_RULES, as a word: not after a dot either ("backup.zip -P 2222" and
// "archive.7z -ph" name files, not the commands); a Windows program's ".exe" is part of its name,
// and PsExec is written capitalised (ruleOf reads the word in lower case).
const COMMAND = new RegExp(String.raw`(?<![\w.-])(?:${COMMAND_RULES.map(([re]) => re.source.slice(1, -1)).join('|')})(?:\.exe)?(?![\w-])`, 'g');

function ruleOf(word: string): CommandRule | null {
  // Windows names the program with its extension ("psexec.exe", "7z.exe").
  const name = word.endsWith('.exe') ? word.slice(0, -4) : word;
  for (const [re, rule] of COMMAND_RULES) if (re.test(name)) return rule;
  return null;
}

function commandFindings(text: string, out: Finding[], scans: Scans): void {
  COMMAND.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = COMMAND.exec(text)) !== null) {
    const rule = ruleOf(m[0].toLowerCase()) ?? MYSQL_RULE;
    const span = commandPassword(text, m.index + m[0].length, rule, scans, out);
    if (span !== null) out.push({ type: 'PASSWORD', start: span[0], end: span[1] });
  }
}

/** The end of the shell word at `k`: a quoted one to its closing quote, else up to a blank or a shell separator. */
function wordEnd(text: string, k: number, scans: Scans): number {
  if (isQuote(text[k])) {
    const close = scans.closingQuote(k);
    return close === -1 ? -1 : close + 1;
  }
  return skipRun(text, k, MAX_VALUE + 1, isShellWordChar);
}

/** The value's span in the word [start, end), its quotes taken off, or null when it is a stand-in. */
function optionValue(text: string, start: number, end: number, rule: CommandRule, scans: Scans): [number, number] | null {
  let [s, e] = [start, end];
  let quoted = false;
  if (isQuote(text[s])) {
    const close = scans.closingQuote(s);
    if (close === -1) return null;
    [s, e, quoted] = [s + 1, close, true];
  }
  if (rule.userPair) {
    // Within the word only: a search to the text's end for every "curl -u" was quadratic.
    let colon = s;
    while (colon < e && text[colon] !== ':') colon++;
    if (colon >= e) return null;
    s = colon + 1;
  }
  if (s >= e || isStandIn(text.slice(s, e), quoted)) return null;
  return rule.shaped && !isPasswordValue(text.slice(s, e), quoted) ? null : [s, e];
}

/**
 * The password among the command's options after `from`. Only options stand between the command and
 * it (`-u root -h db --port=3306 -p...`, a short option taking the word after it; and for curl its
 * URL): past any other word the text has moved on ("mysql -u root -p db and psql -p5432").
 */
function commandPassword(text: string, from: number, rule: CommandRule, scans: Scans, out: Finding[]): [number, number] | null {
  let k = from;
  let argumentNext = false;
  let positional = 0;
  while (k < text.length && k - from < MAX_COMMAND) {
    k = skipRun(text, k, MAX_COMMAND, isBlank);
    const tokenEnd = wordEnd(text, k, scans);
    if (tokenEnd <= k || tokenEnd - k > MAX_VALUE) return null;
    const token = text.slice(k, tokenEnd);
    if (token[0] === '-') {
      const option = passwordOption(text, k, tokenEnd, rule, scans);
      if (option !== null) {
        // A command taking cookies too walks on for them ("curl -u bob:X -b 'sid=Y'").
        if (rule.cookie === undefined || option.end === -1) return option.value;
        if (option.value !== null) out.push({ type: 'PASSWORD', start: option.value[0], end: option.value[1] });
        k = option.end;
        argumentNext = false;
        continue;
      }
      const cookiesEnd = cookieOption(text, k, tokenEnd, rule, scans, out);
      if (cookiesEnd !== -1) {
        k = cookiesEnd;
        argumentNext = false;
        continue;
      }
    }
    // Another command word: the walk from it is the next match's (so each word is walked once).
    if (ruleOf(token.toLowerCase()) !== null) return null;
    // A short option may take the word after it ("-u root"), unless that word is an option itself
    // ("-x -D cn=admin": -x takes nothing). A URL is the command's address (curl's, mongosh's).
    if (argumentNext && token[0] !== '-') argumentNext = false;
    else if (token[0] === '-') argumentNext = tokenEnd - k === 2;
    else if (!token.includes('://') && positional++ >= (rule.positional ?? 0)) return null;
    k = tokenEnd;
  }
  return null;
}

/**
 * The password option at [k, tokenEnd) (spaced, its value the next word; or glued): its value (null
 * for a stand-in) and where its word ends (-1 when the value is missing), or null when the token is none.
 */
function passwordOption(text: string, k: number, tokenEnd: number, rule: CommandRule, scans: Scans): { value: [number, number] | null; end: number } | null {
  const token = text.slice(k, tokenEnd);
  if (rule.spaced.includes(token)) {
    const v = skipRun(text, tokenEnd, 4, isPad);
    const vEnd = v > tokenEnd ? wordEnd(text, v, scans) : -1;
    return vEnd > v ? { value: optionValue(text, v, vEnd, rule, scans), end: vEnd } : { value: null, end: -1 };
  }
  for (const f of rule.glued)
    if (token.length > f.length && token.startsWith(f) && token[f.length] !== '-')
      return { value: optionValue(text, k + f.length, tokenEnd, rule, scans), end: tokenEnd };
  return null;
}

/**
 * The session cookies of a cookie option at [k, tokenEnd) into `out`: `-b 'sid=X'`, after other short
 * flags (`-sb 'sid=X'`), glued (`-bsid=X`), `--cookie "sid=X"` or `--cookie=sid=X`. Returns the end of
 * its value's word, or -1 when the token is none. A value without `=` is a cookie file (`-b
 * cookies.txt`): no pair, nothing found.
 */
function cookieOption(text: string, k: number, tokenEnd: number, rule: CommandRule, scans: Scans, out: Finding[]): number {
  const token = text.slice(k, tokenEnd);
  for (const f of rule.cookie ?? []) {
    let v: number;
    if (token === f || (f.length === 2 && SHORT_FLAGS.test(token) && token.endsWith(f[1]!))) {
      v = skipRun(text, tokenEnd, 4, isPad);
      if (v === tokenEnd) return -1;
    } else if (f.length > 2 && token.startsWith(f + '=')) v = k + f.length + 1;
    else if (f.length === 2 && token.length > 2 && token.startsWith(f)) v = k + 2;
    else continue;
    const vEnd = wordEnd(text, v, scans);
    // Another command ("curl -b curl -b ..."): the walk from it is its own.
    if (vEnd <= v || ruleOf(text.slice(v, vEnd).toLowerCase()) !== null) return -1;
    cookiePairs(text, isQuote(text[v]) ? v + 1 : v, out, scans);
    return vEnd;
  }
  return -1;
}
/** Short flags run together ("-sb"): the last one takes the next word. */
const SHORT_FLAGS = /^-[A-Za-z]{1,8}$/;

/**
 * What links a header's name to its value, in every shape a request is copied in: a header line or a
 * JS object (`Cookie: X`, `Cookie: "X"`), a JSON member (`"cookie": "X"`), a form or an assignment
 * (`authorization=X`, `document.cookie = "X"`), a HAR entry (`{"name": "Cookie", "value": "X"}`).
 * Ends past the value's opening quote, if any.
 */
const HEADER_VALUE_LINK = String.raw`["'\`]?[ \t]{0,8}(?:[:=]|,[ \t]{0,8}["'\`]?value["'\`]?[ \t]{0,8}:)[ \t]{0,8}["'\`]?`;

// An HTTP credential after its scheme word: "Bearer X" anywhere (a header, curl's -H, a log line),
// and in an Authorization header "Token X" (Django REST framework's, GitHub's older scheme), "ApiKey
// X" (Elasticsearch's), "Splunk X" (a Splunk HEC token) and "SSWS X" (Okta's). Anchored on the
// previous character, so each scheme word is one bounded attempt.
const HEADER_SCHEMES = String.raw`token|api-?key|splunk|ssws`;
const AUTH_SCHEME = new RegExp(String.raw`(?<![A-Za-z0-9_])(?:authorization${HEADER_VALUE_LINK}(?:${HEADER_SCHEMES})|bearer)[ \t+]{1,4}`, 'gi');
/**
 * An Authorization (or Proxy-Authorization) header's value with no scheme these rules know: the key
 * itself (`Authorization: X`, `{"authorization": "X"}`), or a scheme word of another vendor's and the
 * credential after it (`Custom X`). Basic and Bearer are read by their own rules (basicAuth.ts, above);
 * Digest's and AWS's parameters are `name=value` lists, not one credential. Judged as a bare key
 * (isBareKey): "Authorization: required", "granted", a request's id are no keys.
 */
const AUTH_HEADER = new RegExp(String.raw`(?<![A-Za-z0-9_])authorization${HEADER_VALUE_LINK}`, 'gi');
const OTHER_SCHEME = /^[A-Za-z][A-Za-z0-9-]{0,23}$/;
/** AUTH_SCHEME's, Basic's, and the schemes whose value is parameters or a handshake, not one key. */
const SCHEME_READ_ELSEWHERE = new RegExp(String.raw`^(?:${HEADER_SCHEMES}|basic|bearer|digest|aws4-hmac-sha256|hoba|mutual|negotiate|ntlm)$`, 'i');

function schemeFindings(text: string, out: Finding[], scans: Scans): void {
  AUTH_SCHEME.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = AUTH_SCHEME.exec(text)) !== null) {
    const value = valueAt(text, m.index + m[0].length, 'plain', scans);
    if (value !== null && isSecretValue(text.slice(value.start, value.end), value.quoted)) out.push({ type: 'PASSWORD', start: value.start, end: value.end });
  }
  AUTH_HEADER.lastIndex = 0;
  while ((m = AUTH_HEADER.exec(text)) !== null) {
    const value = authHeaderValue(text, m.index + m[0].length, m[0].includes('='), scans);
    if (value !== null) out.push({ type: 'PASSWORD', start: value.start, end: value.end });
  }
}

/**
 * The credential of an Authorization header whose value starts at `v` (AUTH_HEADER), or null.
 * `form`: the header is a form's parameter (`authorization=`), where `+` is a blank.
 */
function authHeaderValue(text: string, v: number, form: boolean, scans: Scans): ValueSpan | null {
  const first = valueAt(text, v, form ? 'query' : 'plain', scans);
  if (first === null || first.quoted) return null;
  const word = text.slice(first.start, first.end);
  if (SCHEME_READ_ELSEWHERE.test(word)) return null;
  // Form-encoded, the blank after the scheme a '+' ("authorization=Custom+X").
  const plus = form ? word.indexOf('+') : -1;
  if (plus > 0 && OTHER_SCHEME.test(word.slice(0, plus))) {
    if (SCHEME_READ_ELSEWHERE.test(word.slice(0, plus))) return null;
    return isBareKey(word.slice(plus + 1)) ? { start: first.start + plus + 1, end: first.end, quoted: false } : null;
  }
  const gap = skipRun(text, first.end, 4, isPad);
  if (gap > first.end && OTHER_SCHEME.test(word)) {
    const second = valueAt(text, gap, 'plain', scans);
    if (second !== null && !second.quoted && isBareKey(text.slice(second.start, second.end))) return second;
  }
  return isBareKey(word) ? first : null;
}

/**
 * A key given with no scheme (authHeaderValue): a secret's value (isSecretValue) of upper case, lower
 * case and digits, hex of 32 digits or more, or 28 or more letters of one case and digits; not an ID
 * that happens to follow the word "authorization" in a log or a payment record (an attacker review
 * found each refused): a UUID, an object id with its type's prefix (`txn_...`, Stripe Issuing's
 * `iauth_...`, `req_...`; `secret_...`, `key_...` are keys'), a name in CamelCase
 * (`ApprovedByManager2024`, `OAuth2ClientCredentials`), an upper-case code (`AUTH0000123456789ABC`).
 */
function isBareKey(value: string): boolean {
  if (!isSecretValue(value, false) || UUID_SHAPE.test(value)) return false;
  // A prefix that says key ("secret_...", "key_...", "api_...") is a key's, any other an object's id.
  const prefix = PREFIXED_ID.exec(value)?.[1];
  if (prefix !== undefined && !KEY_PREFIX.test(prefix)) return false;
  // Hex of a key's length (Datadog's 32 digits), or a long random run in one case: a key too.
  // (28, not 24: a MongoDB ObjectId, a ULID and a cuid2 are 24 to 26 characters of one case.)
  if (!THREE_CLASSES.test(value) && !(MIXED_HEX.test(value) && value.length >= 32) && !(value.length >= 28 && ONE_CASE_KEY.test(value))) return false;
  // Words, at most one of them shorter than three letters ("By"): a random key splits into many short ones.
  const words = value.split(CAMEL_OR_DIGITS).filter((w) => w !== '');
  return !(words.length >= 2 && words.every((w) => CAMEL_WORD.test(w)) && words.filter((w) => w.length < 3).length <= 1);
}
const THREE_CLASSES = /^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])/;
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PREFIXED_ID = /^([A-Za-z]{1,12})_[A-Za-z0-9]{8,}$/;
const KEY_PREFIX = /^(?:secret|key|api|apikey|token|sk|rk|pk|pat|access)$/i;
/** Letters of one case and digits, mixed (isSecretValue has judged the run random). */
const ONE_CASE_KEY = /^(?=.*\d)(?:[a-z0-9]+|[A-Z0-9]+)$/;
const CAMEL_OR_DIGITS = /[0-9]+|(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/;
const CAMEL_WORD = /^(?:[A-Z]?[a-z]+|[A-Z]{1,4})$/;

// A Cookie or Set-Cookie header, then its "name=value" pairs, "; " between them (any HEADER_VALUE_LINK).
const COOKIE_HEADER = new RegExp(String.raw`(?<![A-Za-z0-9_-])(?:set-)?cookie${HEADER_VALUE_LINK}`, 'gi');
const COOKIE_PAIR = /([!#$%&'*+.^_`|~0-9A-Za-z-]{1,64})=/y;
/**
 * A cookie that holds a session or a login, by the words of its name (split at any symbol and at
 * CamelCase): Django's sessionid, laravel_session, connect.sid, auth_token, authToken, remember_web_...,
 * next-auth's session-token, Google's SID and __Secure-3PSID, Drupal's SESS<hash>, a word ending in
 * auth (ASP.NET's .ASPXAUTH, Entra's ESTSAUTH, OAMAuthnCookie, CFAUTHORIZATION_app); and glued
 * PHPSESSID, JSESSIONID, ASP.NET_SessionId, _shibsession_<hash>, _oauth2_proxy. `login` only as the
 * last word ("last_login_country" is none); a name with a CSRF word, or a token's NOT_SECRET_TOKEN
 * one, is none ("csrftoken", "XSRF-TOKEN", "device_token").
 */
const SESSION_WORD =
  /^(?:sess|session(?:key)?|sessid|sessionid|sid|token|jwt|remember(?:me)?|[a-z0-9]*auth(?:n)?(?:cookie|persistent|token)?|[a-z0-9]+authorization|(?:access|refresh|id|session|api)token|[a-z0-9]{1,4}sid(?:ts|cc)?|s?sess[0-9a-f]{8,}|[a-z0-9]*session)$/;
const GLUED_SESSION_ID = /sess(?:ion)?id|oauth2proxy/;
const CSRF_WORD = /^(?:csrf|xsrf)/;

function isSessionCookie(name: string): boolean {
  const words = name
    .split(CAMEL_BOUNDARY)
    .join('_')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
  if (words.some((w) => CSRF_WORD.test(w))) return false;
  if (GLUED_SESSION_ID.test(words.join(''))) return true;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === 'login' ? i === words.length - 1 : SESSION_WORD.test(w)) return !(w === 'token' && NOT_SECRET_TOKEN.test(words.slice(0, i).join('_') + '_'));
  }
  return false;
}

/**
 * A session cookie's value in a Cookie or Set-Cookie header: its name says what it holds, its value
 * must look like a secret (isSecretValue: "session=expired" is none). Every character is walked once:
 * a header met inside a walked run is skipped.
 */
function cookieFindings(text: string, out: Finding[], scans: Scans): void {
  COOKIE_HEADER.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = COOKIE_HEADER.exec(text)) !== null) {
    const k = cookiePairs(text, m.index + m[0].length, out, scans);
    if (k > COOKIE_HEADER.lastIndex) COOKIE_HEADER.lastIndex = k;
  }
}

/**
 * The session cookies among the `name=value` pairs from `from` ("; " between them), up to
 * MAX_COMMAND: a Cookie header's, curl's `-b`. Returns where the walk stopped.
 */
function cookiePairs(text: string, from: number, out: Finding[], scans: Scans): number {
  let k = from;
  while (k - from < MAX_COMMAND) {
    COOKIE_PAIR.lastIndex = k;
    const pair = COOKIE_PAIR.exec(text);
    if (pair === null) break;
    const value = valueAt(text, k + pair[0].length, 'conn', scans);
    if (value === null) break;
    // A shell's escaped separator ("sid=X\; theme=dark", unquoted): its backslash is no part of the value.
    const end = !value.quoted && text[value.end] === ';' && text[value.end - 1] === '\\' ? value.end - 1 : value.end;
    if (isSessionCookie(pair[1]!) && isSecretValue(text.slice(value.start, end), value.quoted)) out.push({ type: 'PASSWORD', start: value.start, end });
    k = value.end + (value.quoted ? 1 : 0);
    if (text[k] !== ';') break;
    k = skipRun(text, k + 1, MAX_PAD, isPad);
  }
  return k;
}

// Oracle's "user/password@connect": a thin or OCI JDBC URL, or sqlplus's logon (its options first,
// "-S", "-L"). The place says it is a password, as a URL's user part does.
const ORACLE_LOGON =
  /(?<![A-Za-z0-9_-])(?:jdbc:oracle:(?:thin|oci8?):|sqlplus(?:[ \t]{1,8}-[A-Za-z]{1,16}){0,4}[ \t]{1,8})[^\s/@:"'`]{1,64}\/([^\s/@"'`]{1,128})(?=@|\s|$)/dgi;

function oracleFindings(text: string, out: Finding[]): void {
  ORACLE_LOGON.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ORACLE_LOGON.exec(text)) !== null) {
    const [start, end] = m.indices![1]!;
    if (!isStandIn(m[1]!, false)) out.push({ type: 'PASSWORD', start, end });
  }
}

export function detectNamedPasswords(text: string): Finding[] {
  return pastAstralMarks(text, (plain) => findNamedPasswords(plain, null));
}

/**
 * `find` over `text` without its marks past the BMP, its findings' spans mapped back to `text`. The
 * word patterns read the BMP's marks only (MARK_RANGES); a mark of plane 1 or 14 inside or after a word
 * ("пароль\u{E0100}", "contrase\u{1D16D}ña") is read past here, in both readings, as \p{M} read it. The
 * normalizer drops the astral non-spacing marks, not the spacing ones, and the text as written
 * keeps both. Text without one (almost all) is read as it is, with no copy.
 */
function pastAstralMarks(text: string, find: (plain: string) => Finding[]): Finding[] {
  if (!ASTRAL_MARK.test(text)) return find(text);
  // at[i]: where code unit i of the copy is in text; at[copy.length]: text.length.
  let plain = '';
  const at: number[] = [];
  for (let i = 0; i < text.length;) {
    const width = text.codePointAt(i)! > 0xffff ? 2 : 1;
    if (width === 1 || !ASTRAL_MARK.test(text.slice(i, i + 2))) {
      plain += text.slice(i, i + width);
      for (let k = 0; k < width; k++) at.push(i + k);
    }
    i += width;
  }
  at.push(text.length);
  // A span ends after its last code unit's place, so a mark right after it stays outside, as before.
  return find(plain).map((f) => ({ ...f, start: at[f.start]!, end: f.end > f.start ? at[f.end - 1]! + 1 : at[f.start]! }));
}
const ASTRAL_MARK = /(?=[\u{10000}-\u{10FFFF}])\p{M}/u;

/** The findings; `blocks`, when given, gets those that are block scalars' values (blockScalarValue). */
function findNamedPasswords(text: string, blocks: Set<Finding> | null): Finding[] {
  if (!GATE.test(text)) return [];
  const out: Finding[] = [];
  const scans = new Scans(text);
  namedFindings(text, out, scans, blocks);
  proseOnlyFindings(text, out, scans);
  sqlFindings(text, out, scans);
  dsnFindings(text, out);
  commandFindings(text, out, scans);
  schemeFindings(text, out, scans);
  cookieFindings(text, out, scans);
  oracleFindings(text, out);
  return out;
}

/**
 * The findings in text as written (not normalized) that only the written form reads whole: a value
 * holding a percent escape (the normalizer decodes "%26" to the "&" that ends a query's value) or a
 * backslash-escaped quote (decoded, it reads as the value's end), and a YAML block scalar's value
 * (blockScalarValue: normalized, the break and indentation that tell it are gone). detect() and the privacy guard run
 * it beside the normalized pass.
 */
const WRITTEN_ONLY = /%[0-9A-Fa-f]{2}|\\["']/;
export function detectWrittenNamedPasswords(written: string): Finding[] {
  // Most texts the normalizer changed hold a line break or non-ASCII, and neither these escapes nor
  // a key's block scalar header (BLOCK_GATE).
  const escaped = WRITTEN_ONLY.test(written);
  if (!escaped && !BLOCK_GATE.test(written)) return [];
  // A name cased in a Turkish locale ("APİ_KEY") read as the normalizer reads it: the same fold, one
  // code unit for one, so every finding is a span of the text as written.
  return pastAstralMarks(foldTurkishI(written), (text) => {
    const blocks = new Set<Finding>();
    return findNamedPasswords(text, blocks).filter((f) => blocks.has(f) || (escaped && WRITTEN_ONLY.test(text.slice(f.start, f.end))));
  });
}
