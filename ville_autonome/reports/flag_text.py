"""The engine's flags in plain words: which device or site, when, and what it means for the figures.

Each flag of a result (docs/metrics.md, "Flags") becomes one :class:`Note` — the device's or
site's name from the configuration (never its id where a name exists), the local days it concerns
(from the device's per-interval status and anomalies, when the report has the engine's inputs), a
sentence saying what happened and one saying what it changes for the figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from ville_autonome.reports.labels import Lang

# flag prefix → (what happened, what it means), in each language
_TEXT: dict[str, dict[Lang, tuple[str, str]]] = {
    "missing_data": {
        "fr": (
            "Le compteur n'a pas transmis de données sur une partie de la période.",
            "Son énergie y manque (ou est déduite du bilan du site) : la couverture le mesure.",
        ),
        "en": (
            "The meter sent no data for part of the period.",
            "Its energy is missing there (or taken from the site's balance): the coverage measures it.",
        ),
    },
    "implausible_jump": {
        "fr": (
            "Un relevé du compteur a augmenté plus vite que l'équipement ne le peut.",
            "Le relevé est écarté ; l'énergie autour est répartie sur l'intervalle (estimée).",
        ),
        "en": (
            "A counter reading rose faster than the device can.",
            "The reading is left out; the energy around it is spread over the gap (estimated).",
        ),
    },
    "counter_glitch": {
        "fr": (
            "Un relevé du compteur a baissé puis est revenu.",
            "Le relevé est écarté ; l'énergie n'est pas affectée au total.",
        ),
        "en": ("A counter reading dropped and came back.", "The reading is left out; the total energy is unaffected."),
    },
    "implausible_power": {
        "fr": (
            "Une puissance impossible a été relevée (hors plage, non numérique).",
            "L'intervalle de cet équipement est compté comme manquant.",
        ),
        "en": (
            "An impossible power value was read (out of range, not a number).",
            "That interval of the device counts as missing.",
        ),
    },
    "counter_reset": {
        "fr": (
            "Le compteur a été remis à zéro (ou remplacé).",
            "L'énergie entre le dernier relevé avant et le premier après est perdue, jamais inventée.",
        ),
        "en": (
            "The counter was reset (or replaced).",
            "The energy between the last reading before and the first after is lost, never invented.",
        ),
    },
    "unbalanced": {
        "fr": (
            "Le bilan du site ne boucle pas sur certains pas (compteur figé, en retard ou qui rattrape).",
            "L'attribution local / réseau de ces pas peut être faussée.",
        ),
        "en": (
            "The site's balance does not close in some intervals (a meter stuck, lagging or catching up).",
            "The local / grid attribution of those intervals may be off.",
        ),
    },
    "below_coverage_threshold": {
        "fr": ("Moins que le seuil de l'énergie attendue a été mesuré.", "Les totaux sous-estiment l'énergie réelle."),
        "en": (
            "Less than the threshold of the expected energy was measured.",
            "The totals miss some of the real energy.",
        ),
    },
    "power_integrated": {
        "fr": ("Pas de compteur d'énergie : la puissance moyenne est intégrée.", "Moins précis qu'un compteur."),
        "en": ("No energy counter: mean power is integrated.", "Less precise than a counter."),
    },
    "grid_derived": {
        "fr": (
            "Pas de compteur réseau : soutirage et injection sont déduits du bilan du site.",
            "Exact seulement si tous les autres flux sont mesurés.",
        ),
        "en": (
            "No grid meter: import and export come from the site's balance.",
            "Exact only if every other flow is metered.",
        ),
    },
    "load_derived": {
        "fr": (
            "Pas de compteur de consommation : la consommation est déduite du bilan.",
            "Exact seulement si tous les autres flux sont mesurés.",
        ),
        "en": (
            "No consumption meter: the load comes from the site's balance.",
            "Exact only if every other flow is metered.",
        ),
    },
    "unrated": {
        "fr": (
            "Pas de puissance nominale dans la configuration.",
            "Ses compteurs n'ont pas de borne de vraisemblance : un pic passerait.",
        ),
        "en": ("No rated power in the configuration.", "Its counters have no plausibility bound: a spike would pass."),
    },
}

KINDS = frozenset(_TEXT)  # the flag kinds explained (the staff pages' flags.js explains the same)


@dataclass(frozen=True)
class Note:
    flag: str  # the engine's flag, as in the API
    concerns: str  # the device's or site's name ("" for the whole scope)
    when: str  # local days, or "" when it concerns the whole period
    what: str
    meaning: str


def note(flag: str, lang: Lang, names: dict[str, str], when: str = "") -> Note:
    """The plain-words :class:`Note` of ``flag``; ``names``: device and site ids → names."""
    kind, _, ident = flag.partition(":")
    what, meaning = _TEXT.get(kind, {"fr": (flag, ""), "en": (flag, "")})[lang]
    return Note(flag, names.get(ident, ident), when, what, meaning)
