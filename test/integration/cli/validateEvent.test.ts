import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWireEvent } from '../../../src/events/contract.js';
import { ENV_VARS } from '../../../src/config/env.js';
import { getEncoder } from '../../../src/siem/registry.js';
import type { EncodeContext } from '../../../src/siem/types.js';
import { cliEntry } from '../../support/cliEntry.js';
import { toOcsf } from '../../../src/events/ocsf.js';
import { buildTrailEvent } from '../../../src/trail/contract.js';

const ctx: EncodeContext = { hostname: 'aegis-test', options: {}, userAgent: 'aegis-audit-stream/test' };

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE_PATH = join(ROOT, 'src/events/fixtures/product-page-example.json');
type Doc = { event: Record<string, unknown>; aegis: Record<string, unknown>; organization: Record<string, unknown> };
const example = JSON.parse(readFileSync(EXAMPLE_PATH, 'utf8')) as Doc;

/** Runs `aegis-stream validate-event <arg>` (the CLI source through tsx) from the repository root. */
function validateEvent(arg: string, stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cliEntry(), 'validate-event', arg], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** `aegis-stream <command> --help`. */
function runHelp(command = 'start'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cliEntry(), command, '--help'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'aegis-validate-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const built = buildWireEvent({
  orgId: 'org_cli_test',
  occurredAt: new Date('2026-05-15T10:33:21.456Z'),
  fields: {
    preflight_id: 'pflt_cli_0123456789',
    decision: 'BLOCKED',
    destination: 'CODE_ASSISTANT',
    summary: 'Detected AWS_ACCESS_KEY; blocked.',
    policy_version: 'v1.0',
    policy_id: 'pol_default',
    source_type: 'desktop_agent',
    input_type: 'tool_call',
    input_size_bytes: 512,
    finding_counts_by_type: { AWS_ACCESS_KEY: 1 },
  },
});

// Three faults at known paths: an unknown field, a wrong event.type for the decision, a raw SSN.
const invalid = structuredClone(example);
invalid.aegis.raw_input = 'anything';
invalid.event.type = ['blocked'];
invalid.aegis.summary = 'Detected SSN 123-45-6789; masked.';

// OCSF (a destination with "format": "ocsf"): a finding and a trail event as the Datadog encoder sends
// them, and a broken finding in a Splunk HEC envelope (a wrong severity_id, an unknown attribute
// holding a card number, a missing required attribute, a "__proto__" key).
const ocsfCtx: EncodeContext = { ...ctx, format: 'ocsf' };
const trail = buildTrailEvent({
  orgId: 'org_cli_test',
  actor: { type: 'api_key', id: 'key_0123456789abcdef' },
  change: { action: 'destination_disabled', changedFields: ['enabled'], destination: { id: 'fwd_a', siem: 'datadog' } },
  occurredAt: new Date('2026-11-30T09:00:00Z'),
});
const CARD = '4111111111111111';
const brokenOcsf = JSON.parse(JSON.stringify(toOcsf(built))) as Record<string, any>;
brokenOcsf.severity_id = 42;
brokenOcsf.finding_info.detected_value = CARD;
delete brokenOcsf.finding_info.uid;
const brokenOcsfBody = JSON.stringify({ time: 1, host: 'h', source: 'aegis', sourcetype: 'ocsf:aegis:audit', event: brokenOcsf }).replace(
  '"event":{',
  `"event":{"__proto__":{"card":"${CARD}"},`,
);
// A finding whose class_uid a pipeline stringified ("3002", a class Aegis does not send), in a Splunk
// HEC envelope: still OCSF, reported by the schema at /class_uid, never as a page of ECS faults.
const stringUidBody = JSON.stringify({
  time: 1,
  host: 'h',
  source: 'aegis',
  sourcetype: 'ocsf:aegis:audit',
  event: { ...JSON.parse(JSON.stringify(toOcsf(built))), class_uid: '3002' },
});
const otherClass = { ...JSON.parse(JSON.stringify(toOcsf(built))), class_uid: 4001 } as Record<string, unknown>;

type Run = Awaited<ReturnType<typeof validateEvent>>;

