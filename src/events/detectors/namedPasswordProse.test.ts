import { describe, expect, it } from 'vitest';
import { detectNamedPasswords } from './namedPassword.js';
import { fill, MiB, maskedText as masked, noPasswordIn as accepted, passwordsIn as passwords, refusedAsPassword } from '../../../test/support/detection.js';

// Prose gives a password in every language the guard reads the word in, as English does ("my
// password is X"): "das Passwort ist X", "密码是X", "パスワードはX". Each of these passed the guard and
// preflight unmasked while only English's "is" and "was" linked a password word to its value.

const SECRET = 'Zq8vT2xk9';
/** The password is one finding holding the secret (and at most the rest of a sentence written without blanks), masked out and refused. */
function maskedOut(text: string, value = SECRET): void {
  const found = passwords(text);
  expect(found, text).toHaveLength(1);
  expect(found[0], text).toContain(value);
  expect(masked(text), text).not.toContain(value);
  expect(refusedAsPassword(text), text).toBe(true);
}

describe('named passwords: prose in the languages the guard reads the password word in', () => {
  it.each([
    // German, Dutch
    [`das Passwort ist ${SECRET}`, SECRET],
    [`Das Passwort lautet: ${SECRET}`, SECRET],
    [`DAS PASSWORT IST ${SECRET}`, SECRET],
    [`das Passwort für den Server ist ${SECRET}.`, SECRET],
    [`das Kennwort war ${SECRET}`, SECRET],
    [`het wachtwoord is ${SECRET}`, SECRET],
    [`het wachtwoord voor de router is ${SECRET}`, SECRET],
    // Spanish, Portuguese (the accent typed or not), French (a blank before its colon)
    [`la contraseña es ${SECRET}`, SECRET],
    [`la contrasena del servidor es ${SECRET}`, SECRET],
    [`a senha é ${SECRET}`, SECRET],
    [`a senha do wifi é: ${SECRET}`, SECRET],
    [`le mot de passe est ${SECRET}`, SECRET],
    [`le mot de passe du wifi est : ${SECRET}`, SECRET],
    // Scandinavian, Finnish
    [`mitt lösenord är ${SECRET}`, SECRET],
    [`mitt passord er ${SECRET}`, SECRET],
    [`min adgangskode er ${SECRET}`, SECRET],
    [`salasana on ${SECRET}`, SECRET],
    // Vietnamese, Indonesian, Malay, Greek
    [`mật khẩu là ${SECRET}`, SECRET],
    [`mật khẩu của wifi là ${SECRET}`, SECRET],
    [`kata sandi adalah ${SECRET}`, SECRET],
    [`kata laluan ialah ${SECRET}`, SECRET],
    [`ο κωδικός πρόσβασης είναι ${SECRET}`, SECRET],
    // Russian, Ukrainian: a dash, or "это", "це"
    [`пароль — ${SECRET}`, SECRET],
    [`пароль - ${SECRET}`, SECRET],
    [`пароль от почты — ${SECRET}`, SECRET],
    [`пароль это ${SECRET}`, SECRET],
    [`пароль це ${SECRET}`, SECRET],
    // Hebrew, Arabic
    [`הסיסמה היא ${SECRET}`, SECRET],
    [`كلمة المرور هي ${SECRET}`, SECRET],
    // Modifiers after the noun, the owner, a dash then "это" (a reviewer's)
    [`Votre mot de passe provisoire est : ${SECRET}`, SECRET],
    [`Su contraseña temporal es: ${SECRET}`, SECRET],
    [`la contraseña nueva es ${SECRET}`, SECRET],
    [`Sua senha temporária é: ${SECRET}`, SECRET],
    [`a senha nova é ${SECRET}`, SECRET],
    [`Mật khẩu tạm thời của bạn là: ${SECRET}`, SECRET],
    [`mật khẩu mới là ${SECRET}`, SECRET],
    [`Kata sandi sementara Anda adalah: ${SECRET}`, SECRET],
    [`kata sandi baru adalah ${SECRET}`, SECRET],
    [`הסיסמה החדשה היא ${SECRET}`, SECRET],
    [`كلمة المرور الجديدة هي ${SECRET}`, SECRET],
    [`كلمة المرور الخاصة بك هي ${SECRET}`, SECRET],
    [`Мой пароль — это ${SECRET}`, SECRET],
    [`пароль - это ${SECRET}`, SECRET],
    // Guillemets and quotes with blanks inside
    [`le mot de passe est « ${SECRET} »`, SECRET],
    [`le mot de passe est «\u00a0${SECRET}\u00a0»`, SECRET],
    [`ваш пароль — « ${SECRET} »`, SECRET],
    [`das Passwort ist „Zq8v T2xk9“`, 'Zq8v T2xk9'],
    [`le mot de passe est «Zq8v T2xk9»`, 'Zq8v T2xk9'],
  ])('%s', (text, value) => {
    expect(passwords(text), text).toEqual([value]);
    maskedOut(text, value);
  });

  // Languages that write no blank between words: the link is glued to the word, and maybe to the value.
  it.each([
    `密码是${SECRET}`,
    `密码是 ${SECRET}`,
    `密码为：${SECRET}`,
    `数据库的密码是${SECRET}，请妥善保管`,
    `資料庫的密碼是${SECRET}`,
    `パスワードは${SECRET}です`,
    `パスワードは「${SECRET}」です`,
    `パスワードは、${SECRET}です`,
    // A second review's: bracketed passphrases, punctuation inside the password, a polite ending
    `パスワードは「Zq8v ${SECRET}」です`,
    `密码是“Zq8v ${SECRET}”`,
    `密码是Zq8v、${SECRET}`,
    `密码是[${SECRET}]`,
    `รหัสผ่านคือ${SECRET}ครับ`,
    `新しいパスワードは ${SECRET}`,
    `비밀번호는 ${SECRET}입니다`,
    `패스워드는 ${SECRET}`,
    // The subject's particle, before a copula or "changed to"
    `仮パスワードが${SECRET}です`,
    `パスワードが${SECRET}に変更されました`,
    `임시 비밀번호가 ${SECRET}입니다`,
    `비밀번호가 ${SECRET}로 변경되었습니다.`,
    `비밀번호는 ${SECRET}입니다`.normalize('NFD'),
    `รหัสผ่านคือ ${SECRET}`,
    `รหัสผ่านคือ${SECRET}`,
    `รหัสผ่าน คือ ${SECRET}`,
    `{"message":"密码是${SECRET}"}`,
    // Words between the word and the glued verb (a reviewer's)
    `รหัสผ่านของคุณคือ ${SECRET}`,
    `รหัสผ่านใหม่คือ ${SECRET}`,
    `รหัสผ่านชั่วคราวคือ ${SECRET}`,
    `您的密码已重置为：${SECRET}`,
    `密码已重置为${SECRET}`,
    `密码设置为${SECRET}`,
    `密码改为${SECRET}`,
    `密码就是${SECRET}`,
    `密码应该是${SECRET}`,
    `{"msg":"das Passwort ist ${SECRET}"}`,
  ])('%s', (text) => maskedOut(text));

  it.each([
    'das Passwort ist falsch',
    'Passwort ist abgelaufen',
    'das Passwort ist mindestens 8 Zeichen lang',
    'das Passwort ist 2024 abgelaufen',
    'het wachtwoord is verlopen',
    'la contraseña es obligatoria',
    'a senha é obrigatória',
    'le mot de passe est incorrect',
    'mitt lösenord är hemligt',
    'salasana on väärä',
    'mật khẩu là bắt buộc',
    'kata sandi adalah wajib',
    'ο κωδικός πρόσβασης είναι λάθος',
    'пароль — обязательное поле',
    'пароль это секрет',
    'הסיסמה היא חובה',
    'كلمة المرور هي مطلوبة',
    'password — see the vault',
    '密码是必填项',
    '密码为空',
    '密码学是一门学科',
    'パスワードは変更されました',
    'パスワードが違います',
    'パスワードは8文字以上です',
    '비밀번호는 8자 이상이어야 합니다',
    '비밀번호가 변경되었습니다',
    'รหัสผ่านคืออะไร',
    // Not a password word: "pass" alone is no name in prose.
    'der Pass ist 12345678',
    // A reviewer's: another language's link in an English sentence, a title's dash, an ID after a
    // subject particle or in the rest of a clause.
    'Failed to update password on db-prod-2',
    'The password on prod-db01 was rotated',
    'Password for user admin on host-01 changed',
    'Token on node-7f3e2a1b9c8d4e5f6a7b8c9d rotated',
    'Reset Password - Office365',
    'Change Password – Outlook365',
    '[auth] password - user=bob42',
    'Token - 550e8400e29b41d4a716446655440000',
    // Portuguese "é" without its accent is "and" ("é" typed as "e" is not read).
    'Informe usuário, senha e PIN1234 para continuar',
    'Erro: senha e user01 não conferem',
    'パスワードはuser01さんが変更しました',
    'パスワードはadmin01によって変更されました',
    'パスワードはWindows10の設定画面から変更できます',
    'パスワードはISO27001に準拠しています',
    '비밀번호는 admin01님이 변경했습니다',
    '비밀번호는 Windows10에서 변경할 수 있습니다',
    '密码为user01生成',
    '密码为admin01用户重置成功',
    '密码已为user01重置',
    'inserisci password e PIN1234',
    'password la v2-policy',
    'パスワードが一致しません（エラーコード：AUTH-1001）',
    'パスワードが間違っています(code=E10001)',
    '密码为空（错误码：ERR_1001）',
    '密码是无效的，错误码AUTH-1001',
    '密码为弱密码，用户ID：u_100234',
    'パスワードがリセットされました（チケットINC0012345）',
    'パスワードがuser01により変更されました',
    '密码是由管理员admin01重置的',
    '密码是在host01上修改的',
    '비밀번호가 user01님에 의해 변경됨',
    '비밀번호가 ISO27001 기준을 충족하지 않습니다',
    '비밀번호가 admin01 계정에서 변경됨',
    'パスワードがWindows10と同じです',
  ])('%s: no finding', (text) => accepted(text));

  // A third review's: English prose that was masked before the links (a value with "=", quoted or not;
  // a name and its value) stays masked, and the shapes of reset mails and messages it found unread.
  it.each([
    ['Your temporary password is: Zq8vT2xk9==', 'Zq8vT2xk9=='],
    ['The new password is "Zq8v=T2xk9!"', 'Zq8v=T2xk9!'],
    ["the password for the db is 'Zq8vT2xk9=='", 'Zq8vT2xk9=='],
    ['the API key is c2VjcmV0S2V5T2xk9MTIzNDU2Nzg5MA==', 'c2VjcmV0S2V5T2xk9MTIzNDU2Nzg5MA=='],
    ['my password is client_secret=Zq8vT2xk9', 'client_secret=Zq8vT2xk9'],
    // A fourth review's: narrowed only to a password after a whole password name; a closer inside
    // the password; a URL with no user; punctuation then a digit.
    ['my password is Passw0rd=1', 'Passw0rd=1'],
    ['my password is Monkey=123abcXY', 'Monkey=123abcXY'],
    ['Your new password is: Whiskey=Rocks9', 'Whiskey=Rocks9'],
    ['Dein Passwort lautet „Zq8v”T2xk9“', '„Zq8v”T2xk9“'],
    ['Your temporary password is «Zq8v»T2xk9»', '«Zq8v»T2xk9»'],
    ['Your password is Zq8v://T2xk9', 'Zq8v://T2xk9'],
    [`密码为${SECRET}，5分钟内有效`, SECRET],
    [`パスワードは${SECRET}、24時間有効です`, SECRET],
    [`您的临时密码为${SECRET}（24小时内有效）`, SECRET],
    ['my password is Zq8v=T2xk9!', 'Zq8v=T2xk9!'],
    [`Ihr Passwort lautet ${SECRET}=`, `${SECRET}=`],
    [`初期パスワードは${SECRET}となります。`, SECRET],
    [`パスワードは${SECRET}になります`, SECRET],
    [`您的密码已被重置为：${SECRET}`, SECRET],
    [`您的密码是${SECRET}（请勿泄露）`, SECRET],
    [`비밀번호는 ${SECRET}로 변경되었습니다`, SECRET],
    [`비밀번호는 ${SECRET}이며 타인에게 알려주지 마세요`, SECRET],
    [`Ο κωδικός πρόσβασης σας είναι ${SECRET}`, SECRET],
    [`Lösenordet är ”Zq8v ${SECRET}”`, `Zq8v ${SECRET}`],
    [`Salasanasi on »Zq8v ${SECRET}»`, `Zq8v ${SECRET}`],
    [`Das Passwort ist „Zq8v ${SECRET}”`, `Zq8v ${SECRET}`],
    [`密码是"Zq8v ${SECRET}"`, `Zq8v ${SECRET}`],
    [`Your temporary password is: <strong>${SECRET}</strong>`, SECRET],
    [`Ihr Passwort lautet <b>${SECRET}</b>`, SECRET],
    [`Tu contraseña ahora es ${SECRET}`, SECRET],
    [`Je wachtwoord is nu ${SECRET}`, SECRET],
    [`Ditt lösenord är nu ${SECRET}`, SECRET],
    [`Ваш пароль теперь ${SECRET}`, SECRET],
    [`the password is now ${SECRET}`, SECRET],
    [`user=bob&password+confirmation=${SECRET}`, SECRET],
    [`user=bob&contrase%C3%B1a+nueva=${SECRET}`, SECRET],
    [`user=bob&mot+de+passe+2=${SECRET}`, SECRET],
  ])('%s', (text, value) => {
    expect(passwords(text), text).toEqual([value]);
    maskedOut(text, value === `Zq8v ${SECRET}` ? SECRET : value);
  });

  it('masks a named value in prose as the name reads it, and its repeats', () => {
    for (const prose of ['das Passwort ist', 'my password is', 'パスワードは'])
      expect(masked(`${prose} pwd=483920 order 99123456781 and 483920.`), prose).toBe(`${prose} pwd=[PASSWORD] order 99123456781 and [PASSWORD].`);
  });

  it('masks an address after a glued link whole, as an address', () => {
    for (const prose of ['密码是', 'パスワードは', '비밀번호는 ', 'รหัสผ่านคือ ']) {
      const out = masked(`${prose}2001:db8:85a3::8a2e:370:7334`);
      for (const piece of ['2001', '8a2e', '7334']) expect(out, prose).not.toContain(piece);
    }
  });

  // A second review's: an assignment or URL after the link is read by its own rules, not cut as
  // prose's word where an encoded blank decodes (which left "%20T2xk9@…" visible).
  it.each([
    'password is ',
    'รหัสผ่านคือ ',
    'das Passwort ist\u00a0',
    'le mot de passe est\u00a0: ',
    'пароль —\u00a0',
    '密码是\u00a0',
    'パスワードは\u3000',
    'ｄａｓ Ｐａｓｓｗｏｒｔ ｉｓｔ ',
    'lösenordet är '.normalize('NFD'),
  ])('%s then an assignment of a URL: its password masked whole', (prose) => {
    const out = masked(`${prose}DATABASE_URL=mysql://root:Zq8v%20T2xk9@localhost/app`);
    for (const piece of ['Zq8v', 'T2xk9', '%20']) expect(out, prose).not.toContain(piece);
  });

  it('stays linear on 1 MiB of linked names, with the right answer', () => {
    // The costliest shapes measured (docs/BENCHMARKS.md, forty-second session): a link after every
    // word, a run or a bracket after every link, a clause's words, an ending.
    for (const unit of ['密码是', '密码是a', 'パスワードは「', '비밀번호는 ', 'รหัสผ่านคือ', 'Passwort für a ', 'пароль — ', 'şifreniz', '密码已重置为abcdef是'])
      expect(detectNamedPasswords(fill(unit)), unit).toEqual([]);
    // Every whole unit's value (the cut one at the end may be one too).
    expect(detectNamedPasswords(fill(`密码是${SECRET} `)).length).toBeGreaterThanOrEqual(Math.floor(MiB / 13));
  });
});

