// Writes a stored spec (JSON) back as YAML for the editor: block mappings, flow lists of scalars, block lists of
// mappings, and strings quoted only when plain YAML would read them as something else. JSON quoting is valid YAML.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const plain = /^[A-Za-z_][A-Za-z0-9_.\-/ ]*$/;
const reserved = /^(true|false|yes|no|on|off|null|~|y|n)$/i;

function scalar(value: Json): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return plain.test(value) && !reserved.test(value) && !value.endsWith(' ') ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

const isScalar = (value: Json): value is null | boolean | number | string => value === null || typeof value !== 'object';

function key(name: string): string {
  return plain.test(name) && !reserved.test(name) && !name.includes(' ') ? name : JSON.stringify(name);
}

function flow(value: Json): string {
  if (isScalar(value)) return scalar(value);
  if (Array.isArray(value)) return `[${value.map(flow).join(', ')}]`;
  return `{${Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => `${key(k)}: ${flow(v)}`).join(', ')}}`;
}

/** Short mappings of scalars (an input, a small rename) read best on one line. */
function fitsFlow(value: Json): boolean {
  if (isScalar(value)) return true;
  const items = Array.isArray(value) ? value : Object.values(value);
  return items.every(isScalar) && flow(value).length <= 72;
}

function block(value: Json, indent: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap(item => {
      if (fitsFlow(item) && (isScalar(item) || Array.isArray(item))) return [`${indent}- ${flow(item)}`];
      const lines = block(item, `${indent}  `);
      return [`${indent}- ${lines[0]?.trimStart() ?? '{}'}`, ...lines.slice(1)];
    });
  }
  if (value === null || typeof value !== 'object') return [`${indent}${scalar(value)}`];
  return Object.entries(value).filter(([, v]) => v !== null).flatMap(([k, v]) => {
    if (fitsFlow(v)) return [`${indent}${key(k)}: ${flow(v)}`];
    return [`${indent}${key(k)}:`, ...block(v, `${indent}  `)];
  });
}

/** The spec as YAML text; nulls (unset options) are left out, as the server writes them only for completeness. */
export function toYaml(spec: unknown): string {
  return block(spec as Json, '').join('\n') + '\n';
}
