"""Planning: how far a scope is from its targets, and what would close the gap.

- what-if scenarios on measured data (:mod:`planning.scenario` changes the engine's inputs,
  :mod:`planning.run` runs ``autonomy.compute_scope`` before and after): more PV or wind scaled
  from the measured profile (:mod:`planning.pv_model` where a site has no PV), a hydro upgrade
  (:mod:`planning.hydro`), a battery dispatched for self-consumption (:mod:`planning.dispatch`),
  load changes, sharing on or off; the smallest battery that reaches a target
  (:mod:`planning.sizing`); a compute budget (:mod:`planning.deadline`);
- the trajectory to 2050: measured months and years against the configured targets
  (:mod:`planning.trajectory`);
- :mod:`planning.measured` and :mod:`planning.history` read the store through
  ``autonomy_queries``; every other module is pure (an import-linter contract says so).

Exceptions::

    ScenarioError           (planning.scenario) a change that cannot apply to the scope
    ScenarioTimeoutError    (planning.deadline) more compute time than the budget

See docs/planning.md.
"""
