// hela's web UI: one page, no dependencies. Every call to the server carries the key the
// login page stored for this tab; data is put into the page as text, never as markup.
"use strict";

// ---- the server -------------------------------------------------------------------------

const AUTH_KEY = "hela.authorization";

class Refused extends Error {}

/** The headers of every call: the key, and the mark that the page makes it (a refusal
 *  then carries no browser password prompt). */
function pageHeaders() {
  const headers = { "x-hela-page": "1" };
  const authorization = sessionStorage.getItem(AUTH_KEY);
  if (authorization) headers.Authorization = authorization;
  return headers;
}

/** Calls the server; a refusal of the key shows the login page. */
async function api(path, body) {
  const headers = { ...pageHeaders(), Accept: "application/json" };
  const options = { headers };
  if (body !== undefined) {
    options.method = "POST";
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 401) {
    showLogin("The server did not accept the key: sign in again.");
    throw new Refused("unauthenticated");
  }
  const text = await response.text();
  let value;
  try { value = JSON.parse(text); } catch { value = { error: { reason: text } }; }
  if (!response.ok) {
    const reason = (value.error && value.error.reason) || response.statusText;
    throw new Error(reason);
  }
  return value;
}

// ---- the page's pieces ------------------------------------------------------------------

/** An element with attributes (`on…` handlers, `class`, others as attributes) and children. */
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "class") element.className = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attributes, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, value);
  for (const child of children) element.append(child);
  return element;
}

const view = () => document.getElementById("view");
function show(...children) { view().replaceChildren(...children); }
function failure(error) { return h("p", { class: "error", role: "alert" }, error.message || String(error)); }
function text(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}
function level(name) { return h("span", { class: `level ${name || ""}` }, name || "?"); }
function basename(path) { return String(path || "?").split(/[\\/]/).pop(); }

// ---- the time range every query obeys ---------------------------------------------------

const RELATIVE = { "15m": 9e5, "1h": 3.6e6, "24h": 8.64e7, "7d": 6.048e8, "30d": 2.592e9, "1y": 3.1536e10 };
let range = { name: "all" };

/** The range as the server takes it: `from` and `to`, ISO times, either left open. */
function timeRange() {
  if (range.name === "custom") return { from: range.from, to: range.to };
  if (RELATIVE[range.name]) return { from: new Date(Date.now() - RELATIVE[range.name]).toISOString() };
  return {};
}
function rangeParams(params) {
  params.set("range", range.name);
  if (range.name === "custom") { params.set("from", range.from); params.set("to", range.to); }
}
function readRange(params) {
  const name = params.get("range") || "all";
  range = name === "custom" && params.get("from") && params.get("to")
    ? { name, from: params.get("from"), to: params.get("to") } : { name: RELATIVE[name] ? name : "all" };
  showRange();
}
function showRange() {
  document.getElementById("range").value = range.name;
  const custom = document.getElementById("custom-range");
  custom.hidden = range.name !== "custom";
  if (range.name === "custom") {
    document.getElementById("range-from").value = range.from.slice(0, 19);
    document.getElementById("range-to").value = range.to.slice(0, 19);
  }
}
function setRange(next) {
  range = next;
  showRange();
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  rangeParams(params);
  navigate(currentPage(), params, true);
}
function utc(local) { return local ? new Date(local + (local.length === 16 ? ":00" : "") + "Z").toISOString() : null; }

// ---- routing ----------------------------------------------------------------------------

const PAGES = { discover, detections, process: processPage, dashboards, playbooks };
let leaving = () => {};

