// The head explorer's script: reads the data block, builds one table (a row per position, a column per
// head), and fills it with the weights of the chosen layer seen from the token under the pointer.
//
// Data (from minconvbert/viz/explorer.py): tokens (T), num_layers L, num_heads H (of each kind),
// kernel_size K, digits D; attentions and conv_kernels: base64 of little-endian uint16 holding
// round(weight * 10^D), in C order over (L, H, T, T) and (L, H, T, K); summary: (L, H) lists.
// State, mirrored in the URL fragment: #layer=1&token=5&hide=conv-0,attention-1&scale=0.5
(function () {
  "use strict";
  const root = document.getElementById("explorer");
  let data;
  try {
    data = JSON.parse(document.getElementById("explorer-data").textContent);
  } catch (error) {
    root.innerHTML = '<p class="message">The head explorer\'s data could not be read.</p>';
    throw error;
  }
  const L = data.num_layers, H = data.num_heads, T = data.tokens.length, K = data.kernel_size;
  const LEFT = Math.floor((K - 1) / 2);  // kernel weight k sits at offset k - LEFT from its token
  const RIGHT = K - 1 - LEFT;
  const STEPS = Math.pow(10, data.digits);
  const SCALES = ["1", "0.5", "0.25", "0.1", "fit"];

  function decode(text) {  // base64 of little-endian uint16 -> Uint16Array
    const chars = atob(text);
    const bytes = new Uint8Array(chars.length);
    for (let i = 0; i < chars.length; i++) bytes[i] = chars.charCodeAt(i);
    if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return new Uint16Array(bytes.buffer);
    const view = new DataView(bytes.buffer), out = new Uint16Array(bytes.length / 2);  // a big-endian machine
    for (let i = 0; i < out.length; i++) out[i] = view.getUint16(2 * i, true);
    return out;
  }
  const attentions = decode(data.attentions);  // (L, H, T, T)
  const kernels = decode(data.conv_kernels);  // (L, H, T, K)

  // The heads, in column order: every attention head, then every convolution head.
  const heads = [];
  for (const kind of ["attention", "conv"]) {
    for (let h = 0; h < H; h++) heads.push({ kind: kind, head: h, id: kind + "-" + h });
  }

  // Where head `head` of `layer` looks from position `query`: [[position, weight steps], ...].
  function weightsFrom(head, layer, query) {
    const out = [];
    if (head.kind === "attention") {
      const start = ((layer * H + head.head) * T + query) * T;
      for (let j = 0; j < T; j++) out.push([j, attentions[start + j]]);
    } else {
      const start = ((layer * H + head.head) * T + query) * K;
      for (let k = 0; k < K; k++) out.push([query + k - LEFT, kernels[start + k]]);
    }
    return out;
  }

  // ----- state and the URL fragment -----
  const state = { layer: 0, token: 0, hover: null, hidden: new Set(), scale: "1" };

  function clampInt(text, low, high, fallback) {
    const n = parseInt(text, 10);
    return Number.isFinite(n) ? Math.min(Math.max(n, low), high) : fallback;
  }
  function readFragment() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    state.layer = clampInt(params.get("layer"), 0, L - 1, state.layer);
    state.token = clampInt(params.get("token"), 0, T - 1, state.token);
    const hide = params.has("hide") ? params.get("hide").split(",") : [];  // absent: the defaults
    state.hidden = new Set(hide.filter((id) => heads.some((h) => h.id === id)));
    state.scale = SCALES.includes(params.get("scale")) ? params.get("scale") : "1";
  }
  function writeFragment() {
    const params = new URLSearchParams({ layer: state.layer, token: state.token });
    if (state.hidden.size) params.set("hide", Array.from(state.hidden).join(","));
    if (state.scale !== "1") params.set("scale", state.scale);
    try {
      history.replaceState(null, "", "#" + params.toString().replace(/%2C/g, ","));
    } catch (error) {
      // a sandboxed iframe (Jupyter's inline view) may refuse: the view works the same without it
    }
  }

  // ----- building the page -----
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const header = element("header");
  header.append(element("h1", "", "Head explorer"), element("span", "title", data.title));
  const controls = element("div", "controls");
  const layerGroup = element("span", "layers", "layer ");
  const layerButtons = [];
  for (let l = 0; l < L; l++) {
    const button = element("button", "layer", String(l));
    button.dataset.layer = l;
    button.addEventListener("click", () => { state.layer = l; update(); });
    layerButtons.push(button);
    layerGroup.append(button, " ");
  }
  const scaleLabel = element("label", "", "bar scale 0 to ");
  const scaleSelect = element("select");
  scaleSelect.id = "scale";
  for (const value of SCALES) {
    const option = element("option", "", value === "fit" ? "largest shown" : value);
    option.value = value;
    scaleSelect.append(option);
  }
  scaleSelect.addEventListener("change", () => { state.scale = scaleSelect.value; update(); });
  scaleLabel.append(scaleSelect);
  const toggles = element("span", "toggles", "heads ");
  const checkboxes = {};
  for (const head of heads) {
    const label = element("label", "toggle " + head.kind);
    const box = element("input");
    box.type = "checkbox";
    box.dataset.head = head.id;
    box.addEventListener("change", () => {
      if (box.checked) state.hidden.delete(head.id); else state.hidden.add(head.id);
      update();
    });
    checkboxes[head.id] = box;
    label.append(box, (head.kind === "attention" ? " attention " : " conv ") + head.head);
    toggles.append(label, " ");
  }
  controls.append(layerGroup, scaleLabel, toggles);
  const legend = element("p", "legend");
  legend.append(element("span", "swatch attention"), " attention head: its weights over all " + T + " tokens. ",
    element("span", "swatch conv"), " convolution head: its K = " + K + " kernel weights over the window from " +
    LEFT + " before to " + RIGHT + " after the token (grey rows: the zero padding beyond the text).",
    element("br"), "One bar scale for every head. Hover a token to look from it, click to pin it, \u2190 \u2192 to step.");
  const status = element("p", "status");
  header.append(controls, legend, status);

  const table = element("table");
  const headRow = element("tr");
  headRow.append(element("th", "token", "position, token"));
  const summaries = {};
  for (const head of heads) {
    const th = element("th", "head " + head.kind);
    th.dataset.head = head.id;
    th.append(element("div", "kind", head.kind === "attention" ? "attention" : "convolution \u00b7 K = " + K),
      element("div", "name", "head " + head.head));
    summaries[head.id] = { distance: element("div", "summary distance"), entropy: element("div", "summary entropy") };
    th.append(summaries[head.id].distance, summaries[head.id].entropy);
    headRow.append(th);
  }
  const thead = element("thead");
  thead.append(headRow);
  table.append(thead);
  const body = element("tbody");
  const rows = [];  // rows[p + LEFT] is position p; the first LEFT and last RIGHT rows are padding
  const cells = {};  // cells[head id][p + LEFT] = {td, bar, value}
  for (const head of heads) cells[head.id] = [];
  for (let p = -LEFT; p < T + RIGHT; p++) {
    const tr = element("tr", p < 0 || p >= T ? "pad" : "");
    tr.dataset.pos = p;
    const token = element("td", "token");
    token.append(element("span", "index", String(p)), p < 0 || p >= T ? "(padding)" : data.tokens[p]);
    tr.append(token);
    for (const head of heads) {
      const td = element("td", "cell " + head.kind);
      td.dataset.head = head.id;
      const value = element("span", "value"), track = element("span", "track"), bar = element("span", "bar");
      track.append(bar);
      td.append(value, track);
      tr.append(td);
      cells[head.id].push({ td: td, bar: bar, value: value });
    }
    body.append(tr);
    rows.push(tr);
  }
  table.append(body);
  const scroller = element("div", "scroller");
  scroller.append(table);
  root.append(header, scroller);

  // ----- drawing the state -----
  function update() {
    writeFragment();
    render();
  }

  function render() {
    const query = state.hover === null ? state.token : state.hover;
    const layer = state.layer;
    const shown = heads.filter((head) => !state.hidden.has(head.id));
    const columns = shown.map((head) => [head, weightsFrom(head, layer, query)]);
    let top = 0;
    for (const [, weights] of columns) for (const [, w] of weights) top = Math.max(top, w);
    const scale = state.scale === "fit" ? Math.max(top, 1) / STEPS : Number(state.scale);

    for (const head of heads) {
      const hidden = state.hidden.has(head.id);
      for (const node of document.querySelectorAll('[data-head="' + head.id + '"]')) {
        if (node.tagName !== "INPUT") node.classList.toggle("hidden", hidden);
      }
      checkboxes[head.id].checked = !hidden;
      for (const cell of cells[head.id]) {
        cell.value.textContent = "";
        cell.value.classList.remove("small");
        cell.bar.style.width = "0";
        cell.bar.classList.remove("clipped");
        cell.td.classList.remove("window", "shown");
      }
      const summary = data.summary, even = data.even, kind = head.kind;
      summaries[head.id].distance.textContent = "distance " + summary[kind + "_distance"][layer][head.head].toFixed(2) +
        " (even " + even[kind + "_distance"].toFixed(2) + ")";
      summaries[head.id].entropy.textContent = "entropy " + summary[kind + "_entropy"][layer][head.head].toFixed(2) +
        " (even " + even[kind + "_entropy"].toFixed(2) + ")";
    }
    for (const [head, weights] of columns) {
      for (const [position, steps] of weights) {
        const cell = cells[head.id][position + LEFT];
        const weight = steps / STEPS;
        cell.td.classList.add("shown");
        cell.value.textContent = weight.toFixed(data.digits);
        cell.value.classList.toggle("small", weight < 0.01);
        cell.bar.style.width = steps ? (100 * Math.min(weight / scale, 1)).toFixed(1) + "%" : "0";
        cell.bar.classList.toggle("clipped", weight > scale);
        if (head.kind === "conv") cell.td.classList.add("window");
      }
    }
    rows.forEach((tr, i) => {
      tr.classList.toggle("query", i - LEFT === query);
      tr.classList.toggle("pinned", i - LEFT === state.token);
    });
    layerButtons.forEach((button, l) => button.setAttribute("aria-pressed", String(l === layer)));
    scaleSelect.value = state.scale;
    status.textContent = "";
    status.append("layer " + layer + " (of 0 to " + (L - 1) + "), looking from token " + query + " ",
      element("b", "", data.tokens[query]), state.hover === null || state.hover === state.token ? " (pinned)" : " (hover)");
  }

  // Scroll the table (never the page around it: in a notebook the view is an iframe) to show `tr`.
  function reveal(tr) {
    const top = tr.offsetTop, bottom = top + tr.offsetHeight, above = headRow.offsetHeight;
    if (top - above < scroller.scrollTop) scroller.scrollTop = top - above;
    else if (bottom > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = bottom - scroller.clientHeight;
  }

  // ----- the pointer and the keys -----
  function positionOf(event) {
    const tr = event.target.closest("tr");
    const p = tr ? Number(tr.dataset.pos) : NaN;
    return p >= 0 && p < T ? p : null;
  }
  body.addEventListener("mouseover", (event) => {
    const p = positionOf(event);
    if (p !== null && p !== state.hover) { state.hover = p; render(); }
  });
  body.addEventListener("mouseleave", () => { state.hover = null; render(); });
  body.addEventListener("click", (event) => {
    const p = positionOf(event);
    if (p !== null) { state.token = p; update(); }
  });
  document.addEventListener("keydown", (event) => {
    const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
    if (!step || event.target.closest("select, input")) return;  // the arrows of a control are its own
    event.preventDefault();
    state.token = Math.min(Math.max(state.token + step, 0), T - 1);
    state.hover = null;
    update();
    reveal(rows[state.token + LEFT]);
  });
  window.addEventListener("hashchange", () => { readFragment(); render(); });

  readFragment();
  render();
  reveal(rows[state.token + LEFT]);
  document.documentElement.dataset.ready = "true";  // for tests and scripts: the first view is drawn
})();
