// The editor's page: posts the article to /v1/annotate and shows the record, then lets the
// editor accept, reject and add tags and copy the accepted set for the CMS. Plain DOM code, no
// framework and no build step, so the binary can serve this file as it is.
"use strict";

const $ = (id) => document.getElementById(id);

// Builds an element with attributes and children (strings become text nodes, never HTML:
// everything shown comes from the article or the server and must not be parsed as markup).
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// ---- State ---------------------------------------------------------------------------------
// The editor's decisions, keyed by tag text in lower case so that they survive re-annotating
// (a tag that still applies keeps its decision; the server may change its rank or case).
const decisions = new Map(); // key -> {state: "accepted" | "rejected", tag: as shown when decided}
const stateOf = (k) => decisions.get(k)?.state;
let added = []; // the editor's own tags, in the order added (display form)
let suggestions = []; // the `tags` of the last record
let topics = []; // the `topics` of the last record
let pinnedTopic = null; // index of the topic clicked, whose evidence stays highlighted
let activeKey = null; // the tag row the keyboard is on
let exportFormat = "json"; // what the read-only box shows: the last format copied
let requestSeq = 0; // only the latest request may draw, if an older one answers late

const key = (tag) => tag.trim().toLowerCase();

// ---- API token -----------------------------------------------------------------------------
// Optional: a server started with --token-file wants `Authorization: Bearer`. sessionStorage
// keeps it for this tab only, never on disk across sessions.
const tokenInput = $("token");
tokenInput.value = sessionStorage.getItem("newstag-token") || "";
tokenInput.addEventListener("input", () => sessionStorage.setItem("newstag-token", tokenInput.value));

// ---- Annotating ----------------------------------------------------------------------------
$("article-form").addEventListener("submit", (event) => {
  event.preventDefault();
  annotate();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    annotate();
  }
});

function setStatus(message) {
  $("status").textContent = message;
}

function showError(kind, message) {
  const box = $("error");
  box.replaceChildren(el("strong", {}, `Error: ${kind}`), ` ${message}`);
  box.hidden = false;
  setStatus("");
}

async function annotate() {
  // No check here for an empty article: the server says what is wrong, as for any error.
  const text = $("body").value;
  const title = $("title").value.trim();
  const seq = ++requestSeq;
  $("error").hidden = true;
  setStatus("Annotating…");
  const started = performance.now();
  const headers = { "Content-Type": "application/json" };
  if (tokenInput.value.trim()) headers.Authorization = `Bearer ${tokenInput.value.trim()}`;
  let record;
  try {
    // Relative URL: the page works behind a reverse proxy that serves it under a prefix.
    const response = await fetch("v1/annotate", {
      method: "POST",
      headers,
      body: JSON.stringify({ id: title || "editor", title: title || null, text }),
    });
    const body = await response.json().catch(() => null);
    if (seq !== requestSeq) return;
    // Errors come as {"error": {"kind", "message"}}, both as HTTP errors and as a record
    // for an article that could not be annotated; show them as they are.
    if (!response.ok || !body || body.error) {
      const error = (body && body.error) || {};
      const kind = error.kind || `HTTP ${response.status}`;
      let message = error.message || response.statusText || "the server sent no JSON";
      if (response.status === 401) message += " (set the API token at the top right)";
      showError(kind, message);
      return;
    }
    record = body;
  } catch (err) {
    if (seq === requestSeq) showError("network", `could not reach the server: ${err.message}`);
    return;
  }
  render(record, text);
  const ms = Math.round(performance.now() - started);
  setStatus(
    `Annotated in ${ms} ms: ${record.entities.length} entities, ` +
      `${record.topics.length} topics, ${record.tags.length} tag suggestions.`,
  );
}

function render(record, text) {
  renderText(text, record);
  // A pinned topic stays pinned across re-annotations while the record still has it.
  const pinned = pinnedTopic === null ? null : topics[pinnedTopic].label;
  topics = record.topics || [];
  const again = topics.findIndex((t) => t.label === pinned);
  pinnedTopic = again < 0 ? null : again;
  renderTopics();
  showEvidence(pinnedTopic);
  renderNames(record);
  suggestions = record.tags || [];
  renderTags();
  $("annotated").hidden = false;
  $("panels").hidden = false;
}

// ---- The text with its entities and sentences ----------------------------------------------
const CATEGORIES = ["person", "place", "organization"];
const SHORT = { person: "person", place: "place", organization: "org" };

