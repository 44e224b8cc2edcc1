import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { apiGet } from '../api';
import { LineFigure, type LineSeries } from '../components/line-chart';
import { Await } from '../components/status';
import { count, day, figure, money, number2, share, when } from '../format';
import { Link, navigate } from '../router';
import type { OpenAction, Profile, ScoreHistory, Similar, TimelineEvent, TimelinePage } from '../types';
import { useApi } from '../use-api';
import { DecisionRecordView } from './decision';

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
  // One record open at a time, under the table: the action's scores, rule trace, approval and deliveries in place.
  const [shown, setShown] = useState<number | null>(null);
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
              <th scope="col">Record</th>
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
                <td>
                  <button
                    type="button"
                    aria-expanded={shown === a.actionId}
                    aria-controls="decision-record"
                    onClick={() => setShown(shown === a.actionId ? null : a.actionId)}
                  >
                    {shown === a.actionId ? 'Hide' : 'Show'} record {a.actionId}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown !== null && (
        <section id="decision-record" aria-labelledby="decision-record-heading" data-testid="decision-record">
          <h3 id="decision-record-heading">Decision record: action {shown}</h3>
          <DecisionRecordView actionId={String(shown)} />
        </section>
      )}
    </section>
  );
}

/** What one timeline event was, in words. */
function eventDetail(e: TimelineEvent): string {
  if (e.kind === 'order')
    return `${e.status}${e.channel ? `, ${e.channel}` : ''}${Number(e.discountAmount) !== 0 ? `, discount ${money(e.discountAmount)}` : ''}`;
  if (e.kind === 'return') return e.orderId === null ? 'no order named' : `of order ${e.orderId}`;
  return `${count(e.pageViews)} page views over ${count(Math.round(e.durationS / 60))} min${e.device ? `, ${e.device}` : ''}`;
}

const eventAmount = (e: TimelineEvent) => (e.kind === 'session' ? '–' : `${money(e.amount)}${e.currency ? ` ${e.currency}` : ''}`);

const TIMELINE_PAGE = 25;

