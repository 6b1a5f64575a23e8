// Integritet's cookie banner. Plain JavaScript, no dependencies, no inline style or script, no
// eval: it runs under a strict Content-Security-Policy. The server puts the policy's categories,
// the texts and the banner version in CONFIG below. Nothing non-essential is stored before a
// choice; the choice itself is the strictly necessary cookie `integritet_consent`.
(function () {
  "use strict";
  var C = /*CONFIG*/ {};
  var COOKIE = "integritet_consent";
  var doc = document;
  var lang = (doc.documentElement.lang || "sv").slice(0, 2) === "en" ? "en" : "sv";
  var T = C.texts[lang];
  var gpc = C.honourGpc && (navigator.globalPrivacyControl === true);

  function read() {
    var m = doc.cookie.match(new RegExp("(?:^|; )" + COOKIE + "=([^;]*)"));
    if (!m) return null;
    try { return JSON.parse(decodeURIComponent(m[1])); } catch (e) { return null; }
  }
  function write(state) {
    var days = (C.validMonths || 12) * 31;
    doc.cookie = COOKIE + "=" + encodeURIComponent(JSON.stringify(state)) +
      "; Max-Age=" + days * 86400 + "; Path=/; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }
  function fresh(state) {
    if (!state || state.v !== C.version) return false;
    var months = C.validMonths || 12;
    return Date.now() - state.t < months * 31 * 86400000;
  }
  function visitorId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  var state = read();
  var visitor = (state && state.id) || visitorId();

  // Gated scripts: <script type="text/plain" data-category="statistics" data-src="…"> runs
  // once its category is accepted.
  function unlock(choices) {
    var gated = doc.querySelectorAll('script[type="text/plain"][data-category]');
    for (var i = 0; i < gated.length; i++) {
      var s = gated[i];
      if (!choices[s.getAttribute("data-category")] || s.hasAttribute("data-ran")) continue;
      s.setAttribute("data-ran", "");
      var run = doc.createElement("script");
      if (s.getAttribute("data-src")) run.src = s.getAttribute("data-src");
      else run.text = s.text;
      s.parentNode.insertBefore(run, s.nextSibling);
    }
  }
  function announce(choices) {
    doc.dispatchEvent(new CustomEvent("integritet:consent", { detail: { choices: choices } }));
  }
  function send(choices, withdrawal) {
    var body = {
      visitor: visitor, banner_version: C.version, text_hash: C.textHash[lang], lang: lang,
      choices: choices, gpc: gpc, page: location.origin + location.pathname, withdrawal: !!withdrawal
    };
    return fetch(C.endpoint + "/consent", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify(body), keepalive: true, credentials: "omit"
    }).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; });
  }
  function decide(choices, withdrawal) {
    var next = { v: C.version, t: Date.now(), id: visitor, c: choices, gpcAsked: true };
    write(next);
    state = next;
    close();
    unlock(choices);
    announce(choices);
    return send(choices, withdrawal).then(function (record) {
      if (record && record.id) { next.r = record.id; write(next); }
      return record;
    });
  }
  function all(value) {
    var out = {};
    C.categories.forEach(function (c) {
      out[c.key] = c.necessary ? true : (value && !(gpc && c.gpcRefuses));
    });
    return out;
  }

  var dialog = null, opener = null;
  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }
  function close() {
    if (!dialog) return;
    dialog.parentNode.removeChild(dialog);
    dialog = null;
    if (opener && opener.focus) opener.focus();
  }
  function open() {
    if (dialog) return;
    opener = doc.activeElement;
    dialog = el("div", "itg-backdrop");
    var box = el("div", "itg-dialog");
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-labelledby", "itg-title");
    box.setAttribute("aria-describedby", "itg-body");
    var title = el("h2", "itg-title", T.title); title.id = "itg-title";
    var body = el("p", "itg-body", T.body); body.id = "itg-body";
    var list = el("fieldset", "itg-categories");
    list.hidden = true;
    list.appendChild(el("legend", "", T.categories));
    var current = (state && state.c) || {};
    C.categories.forEach(function (c) {
      var row = el("div", "itg-category");
      var box = el("input");
      box.type = "checkbox";
      box.id = "itg-" + c.key;
      box.name = c.key;
      box.checked = c.necessary || current[c.key] === true;
      box.disabled = c.necessary;
      var label = el("label", "", c.label[lang]);
      label.htmlFor = box.id;
      var help = el("p", "itg-help", c.description[lang] + (c.gpcRefuses && gpc ? " " + T.gpc : ""));
      help.id = "itg-help-" + c.key;
      box.setAttribute("aria-describedby", help.id);
      row.appendChild(box); row.appendChild(label); row.appendChild(help);
      list.appendChild(row);
    });
    var buttons = el("div", "itg-buttons");
    var accept = el("button", "itg-button", T.accept); accept.type = "button";
    var reject = el("button", "itg-button", T.reject); reject.type = "button";
    var more = el("button", "itg-link", T.settings); more.type = "button";
    var save = el("button", "itg-button", T.save); save.type = "button"; save.hidden = true;
    accept.setAttribute("data-itg", "accept");
    reject.setAttribute("data-itg", "reject");
    more.setAttribute("data-itg", "settings");
    save.setAttribute("data-itg", "save");
    accept.addEventListener("click", function () {
      // Accepting a category GPC refused is the visitor's own choice, asked again.
      if (gpc && C.categories.some(function (c) { return c.gpcRefuses; }) && !confirm(T.gpcConfirm)) {
        decide(all(true));
      } else {
        var out = {};
        C.categories.forEach(function (c) { out[c.key] = true; });
        decide(out);
      }
    });
    reject.addEventListener("click", function () { decide(all(false)); });
    more.addEventListener("click", function () {
      list.hidden = false; save.hidden = false; more.hidden = true;
      var first = list.querySelector("input:not([disabled])");
      if (first) first.focus();
    });
    save.addEventListener("click", function () {
      var out = {};
      C.categories.forEach(function (c) { out[c.key] = c.necessary || doc.getElementById("itg-" + c.key).checked; });
      decide(out);
    });
    buttons.appendChild(accept); buttons.appendChild(reject);
    box.appendChild(title); box.appendChild(body); box.appendChild(list);
    box.appendChild(buttons); box.appendChild(more); box.appendChild(save);
    dialog.appendChild(box);
    // Focus stays in the dialog until a choice is made.
    dialog.addEventListener("keydown", function (e) {
      if (e.key !== "Tab") return;
      var f = box.querySelectorAll("button:not([hidden]), input:not([disabled])");
      var visible = Array.prototype.filter.call(f, function (x) { return x.offsetParent !== null; });
      if (!visible.length) return;
      var first = visible[0], last = visible[visible.length - 1];
      if (e.shiftKey && doc.activeElement === first) { last.focus(); e.preventDefault(); }
      else if (!e.shiftKey && doc.activeElement === last) { first.focus(); e.preventDefault(); }
    });
    doc.body.appendChild(dialog);
    accept.focus();
  }
  function withdraw() {
    return decide(all(false), true);
  }

  window.IntegritetConsent = {
    open: open, withdraw: withdraw,
    choices: function () { return state && fresh(state) ? state.c : null; }
  };
  doc.addEventListener("click", function (e) {
    var t = e.target && e.target.closest && e.target.closest("[data-integritet-consent]");
    if (!t) return;
    e.preventDefault();
    if (t.getAttribute("data-integritet-consent") === "withdraw") withdraw(); else open();
  });

  function start() {
    var css = doc.createElement("link");
    css.rel = "stylesheet";
    css.href = C.endpoint + "/consent.css";
    doc.head.appendChild(css);
    if (fresh(state)) {
      unlock(state.c);
      announce(state.c);
      return;
    }
    var asked = C.categories.filter(function (c) { return !c.necessary && !(gpc && c.gpcRefuses); });
    if (gpc && !asked.length) {
      // Everything left to ask is refused by GPC: recorded once, never asked.
      decide(all(false));
      return;
    }
    open();
  }
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", start); else start();
})();
