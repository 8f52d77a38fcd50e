import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../src/core/duration.ts';

const DAY = 86_400_000;

describe('ISO-8601 durations', () => {
  const cases: Array<[string, number | undefined]> = [
    ['P30D', 30 * DAY],
    ['P0D', 0],
    ['PT0S', 0],
    ['P1W', 7 * DAY],
    ['PT12H', 12 * 3_600_000],
    ['P1DT2H30M15S', DAY + 2 * 3_600_000 + 30 * 60_000 + 15_000],
    ['PT721H', 721 * 3_600_000],
    ['P31D', 31 * DAY],
    ['P', undefined],
    ['PT', undefined],
    ['P1M', undefined],
    ['P1Y', undefined],
    ['-P1D', undefined],
    ['P1.5D', undefined],
    ['30D', undefined],
    ['p30d', undefined],
    ['', undefined],
  ];
  for (const [text, ms] of cases) {
    it(`${JSON.stringify(text)} → ${ms}`, () => assert.equal(parseDuration(text), ms));
  }
});
