// @ts-check
// A place for the alarms (coming: GET /api/v1/alarms and the stream's `alarms` event, built in
// parallel). Until then the panel says so; the bell in the header stays empty.

import { el, panel } from "../dom.js";

/** @param {import("../context.js").Context} ctx */
export function alarmsPanel(ctx) {
  const { section, title } = panel("alarms", ctx.t("alarms"));
  const note = el("p", { className: "summary", id: "alarms-note" });
  section.append(note);
  ctx.onRender(() => { title.textContent = ctx.t("alarms"); note.textContent = ctx.t("alarms_coming"); });
  return section;
}
