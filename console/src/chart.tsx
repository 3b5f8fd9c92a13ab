// A small hand-written SVG line chart for the live metrics (no chart library).
export interface Series {
  name: string;
  color: string;
  points: number[];
}

function niceMax(v: number): number {
  if (v <= 1) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}
function fmt(v: number): string {
  if (v >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (v >= 1e3) return (v / 1e3).toFixed(1) + 'k';
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export function LineChart(props: { title: string; series: Series[]; unit?: string; capacity: number; spanSeconds: number }) {
  const W = 480, H = 180, L = 44, R = 8, T = 10, B = 22;
  const all = props.series.flatMap((s) => s.points);
  const max = niceMax(Math.max(0, ...all));
  const x = (i: number) => L + ((W - L - R) * i) / Math.max(1, props.capacity - 1);
  const y = (v: number) => T + (H - T - B) * (1 - v / max);
  const ticks = [0, max / 2, max];
  const last = props.series.map((s) => s.points[s.points.length - 1] ?? 0);
  const summary = props.series.map((s, i) => `${s.name} ${fmt(last[i])}${props.unit ?? ''}`).join(', ');
  return (
    <figure class="chart">
      <figcaption>
        <strong>{props.title}</strong>
        <span class="legend">
          {props.series.map((s, i) => (
            <span>
              <i style={{ background: s.color }} aria-hidden="true" /> {s.name}: <b data-series={s.name}>{fmt(last[i])}</b>
              {props.unit}
            </span>
          ))}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${props.title}: ${summary}`} preserveAspectRatio="none">
        {ticks.map((t) => (
          <g>
            <line x1={L} x2={W - R} y1={y(t)} y2={y(t)} class="grid" />
            <text x={L - 6} y={y(t) + 4} text-anchor="end" class="tick">
              {fmt(t)}
            </text>
          </g>
        ))}
        <text x={L} y={H - 4} class="tick">
          −{props.spanSeconds}s
        </text>
        <text x={W - R} y={H - 4} text-anchor="end" class="tick">
          now
        </text>
        {props.series.map((s) => {
          const off = props.capacity - s.points.length;
          const d = s.points.map((v, i) => `${i ? 'L' : 'M'}${x(i + off).toFixed(1)},${y(v).toFixed(1)}`).join('');
          if (!d) return null;
          const lx = x(s.points.length - 1 + off), ly = y(s.points[s.points.length - 1]);
          return (
            <g>
              <path d={d} fill="none" stroke={s.color} stroke-width="2" vector-effect="non-scaling-stroke" />
              <circle cx={lx} cy={ly} r="3" fill={s.color} />
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
