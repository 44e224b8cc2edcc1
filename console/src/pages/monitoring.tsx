import { useMemo, useState, type FormEvent } from 'react';
import { apiPost } from '../api';
import { LineFigure, type LineSeries } from '../components/line-chart';
import { SeriesFigure, type MultiSeries } from '../components/series-chart';
import { Await } from '../components/status';
import { count, day, figure, money, share, when } from '../format';
import { useApi } from '../use-api';

/** GET /monitoring (monitoring/run-monitoring.ts latestReport, monitoring/alerts.ts). */
interface Alert {
  alertId: number;
  kind: string;
  message: string;
  runId: number | null;
  openedAt: string;
}
interface Figures {
  runId: number;
  asOf: string;
  referenceRunId: number | null;
  featurePsi: Record<string, number | null>;
  scorePsi: number | null;
  segmentChangeShare: number | null;
  segmentMigration: { from: string[]; to: string[]; counts: number[][]; shares: number[][]; customers: number } | null;
  coverage: number | null;
  confidenceMix: Record<string, number>;
  sourceFreshness: Record<string, { latestEventAt: string | null; ageDays: number | null }>;
  runAgeDays: number;
}
interface MonitoringAnswer {
  report: { reportId: number; runId: number; createdAt: string; figures: Figures; breaches: string[] } | null;
  thresholds: { featurePsi: number; scorePsi: number; sourceAgeDays: number; minCoverage: number };
  openAlerts: Alert[];
}
/** GET /monitoring/outcomes (monitoring/outcomes.ts). */
interface RunOutcome {
  runId: number;
  asOf: string;
  churn: {
    horizonDays: number;
    maturesAt: string;
    matured: boolean;
    customers: number;
    predicted: number | null;
    realised: number | null;
    brier: number | null;
  };
  clv: {
    horizonMonths: number;
    maturesAt: string;
    matured: boolean;
    customers: number;
    predicted: string | null;
    realised: string | null;
    ratio: number | null;
  };
}
interface Outcomes {
  outcomesKnownUpTo: string | null;
  runs: RunOutcome[];
}

const psi = (v: number | null) => (v === null ? '–' : figure(v));

function AlertRow({ alert, mayResolve, onResolved }: { alert: Alert; mayResolve: boolean; onResolved: () => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    apiPost(`/alerts/${alert.alertId}/resolve`, { reason }).then(onResolved, (e: Error) => {
      setError(e.message);
      setBusy(false);
    });
  };
  return (
    <li data-testid={`alert-${alert.kind}`}>
      <strong>{alert.kind}</strong>: {alert.message}{' '}
      <span className="muted">
        (opened {when(alert.openedAt)}, run {alert.runId ?? '–'})
      </span>
      {mayResolve && (
        <form onSubmit={submit} className="inline">
          <label>
            Reason <input value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={1000} />
          </label>{' '}
          <button type="submit" disabled={busy || reason.trim() === ''}>
            Resolve
          </button>
          {error && (
            <span role="alert" className="error">
              {error}
            </span>
          )}
        </form>
      )}
    </li>
  );
}

function Alerts({ alerts, mayResolve, onResolved }: { alerts: Alert[]; mayResolve: boolean; onResolved: () => void }) {
  if (alerts.length === 0) return <p data-testid="no-alerts">No open alert: low-impact actions are approved automatically.</p>;
  return (
    <section role="alert" aria-label="Open alerts" className="banner">
      <p>
        <strong>{alerts.length} open alert(s): automatic approval is stopped</strong>; every action waits in the approval queue until they
        are resolved{mayResolve ? '' : ' by an owner'}.
      </p>
      <ul>
        {alerts.map((a) => (
          <AlertRow key={a.alertId} alert={a} mayResolve={mayResolve} onResolved={onResolved} />
        ))}
      </ul>
    </section>
  );
}

