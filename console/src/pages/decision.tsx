import { Await } from '../components/status';
import { figure, money, share, when } from '../format';
import { Link } from '../router';
import type { DecisionRecord } from '../types';
import { useApi } from '../use-api';

/** A small document (facts, model versions, a change) as key/value pairs; nested values as compact text. */
function Pairs({ value, testId }: { value: Record<string, unknown> | null | undefined; testId?: string }) {
  if (!value || Object.keys(value).length === 0) return <p className="muted">–</p>;
  return (
    <dl className="pairs" data-testid={testId}>
      {Object.entries(value).map(([key, inner]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>{typeof inner === 'number' ? figure(inner) : typeof inner === 'string' ? inner : JSON.stringify(inner)}</dd>
        </div>
      ))}
    </dl>
  );
}

const TRACE_SHOWN_APART = new Set(['decisionId', 'policy', 'facts']);

function DecisionView({ r }: { r: DecisionRecord }) {
  const { action, scores, trace, approval, delivery } = r;
  const traceRest = Object.fromEntries(Object.entries(trace).filter(([key]) => !TRACE_SHOWN_APART.has(key)));
  const clv = (v: number | string | null) => (v === null ? '–' : money(String(v)));
  return (
    <>
      <p>
        <span className="badge" data-testid="action-status">
          {action.status}
        </span>{' '}
        {action.actionType} for <Link to={`/customers/${encodeURIComponent(action.customerId)}`}>{action.customerId}</Link> (
        {action.segment ?? 'no segment'}), campaign {action.campaign}, amount {money(action.incentiveAmount)}; decided{' '}
        {when(action.decidedAt)}, expires {when(action.expiresAt)}.
      </p>
      <div className="grid">
        <section className="card" aria-labelledby="scores-heading">
          <h3 id="scores-heading">Scores and models</h3>
          <dl className="pairs">
            <dt>Scored as of</dt>
            <dd>
              {when(scores.asOf)} (run {scores.scoringRunId})
            </dd>
            <dt>Churn probability</dt>
            <dd>{share(scores.churnProbability)}</dd>
            <dt>Risk band</dt>
            <dd>{scores.riskBand ?? '–'}</dd>
            <dt>CLV (expected, conservative)</dt>
            <dd>
              {clv(scores.clvExpected)}, {clv(scores.clvLower)}
            </dd>
            <dt>Probability still active</dt>
            <dd>{share(scores.pAlive)}</dd>
            <dt>Confidence</dt>
            <dd>{scores.confidence ?? '–'}</dd>
          </dl>
          <h4>Model versions</h4>
          <Pairs value={scores.modelVersions} />
        </section>
        <section className="card" aria-labelledby="trace-heading">
          <h3 id="trace-heading">Rule trace</h3>
          <p>
            Policy {trace.policy.key} version {trace.policy.version} (approved by {trace.policy.approvedBy ?? '–'}), decision{' '}
            {trace.decisionId}.
          </p>
          <Pairs value={traceRest} testId="trace" />
          <h4>Facts</h4>
          <Pairs value={trace.facts} />
        </section>
        <section className="card" aria-labelledby="approval-heading">
          <h3 id="approval-heading">Approval</h3>
          <p className="big" data-testid="approval-status">
            {approval.status}
          </p>
          <dl className="pairs">
            <dt>Opened</dt>
            <dd>{when(approval.openedAt ?? null)}</dd>
            <dt>Escalated</dt>
            <dd>{when(approval.escalatedAt ?? null)}</dd>
            <dt>Decided by</dt>
            <dd data-testid="decided-by">{approval.decidedBy ? `${approval.decidedBy} (${approval.decidedRole ?? '–'})` : '–'}</dd>
            <dt>Decided</dt>
            <dd>{when(approval.decidedAt ?? null)}</dd>
            <dt>Reason</dt>
            <dd>{approval.reason ?? '–'}</dd>
          </dl>
          {approval.after && (
            <>
              <h4>Changed</h4>
              <Pairs value={approval.before} />
              <Pairs value={approval.after} />
            </>
          )}
        </section>
      </div>
      <section aria-labelledby="deliveries-heading">
        <h3 id="deliveries-heading">Deliveries</h3>
        {delivery.deliveries.length === 0 ? (
          <p data-testid="no-delivery">
            {delivery.eventId === null ? 'No webhook event for this action (yet).' : 'The event has no subscriber.'}
          </p>
        ) : (
          <table data-testid="deliveries">
            <thead>
              <tr>
                <th scope="col">Delivery</th>
                <th scope="col">To</th>
                <th scope="col">Status</th>
                <th scope="col">Delivered</th>
                <th scope="col">Attempts (answer)</th>
              </tr>
            </thead>
            <tbody>
              {delivery.deliveries.map((d) => (
                <tr key={d.deliveryId}>
                  <td>{d.deliveryId}</td>
                  <td>{d.url}</td>
                  <td>
                    <span className="badge">{d.status}</span>
                  </td>
                  <td>{when(d.deliveredAt)}</td>
                  <td>{d.attempts.map((a) => `${when(a.attemptedAt)}: ${a.outcome} ${a.statusCode ?? a.error ?? ''}`).join('; ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

/** One action's record, loaded: the decision page's body, also shown in place on the customer page. */
export function DecisionRecordView({ actionId }: { actionId: string }) {
  const loaded = useApi<DecisionRecord>(`/decisions/${encodeURIComponent(actionId)}`);
  return <Await loaded={loaded}>{(r) => <DecisionView r={r} />}</Await>;
}

export function DecisionPage({ actionId }: { actionId: string }) {
  return (
    <>
      <h2>Decision record: action {actionId}</h2>
      <DecisionRecordView actionId={actionId} />
    </>
  );
}
