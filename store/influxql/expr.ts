/* SELECT expressions: the calls and fields they name, InfluxDB's column names, and the `*` rewrite. */
import type { Expr, Field } from './parse.ts';


export const calls = (e: Expr, out: Extract<Expr, { kind: 'call' }>[] = []): Extract<Expr, { kind: 'call' }>[] => {
  if (e.kind === 'call') {
    out.push(e);
    for (const a of e.args) calls(a, out);
  } else if (e.kind === 'binary') calls(e.left, calls(e.right, out));
  return out;
};
export const refs = (e: Expr, out: string[] = []): string[] => {
  if (e.kind === 'ref') out.push(e.name);
  else if (e.kind === 'call') for (const a of e.args) refs(a, out);
  else if (e.kind === 'binary') refs(e.left, refs(e.right, out));
  return out;
};

/** InfluxDB's column name for an expression: the names of its calls and fields, joined by "_" (last_last_last). */
export function columnName(e: Expr): string {
  if (e.kind === 'call') return e.name;
  if (e.kind === 'ref') return e.name;
  if (e.kind === 'binary') return [columnName(e.left), columnName(e.right)].filter((n) => n !== '').join('_');
  return '';
}

export function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = seen.get(n) ?? 0;
    seen.set(n, k + 1);
    return k === 0 ? n : `${n}_${k}`;
  });
}

/** `*` and `mean(*)` expanded over the fields (and for a raw `*` the tags) of the sources, as InfluxDB's rewrite does. */
export function expandFields(fields: Field[], fieldKeys: string[], tagKeys: string[]): Field[] {
  const out: Field[] = [];
  for (const f of fields) {
    if (f.expr.kind === 'wildcard') {
      for (const k of [...fieldKeys, ...tagKeys].sort()) out.push({ expr: { kind: 'ref', name: k } });
    } else if (f.expr.kind === 'call' && f.expr.args[0]?.kind === 'wildcard') {
      const c = f.expr;
      for (const k of fieldKeys) out.push({ expr: { ...c, args: [{ kind: 'ref', name: k }, ...c.args.slice(1)] }, alias: `${f.alias ?? c.name}_${k}` });
    } else out.push(f);
  }
  return out;
}
