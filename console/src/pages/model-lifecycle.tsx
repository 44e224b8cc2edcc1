import { useState } from 'react';
import type { useSend } from '../components/send';
import { Await } from '../components/status';
import { count, day, figure, when } from '../format';
import type { Model, ShadowReport } from '../types';
import { useApi } from '../use-api';

const signed = (v: number) => `${v >= 0 ? '+' : ''}${figure(v)}`;
const maybe = (v: number | null) => (v === null ? '–' : figure(v));

/** The candidate's latest shadow report: metric deltas on a backtest with known outcomes, and the shift of its scores. */
export function ShadowReportView({ model }: { model: Model }) {
  const loaded = useApi<{ shadowReport: { createdAt: string; report: ShadowReport } | null }>(`/models/${model.modelId}/shadow-report`);
  return (
    <Await loaded={loaded}>
      {({ shadowReport }) => {
        if (shadowReport === null)
          return <p>Version {model.version} has no shadow report yet: run the shadow evaluation (foresight run shadow).</p>;
        const r = shadowReport.report;
        return (
          <section
            data-testid={`shadow-${model.modelId}`}
            aria-label={`Shadow report of ${r.candidate.kind} version ${r.candidate.version}`}
          >
            <h4>
              Version {r.candidate.version} against champion version {r.champion.version}
            </h4>
            <p>
              Both scored on the snapshot of {day(r.asOf)} ({count(r.customers)} customers); report of {when(shadowReport.createdAt)}.
            </p>
            {r.backtest ? (
              <table data-testid={`shadow-metrics-${model.modelId}`}>
                <caption>
                  Backtest at {day(r.backtest.cutoff)}, outcomes over {r.backtest.horizonDays} days, {count(r.backtest.customers)} customers
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Metric</th>
                    <th scope="col">Champion</th>
                    <th scope="col">Candidate</th>
                    <th scope="col">Difference</th>
                    <th scope="col">Better when</th>
                  </tr>
                </thead>
                <tbody>
                  {r.backtest.metrics.map((m) => (
                    <tr key={m.metric}>
                      <th scope="row">{m.metric}</th>
                      <td>{figure(m.champion)}</td>
                      <td>{figure(m.candidate)}</td>
                      <td>{signed(m.delta)}</td>
                      <td>{m.better === 'closerToOne' ? 'closer to 1' : m.better}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p>No backtest: {r.backtestSkipped ?? 'none possible'}.</p>
            )}
            <table data-testid={`shadow-shift-${model.modelId}`}>
              <caption>Candidate against champion, same customers</caption>
              <tbody>
                <tr>
                  <th scope="row">Score distribution shift (PSI)</th>
                  <td>{figure(r.shift.psi)}</td>
                </tr>
                <tr>
                  <th scope="row">Rank agreement (Spearman)</th>
                  <td>{maybe(r.shift.rankAgreement)}</td>
                </tr>
                <tr>
                  <th scope="row">Customers changing {r.candidate.kind === 'segments' ? 'segment' : 'risk band'}</th>
                  <td>{r.shift.labelChanges === null ? '–' : count(r.shift.labelChanges)}</td>
                </tr>
                <tr>
                  <th scope="row">Overlap of the top 10% {r.candidate.kind === 'clv' ? 'by value' : 'by risk'}</th>
                  <td>{maybe(r.shift.topDecileOverlap)}</td>
                </tr>
              </tbody>
            </table>
          </section>
        );
      }}
    </Await>
  );
}

/** The page's sender: its outcome is shown above the registry, which reloads (and may drop this control) after a change. */
export type Sender = Pick<ReturnType<typeof useSend>, 'send' | 'busy'>;

/** Approve or reject a candidate: the decision goes to its waiting promotion workflow (ML role only; the server checks). */
export function PromotionControls({ model, sender: { send, busy } }: { model: Model; sender: Sender }) {
  const [reason, setReason] = useState('');
  const decide = (decision: 'approve' | 'reject') =>
    void send<{ promotion: { status: string } }>(
      `/models/${model.modelId}/promotion`,
      { decision, reason },
      (answer) => `Promotion of ${model.kind} version ${model.version}: ${answer.promotion.status}.`,
    );
  return (
    <div className="decide" data-testid={`promotion-${model.modelId}`}>
      <label>
        Reason for the decision on {model.kind} version {model.version}
        <input value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      <button type="button" disabled={busy || reason.trim() === ''} onClick={() => decide('approve')}>
        Promote {model.kind} version {model.version}
      </button>
      <button type="button" disabled={busy || reason.trim() === ''} onClick={() => decide('reject')}>
        Reject {model.kind} version {model.version}
      </button>
    </div>
  );
}

/** Restore the previous champion of a kind (ML role only; the server checks). */
export function RollbackControl({ kind, sender: { send, busy } }: { kind: string; sender: Sender }) {
  const [reason, setReason] = useState('');
  return (
    <div className="decide" data-testid={`rollback-${kind}`}>
      <label>
        Reason to roll back {kind}
        <input value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      <button
        type="button"
        disabled={busy || reason.trim() === ''}
        onClick={() =>
          void send<{ restored: { version: number } }>(
            `/models/${kind}/rollback`,
            { reason },
            (answer) => `${kind} version ${answer.restored.version} is champion again.`,
          )
        }
      >
        Roll back {kind}
      </button>
    </div>
  );
}
