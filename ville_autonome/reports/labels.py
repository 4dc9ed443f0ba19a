"""Every word a report prints, in French (default) and English.

``label(lang, key)`` returns the text; a missing key is a bug and raises ``KeyError``. Column
headers of the tables are machine-readable names with their unit and stay in English in both
languages (``load_wh``), so that a spreadsheet built on one language reads the other.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["fr", "en"]
LANGS: tuple[Lang, ...] = ("fr", "en")

_LABELS: dict[str, dict[Lang, str]] = {
    "title": {"fr": "Rapport d'autonomie énergétique", "en": "Energy autonomy report"},
    "programme": {"fr": "Ville autonome en 2050", "en": "Energy-autonomous city by 2050"},
    "scope": {"fr": "Périmètre", "en": "Scope"},
    "period": {"fr": "Période", "en": "Period"},
    "generated": {"fr": "Généré le", "en": "Generated on"},
    "interval": {"fr": "Pas de calcul", "en": "Interval"},
    "method_version": {"fr": "Version de la méthode", "en": "Method version"},
    "timezone_note": {
        "fr": "Heures locales (Europe/Paris). Périodes calendaires locales.",
        "en": "Local times (Europe/Paris). Local calendar periods.",
    },
    "kind.city": {"fr": "Ville", "en": "City"},
    "kind.district": {"fr": "Quartier", "en": "District"},
    "kind.site": {"fr": "Site", "en": "Site"},
    "headline": {"fr": "Indicateurs clés", "en": "Headline metrics"},
    "metric": {"fr": "Indicateur", "en": "Metric"},
    "value": {"fr": "Valeur", "en": "Value"},
    "self_sufficiency": {"fr": "Taux d'autoproduction (autarcie)", "en": "Self-sufficiency (autarky)"},
    "self_consumption": {"fr": "Taux d'autoconsommation", "en": "Self-consumption"},
    "load_cover_factor": {"fr": "Facteur de couverture de la charge", "en": "Load cover factor"},
    "supply_cover_factor": {"fr": "Facteur de couverture de la production", "en": "Supply cover factor"},
    "time_autonomy": {"fr": "Autonomie temporelle", "en": "Time autonomy"},
    "grid_interaction_index": {"fr": "Indice d'interaction réseau", "en": "Grid interaction index"},
    "load_wh": {"fr": "Consommation", "en": "Load"},
    "generation_wh": {"fr": "Production locale", "en": "Local generation"},
    "local_supply_wh": {"fr": "Consommation couverte localement", "en": "Load met locally"},
    "grid_import_wh": {"fr": "Soutirage réseau", "en": "Grid import"},
    "grid_export_wh": {"fr": "Injection réseau", "en": "Grid export"},
    "battery_charge_wh": {"fr": "Charge batterie", "en": "Battery charge"},
    "battery_discharge_wh": {"fr": "Décharge batterie", "en": "Battery discharge"},
    "net_balance_wh": {"fr": "Bilan net (production − consommation)", "en": "Net balance (generation − load)"},
    "balance_ratio": {"fr": "Ratio production / consommation", "en": "Generation / load ratio"},
    "peak_import_w": {"fr": "Pointe de soutirage", "en": "Peak import"},
    "avoided_co2_kg": {"fr": "CO₂ évité", "en": "Avoided CO₂"},
    "battery_hours": {
        "fr": "Autonomie batterie (dernier état connu, au dernier déficit)",
        "en": "Battery autonomy (latest state, at the latest deficit)",
    },
    "soc_pct": {"fr": "État de charge", "en": "State of charge"},
    "source.hydro": {"fr": "Hydraulique", "en": "Hydro"},
    "source.pv": {"fr": "Photovoltaïque", "en": "Solar PV"},
    "source.wind": {"fr": "Éolien", "en": "Wind"},
    "source.chp": {"fr": "Cogénération (gaz vert)", "en": "CHP (green gas)"},
    "charts": {"fr": "Graphiques", "en": "Charts"},
    "chart.daily_autonomy": {"fr": "Autoproduction journalière", "en": "Daily self-sufficiency"},
    "chart.energy_by_source": {"fr": "Production par source", "en": "Energy by source"},
    "chart.load_vs_supply": {"fr": "Consommation et production locale", "en": "Load vs local supply"},
    "chart.soc": {"fr": "État de charge des batteries", "en": "Battery state of charge"},
    "chart.no_battery": {"fr": "Pas de batterie dans ce périmètre", "en": "No battery in this scope"},
    "chart.no_data": {"fr": "Pas de données", "en": "No data"},
    "sharing": {"fr": "Gain du partage local", "en": "Gain from local sharing"},
    "sharing.intro": {
        "fr": "Le périmètre compense les flux entre ses sites à chaque pas de temps, comme une "
        "opération d'autoconsommation collective ; la somme des sites seuls ne le fait pas.",
        "en": "The scope nets flows between its sites at every interval, as a collective "
        "self-consumption operation does; the sum of sites alone does not.",
    },
    "sharing.netted": {"fr": "Périmètre (flux compensés)", "en": "Scope (netted flows)"},
    "sharing.sum": {"fr": "Somme des sites seuls", "en": "Sum of sites alone"},
    "sharing.gain": {"fr": "Gain", "en": "Gain"},
    "sharing.single_site": {
        "fr": "Un site seul : pas de partage à mesurer.",
        "en": "A single site: no sharing to measure.",
    },
    "coverage": {"fr": "Couverture des données", "en": "Data coverage"},
    "coverage.measured": {"fr": "Mesuré", "en": "Measured"},
    "coverage.integrated": {"fr": "Intégré (puissance)", "en": "Integrated (power)"},
    "coverage.imputed": {"fr": "Imputé", "en": "Imputed"},
    "coverage.missing": {"fr": "Manquant", "en": "Missing"},
    "coverage.threshold": {"fr": "Seuil de complétude", "en": "Completeness threshold"},
    "coverage.incomplete": {
        "fr": "ATTENTION : couverture inférieure au seuil, résultats incomplets.",
        "en": "WARNING: coverage below the threshold, results are incomplete.",
    },
    "coverage.complete": {"fr": "Couverture suffisante.", "en": "Coverage is sufficient."},
    "coverage.missing_devices": {"fr": "Équipements avec données manquantes", "en": "Devices with missing data"},
    "coverage.none_missing": {"fr": "Aucun équipement manquant.", "en": "No device missing."},
    "device": {"fr": "Équipement", "en": "Device"},
    "annex": {"fr": "Annexe : méthode de calcul", "en": "Annex: method"},
    "annex.intro": {
        "fr": "Chaque indicateur est calculé par pas de temps puis sommé sur la période (un "
        "total annuel surestime l'autonomie). Notations par pas : L consommation, G production "
        "locale, D décharge et C charge batterie, I soutirage et X injection réseau, "
        "Sl le bilan de stockage d'origine locale, Ll et Lg la consommation couverte localement et par le réseau, "
        "N le nombre de pas avec données. L'énergie du réseau stockée en batterie n'est pas une production locale.",
        "en": "Every metric is computed per interval, then summed over the period (an annual "
        "total overstates autonomy). Per interval: L load, G local generation, D battery "
        "discharge and C charge, I grid import and X export, Sl the storage balance of local origin, Ll and Lg "
        "the load met locally and by the grid, N the number of intervals with data. "
        "Grid energy stored in a battery is not local supply.",
    },
    "annex.energy": {
        "fr": "Énergies : compteurs cumulés (remises à zéro et débordements traités) ; à défaut, "
        "intégration de la puissance, signalée. Intervalles manquants : ni imputés en silence, ni "
        "comptés comme zéro — leur part figure dans la couverture.",
        "en": "Energies: cumulative counters (resets and wrap-around handled); power integration "
        "as a flagged fallback. Missing intervals are never silently imputed or counted as zero: "
        "their share is reported as coverage.",
    },
    "annex.sharing": {
        "fr": "Quartier et ville : flux compensés entre sites à chaque pas (le surplus d'un voisin "
        "couvre un déficit) ; la somme des sites seuls est donnée pour comparaison.",
        "en": "District and city: flows netted between sites at every interval (a neighbour's "
        "surplus covers a deficit); the sum of sites alone is given for comparison.",
    },
    "annex.times": {
        "fr": "Horodatage en UTC ; affichage et découpage calendaire en Europe/Paris.",
        "en": "Timestamps in UTC; display and calendar periods in Europe/Paris.",
    },
    "annex.co2": {"fr": "Facteur d'émission du réseau", "en": "Grid emission factor"},
    "ref": {"fr": "Référence", "en": "Reference"},
    "formula": {"fr": "Formule", "en": "Formula"},
    "flags": {"fr": "Signalements du calcul", "en": "Computation flags"},
    "annex.attribution": {
        "fr": "Attribution : la production sert d'abord la consommation, puis la batterie ; le stock "
        "de la batterie est suivi par origine (réseau ou locale) intervalle par intervalle, et ce "
        "qu'elle restitue n'est jamais compté comme local au-delà de sa part locale. Un site sans "
        "compteur réseau en déduit soutirage et injection de son bilan (signalé). Un résultat est "
        "incomplet dès qu'une lecture est invraisemblable, qu'un bilan de site ne boucle pas ou que "
        "la couverture en énergie est sous le seuil.",
        "en": "Attribution: generation serves the load first, then the battery; the battery's stock "
        "is tracked by origin (grid or local) interval by interval, and what it gives back never "
        "counts as local beyond its local share. A site without a grid meter derives import and "
        "export from its balance (flagged). A result is incomplete as soon as a reading is "
        "implausible, a site's balance does not close, or the energy coverage is below the threshold.",
    },
    "page": {"fr": "Page", "en": "Page"},
    "hours": {"fr": "h", "en": "h"},
    "day": {"fr": "Jour", "en": "Day"},
    "na": {"fr": "n. d.", "en": "n/a"},
    "points": {"fr": "points", "en": "points"},
    "when.every_day": {"fr": "tous les jours", "en": "every day"},
    "when.period": {"fr": "toute la période", "en": "the whole period"},
    # the cover
    "cover.headline": {"fr": "L'essentiel", "en": "At a glance"},
    "cover.vs_previous": {"fr": "vs {period}", "en": "vs {period}"},
    "cover.local_production": {"fr": "Production locale", "en": "Local production"},
    "cover.incomplete_then": {
        "fr": " (données incomplètes alors\u00a0: {coverage} mesurés)",
        "en": " (incomplete data then: {coverage} measured)",
    },
    "table.incomplete_then": {
        "fr": "* {period}\u00a0: données incomplètes ({coverage} de l'énergie attendue mesurés)\u202f; ses chiffres sont partiels.",
        "en": "* {period}: incomplete data ({coverage} of the expected energy measured); its figures are partial.",
    },
    "cover.no_comparison": {"fr": "pas de données à comparer", "en": "no data to compare"},
    "cover.coverage": {
        "fr": "Données mesurées : {share} de l'énergie attendue",
        "en": "Measured data: {share} of the expected energy",
    },
    "cover.generated": {"fr": "Généré le {when} (heure de Paris)", "en": "Generated on {when} (Paris time)"},
    "cover.method": {
        "fr": "Méthode {version}, pas de {minutes} min",
        "en": "Method {version}, {minutes}-min intervals",
    },
    "summary.ss": {
        "fr": "Sur la période, {scope} a couvert {ss} de sa consommation ({load}) par l'énergie produite et stockée localement{change}.",
        "en": "Over the period, {scope} met {ss} of its load ({load}) with energy produced and stored locally{change}.",
    },
    "summary.ss_change": {"fr": ", soit {delta} par rapport à {period}", "en": ", {delta} on {period}"},
    "summary.production": {
        "fr": "La production locale a atteint {gen}, dont {share} {source}, et a évité {co2}.",
        "en": "Local production reached {gen}, {share} of it from {source}, and avoided {co2}.",
    },
    "summary.no_production": {
        "fr": "Aucune production locale n'a été mesurée.",
        "en": "No local production was measured.",
    },
    "summary.incomplete": {
        "fr": "Ces chiffres reposent sur des données incomplètes : voir la section « Qualité des données ».",
        "en": "These figures rest on incomplete data: see the section “Data quality”.",
    },
    "source_of.hydro": {"fr": "d'hydraulique", "en": "hydro"},
    "source_of.pv": {"fr": "de photovoltaïque", "en": "solar PV"},
    "source_of.wind": {"fr": "d'éolien", "en": "wind"},
    "source_of.chp": {"fr": "de cogénération", "en": "CHP"},
    "source_of.other": {"fr": "d'autres sources", "en": "other sources"},
    "source.other": {"fr": "Autre", "en": "Other"},
    # tables
    "col.previous": {"fr": "Période précédente", "en": "Previous period"},
    "col.last_year": {"fr": "Un an plus tôt", "en": "A year earlier"},
    "col.change": {"fr": "Écart", "en": "Change"},
    "col.share": {"fr": "Part", "en": "Share"},
    "col.energy": {"fr": "Énergie", "en": "Energy"},
    "col.when": {"fr": "Quand", "en": "When"},
    "col.what": {"fr": "Ce qui s'est passé", "en": "What happened"},
    "col.meaning": {"fr": "Ce que cela change", "en": "What it means"},
    "col.concerns": {"fr": "Concerne", "en": "Concerns"},
    "generation_by_source": {"fr": "Production par source", "en": "Production by source"},
    # charts
    "chart.daily_energy": {
        "fr": "Production locale par source et consommation, par jour",
        "en": "Local production by source and load, per day",
    },
    "chart.monthly_energy": {
        "fr": "Production locale par source et consommation, par mois",
        "en": "Local production by source and load, per month",
    },
    "chart.daily_ss": {"fr": "Taux d'autoproduction par jour", "en": "Self-sufficiency per day"},
    "chart.monthly_ss": {"fr": "Taux d'autoproduction par mois", "en": "Self-sufficiency per month"},
    "chart.power": {
        "fr": "Puissance moyenne : consommation et production locale",
        "en": "Mean power: load and local production",
    },
    "chart.gap": {"fr": "Données manquantes", "en": "Missing data"},
    "chart.target": {"fr": "Objectif", "en": "Target"},
    "chart.measured": {"fr": "Mesuré", "en": "Measured"},
    "chart.soc_range": {"fr": "Plage du jour (min. – max.)", "en": "Range of the day (min – max)"},
    "chart.soc_mean": {"fr": "Moyenne du jour", "en": "Mean of the day"},
    "chart.incomplete": {"fr": "Mesuré, données incomplètes", "en": "Measured, incomplete data"},
    "chart.trajectory": {
        "fr": "Taux d'autoproduction mensuel et trajectoire visée",
        "en": "Monthly self-sufficiency and the target path",
    },
    # sections
    "section.headline": {"fr": "Indicateurs de la période", "en": "The period's figures"},
    "section.charts": {"fr": "Au fil de la période", "en": "Through the period"},
    "section.trajectory": {"fr": "La trajectoire vers 2050", "en": "The road to 2050"},
    "section.what_if": {
        "fr": "Que faudrait-il pour atteindre l'objectif ?",
        "en": "What would it take to reach the target?",
    },
    "section.quality": {"fr": "Qualité des données", "en": "Data quality"},
    "quality.intro": {
        "fr": "Chaque chiffre de ce rapport repose sur des compteurs. Cette section dit quelle part de l'énergie a été mesurée, et ce qui a pu fausser un chiffre.",
        "en": "Every figure of this report rests on meters. This section says how much of the energy was measured, and what may have distorted a figure.",
    },
    "quality.ratio": {
        "fr": "Part de l'énergie attendue effectivement mesurée",
        "en": "Share of the expected energy actually measured",
    },
    "quality.role.production": {"fr": "Production", "en": "Production"},
    "quality.role.consumption": {"fr": "Consommation", "en": "Consumption"},
    "quality.role.storage": {"fr": "Stockage", "en": "Storage"},
    "quality.role.grid": {"fr": "Échanges réseau", "en": "Grid exchange"},
    "quality.threshold": {"fr": "Seuil de complétude : {share}.", "en": "Completeness threshold: {share}."},
    "quality.complete": {
        "fr": "Les données sont complètes : les chiffres peuvent être repris tels quels.",
        "en": "The data is complete: the figures can be used as they are.",
    },
    "quality.incomplete": {
        "fr": "Les données sont incomplètes : lire les signalements ci-dessous avant de reprendre un chiffre.",
        "en": "The data is incomplete: read the notes below before using a figure.",
    },
    "quality.flags": {"fr": "Signalements", "en": "Notes"},
    "quality.no_flags": {"fr": "Aucun signalement.", "en": "Nothing to note."},
    "quality.devices": {
        "fr": "Équipements avec des données manquantes ou estimées",
        "en": "Devices with missing or estimated data",
    },
    "quality.none": {
        "fr": "Tous les équipements ont été mesurés sur toute la période.",
        "en": "Every device was measured over the whole period.",
    },
    "quality.measured": {"fr": "Mesuré", "en": "Measured"},
    "quality.estimated": {"fr": "Estimé", "en": "Estimated"},
    "quality.missing": {"fr": "Manquant", "en": "Missing"},
    # trajectory and what-if
    "trajectory.intro": {
        "fr": "Objectif de {scope} : {targets}. Rythme mesuré depuis le début des données : {pace} par an ; rythme nécessaire pour atteindre l'objectif {year} : {needed} par an.",
        "en": "Target of {scope}: {targets}. Pace measured since the data began: {pace} a year; pace needed to reach the {year} target: {needed} a year.",
    },
    "trajectory.year": {"fr": "Année", "en": "Year"},
    "trajectory.reached": {"fr": "aucun, déjà atteint", "en": "none, reached already"},
    "trajectory.target_year": {"fr": "{share} en {year}", "en": "{share} by {year}"},
    "what_if.intro": {
        "fr": "Calculé par le même moteur sur les consommations et productions mesurées de la période : une batterie ajoutée à {site}, pilotée pour l'autoconsommation (rendement {eta}, puissance = capacité ÷ 2 h), partagée au sein du périmètre.",
        "en": "Computed by the same engine on the period's measured load and production: a battery added at {site}, dispatched for self-consumption (round trip {eta}, power = capacity ÷ 2 h), shared within the scope.",
    },
    "what_if.met": {
        "fr": "L'objectif ({target}) est déjà atteint sur cette période.",
        "en": "The target ({target}) is already met over this period.",
    },
    "what_if.battery": {
        "fr": "La plus petite batterie qui atteint {target} : {capacity} ({power}) ; le taux d'autoproduction passerait de {before} à {after}.",
        "en": "The smallest battery that reaches {target}: {capacity} ({power}); self-sufficiency would go from {before} to {after}.",
    },
    "what_if.out_of_reach": {
        "fr": "Le stockage seul ne suffit pas : même une batterie sans limite n'atteindrait que {best} ; il faut produire davantage localement.",
        "en": "Storage alone is not enough: even an unlimited battery would only reach {best}; more local production is needed.",
    },
    "what_if.more": {
        "fr": "Pour d'autres scénarios (photovoltaïque, éolien, hydraulique, sobriété), voir l'onglet "
        "« Que faudrait-il ? » de l'espace des services de la ville (/staff/).",
        "en": "For other scenarios (PV, wind, hydro, efficiency), see the “What would it take?” tab of the "
        "city staff pages (/staff/).",
    },
}

# (label key, formula, reference): the method annex, one row per metric
FORMULAS: list[tuple[str, str, str]] = [
    ("self_sufficiency", "ΣLl / ΣL = 1 − ΣLg / ΣL", "Luthander et al. 2015, Appl. Energy 142"),
    ("self_consumption", "1 − ΣX / ΣG", "Luthander et al. 2015, Appl. Energy 142"),
    ("load_cover_factor", "Σ max(min(G − Sl, L), 0) / ΣL", "after Salom et al. 2011 / 2014 (IEA SHC Task 40)"),
    ("supply_cover_factor", "Σ max(min(G − Sl, L), 0) / ΣG", "after Salom et al. 2011 / 2014 (IEA SHC Task 40)"),
    ("time_autonomy", "N(I < 1 Wh) / N (1 − LOLP)", "Salom et al. 2014"),
    ("grid_interaction_index", "σ(I − X) / max|I − X|", "Salom et al. 2011"),
    ("net_balance_wh", "ΣG − ΣL ; ΣG / ΣL", "Sartori et al. 2012, Energy Build. 48"),
    ("peak_import_w", "max I × 3600 / Δt", "—"),
    ("battery_hours", "Σ SoC × capacity / (L − G)", "—"),
    ("avoided_co2_kg", "ΣG × emission factor", "ADEME Base Empreinte"),
]


def label(lang: Lang, key: str, **values: str) -> str:
    """The text of ``key`` in ``lang``, its ``{placeholders}`` filled from ``values``."""
    text = _LABELS[key][lang]
    return text.format(**values) if values else text
