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

Two families have a switchable output, written by a command (docs/commands.md): the writable
point ``relay`` (0 off, 1 on) of a device whose preset has a :class:`Relay`:

==================  =======================================  ==========================================
preset              command topic, payload                   state topic, payload (the device's answer)
==================  =======================================  ==========================================
``shelly-gen1-em``  ``{prefix}/relay/0/command``: ``on`` |    ``{prefix}/relay/0``: ``on`` | ``off``
                    ``off``
``tasmota``         ``cmnd/{prefix}/POWER``: ``ON`` | ``OFF``  ``stat/{prefix}/POWER``: ``ON`` | ``OFF``
                                                             (also ``stat/{prefix}/RESULT``
                                                             ``{"POWER":"ON"}``, not read)
==================  =======================================  ==========================================

Sources: Shelly Gen1 API documentation, MQTT (``shellies/<id>/relay/<i>/command`` accepts ``on``,
``off``, ``toggle``; the state is reported on ``shellies/<id>/relay/<i>``); Tasmota documentation,
"Commands" (``Power`` with ``ON``/``OFF``/``1``/``0``) and "MQTT" (``cmnd/%topic%/<command>``, the
answer on ``stat/%topic%/RESULT`` and the power state on ``stat/%topic%/POWER``). The Shelly Pro
3EM has no output.

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


@dataclass(frozen=True, slots=True)
class Relay:
    """A device's switchable output: ``on``/``off`` published on ``command_topic``, the device's
    state read back on ``state_topic`` (the same two words)."""

    command_topic: str
    state_topic: str
    on: str
    off: str
    result_topic: str | None = None  # Tasmota also answers {"POWER": "ON"} here (not read by the gateway)

    def payload(self, value: float) -> str:
        """The command payload for the point ``relay`` = ``value`` (0 off, 1 on); ``ValueError``
        for any other value."""
        if value not in (0, 1):
            raise ValueError(f"relay: {value:g} is not one of 0 (off), 1 (on)")
        return self.on if value == 1 else self.off

    def state(self, payload: bytes) -> float | None:
        """The state a payload on ``state_topic`` reports (1 on, 0 off), ``None`` if neither."""
        text = payload.decode("utf-8", "replace").strip()
        return 1.0 if text == self.on else 0.0 if text == self.off else None


RELAY_POINT = "relay"
RELAY_VALUES = {0: "off", 1: "on"}

_RELAYS: dict[str, Relay] = {
    "shelly-gen1-em": Relay("{prefix}/relay/0/command", "{prefix}/relay/0", "on", "off"),
    "tasmota": Relay("cmnd/{prefix}/POWER", "stat/{prefix}/POWER", "ON", "OFF", "stat/{prefix}/RESULT"),
}


def relay(preset: str | None, prefix: str) -> Relay | None:
    """The switchable output of a device of ``preset`` under ``prefix``, if its family has one."""
    r = _RELAYS.get(preset or "")
    if r is None:
        return None
    return Relay(
        r.command_topic.replace("{prefix}", prefix),
        r.state_topic.replace("{prefix}", prefix),
        r.on,
        r.off,
        r.result_topic.replace("{prefix}", prefix) if r.result_topic else None,
    )


def check_relay_writes(r: Relay | None, device: str, writes: list[tuple[str, float]]) -> list[str]:
    """The payloads of a command's writes to an MQTT device, in order; ``ValueError`` naming the
    first write that is not ``relay`` = 0 or 1 (or a device without an output)."""
    if r is None:
        raise ValueError(f"{device} is an MQTT device without a writable output")
    out = []
    for point, value in writes:
        if point != RELAY_POINT:
            raise ValueError(f"{point} is not writable on {device} (only {RELAY_POINT})")
        out.append(r.payload(value))
    return out


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
