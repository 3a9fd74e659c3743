// Regenerates the API types: `npm run gen:api` from the committed openapi.json, or
// `npm run gen:api -- http://127.0.0.1:5080` to refresh openapi.json from a running cube first.
// tests/Cube.Tests/Hosting/OpenApiDriftTests.cs fails when openapi.json no longer matches the server.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const server = process.argv[2] ?? process.env.CUBE_URL;
if (server) {
  const response = await fetch(new URL('/openapi/v1.json', server));
  if (!response.ok) throw new Error(`${server} answered ${response.status} for /openapi/v1.json`);
  const document = await response.json();
  await writeFile(path.join(web, 'openapi.json'), JSON.stringify(document, null, 2) + '\n');
  console.log(`openapi.json: ${Object.keys(document.paths).length} paths from ${server}`);
}

// ASP.NET Core describes numbers as `integer | string` because its JSON reader accepts numeric strings; the server
// always writes numbers, so the client types say number.
function numbersOnly(node) {
  if (Array.isArray(node)) return node.map(numbersOnly);
  if (node === null || typeof node !== 'object') return node;
  const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, numbersOnly(v)]));
  if (Array.isArray(out.type) && out.type.includes('string') && out.type.some(t => t === 'integer' || t === 'number')) {
    out.type = out.type.filter(t => t !== 'string');
    if (out.type.length === 1) out.type = out.type[0];
    delete out.pattern;
  }
  return out;
}

// Handlers that resolve `{project}` from the HttpContext do not declare it, so the document omits the parameter the
// route template still has; declare every template parameter so the client can fill it in.
function declareRouteParameters(doc) {
  for (const [route, item] of Object.entries(doc.paths)) {
    const names = [...route.matchAll(/\{([^}]+)\}/g)].map(m => m[1]);
    for (const [method, operation] of Object.entries(item)) {
      if (!['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(method)) continue;
      const parameters = (operation.parameters ??= []);
      for (const name of names)
        if (!parameters.some(p => p.in === 'path' && p.name === name) && !(item.parameters ?? []).some(p => p.in === 'path' && p.name === name))
          parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } });
    }
  }
  return doc;
}

const document = declareRouteParameters(numbersOnly(JSON.parse(await readFile(path.join(web, 'openapi.json'), 'utf8'))));
const input = path.join(await mkdtemp(path.join(os.tmpdir(), 'cube-openapi-')), 'openapi.json');
await writeFile(input, JSON.stringify(document));
execFileSync(process.execPath, [path.join(web, 'node_modules/openapi-typescript/bin/cli.js'), input, '-o', path.join(web, 'src/api/schema.d.ts')], { cwd: web, stdio: 'inherit' });
