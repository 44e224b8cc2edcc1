import { expect } from 'chai';
import { formatTimestamp, parseCalendarDate, shoppingTimeOfDay, type TimeZone } from '../../datagen/calendar';
import { deriveRng } from '../../datagen/random';

const CET: TimeZone = { standardOffsetMinutes: 60, daylightSaving: 'eu' };
const LONDON: TimeZone = { standardOffsetMinutes: 0, daylightSaving: 'eu' };
const NEW_YORK: TimeZone = { standardOffsetMinutes: -300, daylightSaving: 'us' };
const at = (iso: string): number => Date.parse(iso) / 1000;

describe('datagen: random samplers', function () {
  function moments(draw: () => number, n = 200_000): { mean: number; variance: number } {
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const x = draw();
      sum += x;
      squares += x * x;
    }
    const mean = sum / n;
    return { mean, variance: squares / n - mean * mean };
  }

  it('derives independent, reproducible generators per (seed, index, stream)', function () {
    const first = [deriveRng(7, 0, 2).nextUint32(), deriveRng(7, 1, 2).nextUint32(), deriveRng(7, 0, 3).nextUint32()];
    expect(new Set(first).size).to.equal(3);
    expect(deriveRng(7, 1, 2).nextUint32()).to.equal(first[1]);
    expect(deriveRng(2 ** 40 + 7, 1, 2).nextUint32()).to.not.equal(first[1]);
  });

  it('samples gamma, beta, Poisson and exponential with the right moments', function () {
    const rng = deriveRng(1, 0, 1);
    const gamma = moments(() => rng.gamma(4, 2.5));
    expect(gamma.mean).to.be.closeTo(10, 0.1);
    expect(gamma.variance).to.be.closeTo(25, 0.8);
    const smallShape = moments(() => rng.gamma(0.3, 1));
    expect(smallShape.mean).to.be.closeTo(0.3, 0.01);
    expect(moments(() => rng.betaWithMean(0.12, 10)).mean).to.be.closeTo(0.12, 0.003);
    const poisson = moments(() => rng.poisson(3.5));
    expect(poisson.mean).to.be.closeTo(3.5, 0.03);
    expect(poisson.variance).to.be.closeTo(3.5, 0.1);
    expect(moments(() => rng.exponential(0.5)).mean).to.be.closeTo(2, 0.03);
    expect(moments(() => rng.normal()).variance).to.be.closeTo(1, 0.02);
  });
});

describe('datagen: calendar', function () {
  it('parses only real calendar dates', function () {
    expect(parseCalendarDate('2026-06-30')).to.equal(at('2026-06-30T00:00:00Z'));
    expect(parseCalendarDate('2024-02-29')).to.equal(at('2024-02-29T00:00:00Z'));
    expect(parseCalendarDate('2026-02-29')).to.equal(null);
    expect(parseCalendarDate('30.06.2026')).to.equal(null);
  });

  it('writes local time with the offset in force, across daylight saving changes', function () {
    expect(formatTimestamp(at('2025-03-30T00:59:59Z'), CET)).to.equal('2025-03-30T01:59:59+01:00');
    expect(formatTimestamp(at('2025-03-30T01:00:00Z'), CET)).to.equal('2025-03-30T03:00:00+02:00');
    expect(formatTimestamp(at('2025-10-26T00:59:59Z'), CET)).to.equal('2025-10-26T02:59:59+02:00');
    expect(formatTimestamp(at('2025-10-26T01:00:00Z'), CET)).to.equal('2025-10-26T02:00:00+01:00');
    expect(formatTimestamp(at('2025-07-01T12:00:00Z'), LONDON)).to.equal('2025-07-01T13:00:00+01:00');
    expect(formatTimestamp(at('2025-03-09T06:59:59Z'), NEW_YORK)).to.equal('2025-03-09T01:59:59-05:00');
    expect(formatTimestamp(at('2025-03-09T07:00:00Z'), NEW_YORK)).to.equal('2025-03-09T03:00:00-04:00');
    expect(formatTimestamp(at('2025-11-02T05:59:59Z'), NEW_YORK)).to.equal('2025-11-02T01:59:59-04:00');
    expect(formatTimestamp(at('2025-11-02T06:00:00Z'), NEW_YORK)).to.equal('2025-11-02T01:00:00-05:00');
    expect(formatTimestamp(at('2025-12-31T23:30:00Z'), CET)).to.equal('2026-01-01T00:30:00+01:00');
    for (const iso of ['2024-02-29T23:59:59Z', '2026-06-30T22:00:00Z', '2023-12-31T23:00:00Z']) {
      expect(Date.parse(formatTimestamp(at(iso), NEW_YORK))).to.equal(Date.parse(iso));
    }
  });

  it('maps the day onto shopping hours monotonically', function () {
    let previous = -1;
    for (let u = 0; u <= 1; u += 0.001) {
      const fraction = shoppingTimeOfDay(u);
      expect(fraction).to.be.at.least(previous);
      expect(fraction).to.be.within(0, 1);
      previous = fraction;
    }
    // Far more of the day's activity falls in the evening than in the small hours.
    const evening = shoppingTimeOfDay(0.9) - shoppingTimeOfDay(0.8);
    const night = shoppingTimeOfDay(0.1) - shoppingTimeOfDay(0);
    expect(night).to.be.greaterThan(evening);
  });
});
