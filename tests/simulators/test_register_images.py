"""Register images decode back through the gateway's codec (registers.codec) at the documented addresses."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ville_autonome.registers.codec import decode
from ville_autonome.simulators import register_images as ri

IDENT = ri.Identity("chu-grid-meter", "sunspec-meter-203", "grid", 7)


def _at(image: list[int], start: int, address: int, n: int) -> list[int]:
    return image[address - start : address - start + n]


def _sf(image: list[int], start: int, address: int) -> int:
    v = decode(_at(image, start, address, 1), "sunssf").value
    assert isinstance(v, float)
    return int(v)


def _value(image: list[int], start: int, address: int, datatype: str, sf_address: int | None) -> float:
    n = {"int16": 1, "uint16": 1, "acc32": 2, "uint32": 2, "uint64": 4}[datatype]
    sf = _sf(image, start, sf_address) if sf_address is not None else None
    d = decode(_at(image, start, address, n), datatype, scale_factor=sf)
    assert d.ok, d
    assert isinstance(d.value, float)
    return d.value


def test_sunspec_header_and_common_model() -> None:
    image = ri.meter_203(IDENT, {}, ri.Scales.for_rating(1e6))
    assert image[:4] == [0x5375, 0x6E53, 1, 66]
    assert decode(_at(image, 40000, 40004, 16), "string").value == "Ville Autonome"
    assert decode(_at(image, 40000, 40020, 16), "string").value == "sunspec-meter-203"
    assert decode(_at(image, 40000, 40052, 16), "string").value == "chu-grid-meter"
    assert image[40068 - 40000] == 7
    assert image[40070 - 40000 : 40072 - 40000] == [203, 105]
    assert image[-2:] == [0xFFFF, 0]


def test_model_chain_lengths_match_the_docs() -> None:
    s = ri.Scales.for_rating(1e5)
    inv = ri.inverter_103(IDENT, {}, s)
    assert inv[70:72] == [103, 50]
    assert inv[122:124] == [0xFFFF, 0]
    b = ri.battery_802(IDENT, {}, s, 2e5, 1e5, ri.BatteryControls())
    assert b[70:72] == [802, 62]
    assert b[134:136] == [124, 24]
    assert b[160:162] == [203, 105]  # the battery's AC meter: a standard model, no vendor id
    assert b[267:269] == [0xFFFF, 0]
    assert len(b) == ri.MAPS["sunspec-battery-802"].length
    assert len(ri.hydro_iko({}, 0, 1e5)) == ri.MAPS["va-hydro-iko"].length


def _close(got: float, want: float, sf: int) -> bool:
    return abs(got - want) <= 0.5 * 10.0**sf + 1e-9 * abs(want)


rated = st.floats(1_000, 5_000_000)


@settings(max_examples=150, deadline=None)
@given(
    rated_w=rated,
    frac=st.floats(-1.0, 1.0),
    imported=st.floats(1e5, 4e10),
    exported=st.floats(1e5, 4e10),
    hz=st.floats(49.5, 50.5),
    volts=st.floats(200, 260),
)
def test_meter_203_round_trip(
    rated_w: float, frac: float, imported: float, exported: float, hz: float, volts: float
) -> None:
    s = ri.Scales.for_rating(rated_w)
    power = frac * rated_w
    values = {
        "active_power_w": power,
        "energy_import_wh": imported,
        "energy_export_wh": exported,
        "frequency_hz": hz,
        "voltage_l1_v": volts,
    }
    image = ri.meter_203(IDENT, values, s)
    assert _close(_value(image, 40000, 40088, "int16", 40092), power, s.w)
    assert _close(_value(image, 40000, 40086, "int16", 40087), hz, -2)
    assert _close(_value(image, 40000, 40078, "int16", 40085), volts, -1)
    wrap = 2**32 * 10.0**s.wh
    for address, want in ((40116, imported), (40108, exported)):
        got = _value(image, 40000, address, "acc32", 40124)
        assert abs(got - (want % wrap)) <= 10.0**s.wh or abs(got - want % wrap) >= wrap - 10.0**s.wh


@settings(max_examples=100, deadline=None)
@given(rated_w=rated, frac=st.floats(0.0, 1.0), produced=st.floats(1e5, 1e9))
def test_inverter_103_round_trip(rated_w: float, frac: float, produced: float) -> None:
    s = ri.Scales.for_rating(rated_w)
    values = {"active_power_w": frac * rated_w, "energy_produced_wh": produced, "operating_state": 4.0}
    image = ri.inverter_103(IDENT, values, s)
    assert _close(_value(image, 40000, 40084, "int16", 40085), frac * rated_w, s.w)
    assert abs(_value(image, 40000, 40094, "acc32", 40096) - produced) <= 10.0**s.wh
    assert decode(_at(image, 40000, 40108, 1), "enum16").value == 4.0


@settings(max_examples=100, deadline=None)
@given(
    capacity=st.floats(10_000, 5_000_000),
    rated_w=st.floats(5_000, 2_000_000),
    frac=st.floats(-1.0, 1.0),
    soc=st.floats(0, 100),
    charged=st.floats(1e4, 4e9),
)
def test_battery_802_round_trip(capacity: float, rated_w: float, frac: float, soc: float, charged: float) -> None:
    s = ri.Scales.for_rating(rated_w)
    values = {"active_power_w": frac * rated_w, "soc_pct": soc, "energy_charged_wh": charged}
    image = ri.battery_802(IDENT, values, s, capacity, rated_w, ri.BatteryControls())
    assert _close(_value(image, 40000, 40117, "int16", 40133), frac * rated_w, s.w)
    assert _close(_value(image, 40000, 40081, "uint16", 40126), soc, -1)
    wh_sf = _sf(image, 40000, 40214)
    assert abs(_value(image, 40000, 40206, "acc32", 40214) - charged) <= 10.0**wh_sf  # AC TotWhImp
    assert _close(_value(image, 40000, 40073, "uint16", 40123), capacity, _sf(image, 40000, 40123))


@settings(max_examples=100, deadline=None)
@given(
    power=st.floats(0, 4e9),
    energy=st.floats(1, 1e15),
    flow=st.floats(0, 600),
    head=st.floats(0, 60),
    level=st.floats(-30, 30),
)
def test_hydro_iko_round_trip(power: float, energy: float, flow: float, head: float, level: float) -> None:
    values = {
        "active_power_w": power,
        "energy_produced_wh": energy,
        "flow_m3_s": flow,
        "head_m": head,
        "water_level_m": level,
    }
    image = ri.hydro_iko(values, 0, 150_000)
    assert abs(_value(image, 0, 6, "uint32", None) - power) <= 0.5
    assert abs(_value(image, 0, 8, "uint64", None) - energy) <= 1.0
    assert abs(decode(_at(image, 0, 3, 1), "uint16", scale=0.01).value - flow) <= 0.005 + 1e-9  # type: ignore[operator]
    assert abs(decode(_at(image, 0, 4, 1), "uint16", scale=0.001).value - head) <= 0.0005 + 1e-9  # type: ignore[operator]
    assert abs(decode(_at(image, 0, 5, 1), "int16", scale=0.001).value - level) <= 0.0005 + 1e-9  # type: ignore[operator]


def test_byte_swap_exchanges_the_bytes_of_every_register() -> None:
    assert ri.swap_bytes([0x5375, 0x6E53, 0x00FF]) == [0x7553, 0x536E, 0xFF00]


def test_values_out_of_range_saturate_instead_of_wrapping() -> None:
    s = ri.Scales(w=0, a=-1, wh=0)
    image = ri.meter_203(IDENT, {"active_power_w": 1e9}, s)
    assert decode(_at(image, 40000, 40088, 1), "int16").value == 32767
    assert ri.sf_for(3_000_000, 0) == 3
    assert ri.energy_sf(2_200_000) == 2


@settings(max_examples=100, deadline=None)
@given(rated_w=st.floats(1_000, 5_000_000), pf=st.floats(0.8, 1.0))
def test_meter_total_current_holds_three_phases_at_rating(rated_w: float, pf: float) -> None:
    # the A register is the sum of the phases: its scale factor is sized for that, not for one phase
    s = ri.Scales.for_rating(rated_w)
    amps = rated_w / 3.0 / 230.0 / pf
    values = {"active_power_w": rated_w, "apparent_power_va": rated_w / pf, "power_factor": pf}
    values.update({f"current_l{i}_a": amps for i in (1, 2, 3)})
    image = ri.meter_203(IDENT, values, s)
    assert _close(_value(image, 40000, 40072, "int16", 40076), 3 * amps, s.a)
    assert _close(_value(image, 40000, 40093, "int16", 40097), rated_w / pf, s.w)  # VA
