// @ts-check
// One device: live values, health, alarms, history of any of its quantities, its
// registers and quality, and the operator's control panel.

import { alarmsPanel } from "../panels/alarms.js";
import { deviceLivePanel } from "../panels/device-live.js";
import { deviceDetailsPanel } from "../panels/device-details.js";
import { controlPanel } from "../panels/control.js";
import { deviceHistoryPanel } from "../panels/device-history.js";

/** @param {import("../context.js").Context} ctx @param {HTMLElement} board @returns {() => void} live render */
export function devicePage(ctx, board) {
  const device = /** @type {string} */ (ctx.route.id);
  const live = deviceLivePanel(ctx, device);
  const details = deviceDetailsPanel(ctx, device);
  board.append(live.section, alarmsPanel(ctx), controlPanel(ctx, device).section, deviceHistoryPanel(ctx, device).section, details.section);
  return () => { live.render(); details.render(); };
}
