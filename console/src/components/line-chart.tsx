import { useEffect, useRef, type ReactNode } from 'react';
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, CanvasRenderer]);

export interface LineSeries {
  /** The x axis' labels, in order. */
  categories: string[];
  lines: { name: string; values: (number | null)[] }[];
  /** How a value reads in the tooltip and the axis (locale-aware). */
  format: (value: number) => string;
  /** A category to mark with a vertical line (a chosen threshold), with its label. */
  mark?: { category: string; label: string };
}

const COLOURS = ['#2f6f9f', '#c25e00', '#3b7d3b', '#7a4f9a', '#9a3b3b'];

function Lines({ series, label }: { series: LineSeries; label: string }) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const chart = echarts.init(element.current!, undefined, { renderer: 'canvas' });
    chart.setOption({
      animation: false,
      color: COLOURS,
      grid: { left: 72, right: 24, top: 40, bottom: 40 },
      legend: { top: 0 },
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (v === null || v === undefined ? '–' : series.format(Number(v))) },
      xAxis: { type: 'category', data: series.categories, boundaryGap: false },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => series.format(v) } },
      series: series.lines.map((line, i) => ({
        type: 'line',
        name: line.name,
        data: line.values,
        showSymbol: series.categories.length <= 24,
        connectNulls: false,
        ...(i === 0 && series.mark
          ? { markLine: { symbol: 'none', data: [{ xAxis: series.mark.category, label: { formatter: series.mark.label } }] } }
          : {}),
      })),
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [series]);
  // The canvas is a picture for sighted readers; the table under it carries the same numbers for everyone.
  return <div ref={element} className="chart" role="img" aria-label={label} />;
}

/** A line chart with its numbers as a table, so nothing is only visible as pixels. */
export function LineFigure({ title, series, table, open }: { title: string; series: LineSeries; table: ReactNode; open?: boolean }) {
  return (
    <figure className="figure">
      <figcaption>
        <h3>{title}</h3>
      </figcaption>
      <Lines series={series} label={`${title} (line chart; the same numbers are in the table below)`} />
      <details open={open}>
        <summary>{title}: the numbers</summary>
        {table}
      </details>
    </figure>
  );
}
