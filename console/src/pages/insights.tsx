import { useMemo, type ReactNode } from 'react';
import { Figure } from '../components/chart';
import { LineFigure } from '../components/line-chart';
import { Await } from '../components/status';
import { count, day, number2, share } from '../format';
import { useApi } from '../use-api';

interface ChurnDriverShare {
  feature: string;
  description: string;
  customers: number;
  share: number;
  meanContribution: number;
}

interface ClvAssociation {
  feature: string;
  description: string;
  correlation: number | null;
  customers: number;
}

interface SegmentInsight<T> {
  segment: string | null;
  customers: number;
  items: T[];
}

export interface Insights {
  runs: { runId: number; asOf: string; customers: number }[];
  churn: { overall: ChurnDriverShare[]; segments: SegmentInsight<ChurnDriverShare>[] };
  clv: { overall: ClvAssociation[]; segments: SegmentInsight<ClvAssociation>[] };
  trend: {
    churn: { feature: string; description: string; shares: number[] }[];
    clv: { feature: string; description: string; correlations: (number | null)[] }[];
  };
}

const segmentName = (value: string | null) => value ?? 'not set';
const correlation = (value: number | null) => (value === null ? '–' : number2(value));

function ChurnTable({ items, testId }: { items: ChurnDriverShare[]; testId?: string }) {
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">Behaviour</th>
          <th scope="col" className="num">
            Customers
          </th>
          <th scope="col" className="num">
            Share
          </th>
          <th scope="col" className="num">
            Mean contribution
          </th>
        </tr>
      </thead>
      <tbody>
        {items.map((d) => (
          <tr key={d.feature}>
            <th scope="row">{d.description}</th>
            <td className="num">{count(d.customers)}</td>
            <td className="num">{share(d.share)}</td>
            <td className="num">{number2(d.meanContribution)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ClvTable({ items, testId }: { items: ClvAssociation[]; testId?: string }) {
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">Behaviour</th>
          <th scope="col" className="num">
            Correlation with CLV
          </th>
          <th scope="col" className="num">
            Customers with a value
          </th>
        </tr>
      </thead>
      <tbody>
        {items.map((d) => (
          <tr key={d.feature}>
            <th scope="row">{d.description}</th>
            <td className="num">{correlation(d.correlation)}</td>
            <td className="num">{count(d.customers)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Each segment's top behaviours, one table per segment under a heading (headings make them reachable by keyboard). */
function PerSegment<T>({
  segments,
  children,
  label,
}: {
  segments: SegmentInsight<T>[];
  children: (s: SegmentInsight<T>) => ReactNode;
  label: string;
}) {
  return (
    <details>
      <summary>{label}</summary>
      {segments.map((s) => (
        <section key={segmentName(s.segment)} aria-label={`${label}: ${segmentName(s.segment)}`}>
          <h4>
            {segmentName(s.segment)} ({count(s.customers)} customers)
          </h4>
          {s.items.length === 0 ? <p className="muted">No behaviour to show.</p> : children(s)}
        </section>
      ))}
    </details>
  );
}

function Trend({ data }: { data: Insights }) {
  const churn = useMemo(
    () => ({
      categories: data.runs.map((r) => day(r.asOf)),
      lines: data.trend.churn.map((f) => ({ name: f.description, values: f.shares })),
      format: share,
    }),
    [data],
  );
  const clv = useMemo(
    () => ({
      categories: data.runs.map((r) => day(r.asOf)),
      lines: data.trend.clv.map((f) => ({ name: f.description, values: f.correlations })),
      format: number2,
    }),
    [data],
  );
  const runHeaders = data.runs.map((r) => (
    <th key={r.runId} scope="col" className="num">
      {day(r.asOf)}
    </th>
  ));
  return (
    <div className="grid">
      <LineFigure
        title="Share of customers with each churn driver, by run"
        series={churn}
        table={
          <table data-testid="trend-churn">
            <thead>
              <tr>
                <th scope="col">Behaviour</th>
                {runHeaders}
              </tr>
            </thead>
            <tbody>
              {data.trend.churn.map((f) => (
                <tr key={f.feature}>
                  <th scope="row">{f.description}</th>
                  {f.shares.map((v, i) => (
                    <td key={i} className="num">
                      {share(v)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        }
      />
      {data.trend.clv.length > 0 && (
        <LineFigure
          title="Correlation with CLV, by run"
          series={clv}
          table={
            <table data-testid="trend-clv">
              <thead>
                <tr>
                  <th scope="col">Behaviour</th>
                  {runHeaders}
                </tr>
              </thead>
              <tbody>
                {data.trend.clv.map((f) => (
                  <tr key={f.feature}>
                    <th scope="row">{f.description}</th>
                    {f.correlations.map((v, i) => (
                      <td key={i} className="num">
                        {correlation(v)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          }
        />
      )}
    </div>
  );
}

function InsightsReport({ data }: { data: Insights }) {
  const churnBars = useMemo(
    () => ({
      categories: data.churn.overall.map((d) => d.description),
      values: data.churn.overall.map((d) => d.share),
      format: share,
      horizontal: true,
    }),
    [data],
  );
  const clvBars = useMemo(
    () => ({
      categories: data.clv.overall.map((d) => d.description),
      values: data.clv.overall.map((d) => d.correlation ?? 0),
      format: number2,
      horizontal: true,
    }),
    [data],
  );
  const latest = data.runs[data.runs.length - 1];
  if (!latest) return <p>No scoring run has been published yet: run the pipeline and come back.</p>;
  return (
    <>
      <p className="muted">
        From the scoring run of {day(latest.asOf)} ({count(latest.customers)} customers) and the {count(data.runs.length)} latest runs for
        the trend.
      </p>
      <p className="note" data-testid="not-causal">
        <strong>Directional, not causal.</strong> These are associations among the scored customers: a behaviour often among the drivers of
        high churn risk, or moving with CLV, is worth a look, but changing it is not shown to change the outcome.
      </p>
      <section aria-labelledby="churn-heading">
        <h3 id="churn-heading">Behaviours most associated with churn</h3>
        <p className="muted">
          Share of customers whose top three drivers (SHAP) include the behaviour pushing their risk up, and its mean contribution
          (log-odds).
        </p>
        <Figure
          title="Churn drivers: share of customers"
          series={churnBars}
          table={<ChurnTable items={data.churn.overall} testId="churn-drivers" />}
        />
        <PerSegment segments={data.churn.segments} label="Churn drivers per segment">
          {(s) => <ChurnTable items={s.items} />}
        </PerSegment>
      </section>
      <section aria-labelledby="clv-heading">
        <h3 id="clv-heading">Behaviours most associated with CLV</h3>
        {data.clv.overall.length === 0 ? (
          <p>The latest run&apos;s feature snapshot is not kept, so there is no CLV association to show.</p>
        ) : (
          <>
            <p className="muted">
              Correlation (Pearson) of the behaviour&apos;s value with expected net CLV: positive moves with higher value.
            </p>
            <Figure
              title="CLV: correlation with the behaviour"
              series={clvBars}
              table={<ClvTable items={data.clv.overall} testId="clv-associations" />}
            />
            <PerSegment segments={data.clv.segments} label="CLV associations per segment">
              {(s) => <ClvTable items={s.items} />}
            </PerSegment>
          </>
        )}
      </section>
      <section aria-labelledby="trend-heading">
        <h3 id="trend-heading">How they move over the latest runs</h3>
        <Trend data={data} />
      </section>
    </>
  );
}

export function InsightsPage() {
  const loaded = useApi<Insights>('/insights?runs=6');
  return (
    <>
      <h2>Insights</h2>
      <Await loaded={loaded}>{(data) => <InsightsReport data={data} />}</Await>
    </>
  );
}