function Drift({ f, thresholds }: { f: Figures; thresholds: MonitoringAnswer['thresholds'] }) {
  const features = useMemo(() => Object.entries(f.featurePsi).sort((a, b) => (b[1] ?? -1) - (a[1] ?? -1)), [f]);
  const data = useMemo<MultiSeries>(
    () => ({
      horizontal: true,
      categories: features.map(([n]) => n),
      series: [{ name: 'PSI against the previous run', values: features.map(([, v]) => v) }],
      format: figure,
      threshold: thresholds.featurePsi,
    }),
    [features, thresholds],
  );
  return (
    <SeriesFigure
      title="Population stability (PSI) per feature"
      note={`Run ${f.runId} against run ${f.referenceRunId ?? '–'}; churn scores PSI ${psi(f.scorePsi)} (threshold ${figure(thresholds.scorePsi)}).`}
      data={data}
      table={
        <table>
          <thead>
            <tr>
              <th scope="col">Feature</th>
              <th scope="col" className="num">
                PSI
              </th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td>churn scores</td>
              <td className="num">{psi(f.scorePsi)}</td>
            </tr>
            {features.map(([n, v]) => (
              <tr key={n}>
                <td>{n}</td>
                <td className="num">{psi(v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

function Migration({ f }: { f: Figures }) {
  const m = f.segmentMigration;
  if (!m) return <p>No segment migration yet: the first run has no previous run to compare with.</p>;
  return (
    <section>
      <h3>Segment migration</h3>
      <p className="muted">
        {share(f.segmentChangeShare)} of the customers scored in both runs changed segment. Rows: segment in run {f.referenceRunId};
        columns: segment in run {f.runId}; each cell the customers and the row&apos;s share.
      </p>
      <div className="scroll migration">
        <table data-testid="migration">
          <thead>
            <tr>
              <th scope="col">from \ to</th>
              {m.to.map((c) => (
                <th scope="col" key={c} className="num">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {m.from.map((r, i) => (
              <tr key={r}>
                <th scope="row">{r}</th>
                {m.to.map((c, j) => (
                  <td key={c} className="num" style={{ background: `rgba(47, 111, 159, ${(m.shares[i]![j]! * 0.6).toFixed(2)})` }}>
                    {count(m.counts[i]![j]!)} <span className="muted">{share(m.shares[i]![j]!)}</span>
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Coverage({ f, thresholds }: { f: Figures; thresholds: MonitoringAnswer['thresholds'] }) {
  const levels = useMemo(() => {
    const known = ['high', 'medium', 'low'];
    return [...known.filter((l) => l in f.confidenceMix), ...Object.keys(f.confidenceMix).filter((l) => !known.includes(l))];
  }, [f]);
  const data = useMemo<MultiSeries>(
    () => ({
      categories: levels,
      series: [{ name: 'Share of profiles', values: levels.map((l) => f.confidenceMix[l] ?? 0) }],
      format: share,
    }),
    [f, levels],
  );
  return (
    <SeriesFigure
      title="Coverage and confidence mix"
      note={`Coverage ${share(f.coverage)} of the snapshot's customers have a churn probability (minimum ${share(thresholds.minCoverage)}).`}
      data={data}
      table={
        <table>
          <thead>
            <tr>
              <th scope="col">Confidence</th>
              <th scope="col" className="num">
                Share of profiles
              </th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td>coverage (with a churn probability)</td>
              <td className="num">{share(f.coverage)}</td>
            </tr>
            {levels.map((l) => (
              <tr key={l}>
                <td>{l}</td>
                <td className="num">{share(f.confidenceMix[l] ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

function Freshness({ f, thresholds }: { f: Figures; thresholds: MonitoringAnswer['thresholds'] }) {
  const sources = useMemo(() => Object.entries(f.sourceFreshness), [f]);
  const data = useMemo<MultiSeries>(
    () => ({
      horizontal: true,
      categories: sources.map(([s]) => s),
      series: [{ name: "Days before the run's as-of", values: sources.map(([, v]) => v.ageDays) }],
      format: figure,
      threshold: thresholds.sourceAgeDays,
    }),
    [sources, thresholds],
  );
  return (
    <SeriesFigure
      title="Freshness per source"
      note={`Run as of ${when(f.asOf)}: ${figure(f.runAgeDays)} day(s) older than the newest data.`}
      data={data}
      table={
        <table>
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Newest event</th>
              <th scope="col" className="num">
                Days before the as-of
              </th>
            </tr>
          </thead>
          <tbody>
            {sources.map(([s, v]) => (
              <tr key={s}>
                <td>{s}</td>
                <td>{when(v.latestEventAt)}</td>
                <td className="num">{v.ageDays === null ? '–' : figure(v.ageDays)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

function Calibration({ o }: { o: Outcomes }) {
  const series = useMemo<LineSeries>(
    () => ({
      categories: o.runs.map((r) => day(r.asOf)),
      lines: [
        { name: 'Predicted churn (mean probability)', values: o.runs.map((r) => r.churn.predicted) },
        { name: 'Realised churn', values: o.runs.map((r) => r.churn.realised) },
      ],
      format: share,
    }),
    [o],
  );
  return (
    <LineFigure
      title="Calibration over time"
      series={series}
      table={
        <table data-testid="calibration">
          <caption>
            Per run: the mean predicted churn probability against the share that did churn once the horizon matured (outcomes known up to{' '}
            {when(o.outcomesKnownUpTo)}).
          </caption>
          <thead>
            <tr>
              <th scope="col">Run as of</th>
              <th scope="col" className="num">
                Customers
              </th>
              <th scope="col" className="num">
                Predicted
              </th>
              <th scope="col" className="num">
                Realised
              </th>
              <th scope="col" className="num">
                Brier
              </th>
              <th scope="col">Horizon</th>
            </tr>
          </thead>
          <tbody>
            {o.runs.map((r) => (
              <tr key={r.runId}>
                <td>{day(r.asOf)}</td>
                <td className="num">{count(r.churn.customers)}</td>
                <td className="num">{share(r.churn.predicted)}</td>
                <td className="num">{share(r.churn.realised)}</td>
                <td className="num">{r.churn.brier === null ? '–' : figure(r.churn.brier)}</td>
                <td>{r.churn.matured ? `${r.churn.horizonDays} days, matured` : `matures ${day(r.churn.maturesAt)}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

function ClvOutcomes({ o }: { o: Outcomes }) {
  const data = useMemo<MultiSeries>(
    () => ({
      categories: o.runs.map((r) => day(r.asOf)),
      series: [
        { name: 'Predicted net revenue', values: o.runs.map((r) => (r.clv.predicted === null ? null : Number(r.clv.predicted))) },
        { name: 'Realised net revenue', values: o.runs.map((r) => (r.clv.realised === null ? null : Number(r.clv.realised))) },
      ],
      format: (v) => money(String(v)),
    }),
    [o],
  );
  return (
    <SeriesFigure
      title="CLV realised vs predicted"
      note="Per run: the net revenue its customers were expected to bring over the CLV horizon, and what they brought once it matured (shop's currency)."
      data={data}
      table={
        <table data-testid="clv-outcomes">
          <thead>
            <tr>
              <th scope="col">Run as of</th>
              <th scope="col" className="num">
                Customers
              </th>
              <th scope="col" className="num">
                Predicted
              </th>
              <th scope="col" className="num">
                Realised
              </th>
              <th scope="col" className="num">
                Realised / predicted
              </th>
              <th scope="col">Horizon</th>
            </tr>
          </thead>
          <tbody>
            {o.runs.map((r) => (
              <tr key={r.runId}>
                <td>{day(r.asOf)}</td>
                <td className="num">{count(r.clv.customers)}</td>
                <td className="num">{money(r.clv.predicted)}</td>
                <td className="num">{money(r.clv.realised)}</td>
                <td className="num">{share(r.clv.ratio)}</td>
                <td>{r.clv.matured ? `${r.clv.horizonMonths} months, matured` : `matures ${day(r.clv.maturesAt)}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

export function MonitoringPage({ mayResolve }: { mayResolve: boolean }) {
  const [version, setVersion] = useState(0);
  const loaded = useApi<MonitoringAnswer>('/monitoring', version);
  const outcomes = useApi<Outcomes>('/monitoring/outcomes');
  return (
    <>
      <h2>Monitoring</h2>
      <Await loaded={loaded}>
        {(m) => (
          <>
            <Alerts alerts={m.openAlerts} mayResolve={mayResolve} onResolved={() => setVersion((v) => v + 1)} />
            {m.report === null ? (
              <p>No scoring run has been monitored yet: every published scoring run is monitored as its last step.</p>
            ) : (
              <>
                <p className="muted" data-testid="report">
                  Run {m.report.runId} as of {when(m.report.figures.asOf)}, monitored {when(m.report.createdAt)}; thresholds breached:{' '}
                  {m.report.breaches.length ? m.report.breaches.join(', ') : 'none'}.
                </p>
                <div className="grid">
                  <Drift f={m.report.figures} thresholds={m.thresholds} />
                  <Coverage f={m.report.figures} thresholds={m.thresholds} />
                  <Freshness f={m.report.figures} thresholds={m.thresholds} />
                </div>
                <Migration f={m.report.figures} />
              </>
            )}
          </>
        )}
      </Await>
      <h3>Outcomes of past runs</h3>
      <Await loaded={outcomes}>
        {(o) =>
          o.runs.length === 0 ? (
            <p>No published run yet.</p>
          ) : (
            <div className="grid">
              <Calibration o={o} />
              <ClvOutcomes o={o} />
            </div>
          )
        }
      </Await>
    </>
  );
}
