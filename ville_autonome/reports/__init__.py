"""Autonomy reports for city staff: a scope over a Europe/Paris calendar period, as PDF, CSV or XLSX.

Entry points: ``ville-autonome report`` (:mod:`commands.report`) and ``GET /api/v1/reports``
(:mod:`dashboard_api.routes.reports`, staff role). Numbers come from ``autonomy_queries.compute_autonomy``, the
same function as ``GET /api/v1/autonomy`` (:mod:`reports.compute`); the other modules only parse
periods (:mod:`reports.periods`) and lay the result out (``tables``, ``charts``, ``pdf``, with
every word in ``labels``). See docs/reports.md.
"""
