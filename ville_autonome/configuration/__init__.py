"""One YAML file describes the city (districts → sites → devices) and the services' settings.

``load_config(path)`` returns a validated :class:`PlatformConfig` or raises
:class:`ConfigError` whose message names the file, the line, the path in the document and the
reason. Every service setting can be overridden by an environment variable ``VA_<SECTION>_<FIELD>``
(see README.md, "Configuration").
"""

from ville_autonome.configuration.errors import ConfigError, StartupError
from ville_autonome.configuration.loader import load_config, load_config_text
from ville_autonome.configuration.services import ServiceSettings
from ville_autonome.configuration.topology import (
    DeviceConfig,
    DistrictConfig,
    GatewayConfig,
    PlatformConfig,
    SiteConfig,
)

__all__ = [
    "ConfigError",
    "DeviceConfig",
    "DistrictConfig",
    "GatewayConfig",
    "PlatformConfig",
    "ServiceSettings",
    "SiteConfig",
    "StartupError",
    "load_config",
    "load_config_text",
]