describe('named passwords: the forms a sentence gives the word', () => {
  // Swedish, Norwegian and Danish glue the article on ("lösenordet", the password), Turkish and
  // Finnish the owner ("şifreniz", your password: how a one-time password arrives by SMS); Indonesian,
  // Malay and Hebrew name the owner after the word ("kata sandi Anda", "הסיסמה שלך").
  it.each([
    ['Şifreniz: 483920', '483920'],
    [`Yeni şifreniz: ${SECRET}`, SECRET],
    [`şifrem: ${SECRET}`, SECRET],
    [`Şifresi: ${SECRET}`, SECRET],
    [`{"şifreniz": "${SECRET}"}`, SECRET],
    [`Lösenordet är ${SECRET}`, SECRET],
    [`lösenordet: ${SECRET}`, SECRET],
    [`Passordet er ${SECRET}`, SECRET],
    [`Adgangskoden er ${SECRET}`, SECRET],
    [`Kodeordet er ${SECRET}`, SECRET],
    [`Salasanasi on ${SECRET}`, SECRET],
    [`salasanani: ${SECRET}`, SECRET],
    [`kata sandi Anda adalah ${SECRET}`, SECRET],
    [`kata laluan anda ialah ${SECRET}`, SECRET],
    [`הסיסמה שלך היא ${SECRET}`, SECRET],
    // The word as typed: upper case, decomposed accents, tatweel, Persian letters
    ['ŞİFRENİZ: 483920', '483920'],
    [`şifreniz2: ${SECRET}`, SECRET],
    [`lösenordet_prod: ${SECRET}`, SECRET],
    [`salasanasi1: ${SECRET}`, SECRET],
    [`LÖSENORDET ÄR ${SECRET}`, SECRET],
    [`lo\u0308senordet a\u0308r ${SECRET}`, SECRET],
    [`MẬT KHẨU LÀ ${SECRET}`, SECRET],
    [`كلمـة المـرور هي ${SECRET}`, SECRET],
    [`کلمة المرور هي ${SECRET}`, SECRET],
  ])('%s', (text, value) => {
    expect(passwords(text), text).toEqual([value]);
    maskedOut(text, value);
  });

  it.each(['şifreleme: AES256GCM', 'şifresiz bağlantı: port 8080a', 'salasananvaihto: 2024-05-01T10:00', 'Lösenordet är för kort', 'Şifreniz: değiştirildi'])(
    '%s: no finding',
    (text) => accepted(text),
  );
});

