/*
 * creditkit customer widgets: <creditkit-balance>, <creditkit-utilization>,
 * <creditkit-grants>, <creditkit-history> and <creditkit-usage-chart>.
 *
 * One classic script with no dependencies and no build step. Each widget is a
 * custom element with its own shadow DOM; it reads one customer's data from
 * the creditkit API with a customer token (ckt_...) that the host app mints
 * server-side. Styles are constructed stylesheets (adoptedStyleSheets), so a
 * page with a strict Content-Security-Policy (no inline script or style)
 * can use the widgets; charts are SVG drawn here, with no chart library.
 *
 * See docs/widgets.md for attributes, theming variables, labels and events.
 */
(function () {
  "use strict";

  if (!window.customElements || window.customElements.get("creditkit-balance")) {
    return;
  }

  var VERSION = "1";

  // The API is, by default, where this script came from: a page that loads
  // https://credits.example.com/widgets.js talks to that server.
  var script = document.currentScript;
  var scriptBase = "";
  if (script && script.src) {
    scriptBase = new URL(".", script.src).href.replace(/\/$/, "");
  }

  // ---------------------------------------------------------------- labels

  var labels = {
    en: {
      balance: "Balance",
      available: "Available",
      held: "Held",
      debt: "Debt",
      scheduled: "Scheduled",
      topUp: "Top up",
      chooseTopUp: "Choose a pack",
      packOffer: "{name}: {credits} for {price}",
      cancel: "Cancel",
      utilization: "This period",
      usedOf: "{used} of {granted} {currency} used",
      usedNoGrant: "{used} {currency} used",
      periodRange: "{start} – {end}",
      plan: "Plan: {plan}",
      grants: "Credits",
      source: "Source",
      remaining: "Remaining",
      amount: "Amount",
      expires: "Expires",
      never: "Never",
      status: "Status",
      status_scheduled: "Scheduled",
      status_active: "Active",
      status_depleted: "Used up",
      status_expired: "Expired",
      status_voided: "Voided",
      source_bonus: "Bonus",
      source_trial: "Trial",
      source_promotional: "Promotion",
      source_subscription: "Subscription",
      source_pack: "Pack",
      source_purchase: "Purchase",
      source_transfer: "Transfer",
      source_rollover: "Rollover",
      source_adjustment: "Adjustment",
      history: "History",
      date: "Date",
      activity: "Activity",
      balanceAfter: "Balance",
      more: "Show more",
      type_grant: "Credits added",
      type_charge: "Charge",
      type_expiration: "Expired",
      type_void: "Removed",
      type_transfer: "Transfer",
      type_reversal: "Refund",
      type_adjustment: "Adjustment",
      type_repayment: "Debt repaid",
      type_overage_settlement: "Overage settled",
      usage: "Usage",
      range: "Range",
      range_7d: "Last 7 days",
      range_30d: "Last 30 days",
      range_90d: "Last 90 days",
      total: "Total",
      chartSummary: "{total} used over {days} days",
      loading: "Loading…",
      refresh: "Refresh",
      retry: "Retry",
      error: "Could not load: {detail}",
      offline: "Cannot reach the server.",
      expired: "This session has expired. Reload the page to continue.",
      notConfigured: "Set the customer and token attributes.",
      empty_balance: "No credits yet.",
      empty_utilization: "Nothing granted or used this period.",
      empty_grants: "No credits have been granted yet.",
      empty_history: "No activity yet.",
      empty_usage: "No usage in this range.",
      tooLarge: "Too large to show"
    },
    fr: {
      balance: "Solde",
      available: "Disponible",
      held: "Réservé",
      debt: "Dette",
      scheduled: "Programmé",
      topUp: "Recharger",
      chooseTopUp: "Choisissez un pack",
      packOffer: "{name} : {credits} pour {price}",
      cancel: "Annuler",
      utilization: "Cette période",
      usedOf: "{used} {currency} utilisés sur {granted}",
      usedNoGrant: "{used} {currency} utilisés",
      periodRange: "{start} – {end}",
      plan: "Forfait : {plan}",
      grants: "Crédits",
      source: "Origine",
      remaining: "Restant",
      amount: "Montant",
      expires: "Expire",
      never: "Jamais",
      status: "État",
      status_scheduled: "Programmé",
      status_active: "Actif",
      status_depleted: "Épuisé",
      status_expired: "Expiré",
      status_voided: "Annulé",
      source_bonus: "Bonus",
      source_trial: "Essai",
      source_promotional: "Promotion",
      source_subscription: "Abonnement",
      source_pack: "Pack",
      source_purchase: "Achat",
      source_transfer: "Transfert",
      source_rollover: "Report",
      source_adjustment: "Ajustement",
      history: "Historique",
      date: "Date",
      activity: "Activité",
      balanceAfter: "Solde",
      more: "Voir plus",
      type_grant: "Crédits ajoutés",
      type_charge: "Consommation",
      type_expiration: "Expiré",
      type_void: "Retiré",
      type_transfer: "Transfert",
      type_reversal: "Remboursement",
      type_adjustment: "Ajustement",
      type_repayment: "Dette remboursée",
      type_overage_settlement: "Dépassement réglé",
      usage: "Consommation",
      range: "Période",
      range_7d: "7 derniers jours",
      range_30d: "30 derniers jours",
      range_90d: "90 derniers jours",
      total: "Total",
      chartSummary: "{total} utilisés sur {days} jours",
      loading: "Chargement…",
      refresh: "Actualiser",
      retry: "Réessayer",
      error: "Chargement impossible : {detail}",
      offline: "Le serveur est injoignable.",
      expired: "Cette session a expiré. Rechargez la page pour continuer.",
      notConfigured: "Renseignez les attributs customer et token.",
      empty_balance: "Aucun crédit pour l'instant.",
      empty_utilization: "Rien d'accordé ni d'utilisé sur cette période.",
      empty_grants: "Aucun crédit accordé pour l'instant.",
      empty_history: "Aucune activité pour l'instant.",
      empty_usage: "Aucune consommation sur cette période.",
      tooLarge: "Trop grand pour être affiché"
    }
  };

  function format(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, k) {
      return values && values[k] !== undefined ? String(values[k]) : m;
    });
  }

  // ------------------------------------------------------------------ styles

  var css = [
    ":host{display:block;box-sizing:border-box;color:var(--creditkit-fg,#1f2328);",
    "font-family:var(--creditkit-font,system-ui,-apple-system,'Segoe UI',Roboto,sans-serif);",
    "font-size:var(--creditkit-font-size,14px);line-height:1.45}",
    ":host([hidden]){display:none}",
    "*,*::before,*::after{box-sizing:inherit}",
    ".ck{background:var(--creditkit-bg,#fff);border:1px solid var(--creditkit-border,#d0d7de);",
    "border-radius:var(--creditkit-radius,8px);padding:var(--creditkit-padding,16px);",
    "box-shadow:var(--creditkit-shadow,none)}",
    "header{display:flex;align-items:center;justify-content:space-between;gap:8px;margin:0 0 8px}",
    ".tools{display:flex;align-items:center;gap:4px}",
    "h2{font-size:var(--creditkit-title-size,1em);font-weight:600;margin:0;color:var(--creditkit-muted,#59636e);",
    "text-transform:var(--creditkit-title-transform,none)}",
    "button,select{font:inherit;color:inherit}",
    "button{cursor:pointer;border-radius:var(--creditkit-radius-small,6px);",
    "border:1px solid var(--creditkit-border,#d0d7de);background:var(--creditkit-button-bg,#f6f8fa);padding:4px 10px}",
    "button:hover{background:var(--creditkit-button-hover-bg,#eef1f4)}",
    "button:focus-visible,select:focus-visible{outline:2px solid var(--creditkit-accent,#0969da);outline-offset:2px}",
    "button.primary{background:var(--creditkit-accent,#0969da);border-color:var(--creditkit-accent,#0969da);",
    "color:var(--creditkit-accent-fg,#fff)}",
    "button.primary:hover{filter:brightness(1.08)}",
    "button.icon{border:none;background:transparent;padding:2px 6px;color:var(--creditkit-muted,#59636e)}",
    "select{border:1px solid var(--creditkit-border,#d0d7de);border-radius:var(--creditkit-radius-small,6px);",
    "background:var(--creditkit-bg,#fff);padding:2px 6px}",
    ".busy .refresh{opacity:.4}",
    ".msg{color:var(--creditkit-muted,#59636e);margin:8px 0}",
    ".err{color:var(--creditkit-error,#cf222e)}",
    ".err button{margin-left:8px}",
    ".big{font-size:var(--creditkit-value-size,2em);font-weight:650;letter-spacing:-.01em;",
    "color:var(--creditkit-value-fg,inherit);font-variant-numeric:tabular-nums}",
    ".unit{font-size:.9em;color:var(--creditkit-muted,#59636e);margin-left:6px}",
    ".rows{display:flex;flex-wrap:wrap;gap:4px 16px;margin:6px 0 0;color:var(--creditkit-muted,#59636e)}",
    ".rows b{font-weight:600;color:var(--creditkit-fg,#1f2328);font-variant-numeric:tabular-nums}",
    ".neg{color:var(--creditkit-negative,#cf222e)}",
    ".pos{color:var(--creditkit-positive,#1a7f37)}",
    ".actions{margin-top:12px;display:flex;flex-wrap:wrap;gap:8px}",
    ".packs{list-style:none;margin:8px 0 0;padding:0;display:flex;flex-direction:column;gap:6px}",
    ".bar{height:var(--creditkit-bar-height,10px);border-radius:999px;overflow:hidden;",
    "background:var(--creditkit-track,#eaeef2);margin:8px 0}",
    ".fill{height:100%;background:var(--creditkit-accent,#0969da);border-radius:999px;width:0}",
    ".over .fill{background:var(--creditkit-error,#cf222e)}",
    ".sub{color:var(--creditkit-muted,#59636e);font-size:.9em}",
    "table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}",
    "th{text-align:left;font-weight:600;color:var(--creditkit-muted,#59636e);font-size:.85em;",
    "border-bottom:1px solid var(--creditkit-border,#d0d7de);padding:4px 6px}",
    "td{border-bottom:1px solid var(--creditkit-row-border,#eaeef2);padding:6px}",
    "td.num,th.num{text-align:right;white-space:nowrap}",
    ".tag{display:inline-block;font-size:.8em;padding:0 6px;border-radius:999px;",
    "background:var(--creditkit-tag-bg,#eaeef2)}",
    ".tag.active{background:var(--creditkit-tag-active-bg,#dafbe1);color:var(--creditkit-tag-active-fg,#116329)}",
    ".tag.expired,.tag.voided{background:var(--creditkit-tag-off-bg,#ffebe9);color:var(--creditkit-tag-off-fg,#a40e26)}",
    ".tag.scheduled{background:var(--creditkit-tag-scheduled-bg,#ddf4ff);color:var(--creditkit-tag-scheduled-fg,#0550ae)}",
    ".wrap{overflow-x:auto}",
    "svg{display:block;max-width:100%;height:auto;overflow:visible}",
    "svg text{font-size:11px;fill:var(--creditkit-muted,#59636e)}",
    "svg .axis{stroke:var(--creditkit-border,#d0d7de);stroke-width:1}",
    ".legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 14px;margin:8px 0 0;padding:0}",
    ".legend li{display:flex;align-items:center;gap:6px}",
    ".sw{display:inline-block;width:10px;height:10px;border-radius:2px}",
    ".s0{fill:var(--creditkit-chart-1,#0969da);background:var(--creditkit-chart-1,#0969da)}",
    ".s1{fill:var(--creditkit-chart-2,#bf8700);background:var(--creditkit-chart-2,#bf8700)}",
    ".s2{fill:var(--creditkit-chart-3,#1a7f37);background:var(--creditkit-chart-3,#1a7f37)}",
    ".s3{fill:var(--creditkit-chart-4,#8250df);background:var(--creditkit-chart-4,#8250df)}",
    ".s4{fill:var(--creditkit-chart-5,#cf222e);background:var(--creditkit-chart-5,#cf222e)}",
    ".s5{fill:var(--creditkit-chart-6,#1b7c83);background:var(--creditkit-chart-6,#1b7c83)}",
    ".s6{fill:var(--creditkit-chart-7,#9a6700);background:var(--creditkit-chart-7,#9a6700)}",
    ".s7{fill:var(--creditkit-chart-8,#6e7781);background:var(--creditkit-chart-8,#6e7781)}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
  ].join("\n");

  var sheet = null;
  try {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
  } catch (e) {
    sheet = null; // an old browser: a <style> element instead (needs style-src 'unsafe-inline' under a CSP)
  }

  // -------------------------------------------------------------- utilities

  // h builds an element: h("td", {class: "num"}, "12"). Text is always set as
  // text, never parsed as HTML.
  function h(tag, attrs) {
    var el = document.createElement(tag);
    setAttrs(el, attrs);
    for (var i = 2; i < arguments.length; i++) {
      append(el, arguments[i]);
    }
    return el;
  }

  var SVG = "http://www.w3.org/2000/svg";

  function s(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    setAttrs(el, attrs);
    for (var i = 2; i < arguments.length; i++) {
      append(el, arguments[i]);
    }
    return el;
  }

  function setAttrs(el, attrs) {
    if (!attrs) {
      return;
    }
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) {
        return;
      }
      if (k.slice(0, 2) === "on" && typeof v === "function") {
        el.addEventListener(k.slice(2), v);
      } else {
        el.setAttribute(k, v === true ? "" : String(v));
      }
    });
  }

  function append(el, child) {
    if (child === null || child === undefined || child === false) {
      return;
    }
    if (Array.isArray(child)) {
      child.forEach(function (c) { append(el, c); });
      return;
    }
    el.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }

  // ---------------------------------------------------------------- amounts

  // Amounts are integers in a currency's smallest unit, up to 2^63-1: more
  // than a JavaScript number holds exactly (2^53-1). An amount here is a
  // number when it is a safe integer, a BigInt beyond that, or NaN when the
  // browser could not read it exactly; a widget shows NaN as "too large to
  // show", never as a rounded number.

  var hasBigInt = typeof BigInt === "function";
  var MAX_SAFE = hasBigInt ? BigInt(Number.MAX_SAFE_INTEGER) : null;

  // reviveNumber keeps integers beyond 2^53 exact: JSON.parse's source text
  // access (ctx.source) gives their digits, which become a BigInt. A browser
  // without it gets NaN: an unreadable number, never a rounded one.
  function reviveNumber(key, value, ctx) {
    if (typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value)) {
      var src = ctx && ctx.source;
      return hasBigInt && typeof src === "string" && /^-?\d+$/.test(src) ? BigInt(src) : NaN;
    }
    return value;
  }

  // parseJSON parses an API answer, with integers beyond 2^53 as BigInts.
  function parseJSON(text) {
    return JSON.parse(text, reviveNumber);
  }

  // amount normalizes an amount: a safe integer as a number, a bigger one
  // as a BigInt, missing as 0, anything else (NaN, a fraction) as NaN.
  function amount(v) {
    if (v === null || v === undefined) {
      return 0;
    }
    if (typeof v === "bigint") {
      return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
    }
    if (typeof v === "number") {
      return Number.isSafeInteger(v) ? v : NaN;
    }
    if (typeof v === "string" && /^-?\d+$/.test(v) && hasBigInt) {
      return amount(BigInt(v));
    }
    return NaN;
  }

  // unreadable reports an amount the widget cannot show exactly.
  function unreadable(a) {
    return typeof a === "number" && !Number.isSafeInteger(a);
  }

  // add returns a+b exactly (a BigInt when the sum passes 2^53), or NaN
  // when either is unreadable.
  function add(a, b) {
    a = amount(a);
    b = amount(b);
    if (unreadable(a) || unreadable(b)) {
      return NaN;
    }
    if (typeof a === "number" && typeof b === "number" && Number.isSafeInteger(a + b)) {
      return a + b;
    }
    return hasBigInt ? amount(BigInt(a) + BigInt(b)) : NaN;
  }

  // approx is an amount as a number, for bars and percentages only (0 when
  // unreadable): never shown as text.
  function approx(a) {
    a = amount(a);
    return unreadable(a) ? 0 : Number(a);
  }

  // larger returns the larger of two amounts (numbers and BigInts compare
  // exactly); an unreadable one loses.
  function larger(a, b) {
    return unreadable(a) || b > a ? b : a;
  }

  // dataAmount is an amount for a data-* attribute: its exact digits, or
  // null (no attribute) when unreadable.
  function dataAmount(a) {
    a = amount(a);
    return unreadable(a) ? null : String(a);
  }

  // decimalString writes an integer amount of smallest units as a decimal
  // string with d digits after the point: (-5, 2) is "-0.05".
  function decimalString(a, d) {
    var s = String(a);
    var neg = s.charAt(0) === "-";
    if (neg) {
      s = s.slice(1);
    }
    if (d > 0) {
      while (s.length <= d) {
        s = "0" + s;
      }
      s = s.slice(0, s.length - d) + "." + s.slice(s.length - d);
    }
    return (neg ? "-" : "") + s;
  }

  // Intl.NumberFormat formats decimal strings exactly in current browsers
  // (older ones convert them to a number first).
  var exactStrings = (function () {
    try {
      return new Intl.NumberFormat("en", { useGrouping: false, maximumFractionDigits: 2 }).format("9007199254740993.25") === "9007199254740993.25";
    } catch (e) {
      return false;
    }
  })();

  // formatUnits formats an amount of smallest units with d decimals through
  // Intl.NumberFormat(locale, opts), exactly; "" when it cannot be exact.
  function formatUnits(locale, a, d, opts) {
    a = amount(a);
    if (unreadable(a)) {
      return "";
    }
    var str = decimalString(a, d);
    try {
      var f = new Intl.NumberFormat(locale, opts);
      if (exactStrings) {
        return f.format(str);
      }
      if (d === 0) {
        return f.format(a); // a number or a BigInt, exact either way
      }
      // A double holds 15 significant digits exactly.
      return str.replace(/[-.]/g, "").replace(/^0+/, "").length <= 15 ? f.format(Number(str)) : "";
    } catch (e) {
      return "";
    }
  }

  // ApiError is a refused or failed request, with the problem the API sent.
  function ApiError(status, code, detail) {
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.message = detail;
  }
  ApiError.prototype = Object.create(Error.prototype);

  // The widgets' configuration (currencies and packs) is public and the same
  // for every widget on one server: fetch it once per server.
  var configs = {};

  function serverConfig(base) {
    if (!configs[base]) {
      // A failure formats with no decimals and offers no top-up, this time;
      // the next load asks again.
      var forget = function () {
        delete configs[base];
        return {};
      };
      configs[base] = fetch(base + "/widgets/config.json", { credentials: "omit", mode: "cors" })
        .then(function (res) { return res.ok ? res.text().then(parseJSON) : forget(); })
        .catch(forget);
    }
    return configs[base];
  }

  function utcDay(d) {
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  }

  // ------------------------------------------------------------ base element

  var REFRESH_EVENT = "creditkit-refresh";
  var MIN_REFRESH_SECONDS = 5;

  // CreditKitElement is what every widget shares: attributes, fetching with
  // the token, states (loading, loaded, empty, error), refreshing, labels,
  // number and date formatting.
  class CreditKitElement extends HTMLElement {
    static get observedAttributes() {
      return ["customer", "token", "api", "currency", "refresh", "labels", "lang"].concat(this.extraAttributes || []);
    }

    constructor() {
      super();
      this.root = this.attachShadow({ mode: "open" });
      if (sheet) {
        this.root.adoptedStyleSheets = [sheet];
      } else {
        this.root.appendChild(h("style", null, css));
      }
      this.frame = h("section", { class: "ck", part: "widget", "aria-busy": "false" });
      this.titleEl = h("h2", { part: "title" });
      this.refreshBtn = h("button", { class: "icon refresh", part: "refresh-button", type: "button" }, "↻");
      this.refreshBtn.addEventListener("click", () => { this.refresh(); });
      this.body = h("div", { class: "body", part: "body", "aria-live": "polite" });
      this.frame.appendChild(h("header", null, this.titleEl, h("div", { class: "tools" }, this.controls(), this.refreshBtn)));
      this.frame.appendChild(this.body);
      this.root.appendChild(this.frame);
      this.data = null;
      this.seq = 0;
      this.timer = null;
      this.pending = null;
      this.abort = null;
      this.onGlobalRefresh = () => { this.refresh(); };
    }

    // controls returns elements for the header (the usage chart's range).
    controls() { return null; }

    connectedCallback() {
      window.addEventListener(REFRESH_EVENT, this.onGlobalRefresh);
      this.relabel();
      this.startTimer();
      this.refresh();
    }

    disconnectedCallback() {
      window.removeEventListener(REFRESH_EVENT, this.onGlobalRefresh);
      this.stopTimer();
      if (this.abort) {
        this.abort.abort();
      }
    }

    attributeChangedCallback(name, oldValue, newValue) {
      if (!this.isConnected || oldValue === newValue) {
        return;
      }
      if (name === "refresh") {
        this.startTimer();
        return;
      }
      if (name === "labels" || name === "lang") {
        this.relabel();
        if (this.data !== null) {
          this.show();
        }
        return;
      }
      if (name === "customer" || name === "token" || name === "api" || name === "currency") {
        this.data = null; // another customer or server: never show the old numbers
      }
      this.refresh();
    }

    startTimer() {
      this.stopTimer();
      var secs = Number(this.getAttribute("refresh"));
      if (secs > 0) {
        this.timer = setInterval(() => {
          if (!document.hidden) {
            this.refresh();
          }
        }, Math.max(secs, MIN_REFRESH_SECONDS) * 1000);
      }
    }

    stopTimer() {
      if (this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    }

    get customer() { return (this.getAttribute("customer") || "").trim(); }
    get token() { return (this.getAttribute("token") || "").trim(); }
    get api() { return (this.getAttribute("api") || scriptBase || window.location.origin).replace(/\/$/, ""); }
    get currency() { return (this.getAttribute("currency") || "").trim(); }

    // state is loading, loaded, empty or error; it is reflected on the host
    // as the state attribute, for the host's CSS and for tests.
    get state() { return this.getAttribute("state") || ""; }

    get locale() {
      var el = this.closest("[lang]");
      return (el && el.getAttribute("lang")) || document.documentElement.lang || navigator.language || "en";
    }

    // t returns a label: the element's labels attribute, then the labels of
    // its language, then English.
    t(key, values) {
      var own = this.ownLabels || {};
      var lang = this.locale.toLowerCase();
      var set = labels[lang] || labels[lang.split("-")[0]] || {};
      var text = own[key] !== undefined ? own[key] : set[key] !== undefined ? set[key] : labels.en[key];
      return format(text === undefined ? key : text, values);
    }

    relabel() {
      this.ownLabels = null;
      var raw = this.getAttribute("labels");
      if (raw) {
        try {
          this.ownLabels = JSON.parse(raw);
        } catch (e) {
          console.warn("creditkit: the labels attribute of <" + this.localName + "> is not JSON: " + e.message);
        }
      }
      this.titleEl.textContent = this.getAttribute("heading") || this.t(this.titleKey);
      this.refreshBtn.setAttribute("aria-label", this.t("refresh"));
      this.refreshBtn.setAttribute("title", this.t("refresh"));
    }

    // refresh reloads the widget's data now; it resolves when the widget
    // shows the answer (loaded, empty or error).
    refresh() {
      if (this.pending) {
        return this.pending;
      }
      if (this.data === null && this.customer && this.token) {
        this.showLoading(); // at once, not a task later
      }
      // Attribute changes made in one task (customer, then token) load once.
      this.pending = Promise.resolve().then(() => {
        this.pending = null;
        return this.load();
      });
      return this.pending;
    }

    load() {
      var seq = ++this.seq;
      if (this.abort) {
        this.abort.abort();
      }
      if (!this.customer || !this.token) {
        this.data = null;
        this.setState("error");
        this.message(this.t("notConfigured"), "err");
        return Promise.resolve();
      }
      var ctrl = new AbortController();
      this.abort = ctrl;
      if (this.data === null) {
        this.showLoading();
      }
      this.frame.classList.add("busy");
      this.frame.setAttribute("aria-busy", "true");
      return serverConfig(this.api)
        .then((cfg) => {
          this.config = cfg || {};
          return this.fetchData(ctrl.signal);
        })
        .then((data) => {
          if (seq !== this.seq) {
            return;
          }
          this.data = data;
          this.show();
          this.emit("creditkit-load", { customer: this.customer, data: data });
        }, (err) => {
          if (seq !== this.seq || (err && err.name === "AbortError")) {
            return;
          }
          this.fail(err);
        })
        .then(() => {
          if (seq === this.seq) {
            this.frame.classList.remove("busy");
            this.frame.setAttribute("aria-busy", "false");
          }
        });
    }

    showLoading() {
      this.setState("loading");
      this.message(this.t("loading"));
    }

    show() {
      this.body.textContent = "";
      if (this.isEmpty(this.data)) {
        this.setState("empty");
        this.message(this.t("empty_" + this.kind));
        return;
      }
      this.setState("loaded");
      append(this.body, this.render(this.data));
    }

    fail(err) {
      this.data = null;
      this.setState("error");
      var detail;
      if (err instanceof ApiError) {
        if (err.status === 401) {
          detail = this.t("expired");
          this.emit("creditkit-token-expired", { customer: this.customer });
        } else {
          detail = this.t("error", { detail: err.detail });
        }
      } else {
        detail = this.t("offline");
      }
      this.body.textContent = "";
      this.body.appendChild(h("p", { class: "msg err", role: "alert", part: "error" }, detail,
        h("button", { type: "button", part: "retry-button", onclick: () => { this.refresh(); } }, this.t("retry"))));
      this.emit("creditkit-error", {
        customer: this.customer,
        status: err && err.status || 0,
        code: err && err.code || "network",
        detail: err && err.detail || String(err && err.message || err)
      });
    }

    setState(state) {
      this.setAttribute("state", state);
    }

    message(text, cls) {
      this.body.textContent = "";
      this.body.appendChild(h("p", { class: "msg " + (cls || ""), part: cls === "err" ? "error" : "message" }, text));
    }

    emit(name, detail) {
      return this.dispatchEvent(new CustomEvent(name, { detail: detail, bubbles: true, composed: true, cancelable: true }));
    }

    // get fetches one read endpoint of this customer with the token.
    get(path, query, signal) {
      var url = new URL(this.api + "/v1/customers/" + encodeURIComponent(this.customer) + path);
      Object.keys(query || {}).forEach(function (k) {
        if (query[k] !== "" && query[k] !== undefined && query[k] !== null) {
          url.searchParams.set(k, query[k]);
        }
      });
      if (this.currency && !url.searchParams.has("currency")) {
        url.searchParams.set("currency", this.currency);
      }
      return fetch(url.href, {
        headers: { Authorization: "Bearer " + this.token, Accept: "application/json" },
        credentials: "omit",
        mode: "cors",
        cache: "no-store",
        signal: signal
      }).then(function (res) {
        return res.text().then(function (text) {
          var body = null;
          try {
            body = text ? parseJSON(text) : null;
          } catch (e) {
            body = null;
          }
          if (!res.ok) {
            throw new ApiError(res.status, body && body.code || "http_" + res.status,
              body && (body.detail || body.title) || res.statusText || "HTTP " + res.status);
          }
          return body;
        });
      });
    }

    // decimals of a currency, from the server's widget config.
    decimals(currency) {
      var list = (this.config && this.config.currencies) || [];
      for (var i = 0; i < list.length; i++) {
        if (list[i].name === currency) {
          return list[i].decimals || 0;
        }
      }
      return 0;
    }

    // num formats an amount in a currency's smallest units, exactly (a
    // number or a BigInt), or says it is too large to show.
    num(a, currency) {
      var d = this.decimals(currency);
      return formatUnits(this.locale, a, d, { minimumFractionDigits: d, maximumFractionDigits: d }) || this.t("tooLarge");
    }

    // signed formats an amount with its sign.
    signed(a, currency) {
      a = amount(a);
      if (unreadable(a)) {
        return this.t("tooLarge");
      }
      return (a > 0 ? "+" : a < 0 ? "−" : "") + this.num(a < 0 ? -a : a, currency);
    }

    date(value, withTime) {
      if (!value) {
        return "";
      }
      var opts = withTime ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" };
      try {
        return new Intl.DateTimeFormat(this.locale, opts).format(new Date(value));
      } catch (e) {
        return String(value);
      }
    }

    // money formats a price in minor units of an ISO currency, exactly.
    money(minor, currency) {
      var d;
      try {
        d = new Intl.NumberFormat(this.locale, { style: "currency", currency: currency }).resolvedOptions().maximumFractionDigits;
      } catch (e) {
        minor = amount(minor);
        return unreadable(minor) ? this.t("tooLarge") : decimalString(minor, 2) + " " + currency;
      }
      return formatUnits(this.locale, minor, d, { style: "currency", currency: currency }) || this.t("tooLarge");
    }

    // fetchAll reads every page of a list, up to max items.
    fetchAll(path, query, max, signal) {
      var items = [];
      var next = (cursor) => {
        var q = Object.assign({}, query, { limit: Math.min(max, 1000), cursor: cursor || "" });
        return this.get(path, q, signal).then(function (page) {
          items = items.concat((page && page.data) || []);
          if (page && page.next_cursor && items.length < max) {
            return next(page.next_cursor);
          }
          return items.slice(0, max);
        });
      };
      return next("");
    }

    // notFoundAsEmpty turns a customer no write has named yet into no data.
    notFoundAsEmpty(err) {
      if (err instanceof ApiError && err.status === 404 && err.code === "customer_not_found") {
        return null;
      }
      throw err;
    }
  }

  // -------------------------------------------------------------- balance

  class BalanceElement extends CreditKitElement {
    static get extraAttributes() { return ["checkout-url", "no-topup"]; }
    get titleKey() { return "balance"; }
    get kind() { return "balance"; }

    fetchData(signal) {
      return this.get("/balance", {}, signal).catch((err) => this.notFoundAsEmpty(err));
    }

    isEmpty(b) {
      return !b;
    }

    render(b) {
      var cur = b.currency;
      var rows = [];
      [["held", b.held], ["debt", b.debt], ["scheduled", b.scheduled]].forEach((r) => {
        if (amount(r[1]) !== 0) {
          rows.push(h("span", { part: r[0] }, this.t(r[0]) + " ", h("b", { class: r[0] === "debt" ? "neg" : "" }, this.num(r[1], cur))));
        }
      });
      var out = [
        h("div", { class: "value", part: "value" },
          h("span", { class: "big" + (b.available < 0 ? " neg" : ""), "data-amount": dataAmount(b.available),
            "data-too-large": unreadable(amount(b.available)) }, this.num(b.available, cur)),
          h("span", { class: "unit", part: "unit" }, cur)),
        h("div", { class: "sub" }, this.t("available")),
        rows.length ? h("div", { class: "rows" }, rows) : null
      ];
      var packs = this.packs(cur);
      if (packs.length) {
        out.push(this.topUp(packs));
      }
      return out;
    }

    // packs lists the packs in the balance's currency, when a top-up can
    // happen: the server has a payment provider or the host gave a
    // checkout-url, and no-topup is not set.
    packs(cur) {
      if (this.hasAttribute("no-topup")) {
        return [];
      }
      var cfg = this.config || {};
      if (!cfg.checkout && !this.getAttribute("checkout-url")) {
        return [];
      }
      return (cfg.packs || []).filter(function (p) { return !p.currency || p.currency === cur; });
    }

    topUp(packs) {
      var box = h("div", { class: "actions", part: "actions" });
      var open = () => {
        if (packs.length === 1) {
          this.choose(packs[0]);
          return;
        }
        box.textContent = "";
        var list = h("ul", { class: "packs", part: "packs", "aria-label": this.t("chooseTopUp") });
        packs.forEach((p) => {
          list.appendChild(h("li", null, h("button", { type: "button", part: "pack-button", "data-pack": p.name, onclick: () => { this.choose(p); } },
            this.t("packOffer", { name: p.name, credits: this.num(p.gives, p.currency), price: this.money(p.price_minor, p.price_currency) }))));
        });
        list.appendChild(h("li", null, h("button", { type: "button", class: "icon", onclick: () => { this.show(); } }, this.t("cancel"))));
        box.appendChild(list);
        var first = list.querySelector("button");
        if (first) {
          first.focus();
        }
      };
      box.appendChild(h("button", { type: "button", class: "primary topup", part: "topup-button", onclick: open }, this.t("topUp")));
      return box;
    }

    // choose tells the host which pack the customer picked (creditkit-topup,
    // cancelable) and, unless the host prevented it, goes to checkout-url.
    choose(pack) {
      var url = this.getAttribute("checkout-url");
      var target = url ? url.replace(/\{pack\}/g, encodeURIComponent(pack.name)).replace(/\{customer\}/g, encodeURIComponent(this.customer)) : "";
      if (url && target === url) {
        var u = new URL(url, window.location.href);
        u.searchParams.set("pack", pack.name);
        target = u.href;
      }
      if (target && !/^https?:$/.test(new URL(target, window.location.href).protocol)) {
        console.warn("creditkit: checkout-url must be an http(s) URL, not " + url);
        target = "";
      }
      var go = this.emit("creditkit-topup", { customer: this.customer, pack: pack.name, gives: pack.gives, currency: pack.currency,
        price_minor: pack.price_minor, price_currency: pack.price_currency, url: target || null });
      if (go && target) {
        window.location.assign(target);
      }
    }
  }

  // ----------------------------------------------------------- utilization

  class UtilizationElement extends CreditKitElement {
    get titleKey() { return "utilization"; }
    get kind() { return "utilization"; }

    // fetchData reads the current period (the subscription's, or else the
    // calendar month in UTC), the grants that started in it and the usage
    // charged in it.
    fetchData(signal) {
      return this.get("/subscription", {}, signal).catch(function (err) {
        if (err instanceof ApiError && (err.status === 404 || err.status === 422 || err.status === 400)) {
          return null;
        }
        throw err;
      }).then((sub) => {
        var start, end;
        if (sub && sub.period_start && sub.period_end && sub.status !== "canceled") {
          start = new Date(sub.period_start);
          end = new Date(sub.period_end);
        } else {
          var now = new Date();
          start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
          end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
          sub = null;
        }
        return Promise.all([
          this.fetchAll("/grants", {}, 5000, signal),
          this.get("/usage", { since: start.toISOString(), until: end.toISOString() }, signal)
        ]).then((r) => {
          var granted = 0;
          var currency = this.currency || (sub && sub.currency) || "";
          r[0].forEach(function (g) {
            var at = new Date(g.effective_at);
            if (g.status !== "voided" && at >= start && at < end) {
              granted = add(granted, g.amount);
              currency = currency || g.currency;
            }
          });
          var used = 0;
          ((r[1] && r[1].data) || []).forEach(function (row) { used = add(used, row.amount); });
          return { start: start, end: end, plan: sub ? sub.plan : "", status: sub ? sub.status : "",
            granted: granted, used: used, currency: currency };
        });
      }).catch((err) => this.notFoundAsEmpty(err));
    }

    isEmpty(u) {
      return !u || (u.granted === 0 && u.used === 0);
    }

    render(u) {
      // An amount the browser could not read: no sentence and no bar.
      var tooLarge = unreadable(u.used) || unreadable(u.granted);
      // The bar is approximate (doubles); the text is exact.
      var pct = u.granted > 0 ? Math.min(100, (approx(u.used) / approx(u.granted)) * 100) : 100;
      var fill = h("div", { class: "fill", part: "bar-fill" });
      fill.style.width = pct.toFixed(1) + "%"; // CSSOM, which a CSP allows
      var bar = tooLarge ? null : h("div", {
        class: "bar" + (u.used > u.granted ? " over" : ""), part: "bar", role: "progressbar",
        "aria-valuemin": 0, "aria-valuemax": String(u.granted), "aria-valuenow": String(u.used < u.granted ? u.used : u.granted),
        "aria-label": this.t("utilization")
      }, fill);
      var text = tooLarge ? this.t("tooLarge") : u.granted > 0
        ? this.t("usedOf", { used: this.num(u.used, u.currency), granted: this.num(u.granted, u.currency), currency: u.currency })
        : this.t("usedNoGrant", { used: this.num(u.used, u.currency), currency: u.currency });
      var last = new Date(u.end.getTime() - 1);
      return [
        h("div", { class: "value", part: "value", "data-used": dataAmount(u.used), "data-granted": dataAmount(u.granted),
          "data-too-large": tooLarge }, text),
        bar,
        h("div", { class: "sub", part: "period" },
          this.t("periodRange", { start: this.date(u.start), end: this.date(last) }),
          u.plan ? " · " + this.t("plan", { plan: u.plan }) : "")
      ];
    }
  }

  // ---------------------------------------------------------------- grants

  class GrantsElement extends CreditKitElement {
    static get extraAttributes() { return ["status", "limit"]; }
    get titleKey() { return "grants"; }
    get kind() { return "grants"; }

    fetchData(signal) {
      var limit = Number(this.getAttribute("limit")) || 50;
      return this.fetchAll("/grants", { status: this.getAttribute("status") || "" }, 5000, signal)
        .then(function (gs) { return gs.reverse().slice(0, limit); }) // newest first
        .catch((err) => this.notFoundAsEmpty(err));
    }

    isEmpty(gs) {
      return !gs || gs.length === 0;
    }

    render(gs) {
      var rows = gs.map((g) => h("tr", { "data-grant": g.id, "data-remaining": dataAmount(g.remaining), "data-amount": dataAmount(g.amount), part: "row" },
        h("td", null, this.t("source_" + g.source) === "source_" + g.source ? g.reason || g.source : this.t("source_" + g.source),
          h("div", { class: "sub" }, this.date(g.effective_at))),
        h("td", { class: "num" }, this.num(g.remaining, g.currency), h("div", { class: "sub" }, "/ " + this.num(g.amount, g.currency))),
        h("td", null, g.expires_at ? this.date(g.expires_at) : this.t("never")),
        h("td", null, h("span", { class: "tag " + g.status }, this.t("status_" + g.status)))));
      return h("div", { class: "wrap" }, h("table", { part: "table" },
        h("thead", null, h("tr", null, h("th", null, this.t("source")), h("th", { class: "num" }, this.t("remaining")),
          h("th", null, this.t("expires")), h("th", null, this.t("status")))),
        h("tbody", null, rows)));
    }
  }

  // --------------------------------------------------------------- history

  class HistoryElement extends CreditKitElement {
    static get extraAttributes() { return ["limit", "type"]; }
    get titleKey() { return "history"; }
    get kind() { return "history"; }

    fetchData(signal) {
      var limit = Math.min(Number(this.getAttribute("limit")) || 20, 1000);
      return this.get("/ledger", { order: "desc", limit: limit, type: this.getAttribute("type") || "" }, signal)
        .then(function (page) { return { entries: (page && page.data) || [], next: page && page.next_cursor || "" }; })
        .catch((err) => this.notFoundAsEmpty(err));
    }

    isEmpty(d) {
      return !d || d.entries.length === 0;
    }

    more(button) {
      var d = this.data;
      var limit = Math.min(Number(this.getAttribute("limit")) || 20, 1000);
      button.disabled = true;
      this.get("/ledger", { order: "desc", limit: limit, cursor: d.next, type: this.getAttribute("type") || "" })
        .then((page) => {
          if (this.data !== d) {
            return;
          }
          d.entries = d.entries.concat((page && page.data) || []);
          d.next = (page && page.next_cursor) || "";
          this.show();
        }, (err) => { this.fail(err); });
    }

    describe(e) {
      if (e.description) {
        return e.description;
      }
      if (e.operation) {
        return e.operation;
      }
      var t = this.t("type_" + e.type);
      return t === "type_" + e.type ? e.category : t;
    }

    render(d) {
      var rows = d.entries.map((e) => h("tr", { "data-entry": e.id, "data-amount": dataAmount(e.amount), part: "row" },
        h("td", null, this.describe(e), h("div", { class: "sub" }, this.date(e.occurred_at || e.at, true))),
        h("td", { class: "num " + (e.amount < 0 ? "neg" : "pos") }, this.signed(e.amount, e.currency)),
        h("td", { class: "num" }, this.num(e.balance_after, e.currency))));
      var out = [h("div", { class: "wrap" }, h("table", { part: "table" },
        h("thead", null, h("tr", null, h("th", null, this.t("activity")), h("th", { class: "num" }, this.t("amount")),
          h("th", { class: "num" }, this.t("balanceAfter")))),
        h("tbody", null, rows)))];
      if (d.next) {
        var btn = h("button", { type: "button", class: "more", part: "more-button" }, this.t("more"));
        btn.addEventListener("click", () => { this.more(btn); });
        out.push(h("div", { class: "actions" }, btn));
      }
      return out;
    }
  }

  // ----------------------------------------------------------- usage chart

  var RANGES = { "7d": 7, "30d": 30, "90d": 90 };

  class UsageChartElement extends CreditKitElement {
    static get extraAttributes() { return ["range"]; }
    get titleKey() { return "usage"; }
    get kind() { return "usage"; }

    controls() {
      this.select = h("select", { part: "range-select", class: "range" });
      Object.keys(RANGES).forEach((k) => { this.select.appendChild(h("option", { value: k })); });
      this.select.addEventListener("change", () => { this.setAttribute("range", this.select.value); });
      return this.select;
    }

    relabel() {
      super.relabel();
      this.select.setAttribute("aria-label", this.t("range"));
      Array.prototype.forEach.call(this.select.options, (o) => { o.textContent = this.t("range_" + o.value); });
      this.select.value = this.range;
    }

    attributeChangedCallback(name, oldValue, newValue) {
      if (name === "range" && this.select) {
        this.select.value = this.range;
      }
      super.attributeChangedCallback(name, oldValue, newValue);
    }

    connectedCallback() {
      super.connectedCallback();
      // Redraw at the new width when the widget is resized.
      if (window.ResizeObserver && !this.resizer) {
        var width = 0;
        this.resizer = new ResizeObserver(() => {
          var w = Math.round(this.body.clientWidth);
          if (Math.abs(w - width) >= 16 && this.state === "loaded") {
            width = w;
            this.show();
          }
        });
      }
      if (this.resizer) {
        this.resizer.observe(this.body);
      }
    }

    disconnectedCallback() {
      super.disconnectedCallback();
      if (this.resizer) {
        this.resizer.disconnect();
      }
    }

    get range() {
      var r = this.getAttribute("range");
      return RANGES[r] ? r : "30d";
    }

    // fetchData reads the usage by operation and day (UTC) over the range,
    // today included.
    fetchData(signal) {
      var days = RANGES[this.range];
      var today = utcDay(new Date());
      var since = new Date(today.getTime() - (days - 1) * 86400000);
      var until = new Date(today.getTime() + 86400000);
      return this.get("/usage", { by: "operation", interval: "day", since: since.toISOString(), until: until.toISOString() }, signal)
        .then(function (page) { return { since: since, days: days, rows: (page && page.data) || [] }; })
        .catch((err) => this.notFoundAsEmpty(err));
    }

    isEmpty(d) {
      return !d || d.rows.length === 0;
    }

    render(d) {
      var cur = this.currency || (this.config && this.config.currencies && this.config.currencies[0] && this.config.currencies[0].name) || "";
      // Operations, largest first, so that colors follow importance.
      var totals = {};
      var perDay = {};
      d.rows.forEach(function (r) {
        var op = r.operation || r.reason || "other";
        var day = String(r.start).slice(0, 10);
        totals[op] = add(totals[op], r.amount);
        perDay[day] = perDay[day] || {};
        perDay[day][op] = add(perDay[day][op], r.amount);
      });
      // Amounts are numbers or BigInts, which compare exactly (not subtract).
      var ops = Object.keys(totals).sort(function (a, b) {
        var x = totals[a], y = totals[b];
        return y > x ? 1 : y < x ? -1 : a < b ? -1 : 1;
      });
      var days = [];
      for (var i = 0; i < d.days; i++) {
        days.push(new Date(d.since.getTime() + i * 86400000).toISOString().slice(0, 10));
      }
      var max = 0;
      days.forEach(function (day) {
        var sum = 0;
        ops.forEach(function (op) { sum = add(sum, perDay[day] && perDay[day][op]); });
        max = larger(max, sum);
      });
      // Drawn at the width it has, so that text keeps its size.
      var W = Math.max(240, Math.round(this.body.clientWidth || 600)), H = 180, left = 44, bottom = 20, top = 8;
      var plotW = W - left, plotH = H - bottom - top;
      var slot = plotW / days.length;
      var barW = Math.max(1, slot * 0.7);
      var total = 0;
      ops.forEach(function (op) { total = add(total, totals[op]); });
      var svg = s("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", part: "chart",
        "aria-label": this.t("chartSummary", { total: this.num(total, cur), days: d.days }) });
      svg.appendChild(s("line", { class: "axis", x1: left, y1: top + plotH, x2: W, y2: top + plotH }));
      svg.appendChild(s("text", { x: left - 6, y: top + 4, "text-anchor": "end", "dominant-baseline": "hanging" }, this.num(max, cur)));
      svg.appendChild(s("text", { x: left - 6, y: top + plotH, "text-anchor": "end" }, "0"));
      var dayFmt = new Intl.DateTimeFormat(this.locale, { month: "short", day: "numeric", timeZone: "UTC" });
      days.forEach((day, i) => {
        var x = left + i * slot + (slot - barW) / 2;
        var y = top + plotH;
        ops.forEach((op, k) => {
          var v = amount(perDay[day] && perDay[day][op]);
          if (v === 0) {
            return;
          }
          // Heights are approximate (doubles); the bar's title is exact.
          var bh = approx(max) > 0 ? (approx(v) / approx(max)) * plotH : 0;
          y -= bh;
          svg.appendChild(s("rect", { class: "seg s" + (k % 8), x: x.toFixed(2), y: y.toFixed(2), width: barW.toFixed(2),
            height: Math.max(bh, 0.5).toFixed(2), "data-day": day, "data-operation": op, "data-amount": dataAmount(v) },
          s("title", null, dayFmt.format(new Date(day + "T00:00:00Z")) + " · " + op + ": " + this.num(v, cur))));
        });
        if (i === 0 || i === days.length - 1 || (days.length > 10 && i === Math.floor(days.length / 2))) {
          svg.appendChild(s("text", { x: (left + i * slot + slot / 2).toFixed(2), y: H - 4,
            "text-anchor": i === 0 ? "start" : i === days.length - 1 ? "end" : "middle" }, dayFmt.format(new Date(day + "T00:00:00Z"))));
        }
      });
      var legend = h("ul", { class: "legend", part: "legend" }, ops.map((op, k) =>
        h("li", { "data-operation": op, "data-total": dataAmount(totals[op]) }, h("span", { class: "sw s" + (k % 8) }), op + " ",
          h("b", null, this.num(totals[op], cur)))));
      return [svg, legend];
    }
  }

  customElements.define("creditkit-balance", BalanceElement);
  customElements.define("creditkit-utilization", UtilizationElement);
  customElements.define("creditkit-grants", GrantsElement);
  customElements.define("creditkit-history", HistoryElement);
  customElements.define("creditkit-usage-chart", UsageChartElement);

  // The page's handle on the widgets: labels for more languages, and a
  // refresh of every widget (after the app spent credits, say).
  window.CreditKit = {
    version: VERSION,
    labels: labels,
    defineLabels: function (lang, set) {
      labels[String(lang).toLowerCase()] = Object.assign({}, labels[String(lang).toLowerCase()] || {}, set);
      document.querySelectorAll("creditkit-balance,creditkit-utilization,creditkit-grants,creditkit-history,creditkit-usage-chart")
        .forEach(function (el) {
          el.relabel();
          if (el.data !== null) {
            el.show();
          }
        });
    },
    refreshAll: function () {
      window.dispatchEvent(new Event(REFRESH_EVENT));
    }
  };
})();
