// Browser checks of Kith's pages: what a person sees, screenshots, and axe-core.
//
//   node tests/browser/run.mjs <base-url> <artifact-dir> [plan.json]
//
// Drives Debian's chromium (headless; KITH_CHROMIUM overrides /usr/bin/chromium) with
// playwright-core. Each check in CHECKS loads a page as a visitor would (typing into forms
// and clicking), asserts what is on screen, saves a screenshot (desktop and phone widths)
// and runs axe-core (light and dark colour schemes), failing on any violation. The page's
// own Content-Security-Policy stays on: a CSP violation (inline style or script) fails too.
//
// The plan (written by tests/browser.rs) says what the data holds: a word to search for
// and a blog address to register. Pages found by following links from the home page
// (hubs, blogs, communities, posts) are checked when the home page links to them; a link that
// does not lead to a working page is a failure.
//
// Adding a page: add an entry to CHECKS with a name and an async `run(page, ctx)` that
// navigates and asserts; `ctx.snap(page, name)` screenshots and audits it.
//
// Prints one line per check and a closing "N passed, N failed" line; exits 1 on failure.

import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const AXE_SOURCE = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');

const [base, artifacts, planPath] = process.argv.slice(2);
if (!base || !artifacts) {
  console.error('usage: node run.mjs <base-url> <artifact-dir> [plan.json]');
  process.exit(2);
}
const plan = planPath ? JSON.parse(await readFile(planPath, 'utf8')) : {};
const executablePath = process.env.KITH_CHROMIUM || '/usr/bin/chromium';
const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };
const TIMEOUT_MS = 15000;

class CheckFailed extends Error {}
function expect(cond, message) {
  if (!cond) throw new CheckFailed(message);
}

/// Text of the first element matching `selector`, or null.
async function text(page, selector) {
  const el = page.locator(selector).first();
  return (await el.count()) ? (await el.innerText()).trim() : null;
}

/// Navigates and insists on a 2xx page.
async function visit(page, path) {
  const resp = await page.goto(new URL(path, base).href, { waitUntil: 'load' });
  expect(resp, `no response for ${path}`);
  expect(resp.status() < 400, `${path} answered ${resp.status()}: ${await text(page, 'main')}`);
  return resp;
}

/// A link on the current page to `prefix`... (one path segment after it), or null.
async function firstLink(page, prefix) {
  const hrefs = await page.locator(`a[href^="${prefix}"]`).evaluateAll((as) =>
    as.map((a) => a.getAttribute('href')),
  );
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}[^/?#.]+$`);
  return hrefs.find((h) => re.test(h)) ?? null;
}

/// Screenshots at both widths, checks nothing spills sideways on a phone, runs axe.
async function snap(page, name, ctx) {
  const violations = [];
  for (const [label, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(artifacts, `${name}-${label}.png`), fullPage: true });
    if (label === 'phone') {
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow <= 1, `${name}: the page is ${overflow}px wider than a phone screen`);
    }
  }
  await page.setViewportSize(VIEWPORTS.desktop);
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }),
  );
  // Dark mode has its own colours: check their contrast too.
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: ['color-contrast'], resultTypes: ['violations'] }),
  );
  await page.emulateMedia({ colorScheme: 'light' });
  for (const v of dark.violations) v.id += ' (dark mode)';
  result.violations.push(...dark.violations);
  for (const v of result.violations) {
    violations.push(
      `${v.id} (${v.impact}): ${v.help}\n      ${v.nodes
        .slice(0, 3)
        .map((n) => n.target.join(' ') + ' — ' + n.failureSummary.replace(/\s+/g, ' '))
        .join('\n      ')}`,
    );
  }
  ctx.report.push({ page: name, url: page.url(), violations: result.violations.length });
  expect(!violations.length, `${name}: axe found ${violations.length} violation(s):\n    ${violations.join('\n    ')}`);
}

