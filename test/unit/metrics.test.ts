import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aggregate, parseMetricQuery, seriesPoints } from '../../src/core/metrics.ts';
import type { MetricPointRecord } from '../../src/core/stores.ts';

describe('metric queries and series', () => {
  it('parses aggregator:metric{scope} and nothing else', () => {
    const cases: Array<[string, ReturnType<typeof parseMetricQuery>]> = [
      ['avg:system.cpu.user{*}', { aggregator: 'avg', metric: 'system.cpu.user', scope: '*', tags: [] }],
      [' sum:a_b.c{ * } ', { aggregator: 'sum', metric: 'a_b.c', scope: '*', tags: [] }],
      ['max:m{env:prod, host:a}', { aggregator: 'max', metric: 'm', scope: 'env:prod,host:a', tags: ['env:prod', 'host:a'] }],
      ['min:m{solo}', { aggregator: 'min', metric: 'm', scope: 'solo', tags: ['solo'] }],
      ['median:m{*}', undefined],
      ['avg:m', undefined],
      ['avg:1m{*}', undefined],
      ['avg:m{}', undefined],
      ['avg:m{a,,b}', undefined],
      ['avg:m{a b}', undefined],
      ['avg:m{*} by {host}', undefined],
      ['avg:m{*}+avg:n{*}', undefined],
      [`avg:m{${Array.from({ length: 21 }, (_, i) => `t${i}`).join(',')}}`, undefined],
    ];
    for (const [text, expected] of cases) assert.deepEqual(parseMetricQuery(text), expected, text);
  });

  it('aggregates across series per second, only over points carrying every tag', () => {
    const p = (timestamp: number, value: number, tags: string[]): MetricPointRecord => ({ tenantId: 't', metric: 'm', timestamp, value, tags });
    const points = [p(2, 4, ['a', 'b']), p(1, 1, ['a']), p(1, 3, ['a', 'b']), p(2, 8, ['c'])];
    const q = (text: string) => parseMetricQuery(text)!;
    assert.deepEqual(aggregate(points, q('avg:m{*}')), [[1000, 2], [2000, 6]]);
    assert.deepEqual(aggregate(points, q('sum:m{*}')), [[1000, 4], [2000, 12]]);
    assert.deepEqual(aggregate(points, q('min:m{a}')), [[1000, 1], [2000, 4]]);
    assert.deepEqual(aggregate(points, q('max:m{a,b}')), [[1000, 3], [2000, 4]]);
    assert.deepEqual(aggregate(points, q('max:m{d}')), []);
  });

  it('turns a submission into points with resources as tags, refusing timestamps outside the window', () => {
    const now = 1_000_000;
    assert.deepEqual(seriesPoints('t', [{ metric: 'm', points: [{ timestamp: now, value: 1 }], tags: ['env:prod', 'host:a'], resources: [{ name: 'a', type: 'host' }, { name: 'x', type: 'region' }] }], now), [
      { tenantId: 't', metric: 'm', timestamp: now, value: 1, tags: ['env:prod', 'host:a', 'region:x'] },
    ]);
    assert.equal(seriesPoints('t', [{ metric: 'm', points: [{ timestamp: now + 600, value: 1 }, { timestamp: now - 3600, value: 2 }] }], now).length, 2);
    assert.throws(() => seriesPoints('t', [{ metric: 'm', points: [{ timestamp: now + 601, value: 1 }] }], now), { status: 400 });
    assert.throws(() => seriesPoints('t', [{ metric: 'm', points: [{ timestamp: now - 3601, value: 1 }] }], now), { status: 400 });
    const many = Array.from({ length: 21 }, () => ({ metric: 'm', points: Array.from({ length: 1000 }, () => ({ timestamp: now, value: 1 })) }));
    assert.throws(() => seriesPoints('t', many, now), { status: 400, detail: 'series: at most 20000 points per request (this one has 21000).' });
  });
});
