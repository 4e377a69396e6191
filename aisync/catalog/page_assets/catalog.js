// The catalog page's script. Model text only ever reaches the page through textContent.
(() => {
  "use strict";
  const CHUNK = 200;
  const data = JSON.parse(document.getElementById("catalog-data").textContent);
  const version = JSON.parse(document.getElementById("catalog-version").textContent);
  const F = Object.fromEntries(data.fields.map((name, i) => [name, i]));
  const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
  const integer = new Intl.NumberFormat("en-US");
  const today = data.generated_at.slice(0, 10);

  /** An element with text (never parsed as HTML) and attributes. */
  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    return node;
  }
  const present = (v) => v !== null && v !== undefined;
  const count = (n) => integer.format(n);
  const plural = (n, noun) => `${count(n)} ${noun}${n === 1 ? "" : "s"}`;
  const price = (v) => (present(v) ? "$" + Number(v).toLocaleString("en-US", { maximumFractionDigits: 4 }) : "");
  const when = (iso) => (iso ? iso.replace("T", " ").replace(/:\d\dZ$/, "") : "");
  const show = (v) => {
    if (!present(v)) return "–";
    if (Array.isArray(v)) return v.length ? v.join(", ") : "none";
    if (typeof v === "object") return JSON.stringify(v);
    if (typeof v === "number") return v.toLocaleString("en-US", { maximumFractionDigits: 6 });
    return String(v);
  };

  const COLUMNS = [
    { key: "provider", label: "Provider", value: (r) => r[F.provider] },
    { key: "model", label: "Model", value: (r) => r[F.model_id], cell: modelCell },
    {
      key: "context", label: "Context", num: true,
      value: (r) => (present(r[F.context_window]) ? r[F.context_window] : r[F.max_input_tokens]),
      cell: contextCell,
    },
    { key: "output", label: "Output", num: true, value: (r) => r[F.max_output_tokens], text: count },
    { key: "input_price", label: "Input $/M", num: true, value: (r) => r[F.input_price_per_mtok], text: price },
    { key: "output_price", label: "Output $/M", num: true, value: (r) => r[F.output_price_per_mtok], text: price },
    { key: "capabilities", label: "Capabilities", value: (r) => r[F.capabilities].join(" "), cell: capabilityCell },
    { key: "deprecation", label: "Deprecation", value: (r) => r[F.deprecation_date], cell: deprecationCell },
  ];

  const models = data.models.map((row, index) => ({ row, index, search: null }));
  const state = { sort: "provider", descending: false, words: [], provider: "", shown: 0, list: models };
  const opened = new Set();
  let historyIndex = null;

  const table = document.getElementById("model-table");
  const tbody = table.tBodies[0];
  const headRow = table.tHead.rows[0];
  const more = document.getElementById("more");
  const status = document.getElementById("status");

  function modelCell(td, r) {
    const button = el("button", r[F.model_id], { type: "button", class: "id", "aria-expanded": "false" });
    td.append(button);
    if (r[F.display_name] && r[F.display_name] !== r[F.model_id]) td.append(el("span", r[F.display_name], { class: "name" }));
  }
  function contextCell(td, r) {
    if (present(r[F.context_window])) td.textContent = count(r[F.context_window]);
    else if (present(r[F.max_input_tokens])) {
      td.textContent = count(r[F.max_input_tokens]) + " in";
      td.title = "Input limit; the context window is not known";
    }
  }
  function capabilityCell(td, r) {
    for (const capability of r[F.capabilities]) td.append(el("span", capability, { class: "tag" }));
  }
  function deprecationCell(td, r) {
    const date = r[F.deprecation_date];
    if (!date) return;
    td.textContent = date;
    td.className = date <= today ? "past" : "soon";
  }

  function buildHeader() {
    for (const column of COLUMNS) {
      const th = el("th", null, { scope: "col", "data-key": column.key });
      if (column.num) th.className = "num";
      const button = el("button", column.label, { type: "button" });
      button.append(el("span", "", { class: "arrow", "aria-hidden": "true" }));
      button.addEventListener("click", () => sortBy(column.key));
      th.append(button);
      headRow.append(th);
    }
  }

  function searchText(item) {
    if (item.search === null) {
      const r = item.row;
      item.search = [r[F.provider], r[F.model_id], r[F.display_name] || "", r[F.capabilities].join(" ")]
        .join(" ").toLowerCase();
    }
    return item.search;
  }

  /** Sorted by a column: missing values last in both directions, ties in provider/id
   *  order. Each value is read once, not once per comparison. */
  function sorted(list, column, descending) {
    const sign = descending ? -1 : 1;
    const keyed = list.map((item) => {
      const value = column.value(item.row);
      return { item, value, missing: !present(value) || value === "" };
    });
    keyed.sort((a, b) => {
      if (a.missing || b.missing) return a.missing === b.missing ? a.item.index - b.item.index : a.missing ? 1 : -1;
      const order = column.num ? a.value - b.value : collator.compare(a.value, b.value);
      return order ? sign * order : a.item.index - b.item.index;
    });
    return keyed.map((entry) => entry.item);
  }

  function refresh() {
    const column = COLUMNS.find((c) => c.key === state.sort);
    let list = models;
    if (state.provider) list = list.filter((m) => m.row[F.provider] === state.provider);
    if (state.words.length) list = list.filter((m) => state.words.every((w) => searchText(m).includes(w)));
    if (state.sort !== "provider" || state.descending) list = sorted(list, column, state.descending);
    state.list = list;
    for (const th of headRow.cells) {
      const active = th.dataset.key === state.sort;
      if (active) th.setAttribute("aria-sort", state.descending ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
      th.querySelector(".arrow").textContent = active ? (state.descending ? "▼" : "▲") : "";
    }
    tbody.replaceChildren();
    state.shown = 0;
    showMore();
  }

  function showMore() {
    const end = Math.min(state.list.length, state.shown + CHUNK);
    const fragment = document.createDocumentFragment();
    for (let i = state.shown; i < end; i++) {
      fragment.append(modelRow(state.list[i]));
      if (opened.has(state.list[i].index)) fragment.append(detailRow(state.list[i]));
    }
    tbody.append(fragment);
    state.shown = end;
    more.hidden = end >= state.list.length;
    more.textContent = `Show ${count(Math.min(CHUNK, state.list.length - end))} more`;
    const total = models.length;
    const matched = state.list.length === total ? plural(total, "model") : `${count(state.list.length)} of ${count(total)} models`;
    status.textContent = end < state.list.length ? `${matched}, showing the first ${count(end)}` : matched;
  }

  function modelRow(item) {
    const tr = el("tr", null, { class: "model", "data-index": item.index });
    for (const column of COLUMNS) {
      const td = el("td");
      if (column.num) td.className = "num";
      if (column.cell) column.cell(td, item.row);
      else {
        const value = column.value(item.row);
        td.textContent = present(value) ? (column.text ? column.text(value) : value) : "";
      }
      tr.append(td);
    }
    if (opened.has(item.index)) {
      tr.classList.add("open");
      tr.querySelector("button.id").setAttribute("aria-expanded", "true");
    }
    return tr;
  }

  function toggle(tr) {
    const index = Number(tr.dataset.index);
    const button = tr.querySelector("button.id");
    if (opened.has(index)) {
      opened.delete(index);
      tr.classList.remove("open");
      button.setAttribute("aria-expanded", "false");
      const next = tr.nextElementSibling;
      if (next && next.classList.contains("detail")) next.remove();
      return;
    }
    opened.add(index);
    tr.classList.add("open");
    button.setAttribute("aria-expanded", "true");
    tr.after(detailRow(models[index]));
  }

  const FIELD_LABELS = {
    display_name: "Name", context_window: "Context window", max_input_tokens: "Max input tokens",
    max_output_tokens: "Max output tokens", input_price_per_mtok: "Input $/M tokens",
    output_price_per_mtok: "Output $/M tokens", cache_read_price_per_mtok: "Cache read $/M",
    cache_write_price_per_mtok: "Cache write $/M", capabilities: "Capabilities",
    release_date: "Released", deprecation_date: "Deprecation", successor: "Successor",
    knowledge_cutoff: "Knowledge cutoff", open_weights: "Open weights", pricing: "Price tiers",
    version: "Version", first_seen_at: "First seen (UTC)", last_seen_at: "Last seen (UTC)",
    version_created_at: "Version recorded (UTC)",
  };

  function detailRow(item) {
    const r = item.row;
    const tr = el("tr", null, { class: "detail" });
    const td = el("td", null, { colspan: String(COLUMNS.length) });
    td.append(el("h3", `${r[F.provider]} / ${r[F.model_id]}`));
    const sources = data.sources[r[F.field_sources]] || {};
    const dl = el("dl");
    for (const [name, label] of Object.entries(FIELD_LABELS)) {
      const value = r[F[name]];
      if (!present(value) || (Array.isArray(value) && !value.length)) continue;
      const shown = name.endsWith("_at") ? when(value) : name.endsWith("_mtok") ? price(value) : show(value);
      dl.append(el("dt", label), el("dd", sources[name] ? `${shown} (from ${sources[name]})` : shown));
    }
    td.append(dl, historyList(item.index));
    tr.append(td);
    return tr;
  }

  function historyOf(key) {
    if (historyIndex === null) {
      historyIndex = new Map();
      for (const change of data.changes) {
        if (!historyIndex.has(change[0])) historyIndex.set(change[0], []);
        historyIndex.get(change[0]).push(change);
      }
    }
    return historyIndex.get(key) || [];
  }

  function historyList(key) {
    const changes = historyOf(key);
    const [provider, modelId] = data.keys[key];
    const cut = changes.length >= data.history_limit;
    const wrapper = el("div", null, { class: "history" });
    wrapper.append(el("h3", cut ? `History: the newest ${count(changes.length)} changes` : "History"));
    if (!changes.length) wrapper.append(el("p", "No recorded changes."));
    const ol = el("ol", null, { reversed: "" });
    for (const change of changes) {
      const li = el("li");
      li.append(el("span", change[2], { class: change[2] }), ` ${when(change[1])} UTC · version ${change[3]} · run ${change[4]}`);
      if (change[5].length) {
        const ul = el("ul");
        for (const field of change[5]) ul.append(el("li", fieldText(field)));
        li.append(ul);
      }
      ol.append(li);
    }
    wrapper.append(ol);
    if (cut) wrapper.append(el("p", `Older changes, if any: aisync models show ${provider}/${modelId}`, { class: "hint" }));
    return wrapper;
  }

  function fieldText([name, old, now, oldSource, newSource]) {
    const label = FIELD_LABELS[name] || name;
    let from = "";
    if (oldSource !== newSource) from = oldSource ? ` (${oldSource} → ${newSource || "none"})` : ` (${newSource})`;
    const value = name.endsWith("_mtok") ? (v) => (present(v) ? price(v) : "–") : show;
    return `${label}: ${value(old)} → ${value(now)}${from}`;
  }

  function sortBy(key) {
    state.descending = state.sort === key ? !state.descending : false;
    state.sort = key;
    refresh();
  }

  // The recent changes: newest first, in chunks like the table.
  const recentBody = document.getElementById("recent-table").tBodies[0];
  const recentMore = document.getElementById("recent-more");
  let recentShown = 0;
  function showRecent() {
    const end = Math.min(data.recent, recentShown + CHUNK);
    const fragment = document.createDocumentFragment();
    for (let i = recentShown; i < end; i++) {
      const [key, at, change, , , fields] = data.changes[i];
      const tr = el("tr");
      tr.append(
        el("td", when(at)), el("td", data.keys[key][0]), el("td", data.keys[key][1]),
        el("td", change, { class: change }), el("td", fields.map(fieldText).join("; ")),
      );
      fragment.append(tr);
    }
    recentBody.append(fragment);
    recentShown = end;
    recentMore.hidden = end >= data.recent;
  }

  function start() {
    const providers = [...new Set(models.map((m) => m.row[F.provider]))].sort(collator.compare);
    const select = document.getElementById("provider-filter");
    for (const name of providers) select.append(el("option", name, { value: name }));
    select.addEventListener("change", () => { state.provider = select.value; refresh(); });
    const filter = document.getElementById("filter");
    filter.addEventListener("input", () => {
      state.words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      refresh();
    });
    tbody.addEventListener("click", (event) => {
      const tr = event.target.closest("tr.model");
      if (tr && (event.target.closest("button.id") || !window.getSelection().toString())) toggle(tr);
    });
    more.addEventListener("click", showMore);
    recentMore.addEventListener("click", showRecent);
    const scope = data.provider ? ` of provider ${data.provider}` : "";
    document.getElementById("summary").textContent =
      `${plural(models.length, "model")}${scope} from ${plural(providers.length, "provider")}, as of ${when(data.generated_at)} UTC.`;
    document.getElementById("recent-title").textContent = `Changes in the last ${data.recent_days} days`;
    document.getElementById("recent-status").textContent = data.recent ? `${plural(data.recent, "change")}, newest first.` : "No changes.";
    document.getElementById("footer").textContent = `Exported by aisync ${version}. Full history: aisync models show PROVIDER/MODEL_ID.`;
    buildHeader();
    refresh();
    showRecent();
    document.documentElement.dataset.ready = "true";
    // The filter's lower-case texts, built once the first rows are on screen, not on the
    // first keystroke.
    setTimeout(() => models.forEach(searchText), 0);
  }

  start();
})();
