import { dagFromSpec, layoutDag, outputNodeId } from './dag';
import { toYaml } from './yaml';

// The shape the server stores: inputs map, steps with `input` filled in, joins with `right`, and the output step.
const spec = {
  name: 'churn',
  inputs: {
    events: { dataset: 'events', version: 3, tag: null, table: 'events.csv' },
    users: { dataset: 'users', version: null, tag: 'prod', table: 'users.parquet' },
  },
  steps: [
    { name: 'fill', op: 'impute', input: 'events', columns: ['score'], strategy: 'median' },
    { name: 'per_user', op: 'groupby', input: 'fill', by: ['user_id'], aggregates: { n: 'count()' } },
    { name: 'joined', op: 'join', input: 'fill', right: 'users', on: ['user_id'], how: 'left' },
    { name: 'back', op: 'join', input: 'joined', right: 'per_user', on: ['user_id'] },
  ],
  output: 'back',
};

describe('pipeline DAG', { timeout: 30_000 }, () => {
  it('links inputs, steps (with join right edges) and the output', () => {
    const dag = dagFromSpec(spec);
    expect(dag.nodes.map(n => `${n.kind}:${n.label}`)).toEqual(['input:events', 'input:users', 'step:fill', 'step:per_user', 'step:joined', 'step:back', 'output:output']);
    expect(dag.nodes.find(n => n.id === 'events')?.detail).toBe('events v3 · events.csv');
    expect(dag.nodes.find(n => n.id === 'users')?.detail).toBe('users @prod · users.parquet');
    expect(dag.edges.map(e => `${e.from}>${e.to}${e.right ? ' right' : ''}`)).toEqual([
      'events>fill', 'fill>per_user', 'fill>joined', 'users>joined right', 'joined>back', 'per_user>back right', `back>${outputNodeId}`]);
  });

  it('puts each node one layer right of its deepest parent, so every edge points right', () => {
    const dag = dagFromSpec(spec);
    const at = layoutDag(dag);
    const layer = (id: string) => at.get(id)?.layer;
    expect([layer('events'), layer('users'), layer('fill'), layer('per_user'), layer('joined'), layer('back'), layer(outputNodeId)]).toEqual([0, 0, 1, 2, 2, 3, 4]);
    for (const e of dag.edges) expect((at.get(e.from)?.x ?? 0) < (at.get(e.to)?.x ?? 0)).toBe(true);
    // Nodes of one layer never overlap.
    const ys = [at.get('per_user')?.y, at.get('joined')?.y];
    expect(new Set(ys).size).toBe(2);
  });

  it('chains steps without an input to the previous one and survives a cycle', () => {
    const chained = dagFromSpec({ inputs: { raw: { dataset: 'raw', table: 't.csv' } }, steps: [{ name: 'a', op: 'select' }, { name: 'b', op: 'drop' }] });
    expect(chained.edges.map(e => `${e.from}>${e.to}`)).toEqual(['raw>a', 'a>b', `b>${outputNodeId}`]);
    const cyclic = dagFromSpec({ inputs: {}, steps: [{ name: 'a', op: 'select', input: 'b' }, { name: 'b', op: 'drop', input: 'a' }], output: 'b' });
    expect(layoutDag(cyclic).size).toBe(3);
  });

  it('writes the stored spec back as YAML the editor shows', () => {
    expect(toYaml(spec)).toBe(`name: churn
inputs:
  events: {dataset: events, version: 3, table: events.csv}
  users: {dataset: users, tag: prod, table: users.parquet}
steps:
  - name: fill
    op: impute
    input: events
    columns: [score]
    strategy: median
  - name: per_user
    op: groupby
    input: fill
    by: [user_id]
    aggregates: {"n": "count()"}
  - name: joined
    op: join
    input: fill
    right: users
    "on": [user_id]
    how: left
  - name: back
    op: join
    input: joined
    right: per_user
    "on": [user_id]
output: back
`);
    expect(toYaml({ expr: 'amount is not null and country_FR = 0', flag: 'yes', count: '12' })).toBe('expr: "amount is not null and country_FR = 0"\nflag: "yes"\ncount: "12"\n');
  });
});
