// Lighthouse scores of Kith's home page and a hub page: a benchmark, not a test (the
// performance score depends on the machine's load).
//
//   node tests/browser/lighthouse.mjs <base-url>          a running Kith (kith serve, kith demo)
//   node tests/browser/lighthouse.mjs --demo [kith-bin]   starts `kith demo` on a free port
//
// Options: --min N (default 95), --preset mobile|desktop (default mobile: Lighthouse's own
// default, a mid-range phone on a throttled network, simulated), --runs N (default 1; the
// median run per page is kept), --out DIR (JSON reports, default target/lighthouse).
//
// Runs Debian's chromium (KITH_CHROMIUM overrides /usr/bin/chromium) headless through
// chrome-launcher. Prints performance, accessibility, best-practices and SEO for each page,
// and the audits that cost points; exits 1 when any of the four is below the minimum.
// Needs `npm ci` in tests/browser.

import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];

function parseArgs(argv) {
  const o = { min: 95, preset: 'mobile', runs: 1, out: join(root, 'target', 'lighthouse') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--min') o.min = Number(value());
    else if (a === '--preset') o.preset = value();
    else if (a === '--runs') o.runs = Math.max(1, Number(value()));
    else if (a === '--out') o.out = resolve(value());
    else if (a === '--demo') {
      o.demo = argv[i + 1] && !argv[i + 1].startsWith('--') ? resolve(argv[++i]) : join(root, 'target', 'release', 'kith');
    } else if (a === '-h' || a === '--help') usage();
    else if (!o.base && /^https?:\/\//.test(a)) o.base = a.replace(/\/+$/, '');
    else usage(`unknown argument ${a}`);
  }
  if (!o.base && !o.demo) usage('give the address of a running Kith, or --demo');
  if (!['mobile', 'desktop'].includes(o.preset)) usage('--preset is mobile or desktop');
  return o;
}

function usage(problem) {
  if (problem) console.error(problem);
  console.error('usage: node tests/browser/lighthouse.mjs <base-url> | --demo [kith-bin]  [--min 95] [--preset mobile|desktop] [--runs N] [--out DIR]');
  process.exit(2);
}

/// Starts `kith demo` on a free loopback port; resolves with its address once it is ready.
function startDemo(bin) {
  return new Promise((ok, fail) => {
    const child = spawn(bin, ['demo', '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
    });
    child.on('error', (e) => fail(new Error(`cannot run ${bin}: ${e.message} (cargo build --release first)`)));
    child.on('exit', (code) => fail(new Error(`kith demo exited with ${code}`)));
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const m = buffered.match(/ready at (http:\/\/[^/\s]+)\//);
      if (m) ok({ base: m[1], child });
    });
  });
}

async function waitFor(what, fn, ms = 60000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/// The first hub the home page links to (hubs are computed just after the site starts).
async function firstHub(base) {
  return waitFor('a hub on the home page', async () => {
    const html = await (await fetch(`${base}/`)).text();
    return html.match(/href="(\/hubs\/[^"/?#]+)"/)?.[1] ?? null;
  });
}

function median(runs) {
  const sorted = [...runs].sort((a, b) => a.categories.performance.score - b.categories.performance.score);
  return sorted[Math.floor(sorted.length / 2)];
}

/// Audits in a category that lost points, worst first.
function losses(lhr, category) {
  return lhr.categories[category].auditRefs
    .filter((ref) => ref.weight > 0)
    .map((ref) => ({ ref, audit: lhr.audits[ref.id] }))
    .filter(({ audit }) => audit.score !== null && audit.score < 1)
    .sort((a, b) => b.ref.weight * (1 - b.audit.score) - a.ref.weight * (1 - a.audit.score))
    .map(({ audit }) => `${audit.id} (${Math.round(audit.score * 100)})${audit.displayValue ? ': ' + audit.displayValue : ''}`);
}

const opts = parseArgs(process.argv.slice(2));
let demo = null;
if (opts.demo) {
  demo = await startDemo(opts.demo);
  opts.base = demo.base;
  console.log(`kith demo at ${opts.base}`);
}
let failed = false;
let chrome = null;
try {
  const pages = { home: '/', hub: await firstHub(opts.base) };
  await mkdir(opts.out, { recursive: true });
  chrome = await chromeLauncher.launch({
    chromePath: process.env.KITH_CHROMIUM || '/usr/bin/chromium',
    chromeFlags: ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage'],
  });
  const flags = { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: CATEGORIES };
  const config = opts.preset === 'desktop'
    ? (await import('lighthouse/core/config/desktop-config.js')).default
    : undefined;
  console.log(`Lighthouse ${opts.preset}, minimum ${opts.min}, median of ${opts.runs} run(s)`);
  console.log(`${'page'.padEnd(28)} ${CATEGORIES.map((c) => c.padStart(14)).join('')}`);
  for (const [name, path] of Object.entries(pages)) {
    const url = `${opts.base}${path}`;
    // One unrecorded load first: the server's caches and the index warm up as for any visitor.
    await fetch(url);
    const runs = [];
    for (let i = 0; i < opts.runs; i++) runs.push((await lighthouse(url, flags, config)).lhr);
    const lhr = median(runs);
    await writeFile(join(opts.out, `${name}.json`), JSON.stringify(lhr));
    const scores = CATEGORIES.map((c) => Math.round(lhr.categories[c].score * 100));
    console.log(`${`${name} ${path}`.slice(0, 28).padEnd(28)} ${scores.map((s) => String(s).padStart(14)).join('')}`);
    CATEGORIES.forEach((c, i) => {
      const lost = losses(lhr, c);
      if (scores[i] < opts.min) {
        failed = true;
        console.log(`  ${c} below ${opts.min}: ${lost.join('; ') || '(no single audit)'}`);
      } else if (lost.length) {
        console.log(`  ${c} lost points on: ${lost.slice(0, 4).join('; ')}`);
      }
    });
    const m = lhr.audits;
    console.log(`  FCP ${m['first-contentful-paint'].displayValue}, LCP ${m['largest-contentful-paint'].displayValue}, TBT ${m['total-blocking-time'].displayValue}, CLS ${m['cumulative-layout-shift'].displayValue}`);
  }
  console.log(`reports in ${opts.out}`);
} catch (e) {
  failed = true;
  console.error(e.stack || String(e));
} finally {
  if (chrome) await chrome.kill();
  if (demo) demo.child.kill('SIGINT');
}
process.exit(failed ? 1 : 0);
