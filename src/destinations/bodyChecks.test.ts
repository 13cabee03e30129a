import { describe, expect, it } from 'vitest';
import { SIEM_IDS, SIEM_PRESETS } from '../siem/catalog.js';
import { PRESET_OPTIONS } from './bodyChecks.js';

describe('PRESET_OPTIONS', () => {
  it("holds every option each preset's dashboard form offers", () => {
    for (const id of SIEM_IDS) {
      for (const field of SIEM_PRESETS[id].optionFields ?? []) expect(PRESET_OPTIONS[id], `${id}: ${field.key}`).toContain(field.key);
    }
  });
});
