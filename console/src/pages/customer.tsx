import { useState, type FormEvent } from 'react';
import { Await } from '../components/status';
import { count, day, figure, money, number2, share, when } from '../format';
import { Link, navigate } from '../router';
import type { OpenAction, Profile, Similar } from '../types';
import { useApi } from '../use-api';

/** Coverage and RFM are small documents (reasons, counts, the fallback used): shown as words and figures. */
function describe(value: unknown): string {
  if (Array.isArray(value)) return value.map(describe).join('; ');
  if (typeof value === 'number') return figure(value);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .map(([key, inner]) => `${words(key)} ${describe(inner)}`)
      .join(', ');
  }
  return String(value);
}

/** "ordersLifetime" reads "orders lifetime". */
const words = (key: string) => key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

/** The coverage entries worth showing: the confidence is shown on its own, and empty entries say nothing. */
const coverageEntries = (coverage: Record<string, unknown>) =>
  Object.entries(coverage).filter(
    ([key, value]) => key !== 'confidence' && value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0),
  );

function ProfileView({ profile }: { profile: Profile }) {
  const { churn, clv, segment } = profile;
  return (
    <div className="grid">
      <section aria-labelledby="churn-heading" className="card">
        <h3 id="churn-heading">Churn risk</h3>
        <p className="big" data-testid="churn-probability">
          {share(churn.probability)}
        </p>
        <p>
          Risk band <strong>{churn.riskBand ?? 'not set'}</strong>, probability of no order in the next {count(churn.horizonDays)} days.
        </p>
        <h4>Why</h4>
        <ol data-testid="drivers">
          {churn.drivers.map((d) => (
            <li key={d.feature}>
              {d.sentence}{' '}
              <span className="muted">
                ({d.contribution >= 0 ? 'raises' : 'lowers'} the risk, {number2(d.contribution)})
              </span>
            </li>
          ))}
        </ol>
      </section>
      <section aria-labelledby="clv-heading" className="card">
        <h3 id="clv-heading">Lifetime value</h3>
        <p className="big" data-testid="clv">
          {money(clv.expectedNetRevenue)}
        </p>
        <p>Expected net revenue over the next {count(clv.horizonMonths)} months.</p>
        {clv.interval && (
          <p data-testid="clv-interval">
            {clv.interval.level === null ? 'Interval' : `${share(clv.interval.level)} interval`}: {money(clv.interval.lower)} to{' '}
            {money(clv.interval.upper)}
          </p>
        )}
        <dl className="pairs">
          <dt>Probability still active</dt>
          <dd>{share(clv.pAlive)}</dd>
          <dt>Expected orders</dt>
          <dd>{number2(clv.expectedOrders)}</dd>
          <dt>Expected spend per order</dt>
          <dd>{money(clv.expectedSpendPerOrder)}</dd>
          <dt>Next order expected</dt>
          <dd>{day(clv.expectedNextOrderAt)}</dd>
        </dl>
      </section>
      <section aria-labelledby="segment-heading" className="card">
        <h3 id="segment-heading">Segment</h3>
        <p className="big" data-testid="segment">
          {segment.name ?? 'not set'}
        </p>
        <dl className="pairs">
          <dt>Behaviour cluster</dt>
          <dd>{segment.clusterDescription ?? '–'}</dd>
          <dt>Price sensitive</dt>
          <dd>{segment.priceSensitive === null ? '–' : segment.priceSensitive ? 'yes' : 'no'}</dd>
          {segment.rfm && (
            <>
              <dt>RFM</dt>
              <dd>{describe(segment.rfm)}</dd>
            </>
          )}
        </dl>
      </section>
      <section aria-labelledby="confidence-heading" className="card">
        <h3 id="confidence-heading">Confidence and coverage</h3>
        <p className="big" data-testid="confidence">
          {profile.confidence}
        </p>
        <dl className="pairs">
          {coverageEntries(profile.coverage).map(([key, value]) => (
            <div key={key}>
              <dt>{words(key)}</dt>
              <dd>{describe(value)}</dd>
            </div>
          ))}
        </dl>
        <p className="muted">
          Scored {when(profile.asOf)} (computed {when(profile.computedAt)}).
        </p>
      </section>
    </div>
  );
}

function OpenActions({ actions }: { actions: OpenAction[] }) {
  return (
    <section aria-labelledby="actions-heading">
      <h3 id="actions-heading">Open actions</h3>
      {actions.length === 0 ? (
        <p>No open action.</p>
      ) : (
        <table data-testid="open-actions">
          <thead>
            <tr>
              <th scope="col">Action</th>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Amount
              </th>
              <th scope="col">Decided</th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {actions.map((a) => (
              <tr key={a.actionId}>
                <td>
                  <Link to={`/decisions/${a.actionId}`}>Decision {a.actionId}</Link>
                </td>
                <td>{a.actionType}</td>
                <td>
                  {a.status}
                  {a.statusReason && <span className="muted"> ({a.statusReason})</span>}
                </td>
                <td className="num">{money(a.incentiveAmount)}</td>
                <td>{when(a.decidedAt)}</td>
                <td>{when(a.expiresAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function LookAlikes({ customerId }: { customerId: string }) {
  const loaded = useApi<Similar>(`/customer/profile/${encodeURIComponent(customerId)}/similar?k=10`);
  return (
    <section aria-labelledby="similar-heading">
      <h3 id="similar-heading">Look-alikes</h3>
      <Await loaded={loaded}>
        {(data) =>
          data.similar.length === 0 ? (
            <p>No similar customer in the latest run.</p>
          ) : (
            <table data-testid="similar">
              <thead>
                <tr>
                  <th scope="col">Customer</th>
                  <th scope="col" className="num">
                    Similarity
                  </th>
                  <th scope="col">Segment</th>
                  <th scope="col">Risk band</th>
                </tr>
              </thead>
              <tbody>
                {data.similar.map((s) => (
                  <tr key={s.customerId}>
                    <td>
                      <Link to={`/customers/${encodeURIComponent(s.customerId)}`}>{s.customerId}</Link>
                    </td>
                    <td className="num">{number2(s.similarity)}</td>
                    <td>{s.segment ?? '–'}</td>
                    <td>{s.riskBand ?? '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Await>
    </section>
  );
}

function CustomerProfile({ customerId, lookAlikes }: { customerId: string; lookAlikes: boolean }) {
  const loaded = useApi<Profile>(`/customer/profile/${encodeURIComponent(customerId)}`);
  return (
    <Await loaded={loaded}>
      {(profile) => (
        <>
          <ProfileView profile={profile} />
          {profile.openActions && <OpenActions actions={profile.openActions} />}
          {lookAlikes && <LookAlikes customerId={customerId} />}
        </>
      )}
    </Await>
  );
}

export function CustomerPage({ customerId, lookAlikes }: { customerId: string | null; lookAlikes: boolean }) {
  const [query, setQuery] = useState(customerId ?? '');
  const search = (event: FormEvent) => {
    event.preventDefault();
    const id = query.trim();
    if (id !== '') navigate(`/customers/${encodeURIComponent(id)}`);
  };
  return (
    <>
      <h2>Customer{customerId !== null && `: ${customerId}`}</h2>
      <form role="search" onSubmit={search} className="search">
        <label htmlFor="customer-id">Customer id</label>
        <input id="customer-id" name="customer-id" value={query} onChange={(e) => setQuery(e.target.value)} autoComplete="off" required />
        <button type="submit">Look up</button>
      </form>
      {customerId !== null && <CustomerProfile key={customerId} customerId={customerId} lookAlikes={lookAlikes} />}
    </>
  );
}