describe('named passwords: a password set, reset or changed to a value', () => {
  // How systems and people report a new password in English: the verb after the word ("Your
  // password has been reset to X") or before it ("Admin reset the password to X"). Each passed the
  // guard and preflight unmasked while only "is" and "was" linked the word to its value.
  it.each([
    `Your password has been set to ${SECRET}`,
    `password was reset to ${SECRET}`,
    `Password changed to: ${SECRET}`,
    `The password for bob was updated to ${SECRET}.`,
    `Your password is now set to ${SECRET}`,
    `your temporary password has been changed to ${SECRET}`,
    `Password reset to "${SECRET}"`,
    `PASSWORD SET TO ${SECRET}`,
    `db_password set to ${SECRET}`,
    `das Passwort has been reset to ${SECRET}`,
    // The verb before the word, up to three words between them, maybe a "for" clause after it.
    `Admin reset the password to ${SECRET}`,
    `Set password to ${SECRET}`,
    `changed bob's password to ${SECRET}`,
    `Updated the root password for db-prod-2 to ${SECRET}`,
    `resetting your account password to ${SECRET}`,
    `user admin set the new password to: ${SECRET}`,
    // An attacker review's: adverbs and an actor around the verb, other auxiliaries and prepositions,
    // "back to", "to be", "as", "into", the verbs of keys, the short names after a verb.
    `Your password has been successfully reset to ${SECRET}`,
    `Your password has been temporarily reset to ${SECRET}`,
    `Password has successfully been reset to ${SECRET}`,
    `password was just reset to ${SECRET}`,
    `Password was reset by admin to ${SECRET}`,
    `Your password got reset to ${SECRET}`,
    `Your password's been reset to ${SECRET}`,
    `Your password is being reset to ${SECRET}`,
    `The password should be set to ${SECRET}`,
    `the password needs to be reset to ${SECRET}`,
    `password has been set as ${SECRET}`,
    `password set to be ${SECRET}`,
    `password was changed into ${SECRET}`,
    `Your password was reset to the following: ${SECRET}`,
    `password reset back to ${SECRET}`,
    `Your password was reset and is now ${SECRET}`,
    `password has been changed and is ${SECRET}`,
    `password rotated to ${SECRET}`,
    `I reset the password on db-prod-2 to ${SECRET}`,
    `Admin changed the password of bob to ${SECRET}`,
    `I reset bob's password back to ${SECRET}`,
    `set the password to be ${SECRET}`,
    `Rotated the DB password to ${SECRET}`,
    `pls reset my pw to ${SECRET}`,
    `reset my pwd to ${SECRET}`,
    `reset my pass to ${SECRET}`,
  ])('%s', (text) => maskedOut(text));

  it.each([
    [`Field password changed from 'OldPass1' to '${SECRET}'`, 'OldPass1'],
    [`password changed from OldPass1 to ${SECRET}`, 'OldPass1'],
    [`password: changed from OldPass1 to ${SECRET}`, 'OldPass1'],
  ])('%s: the old password and the new', (text, old) => {
    expect(passwords(text), text).toEqual([old, SECRET]);
    expect(masked(text), text).not.toContain(SECRET);
    expect(masked(text), text).not.toContain(old);
  });

  it('reads the API key a key was rotated to', () => {
    const key = 'sk9Xq2LmP4vT7wZ3nB8c';
    for (const text of [`API key was rotated to ${key}`, `Rotated the API key to ${key}`, `Regenerated the client secret to ${key}`])
      expect(passwords(text), text).toEqual([key]);
  });

  it.each([
    'Password reset to default',
    'Password set to expire in 90 days',
    'password changed to meet the policy',
    'Password policy changed to require 12 characters',
    'Password expiry set to 2024-05-01',
    'password length set to 12',
    'Password changed to v2.1.3 hashing',
    'password updated to comply with SOC2',
    'Reset the password to the default for user01',
    'Failed to update password on db-prod-2',
    'Set password to expire for user01',
    'Password change to be done by 2024-05-01',
    // A verb of another sentence, or more than three words before the word.
    'Settings updated. Password to user01 only after approval',
    'Reset link for the forgotten account password to bob-99',
    // An attacker review's: a number and its unit, a ticket, a quarter; a verb of another line.
    'Password reset to 6-digit PIN',
    'password changed to 4-digit PIN',
    'Password reset to 8-character minimum',
    'Reset password for svc-backup to 90-day rotation',
    'Password set to 90days',
    'Password set to 16chars',
    'Password reset to 10char-min',
    'Password reset to 1st-login prompt',
    'Password changed to 2FA-enabled',
    'Updated password for db-prod-2 to 2024Q3 standard',
    'changed password to Q2-2024 rotation',
    'Password reset to INC-20391 per request',
    'password reset to INC0012345',
    'Rate-limit password reset to 10req/min',
    'Settings updated\nPassword to user01 only after approval',
    'Reset\nPassword to user01',
  ])('%s: no finding', (text) => accepted(text));

  it('names no recipient as a password: an address after "to" is one', () => {
    for (const text of ['Reset password to bob99@example.com', 'Password reset link sent to bob99@example.com', 'Sent the new password to bob99@example.com'])
      expect(passwords(text), text).toEqual([]);
  });

  it('reads a million characters of verbs and words in linear time', () => {
    for (const unit of ['reset password to ', 'password has been set to ', 'set a b c password for x y z to ', 'password to password to '])
      expect(detectNamedPasswords(fill(unit)), unit).toEqual([]);
  });
});

