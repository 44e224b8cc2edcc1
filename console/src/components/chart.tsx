import { useEffect, useRef, type ReactNode } from 'react';
import { BarChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, GridComponent, TooltipComponent, CanvasRenderer]);

export interface BarSeries {
  categories: string[];
  values: number[];
  /** How a value reads in the tooltip and the axis (locale-aware). */
  format: (value: number) => string;
  horizontal?: boolean;
}

function Bars({ series, label }: { series: BarSeries; label: string }) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const chart = echarts.init(element.current!, undefined, { renderer: 'canvas' });
    const categoryAxis = { type: 'category' as const, data: series.categories, axisLabel: { interval: 0 } };
    const valueAxis = { type: 'value' as const, axisLabel: { formatter: (v: number) => series.format(v) } };
    chart.setOption({
      animation: false,
      grid: { left: series.horizontal ? 140 : 64, right: 24, top: 16, bottom: 40 },
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => series.format(Number(v)) },
      xAxis: series.horizontal ? valueAxis : categoryAxis,
      yAxis: series.horizontal ? { ...categoryAxis, inverse: true } : valueAxis,
      series: [{ type: 'bar', data: series.values, itemStyle: { color: '#2f6f9f' } }],
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

/** A chart with its numbers as a table, so nothing is only visible as pixels. */
export function Figure({ title, series, table }: { title: string; series: BarSeries; table: ReactNode }) {
  return (
    <figure className="figure">
      <figcaption>
        <h3>{title}</h3>
      </figcaption>
      <Bars series={series} label={`${title} (bar chart; the same numbers are in the table below)`} />
      <details>
        <summary>{title}: the numbers</summary>
        {table}
      </details>
    </figure>
  );
}