describe('aegis-stream validate-event', () => {
  // Each run starts a Node process (a few seconds on a busy 2-core box): start them all at once.
  const runs: Record<string, Run> = {};
  beforeAll(async () => {
    const jobs: Record<string, Promise<Run>> = {
      example: validateEvent(EXAMPLE_PATH),
      invalid: validateEvent(file('bad.json', JSON.stringify(invalid, null, 2))),
      stdinNdjson: validateEvent('-', [JSON.stringify(example), JSON.stringify(built), JSON.stringify(invalid)].join('\n') + '\n'),
      array: validateEvent(file('mixed.json', JSON.stringify([built, { ...built, organization: {} }, example], null, 2))),
      broken: validateEvent(file('broken.json', '{"event": {')),
      missing: validateEvent(join(dir, 'missing.json')),
      splunk: validateEvent(file('splunk.json', getEncoder('splunk_hec').encode([built], ctx).body)),
      ocsfDatadog: validateEvent(file('datadog-ocsf.json', getEncoder('datadog').encode([built, trail] as never, ocsfCtx).body)),
      ocsfBroken: validateEvent('-', brokenOcsfBody),
      ocsfOtherClass: validateEvent(file('other-class.json', JSON.stringify(otherClass))),
      ocsfStringUid: validateEvent(file('string-uid.json', stringUidBody)),
      help: runHelp(),
      validateHelp: runHelp('validate-event'),
    };
    for (const [k, p] of Object.entries(jobs)) runs[k] = await p;
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the product page example validates: exit 0', () => {
    const r = runs.example!;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('1 valid, 0 invalid');
  });

  it('an invalid event prints each violation with its path and exits non-zero, never echoing the value', () => {
    const r = runs.invalid!;
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/\/aegis\/raw_input: .*unknown field/);
    expect(r.stdout).toMatch(/\/event\/type/);
    expect(r.stdout).toMatch(/\/aegis\/summary: .*SSN/);
    expect(r.stdout).not.toContain('123-45-6789');
    expect(r.stdout).toContain('0 valid, 1 invalid');
  });

  it('- reads NDJSON from stdin and names the bad event among good ones', () => {
    const r = runs.stdinNdjson!;
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('2 valid, 1 invalid');
    expect(r.stdout).toMatch(/event 2: \/aegis\/raw_input/);
    expect(r.stdout).not.toMatch(/event [01]:/);
  });

  it('a JSON array of events works, from a file', () => {
    const r = runs.array!;
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('2 valid, 1 invalid');
    expect(r.stdout).toMatch(/event 1: \/organization\/id: is required/);
    expect(r.stdout).not.toMatch(/event [02]:/);
  });

  it('broken JSON exits non-zero and says where', () => {
    const r = runs.broken!;
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/line 1: invalid JSON/);
  });

  it('a missing file: one plain line on stderr, no stack trace, exit 1', () => {
    const r = runs.missing!;
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`aegis-stream: ${join(dir, 'missing.json')}: no such file`);
    expect(r.stdout).toBe('');
  });

  it('a captured Splunk HEC request body: the event inside `event` is validated, and the envelope named', () => {
    const r = runs.splunk!;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('recognised Splunk HEC envelopes');
    expect(r.stdout).toContain('1 valid, 0 invalid');
  });

  it('a captured Datadog body of an OCSF destination: a finding (2006) and a trail event (3004) read as OCSF and valid', () => {
    const r = runs.ocsfDatadog!;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('recognised Datadog log item envelopes');
    expect(r.stdout).toContain('2 event(s) read as OCSF 1.8.0 from Datadog log item envelopes');
    expect(r.stdout).toContain('2 valid, 0 invalid');
  });

  it('a broken OCSF event: each fault by path, never the value, exit non-zero', () => {
    const r = runs.ocsfBroken!;
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('1 event(s) read as OCSF 1.8.0 from Splunk HEC envelopes');
    expect(r.stdout).toMatch(/event 0: \/severity_id: is not a value of severity_id/);
    expect(r.stdout).toMatch(/event 0: \/finding_info\/detected_value: is not an attribute of object finding_info/);
    expect(r.stdout).toMatch(/event 0: \/finding_info\/uid: is required/);
    expect(r.stdout).toMatch(/event 0: \/__proto__: is not an attribute of class data_security_finding/);
    expect(r.stdout).not.toContain(CARD);
    expect(r.stdout).toContain('0 valid, 1 invalid');
  });

  it('an OCSF class Aegis does not send: one line naming the classes it sends', () => {
    const r = runs.ocsfOtherClass!;
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/event 0: \/class_uid: is not a class Aegis sends: .*2006.*3004/);
    expect(r.stdout.match(/^event 0:/gm)).toHaveLength(1);
  });

  it('an OCSF class_uid written as a string, in a Splunk HEC envelope: read as OCSF, the type and the class named', () => {
    const r = runs.ocsfStringUid!;
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('1 event(s) read as OCSF 1.8.0 from Splunk HEC envelopes');
    expect(r.stdout).toMatch(/event 0: \/class_uid: must be a 32-bit integer/);
    expect(r.stdout).toMatch(/event 0: \/class_uid: is not a class Aegis sends/);
    expect(r.stdout.match(/^event 0:/gm)).toHaveLength(2);
  });

  it('validate-event --help says it checks ECS and OCSF events', () => {
    const r = runs.validateHelp!;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ECS/);
    expect(r.stdout).toMatch(/OCSF 1\.8\.0/);
  });

  it('start --help lists every environment variable the service reads', () => {
    const r = runs.help!;
    expect(r.code).toBe(0);
    for (const v of ENV_VARS) expect(r.stdout).toContain(v.name);
  });
});