/** Orders, sessions and returns, newest first; older pages are added under the shown ones on request. */
function Timeline({ customerId }: { customerId: string }) {
  const [pages, setPages] = useState<TimelinePage[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const base = `/customer/${encodeURIComponent(customerId)}/timeline?limit=${TIMELINE_PAGE}`;
  const load = (after: string | null, signal?: AbortSignal) => {
    setLoading(true);
    apiGet<TimelinePage>(after === null ? base : `${base}&after=${encodeURIComponent(after)}`, signal).then(
      (page) => {
        setPages((shown) => (after === null ? [page] : [...shown, page]));
        setLoading(false);
      },
      (err: unknown) => {
        if (signal?.aborted) return;
        setError(err instanceof Error ? err.message : String(err));
        setLoading(false);
      },
    );
  };
  useEffect(() => {
    const abort = new AbortController();
    load(null, abort.signal);
    return () => abort.abort();
    // Loads the first page again only for another customer (load itself is new on every render).
  }, [base]);
  const events = pages.flatMap((p) => p.events);
  const next = pages.length === 0 ? null : pages[pages.length - 1]!.nextCursor;
  return (
    <section aria-labelledby="timeline-heading">
      <h3 id="timeline-heading">Timeline</h3>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {pages.length === 0 && error === null ? (
        <p aria-busy="true">Loading…</p>
      ) : events.length === 0 ? (
        <p>No order, session or return.</p>
      ) : (
        <table data-testid="timeline">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">Id</th>
              <th scope="col">Detail</th>
              <th scope="col" className="num">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={`${e.kind}:${e.id}`}>
                <td>{when(e.at)}</td>
                <td>{e.kind}</td>
                <td>{e.id}</td>
                <td>{eventDetail(e)}</td>
                <td className="num">{eventAmount(e)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next !== null && (
        <button type="button" disabled={loading} onClick={() => load(next)}>
          Show older events
        </button>
      )}
    </section>
  );
}

function ScoreHistoryView({ history }: { history: ScoreHistory }) {
  // Oldest first on the chart (time runs left to right); newest first in the table, as the API answers.
  const series = useMemo<LineSeries>(() => {
    const runs = [...history.runs].reverse();
    return {
      categories: runs.map((r) => day(r.asOf)),
      lines: [{ name: 'Churn probability', values: runs.map((r) => r.churnProbability) }],
      format: share,
    };
  }, [history]);
  if (history.runs.length === 0) return <p>Not scored in any published run.</p>;
  const table = (
    <table data-testid="score-history">
      <thead>
        <tr>
          <th scope="col">Scored as of</th>
          <th scope="col">Run</th>
          <th scope="col" className="num">
            Churn probability
          </th>
          <th scope="col">Risk band</th>
          <th scope="col" className="num">
            CLV
          </th>
          <th scope="col">Segment</th>
          <th scope="col">Confidence</th>
        </tr>
      </thead>
      <tbody>
        {history.runs.map((r) => (
          <tr key={r.runId}>
            <td>{when(r.asOf)}</td>
            <td>{r.runId}</td>
            <td className="num">{share(r.churnProbability)}</td>
            <td>{r.riskBand ?? '–'}</td>
            <td className="num">{money(r.clvExpectedNetRevenue)}</td>
            <td>{r.segment ?? '–'}</td>
            <td>{r.confidence}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
  return <LineFigure title="Churn probability per run" series={series} table={table} open />;
}

function ScoresOverRuns({ customerId }: { customerId: string }) {
  const loaded = useApi<ScoreHistory>(`/customer/${encodeURIComponent(customerId)}/scores?limit=24`);
  return (
    <section aria-labelledby="score-history-heading">
      <h3 id="score-history-heading">Scores over runs</h3>
      <Await loaded={loaded}>{(history) => <ScoreHistoryView history={history} />}</Await>
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
    <>
      <Await loaded={loaded}>
        {(profile) => (
          <>
            <ProfileView profile={profile} />
            {profile.openActions && <OpenActions actions={profile.openActions} />}
            {lookAlikes && <LookAlikes customerId={customerId} />}
          </>
        )}
      </Await>
      {/* The history is there even when the profile is not (a customer not scored yet still has a timeline). */}
      <ScoresOverRuns customerId={customerId} />
      <Timeline customerId={customerId} />
    </>
  );
}

type FindBy = 'id' | 'email' | 'external';

/** The customer id for what was typed: as it is, or found through the identities by email or a source's own id. */
async function findCustomer(by: FindBy, value: string, source: string): Promise<string> {
  if (by === 'id') return value;
  const query =
    by === 'email' ? `email=${encodeURIComponent(value)}` : `external_id=${encodeURIComponent(value)}&source=${encodeURIComponent(source)}`;
  return (await apiGet<Profile>(`/customer/profile?${query}`)).customerId;
}

const FIELD_LABEL: Record<FindBy, string> = { id: 'Customer id', email: 'Email', external: 'External id' };

export function CustomerPage({ customerId, lookAlikes }: { customerId: string | null; lookAlikes: boolean }) {
  const [by, setBy] = useState<FindBy>('id');
  const [query, setQuery] = useState(customerId ?? '');
  const [source, setSource] = useState('');
  const [error, setError] = useState<string | null>(null);
  const search = (event: FormEvent) => {
    event.preventDefault();
    const value = query.trim();
    if (value === '') return;
    setError(null);
    findCustomer(by, value, source.trim()).then(
      (id) => navigate(`/customers/${encodeURIComponent(id)}`),
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    );
  };
  return (
    <>
      <h2>Customer{customerId !== null && `: ${customerId}`}</h2>
      <form role="search" onSubmit={search} className="search">
        <label htmlFor="customer-find-by">Find by</label>
        <select id="customer-find-by" value={by} onChange={(e) => setBy(e.target.value as FindBy)}>
          <option value="id">Customer id</option>
          <option value="email">Email</option>
          <option value="external">External id and source</option>
        </select>
        <label htmlFor="customer-id">{FIELD_LABEL[by]}</label>
        <input
          id="customer-id"
          name="customer-id"
          type={by === 'email' ? 'email' : 'text'}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          autoComplete="off"
          required
        />
        {by === 'external' && (
          <>
            <label htmlFor="customer-source">Source</label>
            <input
              id="customer-source"
              name="customer-source"
              value={source}
              onChange={(e) => setSource(e.target.value)}
              autoComplete="off"
              required
            />
          </>
        )}
        <button type="submit">Look up</button>
      </form>
      {error !== null && (
        <p role="alert" className="error" data-testid="search-error">
          {error}
        </p>
      )}
      {customerId !== null && <CustomerProfile key={customerId} customerId={customerId} lookAlikes={lookAlikes} />}
    </>
  );
}