describe('named passwords: Italian prose, which writes the English word', () => {
  // Italian names the password with the English word ("la password è X"): its verb, its words after
  // the noun and its "for" were read with no language's, as the word is English's.
  it.each([
    `la password è ${SECRET}`,
    `La tua nuova password è: ${SECRET}`,
    `la password temporanea è ${SECRET}`,
    `la password del wifi è ${SECRET}`,
    `La password di rete è ${SECRET}.`,
    `LA PASSWORD È ${SECRET}`,
    `la password ora è ${SECRET}`,
    `la password è ora ${SECRET}`,
    `la vecchia password era ${SECRET}`,
  ])('%s', (text) => maskedOut(text));

  it.each(['La password è scaduta', 'La password è stata reimpostata il 2024-05-01', 'password e user01 sono obbligatori', 'Password era: 2024-05-01T10:00'])(
    '%s: no finding',
    (text) => accepted(text),
  );
});

describe('named passwords: the words read only before their verb', () => {
  // Polish "hasło", Czech and Slovak "heslo" and Romanian "parola" are not read as names ("Heslo:
  // „Pravda vítězí"" is a slogan), but before their own language's verb they name a password, as
  // account e-mails write it ("Twoje nowe hasło to: X", "Vaše heslo je X", "Parola ta este X").
  it.each([
    `Twoje nowe hasło to: ${SECRET}`,
    `hasło do wifi to ${SECRET}`,
    `Twoje hasło tymczasowe to ${SECRET}`,
    `haslo jest teraz ${SECRET}`,
    `HASŁO TO ${SECRET}`,
    `Vaše heslo je: ${SECRET}`,
    `Heslo k wifi je ${SECRET}.`,
    `vaše heslo je nyní ${SECRET}`,
    `Parola ta este: ${SECRET}`,
    `parola pentru wifi este ${SECRET}`,
    `Noua ta parolă este ${SECRET}`,
    `Parola de la router a fost ${SECRET}`,
  ])('%s', (text) => maskedOut(text));

  it.each([
    'Heslo: „Pravda vítězí"',
    'hasło: Lato2024',
    'Hasło to podstawa bezpieczeństwa',
    'Heslo je příliš krátké',
    'heslo=Zq8vT2xk9',
    'la parola è Zq8vT2xk9',
    'Parola este greșită',
    'wyhasło to abc12345',
    // English's verbs are not theirs.
    'heslo is Zq8vT2xk9',
  ])('%s: no finding', (text) => accepted(text));

  it('reads a million characters of them in linear time', () => {
    for (const unit of ['hasło to ', 'heslo k a b c d je ', 'parola ta ', 'hasłohasło ']) expect(detectNamedPasswords(fill(unit)), unit).toEqual([]);
  });
});

