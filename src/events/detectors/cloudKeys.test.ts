import { describe, expect, it } from 'vitest';
import { detectAndMask } from '../mask.js';
import { fill, found, typesIn } from '../../../test/support/detection.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
/** A second key, to tell two findings apart. */
const S2 = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/Ab';

describe('AWS secret access key', () => {
  it('finds the value of an XML element named for it, as STS and IAM answer', () => {
    const sts = `<Credentials>\n  <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n  <SecretAccessKey>${SECRET}</SecretAccessKey>\n</Credentials>`;
    expect(found(sts)).toEqual([
      ['AWS_ACCESS_KEY', 'ASIAIOSFODNN7EXAMPLE'],
      ['AWS_SECRET_KEY', SECRET],
    ]);
    expect(found(`<aws_secret_access_key>${SECRET}</aws_secret_access_key>`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
    expect(found(`<SecretAccessKey>\n    ${SECRET}\n</SecretAccessKey>`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
  });

  it('finds the value after the name and a space, as the CLI and shells take it', () => {
    expect(found(`$ aws configure set aws_secret_access_key ${SECRET}`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
    expect(found(`setenv AWS_SECRET_ACCESS_KEY "${SECRET}"`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
    expect(found(`--aws-secret-access-key ${SECRET} --region eu-west-1`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
    expect(found(`'aws_secret_access_key' => '${SECRET}',`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
  });

  it('finds the value after the name spelled as words, and after "is" or "was" as prose and chat write it', () => {
    expect(found(`aws_secret_access_key is ${SECRET}`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
    expect(found(`the aws secret access key was ${SECRET}, rotate it`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
    expect(found(`AWS Secret Access Key: ${SECRET}`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
    expect(found(`my secret access key is: "${SECRET}"`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
  });

  it('finds the value typed at the aws configure prompt', () => {
    expect(found(`AWS Access Key ID [None]: AKIAIOSFODNN7EXAMPLE\nAWS Secret Access Key [None]: ${SECRET}`)).toEqual([
      ['AWS_ACCESS_KEY', 'AKIAIOSFODNN7EXAMPLE'],
      ['AWS_SECRET_KEY', SECRET],
    ]);
    expect(found(`AWS Secret Access Key [****************EKEY]: ${SECRET}`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
  });

  it('finds the value in the config spellings that already worked', () => {
    for (const line of [
      `AWS_SECRET_ACCESS_KEY: "${SECRET}"`,
      `SecretAccessKey = ${SECRET}`,
      `secret_access_key => '${SECRET}'`,
      `{"aws_secret_access_key":"${SECRET}"}`,
      `export AWS_SECRET_ACCESS_KEY=${SECRET}`,
      `docker run -e AWS_SECRET_ACCESS_KEY=${SECRET} app`,
      `-Daws.secretAccessKey=${SECRET}`,
      `quarkus.s3.aws.credentials.static-provider.secret-access-key=${SECRET}`,
      `https://s3.example.com/upload?aws_secret_access_key=${SECRET}&region=us-east-1`,
      `  secretAccessKey: ${SECRET}`,
    ]) {
      expect(found(line)).toEqual([['AWS_SECRET_KEY', SECRET]]);
    }
  });

  it('masks the value and keeps the name', () => {
    expect(detectAndMask(`<SecretAccessKey>${SECRET}</SecretAccessKey>`).masked).toBe('<SecretAccessKey>[AWS_SECRET_KEY]</SecretAccessKey>');
    expect(detectAndMask(`aws configure set aws_secret_access_key ${SECRET}`).masked).toBe('aws configure set aws_secret_access_key [AWS_SECRET_KEY]');
  });

  it('finds a value in backticks or quotes, as chat, Markdown and a quoted prompt answer write it', () => {
    for (const text of [`The AWS secret access key is \`${SECRET}\``, `aws_secret_access_key = \`${SECRET}\``, `AWS Secret Access Key [None]: "${SECRET}"`]) {
      expect(found(text), text).toEqual([['AWS_SECRET_KEY', SECRET]]);
    }
  });

  it("finds the value right after its access key id, as the console's credentials.csv and tables write the pair", () => {
    const ID = 'AKIAIOSFODNN7EXAMPLE';
    for (const text of [
      `Access key ID,Secret access key\n${ID},${SECRET}\n`,
      `User name,Password,Access key ID,Secret access key\nci,,${ID},${SECRET}`,
      `"${ID}","${SECRET}"`,
      `| ${ID} | ${SECRET} |`,
      `${ID} ${SECRET}`,
      `${ID}:${SECRET}`,
    ]) {
      expect(found(text), text).toEqual([
        ['AWS_ACCESS_KEY', ID],
        ['AWS_SECRET_KEY', SECRET],
      ]);
    }
    const lower = ID.toLowerCase();
    expect(found(`${lower},${SECRET}`)).toEqual([
      ['AWS_ACCESS_KEY', lower],
      ['AWS_SECRET_KEY', SECRET],
    ]);
    // Not a key: one character more, words between the id and the value, or a value of one case (a
    // SHA-1 in hex, digits), or nothing between the id and the value.
    expect(found(`${ID},${SECRET}A`)).toEqual([['AWS_ACCESS_KEY', ID]]);
    expect(found(`${ID} was rotated, see ${SECRET}`)).toEqual([['AWS_ACCESS_KEY', ID]]);
    for (const other of ['da39a3ee5e6b4b0d3255bfef95601890afd80709', 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709', '0123456789'.repeat(4)]) {
      expect(found(`| ${ID} | ${other} |`)).toEqual([['AWS_ACCESS_KEY', ID]]);
      expect(found(`${ID}\t${other}`)).toEqual([['AWS_ACCESS_KEY', ID]]);
    }
    expect(typesIn(`${ID}${SECRET}`)).not.toContain('AWS_SECRET_KEY');
  });

  it('finds the value in the cell after its name, as tables print it (`aws ... --output table`, Markdown)', () => {
    const cli = [
      '||  AccessKeyId     |  AKIAIOSFODNN7EXAMPLE                        ||',
      '||  CreateDate      |  2026-12-03T05:11:17+00:00                   ||',
      `||  SecretAccessKey |  ${SECRET}    ||`,
      '||  Status          |  Active                                      ||',
    ].join('\n');
    expect(found(cli)).toEqual([
      ['AWS_ACCESS_KEY', 'AKIAIOSFODNN7EXAMPLE'],
      ['AWS_SECRET_KEY', SECRET],
    ]);
    for (const text of [
      `| SecretAccessKey | ${SECRET} |`,
      `| aws_secret_access_key | \`${SECRET}\` |`,
      `| AWS Secret Access Key         |         ${SECRET} |`,
      `aws_secret_access_key|${SECRET}`,
    ]) {
      expect(found(text), text).toEqual([['AWS_SECRET_KEY', SECRET]]);
    }
    // Box-drawing borders (psql, rich, tabulate), a bold name or value, a wide aligned column.
    for (const text of [
      `aws_secret_access_key │ ${SECRET}`,
      `┃ SecretAccessKey ┃ ${SECRET} ┃`,
      `| **SecretAccessKey** | ${SECRET} |`,
      `| *SecretAccessKey* | **${SECRET}** |`,
      `| AWS secret access key${' '.repeat(40)}| ${SECRET} |`,
      `SecretAccessKey || ${SECRET}`,
      `║ SecretAccessKey ║ ${SECRET} ║`,
      `¦ SecretAccessKey ¦ ${SECRET} ¦`,
      `| __SecretAccessKey__ | ${SECRET} |`,
      `**AWS Secret Access Key**: ${SECRET}`,
      `**AWS Secret Access Key:** ${SECRET}`,
      // A bold name in code or quotes, a bold value, a colon in the name's cell.
      `| **\`SecretAccessKey\`** | ${SECRET} |`,
      `| **"SecretAccessKey"** | ${SECRET} |`,
      `AWS Secret Access Key: **${SECRET}**`,
      `**AWS Secret Access Key**: **${SECRET}**`,
      `- **\`aws_secret_access_key\`**: \`${SECRET}\``,
      `| **SecretAccessKey:** | ${SECRET} |`,
      `| SecretAccessKey: | ${SECRET} |`,
    ]) {
      expect(found(text), text).toEqual([['AWS_SECRET_KEY', SECRET]]);
    }
    // A table about the setting, not of its value; a cell only lists a value beside the name, so a
    // value of one case (a commit's SHA-1, digits) is none, as in a CSV row.
    expect(found('| SecretAccessKey | string | The secret key, 40 characters |')).toEqual([]);
    expect(found(`| secret_key | ${SECRET} |`)).toEqual([]);
    expect(found('| Rotate AWS secret access key | da39a3ee5e6b4b0d3255bfef95601890afd80709 |')).toEqual([]);
    expect(found(`| secret access key | ${'0123456789'.repeat(4)} |`)).toEqual([]);
    expect(found('aws_secret_access_key|da39a3ee5e6b4b0d3255bfef95601890afd80709')).toEqual([]);
  });

  it("finds Cognito's SecretKey beside its AccessKeyId, as GetCredentialsForIdentity answers", () => {
    const ID = 'ASIAIOSFODNN7EXAMPLE';
    for (const text of [
      `{"IdentityId":"us-east-1:1234","Credentials":{"AccessKeyId":"${ID}","SecretKey":"${SECRET}","SessionToken":"IQoJb3JpZ2luX2VjE","Expiration":1764742277}}`,
      `{"Credentials": {"SecretKey": "${SECRET}", "AccessKeyId": "${ID}"}}`,
      `||  AccessKeyId  |  ${ID}  ||\n||  Expiration   |  1764742277.0  ||\n||  SecretKey    |  ${SECRET}  ||`,
      `credentials.accessKeyId = '${ID}'; credentials.secretKey = '${SECRET}';`,
      // PHP's var_export and print_r, Perl's Paws; a bold name.
      `['AccessKeyId' => '${ID}', 'SecretKey' => '${SECRET}']`,
      `Array ( [AccessKeyId] => ${ID} [SecretKey] => ${SECRET} )`,
      `- AccessKeyId: ${ID}\n- **SecretKey**: ${SECRET}`,
      // The CLI's --output table pads every row to the session token's width (over 1,000 characters).
      [
        `||  AccessKeyId  |  ${ID}${' '.repeat(1300)}||`,
        `||  Expiration   |  1764742277.0${' '.repeat(1308)}||`,
        `||  SecretKey    |  ${SECRET}${' '.repeat(1280)}||`,
        `||  SessionToken |  IQoJb3JpZ2luX2VjE${'x'.repeat(1303)}||`,
      ].join('\n'),
    ]) {
      expect(
        found(text).filter(([type]) => type === 'AWS_SECRET_KEY'),
        text,
      ).toEqual([['AWS_SECRET_KEY', SECRET]]);
    }
    // A bare SecretKey names too many things: with no access key id near it, nothing; nor a value
    // of one case beside one.
    expect(found(`{"SecretKey": "${SECRET}"}`)).toEqual([]);
    expect(found(`{"stripe": {"SecretKey": "${SECRET}"}}${' '.repeat(400)}${ID}`).filter(([type]) => type === 'AWS_SECRET_KEY')).toEqual([]);
    expect(found(`{"AccessKeyId": "${ID}", "SecretKey": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}`).filter(([type]) => type === 'AWS_SECRET_KEY')).toEqual(
      [],
    );
  });

  it('finds the value right before its id, as a query that lists the secret first prints the pair', () => {
    const ID = 'AKIAIOSFODNN7EXAMPLE';
    for (const text of [
      `${SECRET}\t${ID}`,
      `${SECRET}\t2026-12-03T05:11:17+00:00\t${ID}`,
      `"${SECRET}","${ID}"`,
      `| ${SECRET} | ${ID} |`,
      // --query '[SecretAccessKey,AccessKeyId]' --output table and --output yaml: one value a row.
      `-----------------------------------------------\n|  ${SECRET}  |\n|  ${ID}${' '.repeat(22)}|\n`,
      `- ${SECRET}\n- ${ID}\n`,
      // assume-role's --query of the three credentials as a table: every row padded to the token's width.
      `|  ${SECRET}${' '.repeat(660)}|\n|  ${ID}${' '.repeat(680)}|\n|  IQoJb3JpZ2luX2VjE${'x'.repeat(683)}|`,
    ]) {
      expect(found(text), text).toEqual([
        ['AWS_SECRET_KEY', SECRET],
        ['AWS_ACCESS_KEY', ID],
      ]);
    }
    // Not a key: glued to more of its alphabet, one case only, or words between.
    expect(found(`x${SECRET}\t${ID}`)).toEqual([['AWS_ACCESS_KEY', ID]]);
    expect(found(`da39a3ee5e6b4b0d3255bfef95601890afd80709\t${ID}`)).toEqual([['AWS_ACCESS_KEY', ID]]);
    expect(found(`${SECRET} is unrelated to ${ID}`)).toEqual([['AWS_ACCESS_KEY', ID]]);
  });

  it('finds the value after its id and the key creation time, as `aws iam create-access-key` prints them', () => {
    const ID = 'AKIAIOSFODNN7EXAMPLE';
    // --output text prints the columns in name order: AccessKeyId, CreateDate, SecretAccessKey, ...
    for (const text of [
      `ACCESSKEY\t${ID}\t2026-12-03T05:11:17+00:00\t${SECRET}\tActive\talice`,
      `ACCESSKEY\t${ID}\t2026-12-03T05:11:17Z\t${SECRET}\tActive\talice`,
      `ACCESSKEY  ${ID}  2026-12-03T05:11:17.123456+0000  ${SECRET}  Active  alice`,
      `ACCESSKEY ${ID} 2026-12-03 05:11:17+00:00 ${SECRET} Active alice`,
      `| AccessKeyId | CreateDate | SecretAccessKey |\n| ${ID} | 2026-12-03T05:11:17+00:00 | ${SECRET} |`,
      `${ID},2026-12-03,${SECRET}`,
      `"${ID}","2026-12-03T05:11:17Z","${SECRET}"`,
      // Other tools' spellings of the time: aws sso get-role-credentials prints epoch milliseconds,
      // the v1 CLI's Cognito epoch seconds, PowerShell its locale's date.
      `ROLECREDENTIALS\t${ID}\t1764742277000\t${SECRET}\tIQoJb3JpZ2luX2VjE`,
      `CREDENTIALS\t${ID}\t1764742277.0\t${SECRET}`,
      `${ID} 12/3/2026 5:11:17 AM  ${SECRET}`,
      `${ID} 03.12.2026 05:11:17 ${SECRET}`,
      `${ID} 2026-12-03 05:11:17,123 ${SECRET}`,
      `${ID} 2026-12-03 05:11:17 UTC ${SECRET}`,
      `${ID} 2026-12-03T05:11Z ${SECRET}`,
      `${ID} 2026-12-03T05:11:17+00 ${SECRET}`,
      `${ID} 2026/12/03 5:11:17 ${SECRET}`,
      `${ID} 3-12-2026 05:11:17 ${SECRET}`,
      `${ID} 2026-12-03 5:11:17 a.m. ${SECRET}`,
      `${ID} 1764742277.1234567 ${SECRET}`,
      // --query '[AccessKeyId,SecretAccessKey]' --output table and --output yaml.
      `|  ${ID}${' '.repeat(22)}|\n|  ${SECRET}  |\n`,
      `- ${ID}\n- ${SECRET}\n`,
      `|  ${ID}${' '.repeat(700)}|\n|  ${SECRET}${' '.repeat(660)}|\n|  IQoJb3JpZ2luX2VjE${'x'.repeat(683)}|`,
    ]) {
      expect(found(text), text).toEqual([
        ['AWS_ACCESS_KEY', ID],
        ['AWS_SECRET_KEY', SECRET],
      ]);
    }
    // Still no key: a value of one case, or more than a date between the id and the value.
    expect(found(`${ID}\t2026-12-03T05:11:17Z\tda39a3ee5e6b4b0d3255bfef95601890afd80709`)).toEqual([['AWS_ACCESS_KEY', ID]]);
    expect(found(`${ID} 2026-12-03T05:11:17Z rotated, see ${SECRET}`)).toEqual([['AWS_ACCESS_KEY', ID]]);
    expect(found(`${ID} 2026-12-03 2026-12-04 ${SECRET}`)).toEqual([['AWS_ACCESS_KEY', ID]]);
  });

  it('finds the value after a Go or Makefile assignment (":=", "::=", "?=")', () => {
    for (const line of [
      `aws_secret_access_key := "${SECRET}"`,
      `AWS_SECRET_ACCESS_KEY:=${SECRET}`,
      `AWS_SECRET_ACCESS_KEY ::= ${SECRET}`,
      `AWS_SECRET_ACCESS_KEY ?= ${SECRET}`,
    ]) {
      expect(found(line), line).toEqual([['AWS_SECRET_KEY', SECRET]]);
    }
  });

  it('finds the value of a property path with aws (or S3A) in it, as Spring, Quarkus, Camel, Hadoop and the Java SDK name it', () => {
    for (const line of [
      `cloud.aws.credentials.secret-key=${SECRET}`,
      `spring.cloud.aws.credentials.secretKey: ${SECRET}`,
      `java -Daws.secretKey=${SECRET} -jar app.jar`,
      `camel.component.aws2-s3.secret-key=${SECRET}`,
      `cloud.aws.secret_key: ${SECRET}`,
      `aws.secret.key=${SECRET}`,
      `--conf spark.hadoop.fs.s3a.secret.key=${SECRET}`,
      `fs.s3a.bucket.nightly.backups.secret.key=${SECRET}`,
    ]) {
      expect(found(line), line).toEqual([['AWS_SECRET_KEY', SECRET]]);
    }
  });

  it('finds the value after "set to", as logs and prose write it', () => {
    for (const line of [
      `AWS secret access key set to ${SECRET}`,
      `aws_secret_access_key is set to "${SECRET}"`,
      `INFO AWS_SECRET_ACCESS_KEY was set to ${SECRET}.`,
      `the aws secret access key has been set to \`${SECRET}\``,
    ]) {
      expect(found(line), line).toEqual([['AWS_SECRET_KEY', SECRET]]);
    }
  });

  it('finds secret_key in a Terraform aws provider or s3 backend block', () => {
    const provider = `provider "aws" {\n  region     = "us-east-1"\n  access_key = "AKIAIOSFODNN7EXAMPLE"\n  secret_key = "${SECRET}"\n}`;
    expect(found(provider)).toEqual([
      ['AWS_ACCESS_KEY', 'AKIAIOSFODNN7EXAMPLE'],
      ['AWS_SECRET_KEY', SECRET],
    ]);
    expect(found(`terraform {\n  backend "s3" {\n    bucket = "state"\n    secret_key = "${SECRET}"\n  }\n}`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
    // secret_key in any other block has no AWS context: a generic name is no AWS secret.
    expect(found(`provider "vault" {\n  secret_key = "${SECRET}"\n}`)).toEqual([]);
    expect(found(`secret_key = "${SECRET}"`)).toEqual([]);
    // Nor after the aws block has ended.
    expect(found(`provider "aws" {\n  region = "us-east-1"\n}\nprovider "other" {\n  secret_key = "${SECRET}"\n}`)).toEqual([]);
  });

  it("finds secret_key in Terraform's JSON syntax, in an aws provider or an s3 backend", () => {
    const S = SECRET;
    for (const text of [
      `{"provider":{"aws":{"secret_key":"${S}"}}}`,
      // As terraform writes *.tf.json, indented, the key after others and an interpolation.
      `{\n  "provider": {\n    "aws": {\n      "region": "\${var.region}",\n      "secret_key": "${S}"\n    }\n  }\n}`,
      // Another provider first, and its nested blocks; the aws configurations as a list.
      `{"provider": {"google": {"project": "p", "batching": {"send_after": "5s"}}, "aws": [{"secret_key": "${S}"}]}}`,
      // The provider objects as a list, aws not first.
      `{"provider": [{"google": {"project": "p"}}, {"aws": {"region": "us-east-1", "secret_key": "${S}"}}]}`,
      // Nested blocks before the key, and the s3 backend.
      `{"provider": {"aws": {"assume_role": {"role_arn": "arn:aws:iam::1:role/x"}, "default_tags": {"tags": {"team": "sec"}}, "secret_key": "${S}"}}}`,
      `{"terraform": {"backend": {"s3": {"bucket": "state", "secret_key": "${S}"}}}}`,
      // Aliased configurations: the key in a later one.
      `{"provider":{"aws":[{"region":"us-east-1"},{"alias":"eu","region":"eu-west-1","secret_key":"${S}"}]}}`,
      `{"provider":[{"aws":[{"alias":"a"},{"secret_key":"${S}"}]}]}`,
      // Tags with an interpolation three levels down, a brace inside a string, a long endpoints map.
      `{"provider":{"aws":{"default_tags":{"tags":{"Name":"\${var.name}"}},"profile":"a}b","secret_key":"${S}"}}}`,
      `{"provider":{"aws":{"endpoints":[{${Array.from({ length: 30 }, (_, i) => `"svc${i}":"http://localhost:4566"`).join(',')}}],"secret_key":"${S}"}}}`,
      // Terraform's backend state (.terraform/terraform.tfstate): the backend's name is its type.
      `{"version":3,"backend":{"type":"s3","config":{"bucket":"b","secret_key":"${S}"},"hash":1}}`,
      // Pretty-printed, escaped inside a JSON string.
      JSON.stringify({ file: JSON.stringify({ provider: { aws: [{ region: 'x' }, { secret_key: S }] } }, null, 2) }),
    ]) {
      expect(found(text), text).toEqual([['AWS_SECRET_KEY', S]]);
    }
    // Escaped quotes inside strings before the key: the normalizer decodes them, the walk reads on.
    for (const text of [
      `{"provider":{"aws":{"default_tags":{"tags":{"Owner":"Team \\"Blue\\""}},"secret_key":"${S}"}}}`,
      `{"provider":{"aws":[{"assume_role":[{"policy":"{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[]}","role_arn":"arn:aws:iam::1:role/x"}],"region":"us-east-1","secret_key":"${S}"}]}}`,
      `{"terraform":{"backend":{"s3":{"key":"env:/\\"prod\\"/state","secret_key":"${S}"}}}}`,
      // A Terraform document inside another JSON document whose own keys are "provider" or "backend".
      `{"provider": {"name": "terraform-cloud", "payload": {"provider": {"aws": {"secret_key": "${S}"}}}}}`,
      `{"backend": {"service": "atlantis", "plan": {"terraform": {"backend": {"s3": {"secret_key": "${S}"}}}}}}`,
      // A plan as terraform show -json writes it.
      `{"configuration":{"provider_config":{"aws":{"name":"aws","expressions":{"region":{"constant_value":"us-east-1"},"secret_key":{"constant_value":"${S}"}}}}}}`,
      // A value read from a file, its line break kept.
      `{"provider":{"aws":{"secret_key":"${S}\\n"}}}`,
    ]) {
      expect(found(text), text).toEqual([['AWS_SECRET_KEY', S]]);
    }
    expect(found(`{"provider":{"aws":[{"alias":"a","secret_key":"${S}"},{"alias":"b","default_tags":{"tags":{"n":"a\\"b"}},"secret_key":"${S2}"}]}}`)).toEqual([
      ['AWS_SECRET_KEY', S],
      ['AWS_SECRET_KEY', S2],
    ]);
    // Text earlier in the event that reads as an open "provider" object does not hide a later one.
    expect(found(`{"note": "\\"provider\\": {\\"a\\": \\"", "data": {"provider": {"aws": {"secret_key": "${S}"}}}}`)).toEqual([['AWS_SECRET_KEY', S]]);
    // Text earlier in the event that reads as an open list, or as Terraform nested past the walk's
    // depth limit, does not hide a later document either.
    expect(found(`{"note": "\\"provider\\": [", "provider": {"aws": [{"alias":"a"},{"secret_key":"${S}"}]}}`)).toEqual([['AWS_SECRET_KEY', S]]);
    expect(
      found(`{"note": "\\"provider\\": ${'['.repeat(61)}{\\"x\\": \\"", "data": {"provider": {"aws": [{"alias": "a"}, {"secret_key": "${S}"}]}}}`),
    ).toEqual([['AWS_SECRET_KEY', S]]);
    // A secret read whole, whatever follows its closing quote: a document cut short, or inside code.
    for (const text of [
      `{"provider":{"aws":{"default_tags":{"tags":{"Name":"\${var.name}"}},"secret_key":"${S}" (truncated)`,
      `{"provider":{"aws":[{"alias":"a"},{"secret_key":"${S}"...`,
      `x={"provider":{"aws":[{"alias":"a"},{"secret_key":"${S}";`,
    ]) {
      expect(found(text), text).toEqual([['AWS_SECRET_KEY', S]]);
    }
    // An open string or key before a document in a plain-text event (a CI log line) does not hide it.
    for (const text of [
      `log line: "provider": " then {"provider_config": {"aws": {"expressions": {"secret_key": {"constant_value": "${S}"}}}}}`,
      `log line: "backend": " then {"backend":{"type":"s3","config":{"secret_key":"${S}"}}}`,
      `log line: "provider": {" then {"provider": {"aws": {"default_tags": {"tags": {"a": {"b": 1}}}, "secret_key": "${S}"}}}`,
      // A backend state cut short after its secret keeps it (its type, written first, said s3).
      `{"backend":{"type":"s3","config":{"bucket":"b","secret_key":"${S}","region":"us-east-1"`,
    ]) {
      expect(found(text), text).toEqual([['AWS_SECRET_KEY', S]]);
    }
    // Blanks before the colon of the key the walk read as a string's end.
    expect(
      found(`{"provider":{"aws":{"secret_key":"${S}"x then {"provider_config"  : {"aws": {"expressions": {"secret_key": {"constant_value": "${S2}"}}}}}`),
    ).toEqual([
      ['AWS_SECRET_KEY', S],
      ['AWS_SECRET_KEY', S2],
    ]);
    // A decoded inner quote right after a secret: the secret, and the rest of the document read on.
    expect(found(`{"provider": {"aws": [{"secret_key": "${S}"x"}, {"region": "a", "secret_key": "${S2}"}]}}`)).toEqual([
      ['AWS_SECRET_KEY', S],
      ['AWS_SECRET_KEY', S2],
    ]);
    // A plan names aliased and modules' providers so.
    expect(
      found(
        `{"provider_config":{"aws.west":{"expressions":{"secret_key":{"constant_value":"${S}"}}},"module.net:aws":{"expressions":{"secret_key":{"constant_value":"${S2}"}}},"google":{"expressions":{"secret_key":{"constant_value":"${S}"}}}}}`,
      ),
    ).toEqual([
      ['AWS_SECRET_KEY', S],
      ['AWS_SECRET_KEY', S2],
    ]);
    // Every secret, not only the first after "provider".
    expect(found(`{"provider": [{"aws": {"secret_key": "${S}"}}, {"aws": [{"secret_key": "${S2}"}, {"secret_key": "${S}"}]}]}`)).toEqual([
      ['AWS_SECRET_KEY', S],
      ['AWS_SECRET_KEY', S2],
      ['AWS_SECRET_KEY', S],
    ]);
    // Another provider's secret_key, one after the aws object ended, or one in a nested object of
    // another provider says nothing of AWS.
    expect(found(`{"provider": {"vault": {"secret_key": "${S}"}}}`)).toEqual([]);
    expect(found(`{"provider": {"aws": {"region": "us-east-1"}, "other": {"secret_key": "${S}"}}}`)).toEqual([]);
    expect(found(`{"provider": {"other": {"x": {"secret_key": "${S}"}}, "aws": {}}}`)).toEqual([]);
    expect(found(`{"secret_key": "${S}"}`)).toEqual([]);
    expect(found(`{"backend":{"type":"gcs","config":{"secret_key":"${S}"}}}`)).toEqual([]);
    // A document cut short or broken after the secret still has it, and the search goes on after it.
    expect(found(`{"provider":{"aws":{"secret_key":"${S}","region":"us-`)).toEqual([['AWS_SECRET_KEY', S]]);
    expect(found(`"provider": {"aws": {"secret_key": "${S}" "x"}} then {"provider": {"aws": {"secret_key": "${S2}"}}}`)).toEqual([
      ['AWS_SECRET_KEY', S],
      ['AWS_SECRET_KEY', S2],
    ]);
    // Broken before it: the walk stops where the text is no JSON, and the braces still say aws.
    expect(found(`"provider": {"aws": {"region" "x", "secret_key": "${S}"}}`)).toEqual([['AWS_SECRET_KEY', S]]);
  });

  it("finds secret_key given to terraform init's s3 backend on the command line", () => {
    const S = SECRET;
    for (const text of [
      `terraform init -backend-config="secret_key=${S}"`,
      `terraform init -backend-config "secret_key=${S}" -backend-config="bucket=state"`,
      `terraform init -backend-config='secret_key="${S}"'`,
      `terraform init -backend-config=secret_key=${S}`,
      // Continued on the next line, padded, and PowerShell's quoting.
      `terraform init -backend-config \\\n    "secret_key=${S}"`,
      `terraform init -backend-config        "secret_key=${S}"`,
      `terraform init -backend-config=\`"secret_key=${S}\`"`,
    ]) {
      expect(found(text), text).toEqual([['AWS_SECRET_KEY', S]]);
    }
    expect(found(`terraform init -backend-config=backend.hcl -backend-config="bucket=${S}"`)).toEqual([]);
    expect(found(`terraform init -backend-config="secret_key=${S.slice(0, 39)}"`)).toEqual([]);
  });

  it("finds the value in a placeholder's angle brackets", () => {
    for (const text of [
      `AWS_SECRET_ACCESS_KEY=<${SECRET}>`,
      `aws_secret_access_key: <${SECRET}>`,
      `aws configure set aws_secret_access_key <${SECRET}>`,
      `provider "aws" {\n  secret_key = "<${SECRET}>"\n}`,
      `{"provider": {"aws": {"secret_key": "<${SECRET}>"}}}`,
    ]) {
      expect(found(text), text).toEqual([['AWS_SECRET_KEY', SECRET]]);
    }
    expect(found(`AKIAIOSFODNN7EXAMPLE,<${SECRET}>`)).toEqual([
      ['AWS_ACCESS_KEY', 'AKIAIOSFODNN7EXAMPLE'],
      ['AWS_SECRET_KEY', SECRET],
    ]);
    // A placeholder's name is no value, nor is 41 characters.
    expect(found('AWS_SECRET_ACCESS_KEY=<YOUR_SECRET_ACCESS_KEY>')).toEqual([]);
    expect(found(`AWS_SECRET_ACCESS_KEY=<${SECRET}A>`)).toEqual([]);
    // A "<" with no ">" is a shell's redirection; after an XML element's name, a "<" starts a tag.
    expect(found('read -r AWS_SECRET_ACCESS_KEY </run/secrets/awsCredentials/secretKeyPrd')).toEqual([]);
    expect(found('<SecretAccessKey>\n  <EncryptedSecretAccessKeyBase64Ciphertext>AQIDAHh</EncryptedSecretAccessKeyBase64Ciphertext>')).toEqual([]);
    expect(found('<SecretAccessKey></CustomerManagedKmsEncryptedAwsSecretKey>')).toEqual([]);
  });

  it('finds the value in the layouts tools write: aligned, nested, quoted as an argument, an XML property', () => {
    const S = SECRET;
    for (const text of [
      // terraform fmt aligns "=" with the longest name of the block.
      `provider "aws" {\n  access_key                  = "test"\n  secret_key                  = "${S}"\n  skip_credentials_validation = true\n}`,
      // Interpolation and nested blocks before the key.
      `provider "aws" {\n  region = "\${var.region}"\n  secret_key = "${S}"\n}`,
      `provider "aws" {\n  assume_role {\n    role_arn = "arn:aws:iam::1:role/x"\n  }\n  default_tags {\n    tags = { team = "sec" }\n  }\n  secret_key = "${S}"\n}`,
      // Padded assignments (tfvars, make, YAML).
      `aws_region                    = "us-east-1"\naws_secret_key                = "${S}"`,
      `AWS_SECRET_ACCESS_KEY         ?= ${S}`,
      `AWS_SECRET_ACCESS_KEY:      ${S}`,
      // The name quoted as an argument or a subscript.
      `conf.set("fs.s3a.secret.key", "${S}")`,
      `System.setProperty("aws.secretKey", "${S}");`,
      `os.environ["AWS_SECRET_ACCESS_KEY"] = "${S}"`,
      `ENV['AWS_SECRET_ACCESS_KEY'] = '${S}'`,
      `setenv("AWS_SECRET_ACCESS_KEY", "${S}", 1);`,
      // Hadoop's core-site.xml property.
      `<property>\n  <name>fs.s3a.secret.key</name>\n  <value>${S}</value>\n</property>`,
      // Environment variables of property paths; other S3 clients' names; bucket names with dots.
      `SPRING_CLOUD_AWS_CREDENTIALS_SECRET_KEY=${S}`,
      `CAMEL_COMPONENT_AWS2_S3_SECRET_KEY=${S}`,
      `s3.secret-key: ${S}`,
      `druid.s3.secretKey=${S}`,
      `fs.s3a.bucket.logs.example.com.secret.key=${S}`,
      // More ways logs say a setting changed.
      `AWS secret access key is now set to ${S}`,
      `aws_secret_access_key had been set to ${S}`,
      `AWS_SECRET_ACCESS_KEY changed to ${S}`,
      `Setting AWS_SECRET_ACCESS_KEY to ${S}`,
    ])
      expect(found(text), text).toContainEqual(['AWS_SECRET_KEY', S]);
  });

  it('reads a name only where a word starts: inside another word it names nothing', () => {
    const B = 'Zm9vYmFyYmF6cXV4cXV1eHh5enp6enp6enp6enp6';
    for (const text of [
      `jaws.secret.key=${B}`,
      `com.example.paws.secretKey=${B}`,
      `cas3a.secret.key=${B}`,
      `draws_secret_key=${B}`,
      `outlaws-secret-key: ${B}`,
      `Under the new laws secret key ${B}`,
    ])
      expect(found(text), text).toEqual([]);
    // A capital or a digit before the name starts a word, as does a name run together.
    for (const name of [
      'MYAWSSECRETKEY',
      'myawssecretkey',
      'prodawssecretkey',
      'APPAWS_SECRET_KEY',
      'PRODAwsSecretKey',
      'DBSecretAccessKey',
      'IAMSecretAccessKey',
      'user1SecretAccessKey',
      'ecs2awssecretkey',
    ])
      expect(found(`${name}=${SECRET}`), name).toEqual([['AWS_SECRET_KEY', SECRET]]);
    // A name in camel case starts a word where its capital does.
    expect(found(`myAwsSecretKey=${B}`)).toEqual([['AWS_SECRET_KEY', B]]);
    expect(found(`config.awsSecretAccessKey = "${B}"`)).toEqual([['AWS_SECRET_KEY', B]]);
  });

  it('finds a name wrapped across lines, and more ways logs and compose files write the value', () => {
    for (const text of [
      `AWS Secret\nAccess Key: ${SECRET}`,
      `aws_secret_access_key \\n  ${SECRET}`,
      `AWS Secret Access Key\\r\\n  ${SECRET}`,
      `<SecretAccessKey>\\r\\n${' '.repeat(14)}${SECRET}`,
      `Resetting AWS secret key to ${SECRET}`,
      `Updating aws_secret_access_key to ${SECRET}`,
      `AWS secret key has been reset to ${SECRET}`,
      `AWS_SECRET_ACCESS_KEY: \${AWS_SECRET_ACCESS_KEY:-${SECRET}}`,
    ])
      expect(found(text), text).toContainEqual(['AWS_SECRET_KEY', SECRET]);
  });

  it('finds the value of a name/value pair, as Kubernetes and ECS list environment variables', () => {
    for (const text of [
      `env:\n  - name: AWS_SECRET_ACCESS_KEY\n    value: "${SECRET}"\n  - name: REGION`,
      `env:\n- name: AWS_SECRET_ACCESS_KEY\n  value: ${SECRET}`,
      `"environment": [{"name": "AWS_SECRET_ACCESS_KEY", "value": "${SECRET}"}]`,
      `{"name":"aws_secret_key","value":"${SECRET}"}`,
    ])
      expect(found(text), text).toEqual([['AWS_SECRET_KEY', SECRET]]);
    // The pair of another variable after it is not its value.
    expect(found(`- name: AWS_SECRET_ACCESS_KEY\n  valueFrom: {secretKeyRef: {name: aws}}\n- name: TOKEN\n  value: ${SECRET}`)).toEqual([]);
  });

  it('asks a value of both cases where the name says less: a listing, path segments, bare s3', () => {
    const H = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
    for (const text of [
      `secret_name,sha1\naws_secret_access_key,${H}`,
      `rotated aws_secret_access_key, ${H}`,
      `["aws_secret_access_key", "${H}"]`,
      `s3_backup_gpg_secret_key: ${H}`,
      `aws_lambda_stripe_secret_key=${H}`,
      `aws.cognito.oauth.secret_key=${H}`,
      `s3 secret key ${H}`,
      `s3-secret-key ${H}`,
    ])
      expect(found(text), text).toEqual([]);
    // Where the name says it all, the value is the key whatever its cases (an S3-compatible store's
    // secret may be hex), unless only blanks link them (below).
    expect(found(`aws_secret_access_key=${H}`)).toEqual([['AWS_SECRET_KEY', H]]);
    expect(found(`AWS_SECRET_ACCESS_KEY: "${H.toUpperCase()}"`)).toEqual([['AWS_SECRET_KEY', H.toUpperCase()]]);
    expect(found(`["aws_secret_access_key", "${SECRET}"]`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
    expect(found(`aws_secret_access_key=${SECRET.toLowerCase()}`)).toEqual([['AWS_SECRET_KEY', SECRET.toLowerCase()]]);
  });

  it('finds a key under the shorter names tools give it, when the value holds both cases', () => {
    for (const text of [
      `pulumi config set --secret aws:secretKey ${SECRET}`,
      `config:\n  aws:region: us-east-1\n  aws:secretKey: ${SECRET}`,
      `AWS_SECRET=${SECRET}`,
      `  aws_key_id AKIA4Q2RZ7XKHW3NJ5PB\n  aws_sec_key ${SECRET}`,
    ])
      expect(
        found(text).filter(([t]) => t === 'AWS_SECRET_KEY'),
        text,
      ).toEqual([['AWS_SECRET_KEY', SECRET]]);
    const H = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
    for (const text of [
      `AWS_SECRET=${'abcdefghij'.repeat(4)}`,
      `aws:secretKey: ${H}`,
      `AWS_SECRET_ARN=arn:aws:secretsmanager:us-east-1:123456789012:secret:x`,
      `aws_secretary ${SECRET}`,
    ])
      expect(found(text), text).toEqual([]);
  });

  it('never reads a placeholder as a key, nor a SHA-1 in hex after a name and blanks', () => {
    const H = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
    for (const text of [
      // git log --pretty=oneline: a subject that names the key, the next commit's hash after the break.
      `$ git log --pretty=oneline -3\n5d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e Rotate AWS secret key\n${H} Move AWS_SECRET_ACCESS_KEY to Secrets Manager`,
      `Removed AWS_SECRET_ACCESS_KEY ${H}`,
      `Removed AWS_SECRET_ACCESS_KEY "${H.toUpperCase()}"`,
      // .env.example and the docs imitate the key's length.
      `AWS_SECRET_ACCESS_KEY=${'x'.repeat(40)}`,
      `AWS_SECRET_ACCESS_KEY=${'X'.repeat(40)}`,
      `aws_secret_access_key = ${'0'.repeat(40)}`,
      `aws_secret_access_key = ${'abc1'.repeat(10)}`,
      `AKIA4Q2RZ7XKHW3NJ5PB,${'Ab1/'.repeat(10)}`,
    ])
      expect(
        found(text).filter(([t]) => t === 'AWS_SECRET_KEY'),
        text,
      ).toEqual([]);
    // A lower-case key that is not hex, or a key with a dozen distinct characters, is still one.
    const twelve = 'abcdefghijkL'.repeat(4).slice(0, 40);
    expect(found(`aws_secret_access_key=${twelve}`)).toEqual([['AWS_SECRET_KEY', twelve]]);
  });

  it('does not report the new spellings in prose, nor a value of one case after "set to"', () => {
    expect(found('the aws secret access key is set to expire in 90 days')).toEqual([]);
    expect(found('Pass the key in the aws.secretKey property, or in spring.cloud.aws.credentials.secret-key.')).toEqual([]);
    // A SHA-1 in hex (one case) or digits after "set to" are no secret: 40 random base64 characters hold both cases.
    for (const other of ['da39a3ee5e6b4b0d3255bfef95601890afd80709', 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709', '0123456789'.repeat(4)]) {
      expect(found(`aws secret access key set to ${other}`)).toEqual([]);
      expect(found(`HEAD set to ${other}`)).toEqual([]);
    }
    // More than six path segments between aws and the name, or a name without aws: no context.
    expect(found(`aws.a.b.c.d.e.f.g.secret-key=${SECRET}`)).toEqual([]);
    expect(found(`spring.datasource.secret-key=${SECRET}`)).toEqual([]);
    expect(found(`app.secret=${SECRET}`)).toEqual([]);
  });

  it('does not report prose about the name, nor a value that is not right after it', () => {
    expect(found('Set the aws_secret_access_key parameter to the key you were given.')).toEqual([]);
    expect(found(`<SecretAccessKey>********</SecretAccessKey>`)).toEqual([]);
    // Words between name and value: the value is no longer assigned to the name.
    expect(found(`the SecretAccessKey field is unrelated to ${SECRET}`)).toEqual([]);
    // 41 characters of the alphabet: not a 40-character key.
    expect(found(`aws_secret_access_key ${SECRET}A`)).toEqual([]);
    expect(found(`<SecretAccessKey>${SECRET}A</SecretAccessKey>`)).toEqual([]);
    // Prose: "is" and "was" link the name to a value, never to a word that is not one.
    expect(found('the aws_secret_access_key is missing')).toEqual([]);
    expect(found(`the aws secret access key is stored in ${SECRET}`)).toEqual([]);
    expect(found(`aws_secret_access_key is ${SECRET}A`)).toEqual([]);
    // A 40-character word after no such name, or after a prompt that is not the key's.
    expect(found(`commit ${SECRET} merged`)).toEqual([]);
    expect(found(`Default region name [None]: ${SECRET}`)).toEqual([]);
  });

  describe('linear time on adversarial 1 MiB inputs', () => {
    it.each([
      ['XML names', fill('<SecretAccessKey>')],
      ['XML names and a near value', fill(`<SecretAccessKey>${SECRET.slice(0, 39)}`)],
      ['names and spaces', fill('aws_secret_access_key    ')],
      ['names and arrows', fill("'aws_secret_access_key' => '")],
      ['names as words and "is"', fill('aws secret access key is ')],
      ['prompts and a near value', fill(`AWS Secret Access Key [****************EKEY]: ${SECRET.slice(0, 39)} `)],
      ['aws and dots', 'aws.'.repeat(20000)],
      ['names as words', 'aws secret access key '.repeat(5000)],
      ['aws and dots, 1 MiB', fill('aws.')],
      ['property paths and a near value', fill(`cloud.aws.credentials.secret-key=${SECRET.slice(0, 39)} `)],
      ['S3A paths', fill('fs.s3a.bucket.b.')],
      ['names and "set to"', fill('aws secret access key is set to ')],
      ['"set to" and a one-case value', fill('aws secret access key set to da39a3ee5e6b4b0d3255bfef95601890afd80709 ')],
      ['Makefile assignments and a near value', fill(`AWS_SECRET_ACCESS_KEY := ${SECRET.slice(0, 39)} `)],
      ['Terraform aws blocks', fill('provider "aws" { secret_key = "')],
      ['a Terraform aws block and secret_key names', `provider "aws" {${fill(' secret_key = "')}`],
      ['a Terraform aws block and nested blocks', `provider "aws" {${fill(' a { b = { c = "${x}" } } ')}`],
      ['a Terraform aws block and unclosed nested blocks', `provider "aws" {${fill(' a { b = { ')}`],
      ['Terraform JSON aws providers', fill('"provider": {"aws": {"secret_key": "')],
      ['Terraform JSON keys and blanks', fill(`"provider": {"aws":${' '.repeat(130)}x}`)],
      ['Terraform JSON providers nested to the depth limit', fill('{"provider": {"aws": [{"a": ')],
      ['Terraform JSON providers as strings of providers', fill('"provider": "provider": "')],
      ['a Terraform JSON provider and a long open string', `"provider": {"aws": {"secret_key": "${fill('a')}`],
      ['Terraform JSON provider lists of deep arrays', `"provider": ${'['.repeat(100)}${fill('1, ')}`],
      ['Terraform JSON starts each past the depth limit', fill(`"backend":${'['.repeat(70)}`)],
      ['Terraform JSON providers nested in providers', fill('{"provider": {"x": [1, 2], "provider": {"aws": [{"a": "')],
      ['Terraform JSON strings of decoded quotes', `"provider": {"aws": {"a": "${fill('x" y')}`],
      ['Terraform JSON starts past the depth limit, each under a key', fill('{"provider": [{"provider": [')],
      // Each key's walk failing at the depth limit, searched for again from the innermost: once each.
      ['Terraform JSON keys nested in keys', fill('{"provider": {"provider": {"provider_config": {"backend": {"aws": [')],
      ['Terraform JSON provider lists', fill('"provider": [{')],
      ['a Terraform JSON aws provider and nested objects', `"provider": {"aws": {${fill(' "a": {"b": {"c": "x"}}, ')}`],
      ['a Terraform JSON provider and unclosed objects', `"provider": {${fill(' "a": {"b": { ')}`],
      ['a Terraform JSON provider list and other providers', `"provider": [${fill('{"google": {"p": "x"}}, ')}`],
      ['Terraform JSON provider lists, each with an aws object', fill(`"provider": [{"aws": {${'"a": 1, '.repeat(60)}}}, `)],
      ['backend settings on the command line and a near value', fill(`-backend-config="secret_key=${SECRET.slice(0, 39)}" `)],
      ['angle brackets and a near value', fill(`AWS_SECRET_ACCESS_KEY=<${SECRET.slice(0, 39)}> `)],
      ['environment variables of property paths', fill('SPRING_CLOUD_AWS_')],
      ['padded assignments and a near value', fill(`aws_secret_key${' '.repeat(30)}= ${SECRET.slice(0, 39)} `)],
      ['quoted names as arguments', fill('set("fs.s3a.secret.key", "')],
      ['Hadoop properties', fill('<name>fs.s3a.secret.key</name>  <value>')],
      ['"setting ... to"', fill('setting aws_secret_access_key to ')],
      ['names inside words and a value', fill(`laws_secret_key=${SECRET} `)],
      ['name/value pairs', fill('- name: AWS_SECRET_ACCESS_KEY\n  value: ')],
      ['JSON name/value pairs and a near value', fill(`{"name": "aws_secret_key", "value": "${SECRET.slice(0, 39)}"}`)],
    ])('%s completes', (_name, text) => {
      expect(found(text)).toEqual([]);
    });

    it('backend states nested in each other complete, each read once', () => {
      // Read twice per level (as a member, then as an s3 state's config), 30 levels took minutes.
      let state = `{"type":"s3","config":{"secret_key":"${SECRET}"}}`;
      for (let n = 0; n < 30; n++) state = `{"type":"s3","config":{"backend":${state}}}`;
      expect(found(`{"terraform":{"backend":${state}}}`)).toEqual([['AWS_SECRET_KEY', SECRET]]);
    });

    it('ids each followed by a near value complete, finding the ids only', () => {
      const text = fill(`AKIAIOSFODNN7EXAMPLE, "${SECRET.slice(0, 39)}" `);
      const types = new Set(found(text).map(([type]) => type));
      expect([...types]).toEqual(['AWS_ACCESS_KEY']);
    });

    // Each id is where a pair is looked for, after it and (backwards) before it, across blanks,
    // cell borders and a time: 7 s a MiB when a run of blanks could be split every way.
    it.each([
      ['ids between padded cell borders', fill(`${' '.repeat(32)}|${' '.repeat(8)}|${' '.repeat(32)}AKIAIOSFODNN7EXAMPLE`)],
      ['ids between quotes and blanks', fill(`${' '.repeat(32)}"${' '.repeat(32)}AKIAIOSFODNN7EXAMPLE`)],
      [
        'ids between times and borders',
        fill(`${' '.repeat(32)}|${' '.repeat(30)}2026-12-03 05:11:17 UTC${' '.repeat(32)}|${' '.repeat(30)}AKIAIOSFODNN7EXAMPLE`),
      ],
      ['ids and local times', fill(`AKIAIOSFODNN7EXAMPLE${' '.repeat(32)}12/3/2026 5:11:17 AM${' '.repeat(32)}`)],
      ['ids and blanks', fill(`AKIAIOSFODNN7EXAMPLE${' \t'.repeat(100)}`)],
      ['ids and a near value before them', fill(`${SECRET.slice(0, 39)}\t2026-12-03T05:11:17+00:00\tAKIAIOSFODNN7EXAMPLE `)],
    ])('%s complete, finding the ids only', (_name, text) => {
      expect([...new Set(found(text).map(([type]) => type))]).toEqual(['AWS_ACCESS_KEY']);
    });
  });
});

describe('an AWS access key id retyped', () => {
  it.each([
    ['a Cyrillic А', '\u0410KIAIOSFODNN7XAMPLE2'],
    ['groups of four, spaced', 'AKIA IOSF ODNN 7EXA MPL2'],
    ['groups of four, dashed', 'AKIA-IOSF-ODNN-7EXA-MPL2'],
  ])('finds an id written with %s, masked whole', (_name, id) => {
    expect(found(`key ${id} leaked`)).toEqual([['AWS_ACCESS_KEY', id]]);
  });

  it('leaves upper-case groups without a digit, and mixed separators, alone', () => {
    for (const text of ['ASIA PACI FICN ORTH EAST', 'AKIA-TEAM-SYNC-NOTE-LIST', 'AKIA IOSF-ODNN 7EXA-MPL2']) expect(found(text), text).toEqual([]);
  });
});
