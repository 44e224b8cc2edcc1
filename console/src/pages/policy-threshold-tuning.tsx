import { useMemo, useState } from 'react';
import { LineFigure } from '../components/line-chart';
import { Await } from '../components/status';
import { count, day, money, number2, share } from '../format';
import { useApi } from '../use-api';

interface ThresholdCostPoint {
  threshold: number;
  missedChurners: number;
  missedClv: string;
  missedCost: string;
  falseAlarms: number;
  leakage: string;
  total: string;
}

export interface ThresholdCostCurve {
  versionId: number;
  currentThreshold: number | null;
  run: { runId: number; asOf: string; horizonDays: number; outcomesUntil: string; dataAsOf: string } | null;
  unavailable: string | null;
  customers: number;
  churned: number;
  points: ThresholdCostPoint[];
  minimum: ThresholdCostPoint | null;
}

const threshold = (t: number) => number2(t);

function Curve({ curve, onCarry }: { curve: ThresholdCostCurve; onCarry?: (threshold: number) => void }) {
  const [chosen, setChosen] = useState(() => curve.minimum?.threshold ?? curve.currentThreshold ?? 0.5);
  const point = curve.points.find((p) => Math.abs(p.threshold - chosen) < 1e-9) ?? null;
  const series = useMemo(
    () => ({
      categories: curve.points.map((p) => threshold(p.threshold)),
      lines: [
        { name: 'Total', values: curve.points.map((p) => Number(p.total)) },
        { name: 'Missed churners (CLV × response rate)', values: curve.points.map((p) => Number(p.missedCost)) },
        { name: 'Incentive leakage (stayers)', values: curve.points.map((p) => Number(p.leakage)) },
      ],
      format: (v: number) => money(String(v)),
      mark: curve.minimum ? { category: threshold(curve.minimum.threshold), label: 'lowest total' } : undefined,
    }),
    [curve],
  );
  const run = curve.run!;
  const min = curve.minimum!;
  return (
    <>
      <p className="muted">
        Backtest: the scoring run of {day(run.asOf)} ({count(curve.customers)} customers, {count(curve.churned)} of them did not buy in the{' '}
        {count(run.horizonDays)} days after, to {day(run.outcomesUntil)}). Its predictions as they were served; each churner left without an
        offer costs their expected CLV times the offer&apos;s response rate (the part an offer would have kept), each offer to a customer
        who bought anyway costs its incentive (this version&apos;s rates and caps, per segment).
      </p>
      <dl className="stats">
        <div>
          <dt>Cheapest threshold</dt>
          <dd data-testid="minimum-threshold">{threshold(min.threshold)}</dd>
          <dd className="muted" data-testid="minimum-total">
            total {money(min.total)}: missed churners {money(min.missedCost)}, leakage {money(min.leakage)}
          </dd>
        </div>
        {curve.currentThreshold !== null && (
          <div>
            <dt>This version&apos;s threshold</dt>
            <dd data-testid="current-threshold">{threshold(curve.currentThreshold)}</dd>
          </div>
        )}
      </dl>
      <div className="decide">
        <label>
          Threshold to look at
          <input
            type="number"
            className="short"
            min={0}
            max={1}
            step={0.01}
            value={chosen}
            onChange={(e) => setChosen(Math.round(Number(e.target.value) * 100) / 100)}
          />
        </label>
        {onCarry && (
          <button type="button" disabled={point === null} onClick={() => onCarry(chosen)}>
            Use {threshold(chosen)} in a parameters draft
          </button>
        )}
      </div>
      {point && (
        <p data-testid="chosen-costs">
          At {threshold(point.threshold)}: {count(point.missedChurners)} churners missed (CLV {money(point.missedClv)}, cost{' '}
          {money(point.missedCost)}), {count(point.falseAlarms)} offers to customers who stayed ({money(point.leakage)}); total{' '}
          {money(point.total)}.
        </p>
      )}
      <LineFigure
        title="Cost by churn threshold"
        series={series}
        table={
          <table data-testid="threshold-costs">
            <thead>
              <tr>
                <th scope="col" className="num">
                  Threshold
                </th>
                <th scope="col" className="num">
                  Churners missed
                </th>
                <th scope="col" className="num">
                  Their CLV
                </th>
                <th scope="col" className="num">
                  Cost of missing them
                </th>
                <th scope="col" className="num">
                  Offers to stayers
                </th>
                <th scope="col" className="num">
                  Incentive leakage
                </th>
                <th scope="col" className="num">
                  Total
                </th>
              </tr>
            </thead>
            <tbody>
              {curve.points.map((p) => (
                <tr key={p.threshold}>
                  <td className="num">{threshold(p.threshold)}</td>
                  <td className="num">
                    {count(p.missedChurners)} ({share(curve.churned === 0 ? 0 : p.missedChurners / curve.churned)})
                  </td>
                  <td className="num">{money(p.missedClv)}</td>
                  <td className="num">{money(p.missedCost)}</td>
                  <td className="num">{count(p.falseAlarms)}</td>
                  <td className="num">{money(p.leakage)}</td>
                  <td className="num">{money(p.total)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        }
      />
    </>
  );
}

/**
 * The retention offer's churn threshold priced on the latest matured run: both failure costs, and the cheapest point.
 * Read when opened (a chart drawn while hidden would have no size).
 */
export function ThresholdTuning({ versionId, onCarry }: { versionId: number; onCarry?: (threshold: number) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="tuning" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Threshold tuning by cost (retention offer)</summary>
      {open && <CostCurve versionId={versionId} onCarry={onCarry} />}
    </details>
  );
}

function CostCurve({ versionId, onCarry }: { versionId: number; onCarry?: (threshold: number) => void }) {
  const loaded = useApi<ThresholdCostCurve>(`/policies/versions/${versionId}/threshold-costs`);
  return (
    <Await loaded={loaded}>
      {(curve) =>
        curve.run === null ? <p data-testid="tuning-unavailable">{curve.unavailable}</p> : <Curve curve={curve} onCarry={onCarry} />
      }
    </Await>
  );
}
