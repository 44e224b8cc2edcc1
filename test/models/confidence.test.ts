import { expect } from 'chai';
import { assessCoverage } from '../../models/confidence';

describe('confidence and coverage', () => {
  const base = { ordersLifetime: 8, tenureDays: 400, daysSinceLastSession: 3, dataAgeDays: 1 };

  it('is high for a customer with a rich, fresh history', () => {
    expect(assessCoverage(base)).to.deep.include({ confidence: 'high', reasons: [], fallback: null });
  });

  it('is low with a population fallback on cold start (one order, or weeks of tenure)', () => {
    expect(assessCoverage({ ...base, ordersLifetime: 1 })).to.deep.include({ confidence: 'low', fallback: 'population prior' });
    const young = assessCoverage({ ...base, ordersLifetime: 2, tenureDays: 12 });
    expect(young.confidence).to.equal('low');
    expect(young.reasons[0]).to.contain('12 days');
  });

  it('is low on stale data and medium on sparse or session-less histories', () => {
    expect(assessCoverage({ ...base, dataAgeDays: 40 }).confidence).to.equal('low');
    expect(assessCoverage({ ...base, ordersLifetime: 2 }).confidence).to.equal('medium');
    expect(assessCoverage({ ...base, daysSinceLastSession: Number.NaN }).reasons).to.deep.equal(['no session data']);
  });
});
