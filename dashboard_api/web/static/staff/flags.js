// @ts-check
// The engine's flags (docs/metrics.md, "Flags") in plain words, with the device's or site's name:
// the staff pages' counterpart of reports/flag_text.py. Pure.

/** @typedef {import("./format.js").Lang} Lang */

/** @type {Record<string, Record<Lang, string>>} flag kind → what happened and what it means */
const TEXT = {
  missing_data: {
    fr: "n'a pas transmis de données sur une partie de la période : son énergie y manque (la couverture le mesure).",
    en: "sent no data for part of the period: its energy is missing there (the coverage measures it).",
  },
  implausible_jump: {
    fr: "un relevé a augmenté plus vite que l'équipement ne le peut : écarté, l'énergie autour est estimée.",
    en: "a reading rose faster than the device can: left out, the energy around it is estimated.",
  },
  counter_glitch: {
    fr: "un relevé a baissé puis est revenu : écarté, le total n'est pas affecté.",
    en: "a reading dropped and came back: left out, the total is unaffected.",
  },
  implausible_power: {
    fr: "une puissance impossible a été relevée : l'intervalle compte comme manquant.",
    en: "an impossible power value was read: that interval counts as missing.",
  },
  counter_reset: {
    fr: "le compteur a été remis à zéro : l'énergie entre deux relevés est perdue, jamais inventée.",
    en: "the counter was reset: the energy between two readings is lost, never invented.",
  },
  unbalanced: {
    fr: "le bilan du site ne boucle pas sur certains pas : l'attribution local / réseau peut y être faussée.",
    en: "the site's balance does not close in some intervals: the local / grid split may be off there.",
  },
  below_coverage_threshold: {
    fr: "moins que le seuil de l'énergie attendue a été mesuré : les totaux sous-estiment l'énergie réelle.",
    en: "less than the threshold of the expected energy was measured: the totals miss some real energy.",
  },
  power_integrated: {
    fr: "pas de compteur d'énergie : la puissance moyenne est intégrée (moins précis).",
    en: "no energy counter: mean power is integrated (less precise).",
  },
  grid_derived: {
    fr: "pas de compteur réseau : soutirage et injection déduits du bilan du site.",
    en: "no grid meter: import and export come from the site's balance.",
  },
  load_derived: {
    fr: "pas de compteur de consommation : la consommation est déduite du bilan.",
    en: "no consumption meter: the load comes from the site's balance.",
  },
  unrated: {
    fr: "pas de puissance nominale configurée : un pic de relevé passerait.",
    en: "no rated power configured: a spike in its readings would pass.",
  },
};

/** @type {Record<Lang, string>} */
const SCOPE = { fr: "Périmètre", en: "Scope" };

/**
 * One line per flag: "<name>: <what happened and what it means>"; an unknown kind is shown as it is.
 * @param {string[]} flags the engine's flags ("missing_data:<device>", "below_coverage_threshold", …)
 * @param {Record<string, string>} names device and site ids → names
 * @param {Lang} lang
 * @returns {string[]}
 */
export function flagLines(flags, names, lang) {
  return flags.map((f) => {
    const i = f.indexOf(":");
    const kind = i < 0 ? f : f.slice(0, i);
    const id = i < 0 ? "" : f.slice(i + 1);
    const text = TEXT[kind];
    if (!text) return f;
    const who = id ? names[id] || id : SCOPE[lang];
    return `${who}${lang === "fr" ? "\u202f: " : ": "}${text[lang]}`;
  });
}

/** @returns {string[]} every flag kind that has words (tests compare them with the Python side) */
export function flagKinds() {
  return Object.keys(TEXT);
}