function renderText(text, record) {
  // Record offsets count Unicode code points; JS strings count UTF-16 units, which differ
  // after any emoji or other character outside the BMP. Array.from splits by code point,
  // so slicing it with the record's offsets gives exactly the spans the server meant.
  const cps = Array.from(text);
  const slice = (a, b) => cps.slice(a, b).join("");
  const entities = (record.entities || []).slice().sort((x, y) => x.start - y.start || y.end - x.end);

  // Draws [a, b) with its entities as <mark>s; an entity overlapping one already drawn is
  // cut to what is left, so the text always appears exactly once.
  function appendRange(parent, a, b) {
    let pos = a;
    for (const e of entities) {
      if (e.end <= pos || e.start >= b) continue;
      const s = Math.max(e.start, pos);
      const t = Math.min(e.end, b);
      if (s > pos) parent.append(slice(pos, s));
      const cat = CATEGORIES.includes(e.category) ? e.category : "other";
      parent.append(
        el("mark", {
          class: "ent",
          "data-cat": cat,
          "data-label": SHORT[cat] || e.category,
          title: `${e.category} (${e.label})`,
        }, slice(s, t)),
      );
      pos = t;
    }
    if (pos < b) parent.append(slice(pos, b));
  }

  // Sentences become spans (their index in data-s) so that a topic's evidence can light them
  // up; boilerplate (datelines, labels) is shown muted; whatever lies between stays plain.
  const blocks = [
    ...(record.sentences || []).map((s, i) => ({ start: s.start, end: s.end, sentence: i })),
    ...(record.boilerplate || []).map((b) => ({ start: b.start, end: b.end, kind: b.kind })),
  ].sort((x, y) => x.start - y.start);
  const box = $("text");
  box.replaceChildren();
  let pos = 0;
  for (const block of blocks) {
    if (block.start < pos) continue;
    appendRange(box, pos, block.start);
    const span = block.kind
      ? el("span", { class: "boiler", title: `boilerplate: ${block.kind}` })
      : el("span", { class: "sent", "data-s": block.sentence });
    appendRange(span, block.start, block.end);
    box.append(span);
    pos = block.end;
  }
  appendRange(box, pos, cps.length);
}

// ---- Topics --------------------------------------------------------------------------------
function renderTopics() {
  const list = $("topics");
  list.replaceChildren();
  topics.forEach((topic, i) => {
    const pct = Math.round(topic.score * 100);
    const button = el(
      "button",
      { type: "button", class: "topic", "data-topic": i, "aria-pressed": String(i === pinnedTopic),
        title: topic.code ? `${topic.path.join(" › ")} (${topic.code})` : topic.path.join(" › ") },
      el("span", { class: "topic-label" }, topic.label),
      topic.path.length > 1 ? el("span", { class: "topic-path" }, topic.path.slice(0, -1).join(" › ")) : null,
      el("span", { class: "meter", "aria-hidden": "true" }, el("span", { style: `width: ${pct}%` })),
      el("span", { class: "score" }, topic.score.toFixed(2)),
    );
    // Hover and focus preview a topic's evidence; a click pins it until clicked again.
    button.addEventListener("mouseenter", () => showEvidence(i));
    button.addEventListener("focus", () => showEvidence(i));
    button.addEventListener("mouseleave", () => showEvidence(pinnedTopic));
    button.addEventListener("blur", () => showEvidence(pinnedTopic));
    button.addEventListener("click", () => {
      pinnedTopic = pinnedTopic === i ? null : i;
      for (const b of list.querySelectorAll("button")) {
        b.setAttribute("aria-pressed", String(Number(b.dataset.topic) === pinnedTopic));
      }
      showEvidence(pinnedTopic ?? i);
      const first = document.querySelector("#text .sent.evidence");
      if (pinnedTopic !== null && first) first.scrollIntoView({ block: "nearest", behavior: "smooth" });
    });
    list.append(el("li", {}, button));
  });
  if (!topics.length) list.append(el("li", { class: "none" }, "No topic above the threshold."));
}

function showEvidence(i) {
  for (const s of document.querySelectorAll("#text .sent.evidence")) s.classList.remove("evidence");
  if (i === null || i === undefined || !topics[i]) return;
  for (const ev of topics[i].evidence || []) {
    const sentence = document.querySelector(`#text .sent[data-s="${ev.sentence}"]`);
    if (sentence) sentence.classList.add("evidence");
  }
}

// ---- Grouped names -------------------------------------------------------------------------
const regionNames = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "region" }) : null;

function country(code) {
  try {
    return (regionNames && regionNames.of(code)) || code;
  } catch {
    return code;
  }
}

