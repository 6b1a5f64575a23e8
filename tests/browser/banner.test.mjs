// The cookie banner in real headless Chromium: a static page of a shop, on an origin of its
// own under a strict Content-Security-Policy, embeds /consent.js from a real `integritet serve`.
//
// Run by scripts/test after the Rust tests: INTEGRITET_TEST_BIN names the binary, CHROMIUM the
// browser (default /usr/bin/chromium).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.INTEGRITET_TEST_BIN;
assert.ok(bin, "set INTEGRITET_TEST_BIN to the integritet binary");
const seedPolicy = readFileSync(join(here, "../../examples/seed-shop/policy.toml"), "utf8");

// The seed's categories and one that markets, which Global Privacy Control refuses.
const MARKETING = `
[cookies.categories.marketing]
label = { sv = "Marknadsföring", en = "Marketing" }
description = { sv = "Visar annonser om våra produkter på andra webbplatser.", en = "Shows ads for our products on other websites." }
markets_or_shares = true
cookies = [
  { name = "_ads", provider = "annons.example", duration = { sv = "90 dagar", en = "90 days" } },
]
`;

const dir = mkdtempSync(join(tmpdir(), "integritet-banner-"));
const policyFile = join(dir, "policy.toml");
let server, base, page, browser, site;

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ["--data-dir", join(dir, "data"), "--policy", policyFile, "serve",
      "--listen", "127.0.0.1:0", "--sweep-at", "off"], { stdio: ["ignore", "ignore", "pipe"] });
    let seen = "";
    child.stderr.on("data", (chunk) => {
      seen += chunk;
      const found = seen.match(/http:\/\/(127\.0\.0\.1:\d+)/);
      if (found) resolve({ child, base: `http://${found[1]}` });
    });
    child.on("exit", (code) => reject(new Error(`serve exited with ${code}: ${seen}`)));
  });
}

async function restartServer(policyText) {
  server.child.kill("SIGTERM");
  await new Promise((r) => server.child.once("exit", r));
  writeFileSync(policyFile, policyText);
  server = await startServer();
  // The shop's page names the server anew on every request.
  base = server.base;
}

function cli(...args) {
  return execFileSync(bin, ["--data-dir", join(dir, "data"), "--policy", policyFile, ...args], {
    encoding: "utf8",
  });
}

before(async () => {
  writeFileSync(policyFile, seedPolicy + MARKETING);
  server = await startServer();
  base = server.base;
  site = createServer((req, res) => {
    if (req.url === "/gated.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end('window.gatedRan = true; document.cookie = "_stats=1; Path=/";');
      return;
    }
    const csp = `default-src 'none'; script-src 'self' ${base}; style-src ${base}; ` +
      `connect-src ${base}; frame-ancestors 'none'`;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": csp });
    res.end(`<!doctype html><html lang="sv"><head><title>Butik</title>
<script src="${base}/consent.js" defer></script></head>
<body><main><h1>Butiken</h1><a href="#" id="settings" data-integritet-consent="open">Cookieinställningar</a>
<a href="#" id="withdraw" data-integritet-consent="withdraw">Ta tillbaka samtycke</a></main>
<script type="text/plain" data-category="statistics" data-src="/gated.js"></script></body></html>`);
  });
  await new Promise((r) => site.listen(0, "127.0.0.1", r));
  page = `http://127.0.0.1:${site.address().port}/`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
});

after(async () => {
  await browser?.close();
  site?.close();
  server?.child.kill("SIGTERM");
});

/// A fresh visitor; CSP violations and page errors fail the test.
async function visit({ gpc = false } = {}) {
  const context = await browser.newContext();
  if (gpc) {
    await context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true });
    });
  }
  const tab = await context.newPage();
  const problems = [];
  tab.on("console", (m) => { if (/Refused to|Content Security Policy/.test(m.text())) problems.push(m.text()); });
  tab.on("pageerror", (e) => problems.push(String(e)));
  await tab.goto(page);
  return { context, tab, problems };
}

async function consentCookie(context) {
  const cookies = await context.cookies();
  const found = cookies.find((c) => c.name === "integritet_consent");
  return found ? JSON.parse(decodeURIComponent(found.value)) : null;
}