describe('named passwords: the repeats of a value a sentence ends', () => {
  // A question or an order ends on the password: the value read keeps its "?" or "!" (a password
  // may end so), and its repeats without them were left readable (an attacker review's).
  it.each([
    `Can you change my password to ${SECRET}? I typed ${SECRET} twice.`,
    `Set password to ${SECRET}! Then log in with ${SECRET}`,
    `Password reset to ${SECRET}... login with ${SECRET}`,
    `my password is ${SECRET}?! it says ${SECRET} is wrong`,
  ])('%s', (text) => {
    expect(masked(text), text).not.toContain(SECRET);
  });

  it('masks a password ending in "!" whole, and its repeats with it', () => {
    const text = 'password=Welcome1! and again Welcome1! here';
    expect(masked(text)).toBe('password=[PASSWORD] and again [PASSWORD] here');
  });
});

describe('named passwords: a second attacker review of the verbs that set a password', () => {
  // Passwords of a policy's shape, which the policy filter took for one: the filter reads only the
  // links that set a value, and only whole values.
  it.each([
    ['my password is WINTER-2024', 'WINTER-2024'],
    ['Mein Passwort ist WINTER-2024', 'WINTER-2024'],
    ['The wifi password is HOME-12345', 'HOME-12345'],
    ['password reset to WELCOME-2024', 'WELCOME-2024'],
    ['password reset to 7s3cr3t!', '7s3cr3t!'],
    ['password reset to 1st-Avenue!', '1st-Avenue!'],
    ['password reset to 4x4-Truck', '4x4-Truck'],
    ['Your temporary password is 8h4ck3r!', '8h4ck3r!'],
    ['password changed to 90days!Kot', '90days!Kot'],
  ])('%s', (text, value) => {
    expect(passwords(text), text).toEqual([value]);
    maskedOut(text, value);
  });

  // The new password of a diff whose old one is hidden, or given with an arrow or a comma; "from"
  // after the verb, "the following value:", the actor of two words, the short names before the verb.
  it.each([
    ['password: changed from ******** to Kot!2024x', ['Kot!2024x']],
    ['password changed from [REDACTED] to Kot!2024x', ['Kot!2024x']],
    ['Password changed from default to Kot!2024x', ['Kot!2024x']],
    ['Password changed from Kot!2024x -> Zz9!yyyy', ['Kot!2024x', 'Zz9!yyyy']],
    ['Password changed from Kot!2024x => Zz9!yyyy', ['Kot!2024x', 'Zz9!yyyy']],
    ['password changed from Kot!2024x, to Zz9!yyyy', ['Kot!2024x', 'Zz9!yyyy']],
    ['I changed the password from Kot!2024x to Zz9!yyyy', ['Kot!2024x', 'Zz9!yyyy']],
    ['Password has been reset to the following value: Kot!2024x', ['Kot!2024x']],
    ['Your password was reset to the following code: Kot!2024x', ['Kot!2024x']],
    ['Password reset by the admin to Kot!2024x', ['Kot!2024x']],
    ['Password reset by John Smith to Kot!2024x', ['Kot!2024x']],
    ['pw reset to Kot!2024x', ['Kot!2024x']],
    ['pwd changed to Kot!2024x', ['Kot!2024x']],
    ['Parola dvs. este Kot!2024x', ['Kot!2024x']],
    ['Parola dvs este Kot!2024x', ['Kot!2024x']],
  ])('%s', (text, values) => {
    expect(passwords(text), text).toEqual(values);
    for (const v of values) expect(masked(text), text).not.toContain(v);
  });

  it.each([
    'Password changed from host01',
    'Password reset from srv-web-02 by admin',
    'password was changed from Windows10 laptop',
    'password: updated from portal-v2',
    'Password reset as user01 requested',
    'Password changed as jdoe01 via SSPR',
    '// set pw to 1500us (servo center)',
    'update pw to 1200px',
    'Set pw to 300dpi',
    'changed my boarding pass to BA2490',
    'Changed my season pass to Gold-2024',
    'Renewed and updated my annual pass to Family4',
    'Reset pass to step-2 before retrying',
    'Password rotated to vault-2024 path',
    'password should be changed to comply-2024 rules',
    'password: reset to default-2024 policy',
    'The password per user is rotated-90d',
    'La parola era Ciao2024',
    'Hasło dla akcji to #Polska2024',
  ])('%s: no finding', (text) => accepted(text));

  // An account e-mail's label: the word with an owner or an adjective, then a colon.
  it.each([
    'Nowe hasło: Kot!2024x',
    'Twoje nowe hasło: Kot!2024x',
    'Twoje hasło jednorazowe: Kot!2024x',
    'Vaše nové heslo: Kot!2024x',
    'Dočasné heslo: Kot!2024x',
    'Parola nouă: Kot!2024x',
    'Parola ta: Kot!2024x',
  ])('%s', (text) => maskedOut(text, 'Kot!2024x'));

  it.each(['Hasło: Lato2024', 'Heslo: „Pravda vítězí"', 'Nowe hasło: wkrótce', 'Parola: Ciao2024'])('%s: no finding', (text) => accepted(text));
});

