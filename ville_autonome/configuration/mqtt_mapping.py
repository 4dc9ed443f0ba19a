"""How an MQTT device's payloads map onto standard quantities (docs/profiles.md, "MQTT devices").

A device publishes on one or more topics; each topic's payload is JSON (values found by dotted
paths, list items by index: ``emeters.0.power``) or a plain number (``path: ""``). A topic may
name where the device's own time is (``timestamp``) and how it is written.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MqttField(_Node):
    """Map one value of an MQTT device's payload to a standard quantity."""

    path: str = Field(
        default="", description="dotted path into a JSON payload ('ENERGY.Power'); '' = the payload is a plain number"
    )
    quantity: str
    scale: float = 1.0


class MqttTopic(_Node):
    """One topic of an MQTT device and the values it carries (docs/profiles.md, "MQTT devices")."""

    topic: str = Field(description="the full topic; '{prefix}' stands for the device's 'topic'")
    fields: list[MqttField] = Field(min_length=1)
    timestamp: str | None = Field(default=None, description="path of the device's own time in the JSON payload")
    timestamp_format: Literal["epoch_s", "epoch_ms", "iso"] = "epoch_s"
