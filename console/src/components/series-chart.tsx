import { useEffect, useRef, type ReactNode } from 'react';
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, CanvasRenderer]);

/** Several named series over the same categories (runs, features) as grouped bars, with an optional threshold (lines: line-chart.tsx). */
export interface MultiSeries {
  categories: string[];
  series: { name: string; values: (number | null)[] }[];
  format: (value: number) => string;
  horizontal?: boolean;
  /** A threshold drawn across the value axis (e.g. PSI 0.25). */
  threshold?: number;
}

const COLOURS = ['#2f6f9f', '#c0572b', '#4d8a3b', '#7a5195'];

function Chart({ data, label }: { data: MultiSeries; label: string }) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const chart = echarts.init(element.current!, undefined, { renderer: 'canvas' });
    const categoryAxis = { type: 'category' as const, data: data.categories, axisLabel: { interval: 0, hideOverlap: true } };
    const valueAxis = { type: 'value' as const, axisLabel: { formatter: (v: number) => data.format(v) } };
    chart.setOption({
      animation: false,
      color: COLOURS,
      legend: { top: 0 },
      grid: { left: data.horizontal ? 200 : 72, right: 24, top: 32, bottom: 40 },
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (v === null || v === undefined ? '–' : data.format(Number(v))) },
      xAxis: data.horizontal ? valueAxis : categoryAxis,
      yAxis: data.horizontal ? { ...categoryAxis, inverse: true } : valueAxis,
      series: data.series.map((s, i) => ({
        type: 'bar',
        name: s.name,
        data: s.values,
        ...(i === 0 && data.threshold !== undefined
          ? {
              markLine: {
                symbol: 'none',
                label: { formatter: `threshold ${data.format(data.threshold)}` },
                data: [data.horizontal ? { xAxis: data.threshold } : { yAxis: data.threshold }],
              },
            }
          : {}),
      })),
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [data]);
  return <div ref={element} className="chart" role="img" aria-label={label} />;
}

/** A chart of several series with its numbers as a table (the table is what screen readers and copy-paste get). */
export function SeriesFigure({ title, data, table, note }: { title: string; data: MultiSeries; table: ReactNode; note?: ReactNode }) {
  return (
    <figure className="figure">
      <figcaption>
        <h3>{title}</h3>
        {note && <p className="muted">{note}</p>}
      </figcaption>
      <Chart data={data} label={`${title} (chart; the same numbers are in the table below)`} />
      <details>
        <summary>{title}: the numbers</summary>
        {table}
      </details>
    </figure>
  );
}