function currentPage() { return (location.hash.match(/^#\/(\w+)/) || [])[1] || "discover"; }
function navigate(page, params, replace) {
  const hash = `#/${page}${params && [...params].length ? "?" + params : ""}`;
  if (replace) history.replaceState(null, "", hash); else history.pushState(null, "", hash);
  route();
}
let routed = null;
function route() {
  routed = location.hash;
  leaving();
  leaving = () => {};
  const page = currentPage();
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  readRange(params);
  for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("current", link.dataset.page === page);
  (PAGES[page] || discover)(params);
}

// ---- login ------------------------------------------------------------------------------

function showLogin(message) {
  leaving();
  leaving = () => {};
  sessionStorage.removeItem(AUTH_KEY);
  document.getElementById("nav").hidden = true;
  document.getElementById("timepicker").hidden = true;
  document.getElementById("signout").hidden = true;
  let mode = "apikey";
  const fields = h("div");
  const tabs = ["apikey", "basic"].map((name) => h("button", {
    type: "button", role: "tab", "aria-selected": String(name === mode),
    onclick: () => { mode = name; tabs.forEach((t, i) => t.setAttribute("aria-selected", String(["apikey", "basic"][i] === mode))); draw(); },
  }, name === "apikey" ? "API key" : "Name and secret"));
  const draw = () => fields.replaceChildren(...(mode === "apikey"
    ? [h("label", { for: "login-key" }, "API key (as `hela apikey add` printed it)"), h("input", { id: "login-key", type: "password", autocomplete: "off", required: true })]
    : [h("label", { for: "login-name" }, "Key name"), h("input", { id: "login-name", autocomplete: "username", required: true }),
       h("label", { for: "login-secret" }, "Secret"), h("input", { id: "login-secret", type: "password", autocomplete: "current-password", required: true })]));
  draw();
  const note = h("p", { class: "error", id: "login-message", role: "alert" }, message || "");
  const form = h("form", { class: "login", onsubmit: async (event) => {
    event.preventDefault();
    const authorization = mode === "apikey"
      ? `ApiKey ${document.getElementById("login-key").value.trim()}`
      : `Basic ${btoa(`${document.getElementById("login-name").value}:${document.getElementById("login-secret").value}`)}`;
    sessionStorage.setItem(AUTH_KEY, authorization);
    try {
      await api("/_hela/ui/schema");
      start();
    } catch (error) {
      if (!(error instanceof Refused)) note.textContent = error.message;
    }
  } },
  h("h2", {}, "Sign in to hela"),
  h("p", { class: "muted" }, "This server needs an API key with the read role."),
  h("div", { class: "tabs", role: "tablist" }, tabs), fields, note,
  h("button", { class: "primary", type: "submit" }, "Sign in"));
  show(form);
  form.querySelector("input").focus();
}

// ---- the SQL editor ---------------------------------------------------------------------

const KEYWORDS = new Set(("select from where group by order having limit offset join left right full outer inner cross on as and or not in is null " +
  "like ilike rlike between case when then else end distinct union all with asc desc count sum avg min max lateral view explode cast " +
  "true false exists interval over partition window create temporary or replace").split(" "));

function tokens(sql) {
  const pattern = /(--[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?)|(`[^`]*`?)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][\w]*)|([\s\S])/g;
  const out = [];
  let match;
  while ((match = pattern.exec(sql))) {
    const [whole, comment, string, quoted, number, word] = match;
    const kind = comment ? "com" : string ? "str" : quoted ? "id" : number ? "num" : word && KEYWORDS.has(word.toLowerCase()) ? "kw" : "";
    out.push({ text: whole, kind, at: match.index });
  }
  return out;
}

/** A textarea with highlighting drawn behind it, completion, Ctrl+Enter to run, and an
 *  error's position marked. */
function sqlEditor(initial, onRun, names) {
  const shade = h("pre", { "aria-hidden": "true" });
  const area = h("textarea", { id: "sql", spellcheck: "false", "aria-label": "Spark SQL", rows: 3 });
  const menu = h("div", { class: "completion", hidden: true, role: "listbox" });
  const box = h("div", { class: "editor" }, shade, area, menu);
  let mark = null;
  let choices = [];
  let active = 0;
  area.value = initial;
  const paint = () => {
    const parts = [];
    for (const token of tokens(area.value)) {
      const end = token.at + token.text.length;
      const marked = mark && token.at < mark.end && end > mark.start;
      const className = [token.kind && `tok-${token.kind}`, marked && "tok-err"].filter(Boolean).join(" ");
      parts.push(className ? h("span", { class: className }, token.text) : token.text);
    }
    parts.push("\n");
    shade.replaceChildren(...parts);
    area.style.height = "auto";
    area.style.height = `${Math.max(64, area.scrollHeight)}px`;
  };
  const word = () => {
    const before = area.value.slice(0, area.selectionStart);
    const found = before.match(/[\w@.]+$/);
    return found ? found[0] : "";
  };
  const complete = () => {
    const typed = word();
    const last = typed.split(".").pop().toLowerCase();
    if (!typed || area.selectionStart !== area.selectionEnd || last.length < 1) { menu.hidden = true; return; }
    const seen = new Set();
    choices = names().filter((n) => n.name.toLowerCase().startsWith(last) && n.name.toLowerCase() !== last && !seen.has(n.name) && seen.add(n.name)).slice(0, 12);
    active = 0;
    if (!choices.length) { menu.hidden = true; return; }
    menu.replaceChildren(...choices.map((choice, i) => h("div", { role: "option", class: i === active ? "active" : "", onmousedown: (e) => { e.preventDefault(); accept(i); } },
      h("span", {}, choice.name), h("small", {}, choice.kind))));
    menu.style.left = "8px";
    menu.style.top = `${area.offsetHeight}px`;
    menu.hidden = false;
  };
  const accept = (i) => {
    const typed = word().split(".").pop();
    const choice = choices[i].name;
    const quoted = /^[A-Za-z_]\w*$/.test(choice) ? choice : "`" + choice + "`";
    const at = area.selectionStart;
    area.setRangeText(quoted, at - typed.length, at, "end");
    menu.hidden = true;
    paint();
  };
  area.addEventListener("input", () => { mark = null; paint(); complete(); });
  area.addEventListener("blur", () => { menu.hidden = true; });
  area.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") { event.preventDefault(); menu.hidden = true; onRun(); return; }
    if (menu.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : choices.length - 1)) % choices.length;
      [...menu.children].forEach((c, i) => c.classList.toggle("active", i === active));
    } else if (event.key === "Tab" || event.key === "Enter") { event.preventDefault(); accept(active); }
    else if (event.key === "Escape") menu.hidden = true;
  });
  paint();
  return {
    element: box,
    get value() { return area.value; },
    set value(sql) { area.value = sql; mark = null; paint(); },
    /** Marks where an error message says the SQL went wrong. */
    markError(message) {
      mark = errorSpan(area.value, message);
      paint();
    },
    focus() { area.focus(); },
  };
}

/** The characters of `sql` an error message points at: a parser's line and column, or the
 *  first place the name it complains about appears. */
function errorSpan(sql, message) {
  const position = message.match(/Line: (\d+), Column: (\d+)/);
  if (position) {
    const lines = sql.split("\n");
    const line = Math.min(+position[1], lines.length) - 1;
    const start = lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0) + Math.max(0, +position[2] - 1);
    const rest = sql.slice(start).match(/^[\w`'"]+|^./);
    return { start, end: start + (rest ? rest[0].length : 1) };
  }
  if (/found: EOF/.test(message)) return { start: Math.max(0, sql.trimEnd().length - 1), end: sql.trimEnd().length };
  const named = message.match(/unknown column `([^`]+)`|No field named ["`]?([\w@.]+)|table `([^`]+)` not found|table '([\w.]+)' not found|Invalid function '(\w+)'/i);
  if (named) {
    const name = named.slice(1).find(Boolean).split(".").pop();
    const at = sql.toLowerCase().indexOf(name.toLowerCase());
    if (at >= 0) return { start: at, end: at + name.length };
  }
  return null;
}

let schemaNames = [];
let tableNames = [];
async function loadSchema() {
  const schema = await api("/_hela/ui/schema");
  schemaNames = [];
  tableNames = schema.tables.map((t) => t.name);
  for (const table of schema.tables) {
    schemaNames.push({ name: table.name, kind: "table" });
    for (const column of table.columns) schemaNames.push({ name: column.name.split(".").pop(), kind: column.type.length > 14 ? "nested" : column.type });
  }
  for (const keyword of KEYWORDS) schemaNames.push({ name: keyword.toUpperCase(), kind: "keyword" });
}

// ---- Discover ---------------------------------------------------------------------------

const PAGE = 50;

/** The newest events first: of `events`, or of the first table on a lake without it (HELK's). */
function defaultSql() {
  const table = tableNames.includes("events") || !tableNames.length ? "events" : tableNames[0];
  return `SELECT * FROM ${table} ORDER BY \`@timestamp\` DESC`;
}