async function record(context) {
  for (let i = 0; i < 50; i++) {
    const state = await consentCookie(context);
    if (state && state.r) {
      const response = await fetch(`${base}/consent/${state.r}`);
      assert.equal(response.status, 200);
      return response.json();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no record id in the consent cookie");
}

test("the banner is small enough", async () => {
  const js = await (await fetch(`${base}/consent.js`)).text();
  const css = await (await fetch(`${base}/consent.css`)).text();
  const raw = Buffer.byteLength(js) + Buffer.byteLength(css);
  const gzipped = gzipSync(js).length + gzipSync(css).length;
  assert.ok(raw < 15 * 1024, `raw ${raw} bytes`);
  assert.ok(gzipped < 6 * 1024, `gzipped ${gzipped} bytes`);
});

test("Reject all leaves no non-essential cookie and stores a refusal", async () => {
  const { context, tab, problems } = await visit();
  const dialog = tab.getByRole("dialog");
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute("aria-modal"), "true");
  // Nothing but the page before a choice: no cookie, no storage, no gated script.
  assert.deepEqual((await context.cookies()).map((c) => c.name), []);
  assert.equal(await tab.evaluate(() => window.gatedRan), undefined);
  assert.equal(await tab.evaluate(() => localStorage.length), 0);
  // The two first-layer buttons are the same size.
  const accept = await tab.getByRole("button", { name: "Acceptera alla" }).boundingBox();
  const reject = await tab.getByRole("button", { name: "Neka alla" }).boundingBox();
  assert.equal(Math.round(accept.width), Math.round(reject.width));
  assert.equal(Math.round(accept.height), Math.round(reject.height));
  await tab.getByRole("button", { name: "Neka alla" }).click();
  await dialog.waitFor({ state: "detached" });
  const kept = await record(context);
  assert.equal(kept.status, "refused");
  assert.equal(kept.choices.statistics, false);
  assert.equal(kept.choices.marketing, false);
  assert.equal(kept.choices.necessary, true);
  assert.deepEqual((await context.cookies()).map((c) => c.name), ["integritet_consent"]);
  assert.equal(await tab.evaluate(() => window.gatedRan), undefined);
  // The refusal is in the export.
  const exported = JSON.parse(cli("consent", "export"));
  const mine = exported["@graph"].find((r) => r["dct:identifier"] === kept.id);
  assert.equal(mine["dpv:hasConsentStatus"], "dpv:ConsentRefused");
  // A reload does not ask again.
  await tab.reload();
  await tab.waitForTimeout(300);
  assert.equal(await tab.getByRole("dialog").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test("the dialog is usable by keyboard alone, with focus kept in it and given back", async () => {
  const { context, tab, problems } = await visit();
  await tab.getByRole("dialog").waitFor();
  const focused = () => tab.evaluate(() => document.activeElement.getAttribute("data-itg"));
  assert.equal(await focused(), "accept");
  await tab.keyboard.press("Tab");
  assert.equal(await focused(), "reject");
  await tab.keyboard.press("Tab");
  assert.equal(await focused(), "settings");
  await tab.keyboard.press("Tab");
  assert.equal(await focused(), "accept", "focus wraps inside the dialog");
  await tab.keyboard.press("Shift+Tab");
  assert.equal(await focused(), "settings");
  // Choose by keyboard: open the categories, tick statistics, save.
  await tab.keyboard.press("Enter");
  assert.equal(await tab.evaluate(() => document.activeElement.id), "itg-preferences");
  await tab.keyboard.press("Tab");
  assert.equal(await tab.evaluate(() => document.activeElement.id), "itg-statistics");
  await tab.keyboard.press("Space");
  await tab.getByRole("button", { name: "Spara mitt val" }).focus();
  await tab.keyboard.press("Enter");
  await tab.getByRole("dialog").waitFor({ state: "detached" });
  const kept = await record(context);
  assert.equal(kept.status, "given");
  assert.equal(kept.choices.statistics, true);
  assert.equal(kept.choices.preferences, false);
  // The gated script ran once statistics was accepted.
  await tab.waitForFunction(() => window.gatedRan === true);
  // Reopened from the page's link, closed by a choice: focus goes back to the link.
  await tab.locator("#settings").focus();
  await tab.keyboard.press("Enter");
  await tab.getByRole("dialog").waitFor();
  await tab.getByRole("button", { name: "Neka alla" }).focus();
  await tab.keyboard.press("Enter");
  await tab.getByRole("dialog").waitFor({ state: "detached" });
  assert.equal(await tab.evaluate(() => document.activeElement.id), "settings");
  assert.deepEqual(problems, []);
  await context.close();
});

test("GPC refuses marketing without asking, and opting in anyway is confirmed and noted", async () => {
  const { context, tab, problems } = await visit({ gpc: true });
  await tab.getByRole("dialog").waitFor();
  await tab.getByRole("button", { name: "Välj själv" }).click();
  assert.equal(await tab.locator("#itg-marketing").isChecked(), false);
  // Accept all, then decline the confirmation: everything but marketing.
  tab.once("dialog", (d) => d.dismiss());
  await tab.getByRole("button", { name: "Acceptera alla" }).click();
  const first = await record(context);
  assert.equal(first.gpc, true);
  assert.equal(first.choices.marketing, false);
  assert.equal(first.choices.statistics, true);
  assert.equal(first.gpc_conflict, false);
  // Reopen and accept with the confirmation: marketing on, the conflict noted.
  await tab.locator("#settings").click();
  tab.once("dialog", (d) => d.accept());
  await tab.getByRole("button", { name: "Acceptera alla" }).click();
  await tab.waitForFunction((id) => {
    const m = document.cookie.match(/integritet_consent=([^;]*)/);
    return m && JSON.parse(decodeURIComponent(m[1])).r !== id;
  }, first.id);
  const second = await record(context);
  assert.equal(second.choices.marketing, true);
  assert.equal(second.gpc_conflict, true);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a changed cookie section asks again", async () => {
  const { context, tab } = await visit();
  await tab.getByRole("dialog").waitFor();
  await tab.getByRole("button", { name: "Neka alla" }).click();
  await record(context);
  await tab.reload();
  await tab.waitForTimeout(300);
  assert.equal(await tab.getByRole("dialog").count(), 0);
  await restartServer((seedPolicy + MARKETING).replace("consent_valid_months = 12", "consent_valid_months = 6"));
  await tab.reload();
  await tab.getByRole("dialog").waitFor();
  await context.close();
});
