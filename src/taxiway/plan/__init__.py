"""Planning: from manifests to regional definitions, and from two states to a plan.

Pure code over :mod:`taxiway.spec`: no I/O, no clock (import-linter's pure-core contract
holds every module here to that). ``derive`` says what each region must run; ``diff``
says what would change against what runs now; ``readiness`` whether a deploy has
arrived in every region. The deciders of the running system are grouped by who
decides: :mod:`taxiway.plan.region` (a satellite) and :mod:`taxiway.plan.edge` (an
edge PoP).
"""
