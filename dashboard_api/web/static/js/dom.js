// @ts-check
// Small DOM helpers: build elements without HTML strings (no injection from data).

/**
 * `el("td", {className: "state", dataset: {device: "x"}}, "text", child)`.
 * @param {string} tag
 * @param {Record<string, any> | null} [props]
 * @param {...(Node | string | number | null | undefined)} children
 * @returns {HTMLElement}
 */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.entries(props || {}).forEach(([k, v]) => {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "attrs") Object.entries(v).forEach(([a, x]) => node.setAttribute(a, String(x)));
    else /** @type {any} */ (node)[k] = v;
  });
  children.forEach((c) => { if (c !== null && c !== undefined) node.append(typeof c === "number" ? String(c) : c); });
  return node;
}

/** @param {string} id @returns {HTMLElement} */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error("no element #" + id);
  return node;
}

/** A panel: <section class="panel NAME"><h2>title</h2>…</section>. @param {string} name @param {string} title */
export function panel(name, title) {
  const h = el("h2", { id: "h-" + name }, title);
  const section = el("section", { className: "panel " + name, id: "panel-" + name, attrs: { "aria-labelledby": "h-" + name } }, h);
  return { section, title: h };
}

/** A link. @param {string} href @param {string} text @param {Record<string, any>} [props] */
export function link(href, text, props) {
  return el("a", Object.assign({ href }, props || {}), text);
}

/** A CSS custom property of the page (the chart colours follow the theme). @param {string} name */
export function cssVar(name) {
  return getComputedStyle(document.body).getPropertyValue(name).trim();
}
