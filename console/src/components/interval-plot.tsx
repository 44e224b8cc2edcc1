import { useEffect, useRef } from 'react';
import { CustomChart } from 'echarts/charts';
import { GridComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import type { CustomSeriesRenderItemAPI, CustomSeriesRenderItemParams } from 'echarts';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([CustomChart, GridComponent, MarkLineComponent, TooltipComponent, CanvasRenderer]);

export interface IntervalRow {
  label: string;
  estimate: number;
  lower: number;
  upper: number;
}

/**
 * Differences with their 95 % intervals, one row each (a forest plot): a dot at the estimate, a line from the lower to
 * the upper bound, and the zero line, so an interval that crosses it reads as not conclusive at a glance.
 */
export function IntervalPlot({ rows, format, label }: { rows: IntervalRow[]; format: (value: number) => string; label: string }) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const chart = echarts.init(element.current!, undefined, { renderer: 'canvas' });
    const renderItem = (_params: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI) => {
      const row = api.value(0) as number;
      const [x1, y] = api.coord([api.value(2), row]) as [number, number];
      const [x2] = api.coord([api.value(3), row]) as [number, number];
      const [xe] = api.coord([api.value(1), row]) as [number, number];
      const stroke = { stroke: '#2f6f9f', lineWidth: 2 };
      return {
        type: 'group' as const,
        children: [
          { type: 'line' as const, shape: { x1, y1: y, x2, y2: y }, style: stroke },
          { type: 'line' as const, shape: { x1, y1: y - 6, x2: x1, y2: y + 6 }, style: stroke },
          { type: 'line' as const, shape: { x1: x2, y1: y - 6, x2, y2: y + 6 }, style: stroke },
          { type: 'circle' as const, shape: { cx: xe, cy: y, r: 5 }, style: { fill: '#2f6f9f' } },
        ],
      };
    };
    chart.setOption({
      animation: false,
      grid: { left: 180, right: 32, top: 16, bottom: 40 },
      tooltip: {
        trigger: 'item',
        formatter: (p: { dataIndex: number }) => {
          const r = rows[p.dataIndex]!;
          return `${r.label}: ${format(r.estimate)} (95% interval ${format(r.lower)} to ${format(r.upper)})`;
        },
      },
      xAxis: { type: 'value', scale: true, axisLabel: { formatter: (v: number) => format(v) } },
      yAxis: { type: 'category', data: rows.map((r) => r.label), inverse: true, axisLabel: { interval: 0 } },
      series: [
        {
          type: 'custom',
          renderItem,
          encode: { x: [1, 2, 3], y: 0 },
          data: rows.map((r, i) => [i, r.estimate, r.lower, r.upper]),
          markLine: {
            silent: true,
            symbol: 'none',
            data: [{ xAxis: 0 }],
            lineStyle: { color: '#888', type: 'dashed' },
            label: { show: false },
          },
        },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [rows, format]);
  return <div ref={element} className="chart" role="img" aria-label={`${label} (the same numbers are in the table below)`} />;
}
