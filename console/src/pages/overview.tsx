import { useMemo } from 'react';
import { Figure } from '../components/chart';
import { Await } from '../components/status';
import { count, figure, money, share, when } from '../format';
import type { Overview } from '../types';
import { useApi } from '../use-api';
import { OverviewHealth, OverviewTrend } from './overview-trend';

const name = (value: string | null) => value ?? 'not set';

function OverviewReport({ data }: { data: Overview }) {
  const risk = useMemo(
    () => ({
      categories: data.churnProbability.map((b) => `${figure(b.from * 100)}–${share(b.to)}`),
      values: data.churnProbability.map((b) => b.customers),
      format: count,
    }),
    [data],
  );
  const segments = useMemo(
    () => ({
      categories: data.segments.map((s) => name(s.segment)),
      values: data.segments.map((s) => s.customers),
      format: count,
      horizontal: true,
    }),
    [data],
  );
  if (data.customersScored === 0) {
    return <p>No customer has been scored yet: run the pipeline (foresight demo, or foresight score) and come back.</p>;
  }
  return (
    <>
      <p className="muted">
        From the latest profile of each customer, scored {when(data.asOf)}
        {data.oldestAsOf !== data.asOf && ` (some profiles date from ${when(data.oldestAsOf)})`}. Money in the shop&apos;s currency.
      </p>
      <dl className="stats">
        <div>
          <dt>Customers scored</dt>
          <dd data-testid="customers-scored">{count(data.customersScored)}</dd>
        </div>
        <div>
          <dt>Revenue at risk</dt>
          <dd data-testid="revenue-at-risk">{money(data.revenueAtRisk)}</dd>
          <dd className="muted">Σ P(churn) × expected net revenue</dd>
        </div>
        <div>
          <dt>Expected net revenue (CLV)</dt>
          <dd>{money(data.expectedRevenue)}</dd>
        </div>
        {data.customersWithoutValue > 0 && (
          <div>
            <dt>Without a churn probability or CLV</dt>
            <dd>{count(data.customersWithoutValue)}</dd>
            <dd className="muted">left out of the sums</dd>
          </div>
        )}
      </dl>
      <OverviewHealth data={data} />
      <div className="grid">
        <Figure
          title="Risk distribution"
          series={risk}
          table={
            <table>
              <thead>
                <tr>
                  <th scope="col">P(churn)</th>
                  <th scope="col" className="num">
                    Customers
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.churnProbability.map((b, i) => (
                  <tr key={b.from}>
                    <td>{risk.categories[i]}</td>
                    <td className="num">{count(b.customers)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          }
        />
        <Figure
          title="Segment sizes"
          series={segments}
          table={
            <table>
              <thead>
                <tr>
                  <th scope="col">Segment</th>
                  <th scope="col" className="num">
                    Customers
                  </th>
                  <th scope="col" className="num">
                    Expected net revenue
                  </th>
                  <th scope="col" className="num">
                    Revenue at risk
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.segments.map((s) => (
                  <tr key={name(s.segment)}>
                    <td>{name(s.segment)}</td>
                    <td className="num">{count(s.customers)}</td>
                    <td className="num">{money(s.expectedRevenue)}</td>
                    <td className="num">{money(s.revenueAtRisk)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          }
        />
      </div>
      <h3>Risk bands</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Band</th>
            <th scope="col" className="num">
              Customers
            </th>
            <th scope="col" className="num">
              Revenue at risk
            </th>
          </tr>
        </thead>
        <tbody>
          {data.riskBands.map((b) => (
            <tr key={name(b.band)}>
              <td>{name(b.band)}</td>
              <td className="num">{count(b.customers)}</td>
              <td className="num">{money(b.revenueAtRisk)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data.trend.length > 0 && <OverviewTrend data={data} />}
    </>
  );
}

export function OverviewPage() {
  const loaded = useApi<Overview>('/overview');
  return (
    <>
      <h2>Overview</h2>
      <Await loaded={loaded}>{(data) => <OverviewReport data={data} />}</Await>
    </>
  );
}