describe('named passwords: a third attacker review of the verbs that set a password', () => {
  // "was" ends in "as", and was read as a link that sets a value, whose value must end its phrase.
  it.each([
    'The password was Kot!2024x yesterday',
    'my password was Kot!2024x lol',
    'het wachtwoord was Kot!2024x gisteren',
    'password was `Kot!2024x`',
    'password was **Kot!2024x**',
    'password was <b>Kot!2024x</b>',
    'password was Kot!2024x (temporary)',
    // A value with a symbol, quoted or in markup is one whatever follows it.
    'Password reset to `Kot!2024x`',
    'Password reset to **Kot!2024x**',
    '<p>Your password has been reset to <b>Kot!2024x</b></p>',
    'Your password was reset to Kot!2024x<br>Please log in',
    'Your password has been reset to Kot!2024x thanks',
    'password reset to Kot!2024x user=bob',
    'password reset to Kot!2024x\tuser=bob',
    '| bob | password reset to Kot!2024x | done |',
    'Twoje hasło to Kot!2024x zaloguj się',
    // A "for" clause after the verb, a dotted user name before the word.
    'Password reset for user bob to Kot!2024x',
    'password changed for bob to Kot!2024x',
    "reset j.doe's password to Kot!2024x",
    // Labels with their "for" clause, Italian's "per il".
    'Hasło do konta: Kot!2024x',
    'Heslo k Wi-Fi: Kot!2024x',
    'La password per il wifi è Kot!2024x',
  ])('%s', (text) => maskedOut(text, 'Kot!2024x'));

  it.each([
    ['Your password has been reset to Hunter2Secret thanks', 'Hunter2Secret'],
    ['password reset to Hunter2Secret yesterday', 'Hunter2Secret'],
    ['password changed from Kot!2024x to Zz9!yyyy yesterday', 'Zz9!yyyy'],
    ['password changed from ******** to Zz9!yyyy yesterday', 'Zz9!yyyy'],
  ])('%s', (text, value) => expect(masked(text), text).not.toContain(value));

  it.each([
    "Set password to what's in the vault",
    'reset password to origin/main',
    'password rotated to secret/data/prod',
    'password reset to HEAD~1',
    'Switched the wifi password to WPA3-SAE',
    'Switch the Wi-Fi password to WPA2-PSK',
    'Password rotated to vault-2024 path',
  ])('%s: no finding', (text) => accepted(text));

  it('masks the repeats of as many passwords as before, a sentence end or not', () => {
    const users = Array.from({ length: 30 }, (_, i) => i);
    const text = [...users.map((i) => `user${i} password: Qx${i}zz!Kv${i}!`), ...users.map((i) => `login for user${i} failed with Qx${i}zz!Kv${i}!`)].join(
      '\n',
    );
    const out = masked(text);
    for (const i of users) expect(out, `user${i}`).not.toContain(`Qx${i}zz`);
  });
});

