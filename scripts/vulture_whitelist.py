"""Names vulture (``make lint``) cannot see used, each with why it stays.

vulture reads the code statically; these are used by a framework, by a protocol's callback
signature, by serialisation (a dataclass/pydantic field read through ``asdict``/``model_dump`` or
JSON), or by name (``getattr``). Anything else it reports is dead code and goes. A new line here
needs its reason beside it.
"""

# ruff: noqa
# mypy: ignore-errors
from types import SimpleNamespace

_ = SimpleNamespace()

# service counters: shown by /metrics, health documents or the commands' summaries through asdict()
_.bad_results  # dashboard_api/command_bus.py
_.handled  # gateway/commands.py
resent, buffered_readings, bad_acks  # gateway/stats.py GatewayStats
_.resent, _.buffered_readings, _.bad_acks
_.sent_readings  # simulators/backfill_publish.py
store_errors, _.store_errors  # alerts/service.py AlertStats

# response models and result dataclasses: fields serialised to JSON by the API
unacknowledged  # dashboard_api/alarm_views.py
generation_w, charge_w, discharge_w, import_w, export_w, generation_by_source_w  # live flows
battery_hours, missing_devices, today_start_ms, intervals_ms, missing_total
recorded_ms  # gateway/buffer.py: the buffer's row, read back by column name
computed_ms  # alerts/observation.py
worst_site, worst_interval_ms  # autonomy/balance.py: the balance check in the API's quality block
resets, expected_wh, energy_share, device_intervals, implausible_intervals  # autonomy/coverage.py
discharge_to_load_wh  # autonomy/flows.py
# dashboard_api/energy_models.py and routes/devices.py: response models' fields
future, self_sufficiency_points, previous_date, next_date, in_progress, start_local, end_local
times_ms, grid_w, battery_w, profile_description, site_name, district_name

# a query parameter kept so that old links keep working; documented as ignored (routes/live.py)
poll_s

# alarm rule parameters: read by name through AlertRule.param() (alerts/conditions.py)
after_s, max_value_age_s, per_minute_above

# the simulated hydro plant's command register: 3 (reset) is part of the documented register map
HYDRO_CMD_RESET

# callbacks and attributes set for a library: paho-mqtt, pymodbus, uvicorn, aiosmtpd, fpdf2, openpyxl
_.on_connect_fail, _.on_log  # paho-mqtt callbacks
_.SessionExpiryInterval, _.ReceiveMaximum  # paho-mqtt MQTT v5 properties
start_address  # pymodbus server's request hook (positional signature)
_.should_exit, _.capture_signals  # uvicorn.Server
_.handle_DATA, session, mechanism  # aiosmtpd handler hooks (tests/alerts/smtp_server.py)
_.connection_made, _.data_received  # asyncio.Protocol callbacks (bench/modbus_responder.py)
made_ms  # reports/scheduled.py: turned into the API's "made" through dataclasses.asdict
_.font, _.alignment  # openpyxl cell styles (reports/workbook.py)
measured_share, imputed_share  # autonomy.Coverage: read by name (reports/tables.py) and in the API's coverage object
_.freeze_panes  # openpyxl worksheet property
et, pr, protocol_version  # tests: exception-type / process / protocol placeholders of a callback
_.undecodable  # tests/system/counting.py: read by the counting subscriber's report