const CHECKS = [
  {
    name: 'home',
    async run(page, ctx) {
      await visit(page, '/');
      expect(await page.locator('h1').count(), 'home: no heading');
      expect(await page.locator('a[href="/search"]').count(), 'home: no link to search');
      await ctx.snap(page, 'home');
      ctx.links.hub = await firstLink(page, '/hubs/');
      ctx.links.blog = await firstLink(page, '/blogs/');
      ctx.links.community = await firstLink(page, '/communities/');
      ctx.links.post = await firstLink(page, '/posts/');
    },
  },
  ...['hub', 'blog', 'community', 'post'].map((kind) => ({
    name: kind,
    async run(page, ctx) {
      const href = ctx.links[kind];
      if (!href) return `skipped: the home page links to no ${kind} page`;
      await visit(page, href);
      const h1 = await text(page, 'h1');
      expect(h1, `${kind} ${href}: no heading`);
      await ctx.snap(page, kind);
      return `${href}: “${h1}”`;
    },
  })),
  {
    name: 'kin',
    async run(page, ctx) {
      // From a blog's "Kindred blogs" section to its kin page (reasons, river, feeds).
      const blog = ctx.links.blog;
      if (!blog) return 'skipped: the home page links to no blog page';
      await visit(page, blog);
      expect(await page.locator('#kin').count(), `${blog}: no "Kindred blogs" section`);
      const kinLink = page.locator(`a[href="${blog}/kin"]`).first();
      if (!(await kinLink.count())) return `skipped: ${blog} has no kin yet`;
      await Promise.all([page.waitForURL(new RegExp(`${blog}/kin$`)), kinLink.click()]);
      const h1 = await text(page, 'h1');
      expect(h1 && h1.startsWith('People who write about'), `kin: heading ${h1}`);
      const kin = await page.locator('.kin > li').count();
      expect(kin > 0, 'kin: no kindred blogs listed');
      expect(await page.locator('.kin-why').count() === kin, 'kin: a kin without its reasons');
      expect(await page.locator('link[rel="alternate"][href$="/kin/feed.atom"]').count(), 'kin: no Atom feed link');
      await ctx.snap(page, 'kin');
      return `${blog}/kin: ${kin} kindred blogs`;
    },
  },
  {
    name: 'search',
    async run(page, ctx) {
      const word = plan.search_word;
      expect(word, 'the plan names no word to search for');
      await visit(page, '/search');
      await ctx.snap(page, 'search-empty');
      await page.getByLabel('Search posts').fill(word);
      await Promise.all([
        page.waitForURL(/\/search\?/),
        page.getByRole('button', { name: 'Search', exact: true }).click(),
      ]);
      const heading = await text(page, '#results-heading');
      expect(heading && /\d+ results?/.test(heading), `search: no result count, saw ${heading}`);
      const hits = page.locator('.search-hits > li');
      expect((await hits.count()) > 0, `search for ${word}: no results shown`);
      const marked = await page.locator('.search-hits b').allInnerTexts();
      expect(
        marked.some((m) => m.toLowerCase() === word.toLowerCase()),
        `search for ${word}: no highlighted match (saw ${JSON.stringify(marked.slice(0, 5))})`,
      );
      await ctx.snap(page, 'search-results');
      // A malformed query is explained, not a server error.
      const bad = await page.goto(new URL('/search?q=%22unclosed', base).href);
      expect(bad.status() === 400, `a malformed query answered ${bad.status()}`);
      expect(await page.getByRole('alert').count(), 'a malformed query shows no message');
      await ctx.snap(page, 'search-bad-query');
      return `“${word}”: ${heading}, ${marked.length} highlighted`;
    },
  },
  {
    name: 'register',
    async run(page, ctx) {
      const url = plan.register_url;
      expect(url, 'the plan names no blog to register');
      await visit(page, '/register');
      await ctx.snap(page, 'register-form');
      await page.getByLabel("Your blog's address").fill(url);
      // The preview answers the POST at the same address: wait for what it shows.
      await page.getByRole('button', { name: 'Find my feed' }).click();
      await page.locator('#preview-title, .form-error').first().waitFor();
      const h1 = await text(page, 'h1');
      expect(h1 === 'Is this your blog?', `register: expected the preview, saw “${h1}”: ${await text(page, 'main')}`);
      const title = await text(page, '#preview-title');
      if (plan.register_title) {
        expect(title === plan.register_title, `register: preview shows “${title}”, not “${plan.register_title}”`);
      }
      const posts = await page.locator('.preview-posts > li').count();
      expect(posts > 0, 'register: the preview shows no posts');
      const tags = await page.locator('.preview-posts .tag').count();
      expect(tags > 0, 'register: the preview shows no tags');
      await ctx.snap(page, 'register-preview');
      await Promise.all([
        page.waitForURL(/\/register\/\d+/),
        page.getByRole('button', { name: 'Yes, add this blog' }).click(),
      ]);
      const status = await text(page, '#registration-status');
      expect(status === 'pending', `register: status “${status}”, expected pending`);
      const meta = await text(page, '.proofs');
      expect(meta && /kith-verification/.test(meta) && /kith-[0-9a-f]{32}/.test(meta),
        'register: no verification instructions with a token');
      expect(await page.getByRole('button', { name: 'Check now' }).count(), 'register: no "Check now" button');
      await ctx.snap(page, 'register-status');
      await Promise.all([
        page.waitForURL(/\/register\/\d+\?checked=1/),
        page.getByRole('button', { name: 'Check now' }).click(),
      ]);
      expect(/did not find the proof yet/.test(await text(page, 'main')), 'register: checking shows no outcome');
      return `“${title}”: ${posts} posts, ${tags} tags previewed; pending with instructions at ${new URL(page.url()).pathname}`;
    },
  },
  {
    name: 'about',
    async run(page, ctx) {
      const resp = await page.goto(new URL('/about', base).href);
      if (resp.status() === 404) return 'skipped: no /about page yet';
      expect(resp.status() < 400, `/about answered ${resp.status()}`);
      await ctx.snap(page, 'about');
    },
  },
  {
    name: 'not-found',
    async run(page, ctx) {
      const resp = await page.goto(new URL('/no/such/page', base).href);
      expect(resp.status() === 404, `a missing page answered ${resp.status()}`);
      expect(await text(page, 'h1'), 'the 404 page has no heading');
      await ctx.snap(page, 'not-found');
    },
  },
];

await mkdir(artifacts, { recursive: true });
const browser = await chromium.launch({
  executablePath,
  headless: true,
  // Root in CI containers: chromium's sandbox needs user namespaces it may not get.
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ viewport: VIEWPORTS.desktop, locale: 'en-GB' });
context.setDefaultTimeout(TIMEOUT_MS);
const ctx = { links: {}, report: [], snap: null };
ctx.snap = (page, name) => snap(page, name, ctx);
let passed = 0;
let failed = 0;
for (const check of CHECKS) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) {
      problems.push(`CSP: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  const started = Date.now();
  try {
    const note = await check.run(page, ctx);
    expect(!problems.length, problems.join('; '));
    passed += 1;
    console.log(`ok   ${check.name} (${Date.now() - started} ms)${note ? ' — ' + note : ''}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${check.name}: ${e instanceof CheckFailed ? e.message : e.stack}`);
    await page
      .screenshot({ path: join(artifacts, `${check.name}-failure.png`), fullPage: true })
      .catch(() => {});
  }
  await page.close();
}
await browser.close();
await writeFile(join(artifacts, 'report.json'), JSON.stringify(ctx.report, null, 2));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