describe('named passwords: a fourth attacker review of the verbs that set a password', () => {
  it.each([
    ['Password reset to Welcome2024 per your request', 'Welcome2024'],
    ['The password has been reset to Welcome2024 per INC0012345', 'Welcome2024'],
    ['password reset to Hunter2Secret fyi', 'Hunter2Secret'],
    ['Password successfully reset to Kot!2024x', 'Kot!2024x'],
    ['the password was reset yesterday to Kot!2024x', 'Kot!2024x'],
    ['password reset via SSPR to Kot!2024x', 'Kot!2024x'],
    ['Password changed from Kot!2024x', 'Kot!2024x'],
    ["password changed from 'Kot!2024x'", 'Kot!2024x'],
  ])('%s', (text, value) => maskedOut(text, value));

  it.each([
    'set password to scram-sha-256 in postgresql.conf',
    'Heslo k Wi-Fi: WPA2-PSK',
    'pwd reset to build-2024',
    'pw updated to 1.42.1-beta',
    'pass set to stage2',
    'Pass changed from stage1 to stage2',
    'pass rotated to slot-2',
  ])('%s: no finding', (text) => accepted(text));

  it("still reads a short name before a verb when the value has a password's shape", () => {
    expect(passwords('pw reset to Kot!2024x')).toEqual(['Kot!2024x']);
  });
});

describe('named passwords: a technical name after a hyphen is a policy, nothing else is', () => {
  // A final review's: the first version of the rule took any hyphenated value ending in "ed" or a
  // listed adjective for a policy, quoted or not ("Welcome1-Red", "Hunter2-protected").
  it.each([
    ['set password to Hunter2-protected', 'Hunter2-protected'],
    ['password reset to Summer2024-based', 'Summer2024-based'],
    ['set password to "Welcome1-Red"', 'Welcome1-Red'],
    ['Your password was changed to Tiger7-Bred.', 'Tiger7-Bred'],
  ])('%s', (text, value) => maskedOut(text, value));

  it.each(['The password should be Base64-encoded', 'The password will be SHA256-hashed', 'The password shall be ISO27001-compliant'])(
    '%s: no finding',
    (text) => accepted(text),
  );
});

