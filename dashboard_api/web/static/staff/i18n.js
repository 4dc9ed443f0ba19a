// @ts-check
// Every word of the staff pages, in French (default) and English. Pure.

/** @typedef {import("./format.js").Lang} Lang */

/** @type {Record<string, Record<Lang, string>>} */
const WORDS = {
  title: { fr: "Espace des services de la ville", en: "City staff" },
  programme: { fr: "Ville autonome 2050", en: "Energy-autonomous city by 2050" },
  "tab.scenario": { fr: "Que faudrait-il ?", en: "What would it take?" },
  "tab.trajectory": { fr: "Trajectoire 2050", en: "Road to 2050" },
  "tab.reports": { fr: "Rapports mensuels", en: "Monthly reports" },
  key_prompt: { fr: "Clé d'API (rôle « staff »)", en: "API key (staff role)" },
  key_save: { fr: "Enregistrer", en: "Save" },
  key_refused: { fr: "Clé refusée : il faut une clé du rôle « staff ».", en: "Key refused: a staff key is needed." },
  scope: { fr: "Périmètre", en: "Scope" },
  city: { fr: "Ville", en: "City" },
  period: { fr: "Période", en: "Period" },
  period_hint: { fr: "vide : les 365 derniers jours ; ou 2026, 2026-10, 2026-Q4…", en: "empty: the last 365 days; or 2026, 2026-10, 2026-Q4…" },
  sharing: { fr: "Partage entre les sites d'un quartier (autoconsommation collective)", en: "Sharing between the sites of a district (collective self-consumption)" },
  "change.pv": { fr: "Photovoltaïque", en: "Solar PV" },
  "change.wind": { fr: "Petit éolien", en: "Small wind" },
  "change.storage": { fr: "Batterie", en: "Battery" },
  "change.load": { fr: "Sobriété / efficacité", en: "Efficiency" },
  "change.hydro": { fr: "Hydraulique", en: "Hydro" },
  add: { fr: "Ajouter", en: "Add" },
  remove: { fr: "Retirer", en: "Remove" },
  site: { fr: "Site", en: "Site" },
  device: { fr: "Centrale", en: "Plant" },
  added_kwp: { fr: "kWc ajoutés", en: "kWp added" },
  added_kw: { fr: "kW ajoutés", en: "kW added" },
  capacity_kwh: { fr: "Capacité (kWh)", en: "Capacity (kWh)" },
  power_kw: { fr: "Puissance (kW)", en: "Power (kW)" },
  round_trip_efficiency: { fr: "Rendement (%)", en: "Round trip (%)" },
  change_pct: { fr: "Consommation (%)", en: "Load (%)" },
  head_gain_pct: { fr: "Chute (+ %)", en: "Head (+ %)" },
  efficiency_gain_pct: { fr: "Rendement (+ %)", en: "Efficiency (+ %)" },
  design_flow_gain_pct: { fr: "Débit d'équipement (+ %)", en: "Design flow (+ %)" },
  sizing: { fr: "Chercher la plus petite batterie à ajouter au scénario qui atteint", en: "Find the smallest battery to add to the scenario that reaches" },
  target_pct: { fr: "d'autoproduction, placée sur", en: "self-sufficiency, placed at" },
  compute: { fr: "Calculer", en: "Compute" },
  computing: { fr: "Calcul en cours…", en: "Computing…" },
  metric: { fr: "Indicateur", en: "Metric" },
  today: { fr: "Aujourd'hui (mesuré)", en: "Today (measured)" },
  scenario: { fr: "Avec le scénario", en: "With the scenario" },
  change: { fr: "Écart", en: "Change" },
  districts: { fr: "Par quartier", en: "Per district" },
  batteries: { fr: "Batteries ajoutées", en: "Batteries added" },
  cycles: { fr: "{cycles} cycles complets équivalents par an, {discharge} restitués sur la période", en: "{cycles} equivalent full cycles a year, {discharge} delivered over the period" },
  exported: { fr: "Surplus injecté sur le réseau avec le scénario : {value}", en: "Surplus exported to the grid with the scenario: {value}" },
  "sizing.met": { fr: "L'objectif de {target} est déjà atteint par le scénario, sans batterie supplémentaire.", en: "The scenario already reaches the {target} target, without another battery." },
  "sizing.found": { fr: "La plus petite batterie qui atteint {target} : {capacity} ({power}), soit {reached}.", en: "The smallest battery that reaches {target}: {capacity} ({power}), giving {reached}." },
  "sizing.out": { fr: "Le stockage seul ne suffit pas : même sans limite, une batterie n'atteindrait que {best}. Il faut produire davantage.", en: "Storage alone is not enough: even an unlimited battery would only reach {best}. More production is needed." },
  assumptions: { fr: "Hypothèses", en: "Assumptions" },
  quality: { fr: "Qualité des données mesurées", en: "Quality of the measured data" },
  incomplete: { fr: "Données mesurées incomplètes sur la période (couverture {coverage}) : les chiffres d'aujourd'hui et du scénario en héritent.", en: "Incomplete measured data over the period (coverage {coverage}): today's and the scenario's figures inherit it." },
  "assumption.pv_modelled": { fr: "{site} n'a pas de photovoltaïque : production modélisée (pvlib, ciel clair ajusté au rendement mesuré de la ville).", en: "{site} has no PV: production modelled (pvlib clear sky, scaled to the city's measured yield)." },
  "assumption.wind_profile_from_city": { fr: "{site} n'a pas d'éolienne : profil de l'éolien mesuré dans la ville.", en: "{site} has no wind turbine: the city's measured wind profile." },
  "assumption.hydro_flow_assumed": { fr: "{site} : le débit supplémentaire est supposé disponible quand la centrale tournait à plein (borne haute).", en: "{site}: the extra flow is assumed available whenever the plant ran at full flow (an upper bound)." },
  "trajectory.target": { fr: "Objectif", en: "Target" },
  "trajectory.monthly": { fr: "Mensuel (mesuré)", en: "Monthly (measured)" },
  "trajectory.yearly": { fr: "Annuel (mesuré)", en: "Yearly (measured)" },
  "trajectory.none": { fr: "Pas d'objectif configuré pour ce périmètre (targets: dans la configuration).", en: "No target configured for this scope (targets: in the configuration)." },
  "trajectory.pace": { fr: "Rythme mesuré : {measured} par an. Rythme nécessaire pour {target} en {year} : {needed} par an.", en: "Measured pace: {measured} a year. Pace needed for {target} by {year}: {needed} a year." },
  "trajectory.reached": { fr: "Dernière année mesurée : {latest}, au-dessus de l'objectif de {target} en {year}. Rythme mesuré : {measured} par an.", en: "Latest measured year: {latest}, above the {target} target for {year}. Measured pace: {measured} a year." },
  "trajectory.nodata": { fr: "Pas encore de données mesurées pour ce périmètre.", en: "No measured data for this scope yet." },
  year: { fr: "Année", en: "Year" },
  self_sufficiency: { fr: "Taux d'autoproduction", en: "Self-sufficiency" },
  self_consumption: { fr: "Taux d'autoconsommation", en: "Self-consumption" },
  load_cover_factor: { fr: "Couverture de la charge", en: "Load cover factor" },
  supply_cover_factor: { fr: "Couverture de la production", en: "Supply cover factor" },
  time_autonomy: { fr: "Autonomie temporelle", en: "Time autonomy" },
  grid_interaction_index: { fr: "Indice d'interaction réseau", en: "Grid interaction index" },
  load_wh: { fr: "Consommation", en: "Load" },
  generation_wh: { fr: "Production locale", en: "Local production" },
  import_wh: { fr: "Soutirage réseau", en: "Grid import" },
  export_wh: { fr: "Injection réseau", en: "Grid export" },
  charge_wh: { fr: "Charge batterie", en: "Battery charge" },
  discharge_wh: { fr: "Décharge batterie", en: "Battery discharge" },
  net_balance_wh: { fr: "Bilan net (production − consommation)", en: "Net balance (production − load)" },
  peak_import_w: { fr: "Pointe de soutirage", en: "Peak import" },
  avoided_co2_kg: { fr: "CO₂ évité", en: "Avoided CO₂" },
  coverage: { fr: "Couverture des données", en: "Data coverage" },
  "reports.intro": { fr: "Rapports produits chaque mois par « ville-autonome report --scheduled ».", en: "Reports made every month by “ville-autonome report --scheduled”." },
  "reports.none": { fr: "Aucun rapport planifié n'a encore été produit.", en: "No scheduled report has been made yet." },
  "reports.month": { fr: "Mois", en: "Month" },
  "reports.files": { fr: "Fichiers", en: "Files" },
  "reports.downloaded": { fr: "Téléchargé : {name}", en: "Downloaded: {name}" },
  error: { fr: "Erreur : {detail}", en: "Error: {detail}" },
};

/**
 * The text of `key` in `lang`, its {placeholders} filled from `values`.
 * @param {Lang} lang
 * @param {string} key
 * @param {Record<string, string>} [values]
 * @returns {string}
 */
export function t(lang, key, values = {}) {
  const entry = WORDS[key];
  if (!entry) throw new Error(`no words for ${key}`);
  return entry[lang].replace(/\{(\w+)\}/g, (_, name) => (name in values ? values[name] : `{${name}}`));
}

/** @returns {string[]} every key (tests check both languages have them all) */
export function keys() {
  return Object.keys(WORDS);
}
