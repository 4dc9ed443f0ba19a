"""Build a one-gateway configuration around test devices and run GatewayService in the test's loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.gateway.service import GatewayService

GATEWAY = "gw-test"


def gateway_config(
    mqtt_url: str, topic_root: str, devices: list[dict[str, Any]], buffer_path: Path, **gateway: Any
) -> PlatformConfig:
    doc = {
        "city": {"id": "test"},
        "services": {"mqtt": {"url": mqtt_url, "topic_root": topic_root}},
        "gateways": [
            {
                "id": GATEWAY,
                "buffer_path": str(buffer_path),
                "publish_interval_s": 0.2,
                "health_interval_s": 0.5,
                **gateway,
            }
        ],
        "districts": [{"id": "d", "sites": [{"id": "s", "gateway": GATEWAY, "devices": devices}]}],
    }
    return PlatformConfig.model_validate(doc)


def meter_device(device_id: str, address: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": device_id,
        "role": "grid",
        "protocol": "modbus-tcp",
        "address": address,
        "profile": "sunspec-meter-203",
        "poll_interval_s": 0.2,
        "timeout_s": 0.5,
        **extra,
    }


class RunningGateway:
    """``async with RunningGateway(config) as gw:`` runs the service; leaving stops it cleanly."""

    def __init__(self, config: PlatformConfig, gateway: str = GATEWAY) -> None:
        self.service = GatewayService(config, gateway)
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> GatewayService:
        self.task = asyncio.create_task(self.service.run(self.stop))
        return self.service

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await self.task

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()