describe('named passwords: a password to come', () => {
  // "will be", "should be": how an account e-mail announces a temporary password. Each passed the guard
  // and preflight unmasked while only "is" and "was" linked the word to its value with no verb.
  it.each([
    `Your temporary password will be ${SECRET}`,
    `The new password will be: ${SECRET}`,
    `the password should be ${SECRET}.`,
    `Your password would be ${SECRET} thanks`,
    `the wifi password shall be "${SECRET}"`,
  ])('%s', (text) => maskedOut(text));

  // Its value is read as a verb's: a policy, a plain word or a phrase going on is none.
  it.each([
    'Your password will be sent to your email',
    'Password will be reset on 2024-06-01',
    'The password should be at least 8 characters',
    'password will be 12chars',
    'password should be 8-64 characters',
    'Your password will be expired in 90days',
    'the wifi password will be posted at reception',
  ])('%s: no finding', (text) => accepted(text));
});

describe("named passwords: a password set, in the word's own language", () => {
  // Each language's verbs that set a password, as English's "reset to": each passed the guard and
  // preflight unmasked while only the language's "is" linked its word to a value.
  it.each([
    `Votre mot de passe a été réinitialisé à ${SECRET}`,
    `mot de passe changé en ${SECRET}`,
    `Votre mot de passe a été réinitialisé à ${SECRET} et devra être modifié à la prochaine connexion.`,
    `La password è stata reimpostata a ${SECRET}`,
    `La tua password è stata reimpostata a ${SECRET} e dovrà essere cambiata`,
    `Uw wachtwoord is gewijzigd in ${SECRET}`,
    `Je wachtwoord is gereset naar ${SECRET} en moet worden gewijzigd`,
    `Ihr Kennwort wurde geändert zu ${SECRET}`,
    // The usual wording of German, Spanish and Portuguese reset e-mails (a final review's): a host or
    // user after "auf", "a" or "para" reads as a password there, as a leak weighs more.
    `Ihr Passwort wurde auf ${SECRET} zurückgesetzt`,
    `Passwort wurde geändert auf ${SECRET}`,
    `contraseña cambiada a ${SECRET}`,
    `senha foi redefinida para ${SECRET}`,
    // A third review's: an adverb after the auxiliary or the participle, and the password to come.
    `Votre mot de passe a été temporairement réinitialisé à ${SECRET}`,
    `La password è stata reimpostata correttamente a ${SECRET}`,
    `Votre mot de passe temporaire sera ${SECRET}`,
    `Tu contraseña temporal será ${SECRET}`,
    `Sua senha será ${SECRET}`,
    `La tua password sarà ${SECRET}`,
  ])('%s', (text) => maskedOut(text));

  // After a word that means on or as as often (German "in", French "sur", Italian "su", Dutch "op",
  // "como"), a value whose shape or quotes say password.
  it.each([
    'Ihr Passwort wurde auf Kot!2024x zurückgesetzt',
    'Ihr Passwort wurde erfolgreich zurückgesetzt auf Kot!2024x',
    'Kennwort geändert auf Kot!2024x',
    'Su contraseña ha sido restablecida a Kot!2024x',
    'contraseña cambiada a Kot!2024x',
    'Sua senha foi redefinida para Kot!2024x',
    'senha alterada para "Xuza1234"',
    'la password è stata impostata su Kot!2024x',
    'Het wachtwoord is ingesteld op Kot!2024x',
    'Le mot de passe a été défini sur Kot!2024x',
    'Sua senha foi alterada com sucesso para Kot!2024x',
    'Tu contraseña ha sido restablecida con éxito a Kot!2024x',
    'Uw wachtwoord is opnieuw ingesteld op Kot!2024x',
    'Ihr Passwort wurde erfolgreich zurückgesetzt auf Kot!2024x',
  ])('%s', (text) => maskedOut(text, text.includes('Xuza') ? 'Xuza1234' : 'Kot!2024x'));

  // Its value is read as English's verbs' is: a phrase going on, a date or a plain word is none, and
  // the words that say by whom ("par", "por") or on what ("en") lead to no value; a host, device or
  // user after a word that also means on or for is none (a second review's).
  it.each([
    'Das Passwort wurde auf Wunsch zurückgesetzt',
    'Das Passwort wurde auf srv-db-02 geändert',
    'Passwort geändert in AD-Prod2',
    'Le mot de passe a été changé par jdupont2',
    'Mot de passe réinitialisé sur srv-02',
    'Votre mot de passe a été réinitialisé sur iPhone15',
    'Contraseña cambiada por jperez2',
    'La contraseña fue cambiada en srv02',
    'Senha alterada para o usuário jsilva2',
    'Wachtwoord gewijzigd op 12-05-2024',
    'Het wachtwoord is gewijzigd op srv-02',
    'La password è stata cambiata su srv-02',
    'La password è stata modificata in data 12/05/2024',
    'Votre mot de passe a été réinitialisé à la demande de votre administrateur',
    'Das Passwort ist auf dem Zettel',
    'The password should be Base64-encoded',
    'The password will be v2-compatible',
    'Le mot de passe sera réinitialisé demain',
    'Votre mot de passe sera envoyé par e-mail',
    'La contraseña será enviada a jperez2',
    'La password sarà scaduta il 12/05/2024',
  ])('%s: no finding', (text) => accepted(text));

  it('reads a million characters of them in linear time', () => {
    for (const unit of ['Passwort wurde auf ', 'mot de passe a été réinitialisé à ', 'password è stata reimpostata a ', 'senha foi redefinida para a '])
      expect(detectNamedPasswords(fill(unit)), unit).toEqual([]);
  });
});