function discover(params) {
  const state = { sql: params.get("sql") || defaultSql(), filter: params.get("filter") || "", offset: 0, columns: [], shown: new Set(), run: 0 };
  const editor = sqlEditor(state.sql, () => run(true), () => schemaNames);
  const filter = h("input", { id: "filter", class: "filter", placeholder: "Quick filter: Image:*powershell* NOT User:\"NT AUTHORITY\\\\SYSTEM\" EventID:>4000  (press / to focus)",
    "aria-label": "Quick filter", value: state.filter, onkeydown: (e) => { if (e.key === "Enter") run(true); } });
  const saved = h("select", { id: "saved-queries", "aria-label": "Saved queries", onchange: () => openSaved() }, h("option", { value: "" }, "Saved queries…"));
  const saveName = h("input", { id: "save-name", placeholder: "Name to save as", "aria-label": "Name to save the query as", hidden: true,
    onkeydown: (e) => { if (e.key === "Enter") saveQuery(); if (e.key === "Escape") saveName.hidden = true; } });
  const count = h("span", { class: "count", id: "count" });
  const sqlShown = h("code", { id: "sql-run" });
  const message = h("div", { id: "message" });
  const histogram = h("div", { id: "histogram" });
  const sidebar = h("div", { class: "sidebar", id: "fields", "aria-label": "Fields" });
  const results = h("div", { class: "results", id: "results" });
  const pager = h("div", { class: "pager", id: "pager" });
  let savedQueries = [];

  const scope = () => ({ sql: editor.value, filter: filter.value, ...timeRange() });
  const shareable = () => {
    const params = new URLSearchParams();
    params.set("sql", editor.value);
    if (filter.value) params.set("filter", filter.value);
    rangeParams(params);
    return params;
  };

  async function run(fromUser) {
    if (fromUser) history.replaceState(null, "", `#/discover?${shareable()}`);
    const ticket = ++state.run;
    state.offset = 0;
    state.columns = [];  // the fields' top values are of the result before: drawn again
    message.replaceChildren();
    count.textContent = "…";
    sqlShown.textContent = "";
    histogram.replaceChildren(h("p", { class: "muted" }, "Counting over time…"));
    results.replaceChildren(h("p", { class: "muted" }, "Running…"));
    const asked = scope();
    loadPage(ticket, asked);
    api("/_hela/ui/count", asked).then((answer) => {
      if (ticket !== state.run) return;
      count.textContent = `${answer.count.toLocaleString("en")} rows`;
      count.dataset.count = answer.count;
      state.total = answer.count;
      drawPager();
    }).catch((error) => { if (ticket === state.run) count.textContent = "—"; });
    api("/_hela/ui/histogram", asked).then((answer) => {
      if (ticket === state.run) histogram.replaceChildren(drawHistogram(answer));
    }).catch((error) => { if (ticket === state.run) histogram.replaceChildren(); });
  }

  async function loadPage(ticket, asked) {
    try {
      const page = await api("/_hela/ui/search", { ...asked, offset: state.offset, limit: PAGE });
      if (ticket !== state.run) return;
      sqlShown.textContent = page.sql;
      state.page = page;
      if (page.columns.join("\u0000") !== state.columns.join("\u0000")) {
        state.columns = page.columns;
        state.shown = new Set([...state.shown].filter((c) => page.columns.includes(c)));
        drawFields();
      }
      drawRows();
      drawPager();
    } catch (error) {
      if (error instanceof Refused || ticket !== state.run) return;
      results.replaceChildren();
      message.replaceChildren(failure(error));
      editor.markError(error.message);
      const where = error.message.match(/the filter at character (\d+)/);
      if (where) { filter.focus(); filter.setSelectionRange(+where[1] - 1, +where[1]); }
    }
  }

  function drawFields() {
    sidebar.replaceChildren(h("h3", {}, "Fields"), ...state.columns.map((column) => {
      const values = h("div", { class: "values", hidden: true });
      const field = h("div", { class: `field${state.shown.has(column) ? " shown" : ""}`, "data-field": column },
        h("button", { type: "button", class: "name", title: "Top values", "aria-expanded": "false", onclick: (e) => toggleValues(column, values, e.currentTarget) }, column),
        values);
      return field;
    }));
  }

  async function toggleValues(column, box, button) {
    if (!box.hidden) { box.hidden = true; button.setAttribute("aria-expanded", "false"); return; }
    box.hidden = false;
    button.setAttribute("aria-expanded", "true");
    box.replaceChildren(h("span", { class: "muted" }, "…"));
    try {
      const answer = await api("/_hela/ui/values", { ...scope(), field: column });
      const shown = state.shown.has(column);
      box.replaceChildren(
        ...answer.values.map((v) => h("div", { class: "value" },
          h("span", { class: "text", title: text(v.value) }, v.value === null ? "(no value)" : text(v.value)),
          h("span", { class: "muted" }, v.count),
          h("button", { type: "button", class: "filter-in", title: "Filter for this value", "aria-label": `Filter for ${column} = ${text(v.value)}`, onclick: () => addFilter(column, v.value, false) }, "+"),
          h("button", { type: "button", class: "filter-out", title: "Filter out this value", "aria-label": `Filter out ${column} = ${text(v.value)}`, onclick: () => addFilter(column, v.value, true) }, "−"))),
        h("button", { type: "button", class: "toggle-column", onclick: () => toggleColumn(column) }, shown ? "Remove column" : "Add as column"));
    } catch (error) {
      if (!(error instanceof Refused)) box.replaceChildren(failure(error));
    }
  }

  function toggleColumn(column) {
    if (state.shown.has(column)) state.shown.delete(column); else state.shown.add(column);
    drawFields();
    drawRows();
  }

  function addFilter(column, value, out) {
    const field = /^[\w@.]+$/.test(column) ? column : "`" + column + "`";
    const term = value === null ? `_exists_:${field}` : `${field}:"${String(typeof value === "object" ? JSON.stringify(value) : value).replace(/[\\"]/g, "\\$&")}"`;
    const negate = out !== (value === null);
    filter.value = [filter.value.trim(), `${negate ? "NOT " : ""}${term}`].filter(Boolean).join(" ");
    run(true);
  }

  function drawRows() {
    const page = state.page;
    if (!page) return;
    const columns = state.shown.size ? page.columns.filter((c) => state.shown.has(c)) : page.columns;
    const indexes = columns.map((c) => page.columns.indexOf(c));
    const body = h("tbody");
    page.rows.forEach((row, n) => {
      const object = Object.fromEntries(page.columns.map((c, i) => [c, row[i]]).filter(([, v]) => v !== null));
      const line = h("tr", { class: "row", tabindex: "0", "data-row": state.offset + n,
        onclick: () => toggle(), onkeydown: (e) => { if (e.key === "Enter") toggle(); } },
        indexes.map((i) => h("td", { title: text(row[i]) }, text(row[i]))));
      const guid = object.ProcessGuid || object.process_guid;
      const detail = h("tr", { class: "detail", hidden: true }, h("td", { colspan: columns.length },
        guid ? h("p", {}, h("a", { href: `#/process?guid=${encodeURIComponent(guid)}` }, "Process tree of this process")) : null,
        h("pre", { class: "event-json" }, JSON.stringify(object, null, 2))));
      const toggle = () => { detail.hidden = !detail.hidden; };
      body.append(line, detail);
    });
    results.replaceChildren(page.rows.length
      ? h("table", { class: "rows", id: "rows" }, h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c)))), body)
      : h("p", { class: "muted" }, "No rows."));
  }

  function drawPager() {
    const page = state.page;
    if (!page) return;
    const first = page.rows.length ? state.offset + 1 : 0;
    const last = state.offset + page.rows.length;
    const total = state.total !== undefined ? ` of ${state.total.toLocaleString("en")}` : "";
    pager.replaceChildren(
      h("button", { type: "button", id: "previous", disabled: state.offset === 0, onclick: () => turn(-PAGE) }, "← Previous"),
      h("span", {}, `rows ${first}–${last}${total}`),
      h("button", { type: "button", id: "next", disabled: !page.more, onclick: () => turn(PAGE) }, "Next →"));
  }

  function turn(by) {
    state.offset = Math.max(0, state.offset + by);
    loadPage(state.run, scope());
  }

  function drawHistogram(answer) {
    if (answer.absent) return h("p", { class: "muted" }, answer.absent);
    const width = 1000, height = 130, top = 8, bottom = 20;
    const from = answer.from_ms, to = Math.max(answer.to_ms, answer.from_ms + answer.interval_ms);
    const slots = Math.max(1, Math.ceil((to - from) / answer.interval_ms) + 1);
    const first = Math.floor(from / answer.interval_ms) * answer.interval_ms;
    const most = Math.max(1, ...answer.buckets.map((b) => b[1]));
    const slot = width / slots;
    const x = (ms) => ((ms - first) / answer.interval_ms) * slot;
    const svg = s("svg", { class: "histogram", id: "histogram-chart", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img",
      "aria-label": `Rows over time, one bar per ${interval(answer.interval_ms)}` });
    for (const [start, n] of answer.buckets) {
      const barHeight = ((height - top - bottom) * n) / most;
      const bar = s("rect", { class: "bar", x: x(start) + 0.5, y: height - bottom - barHeight, width: Math.max(1, slot - 1), height: Math.max(1, barHeight), "data-count": n, "data-start": start },
        s("title", {}, `${new Date(start).toISOString()}: ${n}`));
      svg.append(bar);
    }
    for (const at of [first, first + (slots * answer.interval_ms) / 2, first + slots * answer.interval_ms]) {
      const label = s("text", { x: Math.min(width - 110, Math.max(0, x(at) - 50)), y: height - 5 });
      label.textContent = new Date(at).toISOString().replace("T", " ").slice(0, 19);
      svg.append(label);
    }
    let dragging = null;
    const zoom = s("rect", { class: "zoom", y: 0, height: height - bottom, width: 0, x: 0 });
    const at = (event) => {
      const box = svg.getBoundingClientRect();
      return ((event.clientX - box.left) / box.width) * width;
    };
    svg.addEventListener("mousedown", (e) => { dragging = at(e); zoom.setAttribute("x", dragging); zoom.setAttribute("width", 0); svg.append(zoom); });
    svg.addEventListener("mousemove", (e) => {
      if (dragging === null) return;
      const now = at(e);
      zoom.setAttribute("x", Math.min(now, dragging));
      zoom.setAttribute("width", Math.abs(now - dragging));
    });
    svg.addEventListener("mouseup", (e) => {
      if (dragging === null) return;
      const [a, b] = [dragging, at(e)].sort((p, q) => p - q);
      dragging = null;
      zoom.remove();
      if (b - a < 3) return;
      const time = (px) => new Date(first + (px / slot) * answer.interval_ms).toISOString();
      setRange({ name: "custom", from: time(a), to: time(b) });
    });
    const total = answer.buckets.reduce((n, b) => n + b[1], 0);
    return h("div", {},
      h("div", { class: "muted", id: "histogram-caption" }, `${total.toLocaleString("en")} rows over time, one bar per ${interval(answer.interval_ms)}`,
        answer.untimed ? `; ${answer.untimed} without a time` : "", " · drag across the bars to zoom in"),
      svg);
  }

  async function loadSaved() {
    try {
      savedQueries = (await api("/_hela/ui/saved?kind=query")).objects;
      saved.replaceChildren(h("option", { value: "" }, "Saved queries…"), ...savedQueries.map((q, i) => h("option", { value: i }, q.name)));
    } catch { /* shown by the run */ }
  }
  function openSaved() {
    const query = savedQueries[+saved.value];
    if (!query) return;
    editor.value = query.body.sql || "";
    filter.value = query.body.filter || "";
    saved.value = "";
    run(true);
  }
  async function saveQuery() {
    if (saveName.hidden) { saveName.hidden = false; saveName.focus(); return; }
    const name = saveName.value.trim();
    if (!name) return;
    try {
      await api("/_hela/ui/saved", { kind: "query", name, body: { sql: editor.value, filter: filter.value } });
      saveName.hidden = true;
      saveName.value = "";
      message.replaceChildren(h("p", { class: "muted" }, `Saved as “${name}”.`));
      loadSaved();
    } catch (error) {
      if (!(error instanceof Refused)) message.replaceChildren(failure(error));
    }
  }

  const slash = (event) => {
    if (event.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) { event.preventDefault(); filter.focus(); }
  };
  document.addEventListener("keydown", slash);
  leaving = () => document.removeEventListener("keydown", slash);

  show(
    editor.element,
    h("div", { class: "toolbar" },
      h("button", { type: "button", class: "primary", id: "run", title: "Ctrl+Enter", onclick: () => run(true) }, "Run"),
      filter,
      h("button", { type: "button", id: "save", onclick: saveQuery }, "Save"), saveName, saved,
      h("button", { type: "button", id: "copy-link", onclick: () => navigator.clipboard && navigator.clipboard.writeText(location.href) }, "Copy link")),
    h("div", { class: "summary" }, count, sqlShown),
    message, histogram,
    h("div", { class: "discover-body" }, sidebar, h("div", {}, results, pager)));
  editor.focus();
  loadSaved();
  run(false);
}

