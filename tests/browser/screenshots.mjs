// Takes the screenshots in docs/screenshots/: the cookie banner and the unsubscribe page, in
// Swedish and English, from a real `integritet serve` in headless Chromium.
//
//   cd tests/browser && INTEGRITET_TEST_BIN=../../target/debug/integritet node screenshots.mjs
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.INTEGRITET_TEST_BIN;
if (!bin) throw new Error("set INTEGRITET_TEST_BIN to the integritet binary");
const out = join(here, "../../docs/screenshots");
const policy = join(here, "../../examples/seed-shop/policy.toml");
const dir = mkdtempSync(join(tmpdir(), "integritet-shots-"));
const run = (...args) =>
  execFileSync(bin, ["--data-dir", join(dir, "data"), "--policy", policy, ...args], { encoding: "utf8" });

run("import", join(here, "../../examples/seed-shop/customers.jsonl"));
const audience = JSON.parse(run("marketing", "audience", "--channel", "email", "--purpose", "newsletter", "--json"));
const subject = audience.contacts[0].subject;

const server = spawn(bin, ["--data-dir", join(dir, "data"), "--policy", policy, "serve",
  "--listen", "127.0.0.1:0", "--sweep-at", "off"], { stdio: ["ignore", "ignore", "pipe"] });
const base = await new Promise((resolve) => {
  let seen = "";
  server.stderr.on("data", (c) => {
    seen += c;
    const m = seen.match(/http:\/\/(127\.0\.0\.1:\d+)/);
    if (m) resolve(`http://${m[1]}`);
  });
});
const headers = run("marketing", "headers", subject, "--channel", "email", "--purpose", "newsletter",
  "--public-url", base, "--json");
const link = JSON.parse(headers).url;

const site = createServer((req, res) => {
  const lang = req.url.includes("en") ? "en" : "sv";
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(`<!doctype html><html lang="${lang}"><head><title>Smart Telematik</title>
<script src="${base}/consent.js" defer></script></head><body><main><h1>Smart Telematik</h1>
<p>GPS-trackers för fordon / GPS trackers for vehicles</p></main></body></html>`);
});
await new Promise((r) => site.listen(0, "127.0.0.1", r));
const page = `http://127.0.0.1:${site.address().port}`;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
const shoot = async (url, file, options = {}) => {
  const context = await browser.newContext({ viewport: { width: 900, height: 640 }, ...options });
  const tab = await context.newPage();
  await tab.goto(url);
  await tab.waitForTimeout(400);
  await tab.screenshot({ path: join(out, file) });
  await context.close();
};
await shoot(`${page}/sv`, "banner-sv.png");
await shoot(`${page}/en`, "banner-en.png");
await shoot(`${link}?lang=sv`, "unsubscribe-sv.png", { extraHTTPHeaders: { accept: "text/html" } });
await shoot(`${link}?lang=en`, "unsubscribe-en.png", { extraHTTPHeaders: { accept: "text/html" } });
await browser.close();
site.close();
server.kill("SIGTERM");
