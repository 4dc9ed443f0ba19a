// @ts-check
// The city, a district or a site: flows now, autonomy, alarms, what the scope is made
// of, energy by period, power history, device health.

import { flowsPanel } from "../panels/flows.js";
import { gaugesPanel } from "../panels/gauges.js";
import { alarmsPanel } from "../panels/alarms.js";
import { childrenPanel } from "../panels/children.js";
import { energyPanel } from "../panels/energy.js";
import { historyPanel } from "../panels/history.js";
import { healthPanel } from "../panels/health.js";
import { scopeOf } from "../urlstate.js";

/** @param {import("../context.js").Context} ctx @param {HTMLElement} board @returns {() => void} live render */
export function scopePage(ctx, board) {
  const scope = /** @type {string} */ (scopeOf(ctx.route));
  const flows = flowsPanel(ctx, scope);
  const gauges = gaugesPanel(ctx, scope);
  const children = childrenPanel(ctx);
  const health = healthPanel(ctx);
  board.append(flows.section, gauges.section, alarmsPanel(ctx), children.section, energyPanel(ctx, scope).section,
    historyPanel(ctx, scope).section, health.section);
  return () => { flows.render(); gauges.render(); children.render(); health.render(); };
}