function interval(ms) {
  const units = [[86400000, "day"], [3600000, "hour"], [60000, "minute"], [1000, "second"]];
  for (const [size, name] of units) if (ms >= size && ms % size === 0) return ms === size ? name : `${ms / size} ${name}s`;
  return `${ms} ms`;
}

// ---- Detections -------------------------------------------------------------------------

const STATES = ["new", "investigating", "closed"];

function detections(params) {
  let group = params.get("group") || "rule";
  let chosen = null;
  let listed = [];
  let groups = [];
  const groupBy = h("select", { id: "group-by", "aria-label": "Group by", onchange: () => { group = groupBy.value; chosen = null; load(); } },
    ...["rule", "host", "level"].map((g) => h("option", { value: g, selected: g === group }, `by ${g}`)));
  const status = h("span", { id: "live-status", class: "muted" });
  const groupList = h("div", { class: "groups", id: "groups" });
  const list = h("div", { class: "results", id: "detections" });
  const detail = h("div", { id: "detection" });
  const message = h("div");
  const key = (d) => ({ rule: d.rule_title, host: d.Hostname, level: d.level })[group];

  async function load() {
    try {
      const answer = await api("/_hela/ui/detections", { ...timeRange(), group });
      listed = answer.detections;
      groups = answer.groups;
      draw();
    } catch (error) {
      if (!(error instanceof Refused)) message.replaceChildren(failure(error));
    }
  }

  function draw(fresh) {
    const total = groups.reduce((n, g) => n + g.count, 0);
    groupList.replaceChildren(
      h("button", { type: "button", class: `group${chosen === null ? " current" : ""}`, onclick: () => { chosen = null; draw(); } }, h("span", {}, "All"), h("b", { id: "detections-total" }, total)),
      ...groups.map((g) => h("button", { type: "button", class: `group${chosen === g.key ? " current" : ""}`, "data-key": g.key ?? "",
        onclick: () => { chosen = g.key; draw(); } }, h("span", {}, group === "level" ? level(g.key) : text(g.key ?? "(none)")), h("b", {}, g.count))));
    const rows = listed.filter((d) => chosen === null || key(d) === chosen);
    list.replaceChildren(rows.length ? h("table", { class: "rows" },
      h("thead", {}, h("tr", {}, ["Time", "Level", "Rule", "Host", "Status"].map((c) => h("th", {}, c)))),
      h("tbody", {}, rows.map((d) => h("tr", { class: `row${fresh && fresh.has(d.detection_id) ? " fresh" : ""}`, tabindex: "0", "data-id": d.detection_id,
        onclick: () => open(d.detection_id), onkeydown: (e) => { if (e.key === "Enter") open(d.detection_id); } },
        h("td", {}, text(d["@timestamp"])), h("td", {}, level(d.level)), h("td", { class: "rule" }, text(d.rule_title)), h("td", {}, text(d.Hostname)),
        h("td", { class: "triage" }, d.triage || "new")))))
      : h("p", { class: "muted" }, "No detections in this time range."));
  }

  async function open(id) {
    detail.replaceChildren(h("p", { class: "muted" }, "…"));
    try {
      const answer = await api(`/_hela/ui/detection?id=${encodeURIComponent(id)}`);
      const d = answer.detection;
      const triage = h("select", { id: "triage", "aria-label": "Status", onchange: async () => {
        saved.textContent = "saving…";
        try {
          await api("/_hela/ui/triage", { detection_id: id, state: triage.value });
          saved.textContent = "saved";
          const item = listed.find((x) => x.detection_id === id);
          if (item) { item.triage = triage.value; draw(); }
        } catch (error) { if (!(error instanceof Refused)) saved.textContent = error.message; }
      } }, STATES.map((state) => h("option", { value: state, selected: state === d.triage }, state)));
      const saved = h("span", { class: "muted", id: "triage-saved" });
      const rule = answer.rule || {};
      const around = answer.around || [];
      detail.replaceChildren(h("div", { class: "detail-panel" },
        h("h2", {}, level(d.level), " ", text(d.rule_title)),
        h("p", {}, `${text(d["@timestamp"])} on ${text(d.Hostname)} · `, h("label", { for: "triage" }, "Status "), triage, " ", saved),
        h("h3", {}, "Event"), h("pre", { id: "detection-event" }, answer.event ? JSON.stringify(answer.event, null, 2) : "The event is not in the lake (yet)."),
        h("h3", {}, `Rule ${rule.path ? `(${rule.path})` : ""}`), h("pre", { id: "detection-rule" }, rule.yaml || rule.missing || "No rule file."),
        h("h3", {}, `Events on ${text(d.Hostname)} within 5 minutes (${around.length})`,
          answer.around_sql ? h("a", { href: `#/discover?${new URLSearchParams({ sql: answer.around_sql, range: "all" })}`, style: "margin-left:10px;font-weight:normal" }, "open in Discover") : null),
        around.length ? h("table", { class: "rows", id: "around" }, h("thead", {}, h("tr", {}, ["Time", "EventID", "Channel", "Image / target", "Command line"].map((c) => h("th", {}, c)))),
          h("tbody", {}, around.map((e) => h("tr", {}, h("td", {}, text(e["@timestamp"])), h("td", {}, text(e.EventID)), h("td", {}, text(e.Channel)),
            h("td", {}, text(e.Image || e.TargetFilename || e.TargetUserName)), h("td", {}, text(e.CommandLine)))))) : null));
      detail.scrollIntoView({ block: "nearest" });
    } catch (error) {
      if (!(error instanceof Refused)) detail.replaceChildren(failure(error));
    }
  }

  // Alerts as the server delivers them: fetch's stream, so the key goes in a header.
  const stop = new AbortController();
  (async () => {
    try {
      const response = await fetch("/_hela/alerts", { headers: pageHeaders(), signal: stop.signal });
      if (response.status === 404) { status.textContent = "no rules stand on this server (hela serve --rules DIR)"; return; }
      if (!response.ok) { status.textContent = `live alerts unavailable (${response.status})`; return; }
      status.textContent = "● live";
      status.className = "live";
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n");
          if (/^event: ?alert$/m.test(event) && data) arrived(JSON.parse(data));
        }
      }
      status.textContent = "live alerts ended";
      status.className = "muted";
    } catch (error) {
      if (error.name !== "AbortError") { status.textContent = "live alerts interrupted"; status.className = "muted"; }
    }
  })();
  leaving = () => stop.abort();

  function arrived(alert) {
    if (listed.some((d) => d.detection_id === alert.detection_id)) return;
    alert.triage = "new";
    listed.unshift(alert);
    const k = key(alert);
    const known = groups.find((g) => g.key === k);
    if (known) known.count += 1; else groups.push({ key: k, count: 1 });
    groups.sort((a, b) => b.count - a.count);
    draw(new Set([alert.detection_id]));
  }

  show(h("div", { class: "toolbar" }, h("h2", { style: "margin:0" }, "Detections"), groupBy, status), message,
    h("div", { class: "split" }, groupList, h("div", {}, list, detail)));
  load();
}

