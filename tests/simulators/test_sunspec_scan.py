"""Every simulated SunSpec device as an independent SunSpec client (pysunspec2) sees it: each model
of each chain is a standard model of the right length, and every point decodes."""

from __future__ import annotations

import asyncio
from typing import Any

from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP

from tests.simulators.conftest import ConfigFactory
from ville_autonome.simulators.service import SimulatorService

EXPECTED_CHAINS = {
    "sunspec-meter-203": [1, 203],
    "sunspec-inverter-103": [1, 103],
    "sunspec-battery-802": [1, 802, 124, 203],
}


def scan(host: str, port: int, unit: int) -> dict[str, Any]:
    """The models pysunspec2 finds, each read in full: id → (length, errors, computed points)."""
    device = SunSpecModbusClientDeviceTCP(slave_id=unit, ipaddr=host, ipport=port, timeout=5)
    try:
        device.scan()
        found: dict[str, Any] = {}
        for key, models in device.models.items():
            if not isinstance(key, int):
                continue  # the same models are also listed by name
            model = models[0]
            model.read()
            found[str(key)] = (model.model_len, model.error_info, model.model_def, model.get_dict(computed=True))
        return found
    finally:
        device.close()


async def test_pysunspec2_decodes_every_model_of_every_simulated_device(make_config: ConfigFactory) -> None:
    async with SimulatorService(make_config(), speed=60.0, tick_s=0.05) as svc:
        scanned = 0
        for device_id, ep in svc.endpoints.items():
            chain = EXPECTED_CHAINS.get(ep.profile)
            if chain is None:
                continue
            found = await asyncio.to_thread(scan, ep.host, ep.port, ep.unit_id)
            assert [int(k) for k in found] == chain, device_id
            for model_id, (length, errors, model_def, points) in found.items():
                assert model_def is not None, f"{device_id}: model {model_id} unknown to pysunspec2"
                assert errors == "", f"{device_id}: model {model_id}: {errors}"
                assert int(model_def["id"]) == int(model_id)
                assert points["L"] == length
            scanned += 1
        assert scanned == 18  # every Modbus device but the hydro plant (a vendor map)


async def test_battery_counters_and_controls_read_as_sunspec_defines_them(make_config: ConfigFactory) -> None:
    async with SimulatorService(make_config(sites={"quai-innovation"}), speed=60.0, tick_s=0.05) as svc:
        ep = svc.endpoints["hub-energie-battery"]
        found = await asyncio.to_thread(scan, ep.host, ep.port, ep.unit_id)
        values = svc.devices["hub-energie-battery"].values
        meter = found["203"][3]
        assert abs(meter["TotWhImp"] - values["energy_charged_wh"]) <= 10 ** found["203"][3]["TotWh_SF"]
        assert abs(meter["TotWhExp"] - values["energy_discharged_wh"]) <= 10 ** found["203"][3]["TotWh_SF"]
        controls = found["124"][3]
        assert controls["StorCtl_Mod"] == 0
        assert controls["InWRte"] == 100.0
        assert controls["OutWRte"] == 100.0
        assert controls["InOutWRte_RvrtTms"] == 0
