import { describe, expect, it } from 'vitest';
import { StandBack } from './standBack.js';

describe('StandBack', () => {
  it('holds a destination until its time, then forgets it', () => {
    let now = 1_000;
    const held = new StandBack(() => now);
    held.hold('fwd_a', 15_000);
    held.hold('fwd_b', 5_000);
    expect(held.held()).toEqual(
      new Map([
        ['fwd_a', 16_000],
        ['fwd_b', 6_000],
      ]),
    );
    now = 6_000;
    expect(held.held()).toEqual(new Map([['fwd_a', 16_000]]));
    // Held again: the later end counts, as a new hold.
    held.hold('fwd_b', 1_000);
    expect([...held.held().keys()].sort()).toEqual(['fwd_a', 'fwd_b']);
    now = 16_000;
    expect(held.held()).toEqual(new Map());
  });
});