// ---- Process tree -----------------------------------------------------------------------

function processPage(params) {
  const guid = params.get("guid");
  const query = h("input", { id: "process-search", placeholder: "Image or command line, e.g. wmiprvse", "aria-label": "Find a process", value: params.get("q") || "",
    onkeydown: (e) => { if (e.key === "Enter") find(); } });
  const found = h("div", { class: "found", id: "processes" });
  const tree = h("div", { class: "tree", id: "tree" });
  async function find() {
    found.replaceChildren(h("span", { class: "muted" }, "…"));
    try {
      const answer = await api(`/_hela/ui/processes?q=${encodeURIComponent(query.value)}`);
      found.replaceChildren(...(answer.processes.length ? answer.processes.map((p) => h("button", { type: "button", "data-guid": p.guid,
        onclick: () => navigate("process", new URLSearchParams({ guid: p.guid, q: query.value })) },
        h("b", {}, basename(p.image)), ` on ${text(p.host)} · ${p.time ? text(p.time) : "started before the logs"} · `, h("span", { class: "mono" }, text(p.command_line))))
        : [h("p", { class: "muted" }, "No process creation matches.")]));
    } catch (error) { if (!(error instanceof Refused)) found.replaceChildren(failure(error)); }
  }
  async function draw() {
    tree.replaceChildren(h("p", { class: "muted" }, "…"));
    try {
      const answer = await api(`/_hela/ui/process?guid=${encodeURIComponent(guid)}`);
      const byParent = new Map();
      const known = new Set(answer.processes.map((p) => p.guid));
      for (const p of answer.processes) {
        const parent = known.has(p.parent) ? p.parent : null;
        if (!byParent.has(parent)) byParent.set(parent, []);
        byParent.get(parent).push(p);
      }
      const branch = (parent) => h("ul", {}, (byParent.get(parent) || []).map((p) => h("li", {}, node(p, p.guid === guid), byParent.has(p.guid) ? branch(p.guid) : null)));
      tree.replaceChildren(h("p", { class: "muted" }, `${answer.processes.length} processes${answer.cut ? " (cut at the tree's bounds)" : ""}; dashed: known only as a parent`), branch(null));
    } catch (error) { if (!(error instanceof Refused)) tree.replaceChildren(failure(error)); }
  }
  function node(p, focus) {
    const activity = h("div", { class: "activity", hidden: true });
    return h("div", { class: `proc${focus ? " focus" : ""}${p.known ? "" : " unknown"}`, "data-guid": p.guid, "data-image": basename(p.image), tabindex: "0" },
      h("span", { class: "image" }, basename(p.image)),
      h("span", { class: "meta" }, [p.pid && `pid ${p.pid}`, p.user, p.host, p.time].filter(Boolean).join(" · ")),
      p.command_line ? h("div", { class: "cmd" }, text(p.command_line)) : null,
      p.known ? h("button", { type: "button", class: "show-activity", onclick: () => showActivity(p.guid, activity) }, "Network and files") : null,
      activity);
  }
  async function showActivity(id, box) {
    if (!box.hidden) { box.hidden = true; return; }
    box.hidden = false;
    box.replaceChildren("…");
    try {
      const answer = await api(`/_hela/ui/process/activity?guid=${encodeURIComponent(id)}`);
      box.replaceChildren(...(answer.events.length ? answer.events.map((e) => h("div", {}, describe(e))) : ["No network or file events of this process."]));
    } catch (error) { if (!(error instanceof Refused)) box.replaceChildren(failure(error)); }
  }
  show(h("h2", {}, "Process tree"), h("div", { class: "toolbar" }, query, h("button", { type: "button", id: "find", onclick: find }, "Find")), found, tree);
  if (query.value) find();
  if (guid) draw(); else query.focus();
}

