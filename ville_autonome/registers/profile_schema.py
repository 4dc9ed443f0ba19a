"""The YAML schema of a register profile, in pydantic (the configuration's is too).

One model per node: :class:`ProfileDoc` (the file), :class:`DefaultsDoc`, :class:`SunSpecDoc`,
:class:`PointDoc`. Each field checks what it can alone (a known datatype, quantity, order; a
finite, non-zero scale); what needs several fields or several points (a unit that fits its
quantity, an offset inside its model, overlapping registers …) is ``registers.profile_checks``.
Points are validated one by one (``ProfileDoc.points`` holds them raw), so that a bad point
hides nothing of the others.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, field_validator

from ville_autonome.readings.quantities import QUANTITIES
from ville_autonome.registers.codec import DATATYPES
from ville_autonome.registers.points import MAX_REGISTERS_PER_READ

Role = Literal["production", "consumption", "storage", "grid"]
Order = Literal["big", "little"]
Address = Field(default=None, ge=0, le=65535)


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _known_quantity(value: str | None) -> str | None:
    if value is not None and value not in QUANTITIES:
        raise ValueError(f"unknown quantity {value!r} (see readings/quantities.py)")
    return value


class DefaultsDoc(_Doc):
    table: Literal["holding", "input"] = "holding"
    word_order: Order = "big"
    byte_order: Order = "big"
    markers: StrictBool = True


class SunSpecModelDoc(_Doc):
    id: StrictInt = Field(ge=1, le=65535)
    address: StrictInt = Field(ge=0, le=65535)
    length: StrictInt = Field(ge=0, le=65535)


class SunSpecDoc(_Doc):
    base: StrictInt = Field(default=40000, ge=0, le=65535)
    models: list[SunSpecModelDoc]


class PointDoc(_Doc):
    name: str = Field(min_length=1)
    description: str = ""
    quantity: str | None = None
    unit: str | None = None
    table: Literal["holding", "input"] = "holding"
    address: StrictInt | None = Address
    model: StrictInt | None = Address
    offset: StrictInt | None = Address
    datatype: str
    count: StrictInt | None = Field(default=None, ge=1, le=MAX_REGISTERS_PER_READ)
    word_order: Order = "big"
    byte_order: Order = "big"
    scale: StrictFloat | StrictInt = 1.0
    scale_factor: str | None = Field(default=None, description="name of the sunssf point that scales this one")
    writable: StrictBool = False
    markers: StrictBool = True
    roles: list[Role] | None = None
    role_quantity: dict[Role, str] = Field(default_factory=dict)
    # writable points: the command range (after scaling) or the allowed values and their meaning
    minimum: StrictFloat | StrictInt | None = None
    maximum: StrictFloat | StrictInt | None = None
    values: dict[StrictInt, str] | None = None

    @field_validator("datatype")
    @classmethod
    def _datatype(cls, v: str) -> str:
        if v not in DATATYPES:
            raise ValueError(f"unknown datatype {v!r} (known: {', '.join(DATATYPES)})")
        return v

    @field_validator("quantity")
    @classmethod
    def _quantity(cls, v: str | None) -> str | None:
        return _known_quantity(v)

    @field_validator("role_quantity")
    @classmethod
    def _role_quantities(cls, v: dict[str, str]) -> dict[str, str]:
        for q in v.values():
            _known_quantity(q)
        return v

    @field_validator("scale")
    @classmethod
    def _scale(cls, v: float) -> float:
        if v == 0 or not math.isfinite(v):
            raise ValueError("must be a finite, non-zero number")
        return v


class ProfileDoc(_Doc):
    name: str = Field(min_length=1)
    description: str = ""
    reference: str = ""
    manufacturer: str = ""
    defaults: DefaultsDoc = Field(default_factory=DefaultsDoc)
    max_gap: StrictInt = Field(default=0, ge=0, le=MAX_REGISTERS_PER_READ)
    sunspec: SunSpecDoc | None = None
    points: list[Any] = Field(min_length=1, description="validated one by one as PointDoc")
