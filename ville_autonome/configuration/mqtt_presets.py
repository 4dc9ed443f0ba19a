"""MQTT mapping presets: the topics and payloads of three device families, as they publish them.

A device names a preset and its topic prefix; the preset expands into the device's topics::

    - id: mdp-grid-meter
      role: grid
      protocol: mqtt
      preset: shelly-pro-3em
      topic: shellies/mdp-grid-meter        # the device's "topic prefix" (Shelly) or %topic% (Tasmota)

==================  =============================================  ===========================================
preset              topics (``{prefix}`` = the device's ``topic``)  payload
==================  =============================================  ===========================================
``shelly-pro-3em``  ``{prefix}/status/em:0``                        JSON: ``total_act_power``, ``a_voltage`` …
                    ``{prefix}/status/emdata:0``                    JSON: ``total_act``, ``total_act_ret`` (Wh)
``shelly-gen1-em``  ``{prefix}/emeter/0/power``, ``…/voltage``,     one plain number per topic; ``total`` and
                    ``…/total``, ``…/total_returned``               ``total_returned`` in Wh
``tasmota``         ``tele/{prefix}/SENSOR``                        JSON with nested ``ENERGY``: ``Power`` (W),
                                                                    ``Voltage``, ``Current``, ``Total`` (kWh);
                                                                    ``Time`` = the device's clock (ISO 8601)
==================  =============================================  ===========================================

Sources: Shelly Gen2 API documentation, components ``EM`` (status of ``em:<id>``) and ``EMData``
(status of ``emdata:<id>``) and the MQTT "status" notifications (``<topic_prefix>/status/<component>``);
Shelly Gen1 API documentation, MQTT topics of the Shelly EM/3EM (``shellies/<id>/emeter/<i>/…``);
Tasmota documentation, "MQTT" (``tele/%topic%/SENSOR``, ``TelePeriod``) and energy monitoring
(``ENERGY`` object, ``Total`` in kWh). Shelly's energy counters are in Wh.

Energy counters mean different things by the device's role (as a meter profile's ``role_quantity``):
an import counter is ``energy_import_wh`` at a grid point and ``energy_consumed_wh`` on a load; an
export counter is ``energy_export_wh`` at a grid point and ``energy_produced_wh`` on a producer. A
counter that has no meaning for the role is not mapped.
"""

from __future__ import annotations

from dataclasses import dataclass

from ville_autonome.configuration.mqtt_mapping import MqttField, MqttTopic

IMPORT = "energy_import_wh"  # placeholders resolved by role, see _ROLE_COUNTERS
EXPORT = "energy_export_wh"
THROUGH = "energy_through_wh"  # a plug's one counter: what went through it, whichever way

_ROLE_COUNTERS: dict[str, dict[str, str | None]] = {
    "grid": {IMPORT: "energy_import_wh", EXPORT: "energy_export_wh", THROUGH: "energy_import_wh"},
    "consumption": {IMPORT: "energy_consumed_wh", EXPORT: None, THROUGH: "energy_consumed_wh"},
    "production": {IMPORT: None, EXPORT: "energy_produced_wh", THROUGH: "energy_produced_wh"},
    "storage": {IMPORT: "energy_charged_wh", EXPORT: "energy_discharged_wh", THROUGH: None},
}


@dataclass(frozen=True, slots=True)
class _Field:
    path: str
    quantity: str
    scale: float = 1.0


@dataclass(frozen=True, slots=True)
class _Topic:
    topic: str
    fields: tuple[_Field, ...]
    timestamp: str | None = None
    timestamp_format: str = "epoch_s"


PRESETS: dict[str, tuple[_Topic, ...]] = {
    "shelly-pro-3em": (
        _Topic(
            "{prefix}/status/em:0",
            (
                _Field("total_act_power", "active_power_w"),
                _Field("a_act_power", "active_power_l1_w"),
                _Field("b_act_power", "active_power_l2_w"),
                _Field("c_act_power", "active_power_l3_w"),
                _Field("a_voltage", "voltage_l1_v"),
                _Field("b_voltage", "voltage_l2_v"),
                _Field("c_voltage", "voltage_l3_v"),
                _Field("a_current", "current_l1_a"),
                _Field("b_current", "current_l2_a"),
                _Field("c_current", "current_l3_a"),
            ),
        ),
        _Topic("{prefix}/status/emdata:0", (_Field("total_act", IMPORT), _Field("total_act_ret", EXPORT))),
    ),
    "shelly-gen1-em": (
        _Topic("{prefix}/emeter/0/power", (_Field("", "active_power_w"),)),
        _Topic("{prefix}/emeter/0/voltage", (_Field("", "voltage_l1_v"),)),
        _Topic("{prefix}/emeter/0/total", (_Field("", IMPORT),)),
        _Topic("{prefix}/emeter/0/total_returned", (_Field("", EXPORT),)),
    ),
    "tasmota": (
        _Topic(
            "tele/{prefix}/SENSOR",
            (
                _Field("ENERGY.Power", "active_power_w"),
                _Field("ENERGY.Voltage", "voltage_v"),
                _Field("ENERGY.Current", "current_a"),
                _Field("ENERGY.Total", THROUGH, 1000.0),
            ),
            timestamp="Time",
            timestamp_format="iso",
        ),
    ),
}


def preset_names() -> list[str]:
    return sorted(PRESETS)


def expand(preset: str, prefix: str, role: str) -> list[MqttTopic]:
    """The topics of ``preset`` for a device of ``role`` whose topic prefix is ``prefix``.

    Raises ``KeyError`` for an unknown preset (the loader refuses it first)."""
    counters = _ROLE_COUNTERS.get(role, {})
    out = []
    for t in PRESETS[preset]:
        fields = []
        for f in t.fields:
            quantity = counters.get(f.quantity, f.quantity) if f.quantity in (IMPORT, EXPORT, THROUGH) else f.quantity
            if quantity is not None:
                fields.append(MqttField(path=f.path, quantity=quantity, scale=f.scale))
        if fields:
            out.append(
                MqttTopic(
                    topic=t.topic.replace("{prefix}", prefix),
                    fields=fields,
                    timestamp=t.timestamp,
                    timestamp_format=t.timestamp_format,  # type: ignore[arg-type]
                )
            )
    return out