/** One line for a Sysmon event of a process. */
function describe(e) {
  const id = +(e.EventID ?? e.event_id);
  const time = text(e["@timestamp"]);
  if (id === 3) return `${time} network ${text(e.Protocol)} ${text(e.SourceIp)}:${text(e.SourcePort)} → ${text(e.DestinationIp || e.DestinationHostname)}:${text(e.DestinationPort)}`;
  if ([2, 11, 15, 23, 26].includes(id)) return `${time} file (event ${id}) ${text(e.TargetFilename)}`;
  if ([12, 13, 14].includes(id)) return `${time} registry (event ${id}) ${text(e.TargetObject)}`;
  if (id === 22) return `${time} DNS ${text(e.QueryName)}`;
  return `${time} event ${id}`;
}

// ---- Dashboards -------------------------------------------------------------------------

function dashboards(params) {
  let all = [];
  let current = null;
  const pick = h("select", { id: "dashboard", "aria-label": "Dashboard", onchange: () => navigate("dashboards", new URLSearchParams({ name: pick.value })) });
  const grid = h("div", { class: "panels", id: "panels" });
  const form = h("div", { class: "panel-form" });
  async function load() {
    try {
      all = (await api("/_hela/ui/saved?kind=dashboard")).objects;
      const queries = (await api("/_hela/ui/saved?kind=query")).objects;
      current = all.find((d) => d.name === params.get("name")) || all[0];
      pick.replaceChildren(...all.map((d) => h("option", { value: d.name, selected: d === current }, d.name)));
      drawForm(queries);
      drawPanels();
    } catch (error) { if (!(error instanceof Refused)) grid.replaceChildren(failure(error)); }
  }
  function drawPanels() {
    grid.replaceChildren(...current.body.panels.map((panel) => {
      const box = h("div", { class: "panel" }, h("h3", {}, panel.title || panel.sql), h("span", { class: "muted" }, "…"));
      api("/_hela/ui/panel", { ...panel, ...timeRange() }).then((answer) => {
        box.lastChild.remove();
        if (answer.svg) {
          const image = h("img", { alt: panel.title || "chart", src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(answer.svg)}` });
          box.append(image);
        } else {
          box.append(h("table", { class: "rows" }, h("thead", {}, h("tr", {}, answer.columns.map((c) => h("th", {}, c)))),
            h("tbody", {}, answer.rows.map((r) => h("tr", {}, r.map((v) => h("td", {}, text(v))))))));
        }
      }).catch((error) => { if (!(error instanceof Refused)) { box.lastChild.remove(); box.append(failure(error)); } });
      return box;
    }));
  }
  function drawForm(queries) {
    const query = h("select", { "aria-label": "Saved query" }, queries.length ? queries.map((q, i) => h("option", { value: i }, q.name)) : h("option", { value: "" }, "(save a query in Discover first)"));
    const chart = h("select", { "aria-label": "Chart" }, ["bar", "line", "graph", "table"].map((c) => h("option", { value: c }, c)));
    const x = h("input", { placeholder: "x column", "aria-label": "x column", size: 10 });
    const y = h("input", { placeholder: "y column", "aria-label": "y column", size: 10 });
    const name = h("input", { placeholder: "Dashboard name", "aria-label": "Dashboard name", value: current.builtin ? "" : current.name });
    const note = h("span", { class: "muted" });
    const add = () => {
      const saved = queries[+query.value];
      if (!saved) return;
      const sql = saved.body.sql;
      const panel = { title: saved.name, chart: chart.value, sql, x: x.value || undefined, y: y.value || undefined };
      current = { name: current.name, body: { panels: [...current.body.panels, panel] } };
      drawPanels();
    };
    const save = async () => {
      if (!name.value.trim()) { note.textContent = "name the dashboard"; return; }
      try {
        await api("/_hela/ui/saved", { kind: "dashboard", name: name.value.trim(), body: current.body });
        note.textContent = "saved";
      } catch (error) { if (!(error instanceof Refused)) note.textContent = error.message; }
    };
    form.replaceChildren(h("span", {}, "Add a panel:"), query, chart, x, y, h("button", { type: "button", onclick: add }, "Add"), name,
      h("button", { type: "button", onclick: save }, "Save dashboard"), note);
  }
  show(h("div", { class: "toolbar" }, h("h2", { style: "margin:0" }, "Dashboards"), pick), form, grid);
  load();
}

// ---- Playbooks --------------------------------------------------------------------------

function playbooks() {
  const list = h("div", { id: "playbooks" });
  const report = h("div", { id: "report" });
  async function load() {
    try {
      const answer = await api("/_hela/ui/playbooks");
      list.replaceChildren(...(answer.playbooks.length ? answer.playbooks.map((p) => h("div", { class: "playbook" },
        h("button", { type: "button", class: "primary", "data-name": p.name, disabled: !!p.error, onclick: () => run(p.name) }, "Run"),
        h("b", {}, p.title || p.name), h("span", { class: "muted" }, p.error ? p.error : `${p.name} · ${p.blocks} SQL blocks`)))
        : [h("p", { class: "muted" }, "No playbooks in the directory.")]));
    } catch (error) { if (!(error instanceof Refused)) list.replaceChildren(failure(error)); }
  }
  async function run(name) {
    report.replaceChildren(h("p", { class: "muted" }, `Running ${name}…`));
    try {
      const answer = await api("/_hela/ui/playbooks/run", { name });
      report.replaceChildren(
        h("p", { id: "report-summary" }, `${answer.name}: ${answer.blocks} blocks; ${answer.held} expectations held, ${answer.unmet} not, ${answer.failed} failed`),
        h("iframe", { class: "report", sandbox: "", title: `Report of ${name}`, srcdoc: answer.report }));
    } catch (error) { if (!(error instanceof Refused)) report.replaceChildren(failure(error)); }
  }
  show(h("h2", {}, "Playbooks"), list, report);
  load();
}

// ---- start ------------------------------------------------------------------------------

async function start() {
  try {
    await loadSchema();
  } catch (error) {
    if (!(error instanceof Refused)) show(failure(error));
    return;
  }
  document.getElementById("nav").hidden = false;
  document.getElementById("timepicker").hidden = false;
  document.getElementById("signout").hidden = !sessionStorage.getItem(AUTH_KEY);
  route();
}

document.addEventListener("DOMContentLoaded", () => {
  const moved = () => { if (location.hash !== routed) route(); };
  window.addEventListener("popstate", moved);
  window.addEventListener("hashchange", moved);
  document.getElementById("range").addEventListener("change", (e) => {
    if (e.target.value === "custom") {
      const now = new Date();
      range = { name: "custom", from: new Date(now - 8.64e7).toISOString(), to: now.toISOString() };
      showRange();
      return;
    }
    setRange({ name: e.target.value });
  });
  document.getElementById("range-apply").addEventListener("click", () => {
    const from = utc(document.getElementById("range-from").value);
    const to = utc(document.getElementById("range-to").value);
    if (from && to) setRange({ name: "custom", from, to });
  });
  document.getElementById("signout").addEventListener("click", () => showLogin(""));
  start();
});
