"""The pure parts of commands to MQTT devices: the presets' outputs, the simulated devices' obedience
to their command words, and a gateway waiting for the state it asked for (or not getting it)."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.waiting import async_wait_for
from ville_autonome.configuration.mqtt_presets import check_relay_writes, relay
from ville_autonome.gateway.command_relays import RelayStates
from ville_autonome.simulators.mqtt_devices import obey

SHELLY = relay("shelly-gen1-em", "shellies/lab-em")
TASMOTA = relay("tasmota", "lab-plug")


def test_the_presets_outputs_and_their_topics() -> None:
    assert SHELLY is not None
    assert TASMOTA is not None
    assert (SHELLY.command_topic, SHELLY.state_topic) == ("shellies/lab-em/relay/0/command", "shellies/lab-em/relay/0")
    assert (TASMOTA.command_topic, TASMOTA.state_topic, TASMOTA.result_topic) == (
        "cmnd/lab-plug/POWER",
        "stat/lab-plug/POWER",
        "stat/lab-plug/RESULT",
    )
    assert relay("shelly-pro-3em", "shellies/x") is None
    assert check_relay_writes(TASMOTA, "p", [("relay", 0), ("relay", 1)]) == ["OFF", "ON"]
    assert check_relay_writes(SHELLY, "e", [("relay", 1)]) == ["on"]
    with pytest.raises(ValueError, match=r"relay: 0\.5 is not one of 0 \(off\), 1 \(on\)"):
        check_relay_writes(SHELLY, "e", [("relay", 0.5)])
    with pytest.raises(ValueError, match="W is not writable on e"):
        check_relay_writes(SHELLY, "e", [("W", 1)])
    with pytest.raises(ValueError, match="without a writable output"):
        check_relay_writes(None, "m", [("relay", 1)])


@pytest.mark.parametrize(
    ("family", "on", "payload", "after"),
    [
        ("shelly", True, b"off", False),
        ("shelly", False, b"on", True),
        ("shelly", True, b"toggle", False),
        ("shelly", True, b"OFF", True),  # Shelly Gen1 takes lower case only
        ("tasmota", True, b"OFF", False),
        ("tasmota", False, b"on", True),
        ("tasmota", True, b"0", False),
        ("tasmota", False, b"1", True),
        ("tasmota", True, b"TOGGLE", False),
        ("tasmota", True, b"blink", True),  # not an on/off word: unchanged
    ],
)
def test_the_simulated_devices_obey_their_familys_words(family: str, on: bool, payload: bytes, after: bool) -> None:
    r = SHELLY if family == "shelly" else TASMOTA
    assert r is not None
    assert obey(r, on, payload) is after


async def test_a_command_waits_for_the_state_it_asked_for() -> None:
    assert TASMOTA is not None
    states = RelayStates({"plug": TASMOTA})
    assert states.topics == ["stat/lab-plug/POWER"]
    armed = states.arm(TASMOTA)
    waiting = asyncio.create_task(states.wait(TASMOTA, armed, 0.0, timeout_s=30))
    assert states.receive("stat/lab-plug/POWER", b"ON")  # a periodic state report: not the one asked
    # the waiter saw it and waits again (armed for the next report)
    await async_wait_for(lambda: "stat/lab-plug/POWER" in states._changed, timeout=10, what="the waiter re-armed")
    assert not waiting.done()
    assert states.receive("stat/lab-plug/POWER", b"OFF")
    assert await waiting == 0.0
    assert not states.receive("tele/lab-plug/SENSOR", b"{}")


async def test_no_state_in_time_gives_the_last_one_reported() -> None:
    assert SHELLY is not None
    states = RelayStates({"em": SHELLY})
    states.receive("shellies/lab-em/relay/0", b"on")
    armed = states.arm(SHELLY)
    assert await states.wait(SHELLY, armed, 0.0, timeout_s=0.05) == 1.0  # the device never answered "off"
