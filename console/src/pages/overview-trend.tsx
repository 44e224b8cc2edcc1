import { useMemo } from 'react';
import { LineFigure } from '../components/line-chart';
import { SeriesFigure } from '../components/series-chart';
import { count, day, money, number2, share } from '../format';
import { Link } from '../router';
import type { Overview } from '../types';

const name = (value: string | null) => value ?? 'not set';
// Charts take numbers; the tables show the exact decimal strings.
const amount = (value: string | null) => (value === null ? null : Number(value));

/** Revenue at risk, segment sizes and the business KPIs over the published runs, each with its numbers as a table. */
export function OverviewTrend({ data }: { data: Overview }) {
  const runs = useMemo(() => data.trend.map((r) => day(r.asOf)), [data]);
  const atRisk = useMemo(
    () => ({
      categories: runs,
      lines: [{ name: 'Revenue at risk', values: data.trend.map((r) => amount(r.revenueAtRisk)) }],
      format: (v: number) => money(String(v)),
    }),
    [data, runs],
  );
  // Its own chart: a mean per customer, orders of magnitude below the portfolio's sum.
  const averageClv = useMemo(
    () => ({
      categories: runs,
      lines: [{ name: 'Average CLV', values: data.trend.map((r) => amount(r.averageClv)) }],
      format: (v: number) => money(String(v)),
    }),
    [data, runs],
  );
  const rates = useMemo(
    () => ({
      categories: runs,
      lines: [
        { name: 'Retention rate', values: data.trend.map((r) => r.retentionRate) },
        { name: 'Churn rate', values: data.trend.map((r) => r.churnRate) },
        { name: 'Net revenue retention', values: data.trend.map((r) => r.netRevenueRetention) },
      ],
      format: share,
    }),
    [data, runs],
  );
  const segmentNames = useMemo(() => [...new Set(data.trend.flatMap((r) => r.segments.map((s) => name(s.segment))))].sort(), [data]);
  const sizeOf = (run: Overview['trend'][number], segment: string) => run.segments.find((s) => name(s.segment) === segment)?.customers ?? 0;
  const segments = useMemo(
    () => ({
      categories: segmentNames,
      series: data.trend.map((r, i) => ({ name: runs[i]!, values: segmentNames.map((s) => sizeOf(r, s)) })),
      format: count,
      horizontal: true,
    }),
    [data, runs, segmentNames],
  );
  const first = data.trend[0];
  const last = data.trend[data.trend.length - 1];
  return (
    <>
      <h3>Over the published runs</h3>
      <div className="grid">
        <LineFigure
          title="Revenue at risk"
          series={atRisk}
          table={
            <table data-testid="trend-table">
              <thead>
                <tr>
                  <th scope="col">Run as of</th>
                  <th scope="col" className="num">
                    Customers scored
                  </th>
                  <th scope="col" className="num">
                    Revenue at risk
                  </th>
                  <th scope="col" className="num">
                    Average CLV
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.trend.map((r, i) => (
                  <tr key={r.runId}>
                    <td>{runs[i]}</td>
                    <td className="num">{count(r.customersScored)}</td>
                    <td className="num">{money(r.revenueAtRisk)}</td>
                    <td className="num">{money(r.averageClv)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          }
        />
        <LineFigure
          title="Average CLV"
          series={averageClv}
          table={
            <table>
              <thead>
                <tr>
                  <th scope="col">Run as of</th>
                  <th scope="col" className="num">
                    Average CLV
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.trend.map((r, i) => (
                  <tr key={r.runId}>
                    <td>{runs[i]}</td>
                    <td className="num">{money(r.averageClv)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          }
        />
        <LineFigure
          title="Retention, churn and net revenue retention"
          series={rates}
          table={
            <table data-testid="kpi-table">
              <thead>
                <tr>
                  <th scope="col">Run as of</th>
                  <th scope="col" className="num">
                    Previous run&apos;s customers
                  </th>
                  <th scope="col" className="num">
                    Ordered again
                  </th>
                  <th scope="col" className="num">
                    Retention rate
                  </th>
                  <th scope="col" className="num">
                    Churn rate
                  </th>
                  <th scope="col" className="num">
                    Net revenue retention
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.trend.map((r, i) => (
                  <tr key={r.runId}>
                    <td>{runs[i]}</td>
                    <td className="num">{count(r.previousCustomers)}</td>
                    <td className="num">{count(r.retainedCustomers)}</td>
                    <td className="num">{share(r.retentionRate)}</td>
                    <td className="num">{share(r.churnRate)}</td>
                    <td className="num">{share(r.netRevenueRetention)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          }
        />
      </div>
      <p className="muted">
        Retention: the previous run&apos;s customers who ordered between its as-of and this run&apos;s; net revenue retention: the revenue
        in that window from the customers who ordered in the window before it, over theirs then (README &quot;Web console&quot;). The first
        run has no previous one, the second no window before.
      </p>
      <SeriesFigure
        title="Segment sizes over runs"
        data={segments}
        note={first && last && first !== last ? `Change from ${day(first.asOf)} to ${day(last.asOf)} in the table.` : undefined}
        table={
          <table data-testid="segment-trend-table">
            <thead>
              <tr>
                <th scope="col">Segment (customers per run)</th>
                {runs.map((r, i) => (
                  <th key={data.trend[i]!.runId} scope="col" className="num">
                    {r}
                  </th>
                ))}
                <th scope="col" className="num">
                  Change
                </th>
              </tr>
            </thead>
            <tbody>
              {segmentNames.map((s) => {
                const change = first && last ? sizeOf(last, s) - sizeOf(first, s) : 0;
                return (
                  <tr key={s}>
                    <td>{s}</td>
                    {data.trend.map((r) => (
                      <td key={r.runId} className="num">
                        {count(sizeOf(r, s))}
                      </td>
                    ))}
                    <td className="num">{change > 0 ? `+${count(change)}` : count(change)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        }
      />
    </>
  );
}

/** Data and score freshness (from the latest monitoring report), open alerts and actions waiting, with links. */
export function OverviewHealth({ data }: { data: Overview }) {
  return (
    <>
      <dl className="stats">
        <div>
          <dt>Open alerts</dt>
          <dd data-testid="open-alerts">{count(data.openAlerts)}</dd>
          <dd className="muted">
            <Link to="/monitoring">Monitoring</Link>
          </dd>
        </div>
        <div>
          <dt>Actions waiting for approval</dt>
          <dd data-testid="actions-waiting">{count(data.actionsWaitingForApproval)}</dd>
          <dd className="muted">
            <Link to="/approvals">Approvals</Link>
          </dd>
        </div>
        <div>
          <dt>Score freshness</dt>
          <dd data-testid="score-age">{data.freshness ? `${number2(data.freshness.runAgeDays)} days` : '–'}</dd>
          <dd className="muted">
            {data.freshness ? `run as of ${day(data.freshness.asOf)}, against the newest data` : 'no monitoring report yet'}
          </dd>
        </div>
      </dl>
      {data.freshness && (
        <table data-testid="freshness-table">
          <caption>Data freshness per source (days before the monitored run&apos;s as-of)</caption>
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Newest event</th>
              <th scope="col" className="num">
                Age (days)
              </th>
            </tr>
          </thead>
          <tbody>
            {data.freshness.sources.map((s) => (
              <tr key={s.source}>
                <td>{s.source}</td>
                <td>{day(s.latestEventAt)}</td>
                <td className="num">{number2(s.ageDays)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