function renderNames(record) {
  const groups = [
    ["People", "person", record.people],
    ["Places", "place", record.places],
    ["Organisations", "organization", record.organizations],
    ["Other", "other", [...(record.groups || []), ...(record.events || []), ...(record.other || [])]],
  ];
  const box = $("names");
  box.replaceChildren();
  for (const [heading, cat, names] of groups) {
    if (!names || !names.length) continue;
    const list = el("ul", {});
    for (const n of names) {
      let where = null;
      if (n.country_code) {
        // A country needs no country after it; a city or region does.
        where = n.feature === "country" ? `country, ${n.country_code}` : `${country(n.country_code)}, ${n.country_code}`;
      }
      list.append(
        el("li", {},
          el("span", { class: "ent", "data-cat": cat, "data-label": SHORT[cat] || "other" }, n.name),
          el("span", { class: "count", title: "mentions" }, ` ×${n.mentions}`),
          where ? el("span", { class: "country" }, ` ${where}`) : null),
      );
    }
    box.append(el("h3", {}, `${heading} (${names.length})`), list);
  }
  if (!box.children.length) box.append(el("p", { class: "none" }, "No names found."));
}

// ---- Tags ----------------------------------------------------------------------------------
// Rows shown: the server's suggestions in its rank order, then the tags the editor accepted that
// an edit and a re-annotation no longer suggest ("kept": an accepted tag never vanishes on its
// own), then the editor's own tags that are not also suggestions. A suggestion is "suggested"
// until decided; an added tag is accepted.
function rows() {
  const seen = new Set();
  const out = [];
  const own = new Set(added.map(key));
  for (const s of suggestions) {
    const k = key(s.tag);
    if (seen.has(k)) continue;
    seen.add(k);
    // A suggestion the editor had typed in themselves counts as accepted.
    out.push({ tag: s.tag, suggestion: s, state: stateOf(k) || (own.has(k) ? "accepted" : "suggested") });
  }
  for (const [k, { state, tag }] of decisions) {
    if (state !== "accepted" || seen.has(k) || own.has(k)) continue;
    seen.add(k);
    out.push({ tag, suggestion: null, state });
  }
  for (const tag of added) {
    if (seen.has(key(tag))) continue;
    seen.add(key(tag));
    out.push({ tag, suggestion: null, state: "added" });
  }
  return out;
}

function acceptedTags() {
  return rows().filter((r) => r.state === "accepted" || r.state === "added").map((r) => r.tag);
}

function renderTags() {
  const list = $("tags");
  const all = rows();
  if (!all.some((r) => key(r.tag) === activeKey)) activeKey = all.length ? key(all[0].tag) : null;
  const hadFocus = list.contains(document.activeElement);
  list.replaceChildren();
  all.forEach((row, rank) => {
    const s = row.suggestion;
    const isActive = key(row.tag) === activeKey;
    const accepted = row.state === "accepted" || row.state === "added";
    // What the row is: the server's kind for a suggestion; else the editor's own tag, or one
    // kept after the text stopped suggesting it. Shown short, said in full to a screen reader.
    const [kind, kindSaid, kindTitle] = s ? [s.kind, s.kind, null]
      : row.state === "added" ? ["added", "your own", null]
      : ["kept", "kept, no longer suggested", "accepted earlier; the text as it is now does not suggest it"];
    const li = el(
      "li",
      { class: "tag", "data-tag": row.tag, "data-state": row.state, tabindex: isActive ? "0" : "-1",
        "aria-label": `${row.tag}, ${kindSaid}${s && s.vocabulary ? ", vocabulary" : ""}, ${row.state}` },
      el("div", { class: "tag-head" },
        el("span", { class: "rank" }, `${rank + 1}.`),
        el("span", { class: "tag-name" }, row.tag),
        s && s.vocabulary ? el("span", { class: "vocab", title: "from the controlled vocabulary" }, "V") : null,
        el("span", { class: "kind", title: kindTitle }, kind),
        s ? el("span", { class: "score" }, s.score.toFixed(2)) : null,
        el("span", { class: "state" }, row.state === "added" ? "added" : row.state === "suggested" ? "" : row.state),
        el("span", { class: "buttons" },
          el("button", { type: "button", class: "accept", "aria-pressed": String(accepted), tabindex: "-1",
            "aria-label": `Accept ${row.tag}` }, "✓"),
          el("button", { type: "button", class: "reject", "aria-pressed": String(row.state === "rejected"), tabindex: "-1",
            "aria-label": row.state === "added" ? `Remove ${row.tag}` : `Reject ${row.tag}` }, "✗"))),
      s && s.why && s.why.length ? el("ul", { class: "why" }, ...s.why.map((w) => el("li", {}, w))) : null,
    );
    li.querySelector(".accept").addEventListener("click", () => decide(row.tag, "accepted"));
    li.querySelector(".reject").addEventListener("click", () => decide(row.tag, "rejected"));
    // A click on a row makes it the keyboard's row too (one row in the Tab order).
    li.addEventListener("focus", () => {
      activeKey = key(row.tag);
      for (const n of list.children) n.tabIndex = n === li ? 0 : -1;
    });
    list.append(li);
  });
  // Rebuilding the list must not lose the keyboard's place.
  if (hadFocus) focusActive();
  updateExport();
}

