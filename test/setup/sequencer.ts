// Longest files first. Vitest orders files by the durations it cached on earlier runs, and a fresh
// clone (CI) has none, so it falls back to file size: then a short file that runs for minutes (many
// destinations, retries, spawned processes) can start last, and the whole run waits for it alone.
// These files took longest in measured runs on a 2-core machine (2026-12-03); they start first, in this
// order, and every other file follows in vitest's own order.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const LONGEST_FIRST = [
  'test/integration/delivery/splunkAck.test.ts',
  // 110 s in the clean-clone runs of 2026-12-04 (its shed windows), where it started among the last.
  'test/integration/delivery/elasticThrottle.test.ts',
  'test/integration/delivery/retries.test.ts',
  'test/integration/cli/startFailures.test.ts',
  'test/integration/cli/lifecycle.postgres.test.ts',
  'test/integration/cli/lifecycle.embedded.test.ts',
  'test/integration/cli/signals.test.ts',
  'src/events/detect.test.ts',
  'test/integration/delivery/secretEcho.test.ts',
  'test/integration/delivery/oauth2.test.ts',
  'test/integration/delivery/holding.test.ts',
  'test/integration/delivery/backgroundReplay.test.ts',
  'test/integration/events/agentBatches.test.ts',
  'test/integration/api/credentials.test.ts',
  'src/delivery/outbound/client.test.ts',
  'test/integration/queue/timedRounds.test.ts',
  'test/integration/api/probe.test.ts',
  'src/delivery/scrubSecretsBreaks.test.ts',
  'test/integration/alerts/alerts.test.ts',
  'test/integration/delivery/limits.test.ts',
  'test/integration/api/headerNames.test.ts',
  'test/integration/cli/commands.test.ts',
];

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((p) => f.moduleId.endsWith(`/${p}`));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: unlisted files keep vitest's order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
