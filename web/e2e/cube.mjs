// Test harness for the e2e suite: a real `cube serve` on 127.0.0.1 with a fresh data directory, a cookie-keeping
// API client for setup, Debian's Chromium through playwright-core, and tiny PNGs made in-process.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

export const webDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const repoRoot = path.dirname(webDir);
export const artifacts = path.join(webDir, 'test-artifacts');
export const adminPassword = 'e2e-admin-password';

/** CUBE_DLL if set, else the newest cube.dll built in this checkout (scripts/test builds Debug before the web tests). */
export function findCubeDll() {
  if (process.env.CUBE_DLL) return process.env.CUBE_DLL;
  const candidates = ['Debug', 'Release'].map(c => path.join(repoRoot, 'src', 'Cube', 'bin', c, 'net10.0', 'cube.dll')).filter(existsSync);
  if (candidates.length === 0) throw new Error('cube.dll is not built: run `dotnet build src/Cube` (or set CUBE_DLL).');
  return candidates.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
  });
}

/** Polls `check` until it returns a truthy value; a condition, never a fixed sleep decides when to go on. */
export async function until(what, check, timeoutMs = 60_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try { const value = await check(); if (value) return value; } catch (error) { last = error; }
    await new Promise(r => setTimeout(r, everyMs));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** Starts cube serving the built web app (web/dist, unless CUBE_WEB_ROOT says otherwise) on a free port. */
export async function startCube() {
  const dataDirectory = mkdtempSync(path.join(os.tmpdir(), 'cube-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const webRoot = process.env.CUBE_WEB_ROOT ?? path.join(webDir, 'dist');
  if (!existsSync(path.join(webRoot, 'index.html'))) throw new Error(`${webRoot}/index.html is missing: run \`npm run build\` first.`);
  const log = [];
  const child = spawn('dotnet', [findCubeDll(), 'serve', '--urls', url], {
    env: { ...process.env, Cube__DataDirectory: dataDirectory, Cube__Admin__Password: adminPassword, Cube__Web__Root: webRoot, DOTNET_NOLOGO: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', d => log.push(String(d)));
  child.stderr.on('data', d => log.push(String(d)));
  let exited = null;
  child.on('exit', code => { exited = code; });
  await until('cube to answer /readyz', async () => {
    if (exited !== null) throw new Error(`cube exited with ${exited}:\n${log.join('')}`);
    return (await fetch(`${url}/readyz`)).ok;
  }, 120_000, 200);
  return {
    url, log,
    async stop() {
      if (exited === null) { child.kill('SIGTERM'); await until('cube to stop', () => exited !== null, 20_000).catch(() => child.kill('SIGKILL')); }
      rmSync(dataDirectory, { recursive: true, force: true });
    },
  };
}

/** A JSON API client that keeps the sign-in cookie, for test setup and for checking what the server stored. */
export async function apiAs(base, userName, password) {
  let cookie = '';
  async function call(method, route, body, headers = {}) {
    const isBytes = body instanceof Uint8Array;
    const response = await fetch(base + route, {
      method, headers: { ...(body === undefined ? {} : { 'Content-Type': isBytes ? 'application/octet-stream' : 'application/json' }), ...(cookie ? { Cookie: cookie } : {}), ...headers },
      body: body === undefined ? undefined : isBytes ? body : JSON.stringify(body),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) cookie = setCookie.split(';')[0];
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route} answered ${response.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  }
  await call('POST', '/api/auth/sign-in', { userName, password });
  return { get: r => call('GET', r), post: (r, b) => call('POST', r, b ?? {}), put: (r, b, h) => call('PUT', r, b, h), patch: (r, b) => call('PATCH', r, b) };
}

export async function launchBrowser() {
  // playwright-core gives every launch a fresh, empty profile directory of its own.
  mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return { browser, close: () => browser.close() };
}

const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
function crc32(bytes) { let c = 0xffffffff; for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; }
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** An RGB PNG of `width`×`height` with a background and one filled rectangle, so each image looks different. */
export function png(width, height, background, rect) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const inside = x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height;
      const [r, g, b] = inside ? rect.color : background;
      const at = y * (width * 3 + 1) + 1 + x * 3;
      raw[at] = r; raw[at + 1] = g; raw[at + 2] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0); header.writeUInt32BE(height, 4);
  header[8] = 8; header[9] = 2; header[10] = 0; header[11] = 0; header[12] = 0;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