function focusActive() {
  const li = [...$("tags").children].find((n) => key(n.dataset.tag) === activeKey);
  for (const n of $("tags").children) n.tabIndex = n === li ? 0 : -1;
  if (li) li.focus();
}

function decide(tag, state) {
  const k = key(tag);
  activeKey = k;
  // Rejecting one of the editor's own tags removes it; it has nothing else to go back to.
  if (state === "rejected") added = added.filter((t) => key(t) !== k);
  // A kept tag (accepted, no longer suggested) is decided like a suggestion: rejecting it, or
  // pressing accept again, drops its row.
  if (suggestions.some((s) => key(s.tag) === k) || decisions.has(k)) {
    // Pressing the decision a tag already has undoes it (the buttons are toggles).
    if (stateOf(k) === state) decisions.delete(k);
    else decisions.set(k, { state, tag });
  }
  renderTags();
}

// Keyboard triage: move with arrows or j/k, decide with a/Enter or r/Delete; deciding moves on
// to the next tag, so an editor can go down the list with one key per tag.
$("tags").addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const all = rows();
  const i = all.findIndex((r) => key(r.tag) === activeKey);
  if (i < 0) return;
  // Rows are read again after a decision: rejecting an added tag removes its row.
  const move = (to) => {
    const now = rows();
    if (now.length) activeKey = key(now[Math.max(0, Math.min(now.length - 1, to))].tag);
    focusActive();
  };
  switch (event.key) {
    case "ArrowDown": case "j": move(i + 1); break;
    case "ArrowUp": case "k": move(i - 1); break;
    case "Home": move(0); break;
    case "End": move(all.length - 1); break;
    case "a": case "Enter":
      decide(all[i].tag, "accepted");
      move(i + 1);
      break;
    case "r": case "Delete": case "Backspace": {
      // Rejecting a row that is not a suggestion (added or kept) removes it.
      const gone = !all[i].suggestion;
      decide(all[i].tag, "rejected");
      move(gone ? i : i + 1);
      break;
    }
    default: return;
  }
  event.preventDefault();
});

$("add-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("add-tag");
  const tag = input.value.trim().replace(/\s+/g, " ");
  if (!tag) return;
  const k = key(tag);
  if (suggestions.some((s) => key(s.tag) === k)) decisions.set(k, { state: "accepted", tag });
  else if (!added.some((t) => key(t) === k)) added.push(tag);
  input.value = "";
  renderTags();
  setStatus(`Added “${tag}”.`);
});

$("reset").addEventListener("click", () => {
  decisions.clear();
  added = [];
  renderTags();
  setStatus("Decisions forgotten.");
});

// ---- Copying for the CMS -------------------------------------------------------------------
function exportText(format) {
  const tags = acceptedTags();
  return format === "json" ? JSON.stringify(tags) : tags.join(", ");
}

function updateExport() {
  $("export").value = exportText(exportFormat);
}

async function copy(format) {
  exportFormat = format;
  updateExport();
  const text = $("export").value;
  const n = acceptedTags().length;
  const what = `${n} tag${n === 1 ? "" : "s"} as ${format === "json" ? "JSON" : "text"}`;
  try {
    // The async clipboard needs a secure context (https or loopback) and a focused page.
    await navigator.clipboard.writeText(text);
    setStatus(`Copied ${what}.`);
  } catch {
    // Fallback for plain-http hosts: select the box and use the old copy command.
    const box = $("export");
    box.focus();
    box.select();
    const ok = document.execCommand && document.execCommand("copy");
    setStatus(ok ? `Copied ${what}.` : `Select the box below and copy it (${what}).`);
  }
}

$("copy-json").addEventListener("click", () => copy("json"));
$("copy-text").addEventListener("click", () => copy("text"));
