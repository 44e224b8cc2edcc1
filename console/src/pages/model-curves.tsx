import { LineFigure } from '../components/line-chart';
import { count, share } from '../format';
import type { GainsCut, Model, ReliabilityBin } from '../types';

const binLabel = (bin: ReliabilityBin) => `${share(bin.lower)}–${share(bin.upper)}`;

/** Calibration of a churn model on its training backtest: mean predicted against observed churn per probability bin. */
function ReliabilityDiagram({ model, bins }: { model: Model; bins: ReliabilityBin[] }) {
  return (
    <div data-testid={`reliability-${model.modelId}`}>
      <LineFigure
        title={`Reliability diagram, churn version ${model.version}`}
        series={{
          categories: bins.map(binLabel),
          lines: [
            { name: 'Predicted churn (mean of the bin)', values: bins.map((b) => b.meanPredicted) },
            { name: 'Observed churn', values: bins.map((b) => b.observedRate) },
          ],
          format: share,
        }}
        table={
          <table>
            <thead>
              <tr>
                <th scope="col">Predicted probability</th>
                <th scope="col">Customers</th>
                <th scope="col">Mean predicted</th>
                <th scope="col">Observed churn</th>
              </tr>
            </thead>
            <tbody>
              {bins.map((b) => (
                <tr key={b.lower}>
                  <th scope="row">{binLabel(b)}</th>
                  <td>{count(b.count)}</td>
                  <td>{share(b.meanPredicted)}</td>
                  <td>{share(b.observedRate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        }
      />
    </div>
  );
}

/** Cumulative gains of a churn model on its training backtest: the share of churners found in its top customers. */
function GainsChart({ model, cuts }: { model: Model; cuts: GainsCut[] }) {
  return (
    <div data-testid={`gains-${model.modelId}`}>
      <LineFigure
        title={`Lift and gains, churn version ${model.version}`}
        series={{
          categories: cuts.map((c) => `top ${share(c.fraction)}`),
          lines: [
            { name: 'Churners found (model)', values: cuts.map((c) => c.capture) },
            { name: 'Churners found (random order)', values: cuts.map((c) => c.fraction) },
          ],
          format: share,
        }}
        table={
          <table>
            <thead>
              <tr>
                <th scope="col">Customers by risk</th>
                <th scope="col">Customers</th>
                <th scope="col">Churners</th>
                <th scope="col">Churn rate</th>
                <th scope="col">Lift</th>
                <th scope="col">Churners found</th>
              </tr>
            </thead>
            <tbody>
              {cuts.map((c) => (
                <tr key={c.fraction}>
                  <th scope="row">top {share(c.fraction)}</th>
                  <td>{count(c.rows)}</td>
                  <td>{count(c.positives)}</td>
                  <td>{share(c.positiveRate)}</td>
                  <td>{c.lift.toFixed(2)}</td>
                  <td>{share(c.capture)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        }
      />
    </div>
  );
}

/** A churn model's backtest curves, when its metrics hold them (models trained before they were stored do not). */
export function ChurnCurves({ model }: { model: Model }) {
  const bins = model.metrics.reliability as ReliabilityBin[] | undefined;
  const cuts = model.metrics.gains as GainsCut[] | undefined;
  if (!Array.isArray(bins) || !Array.isArray(cuts))
    return <p>Version {model.version} was trained before its backtest curves were stored: retrain to see them.</p>;
  return (
    <>
      <p>From the training backtest (rolling origins, outcomes known): {count(cuts.at(-1)?.rows ?? 0)} customer-cutoffs.</p>
      <ReliabilityDiagram model={model} bins={bins} />
      <GainsChart model={model} cuts={cuts} />
    </>
  );
}
