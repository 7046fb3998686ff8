"""The ``taxiway`` command line: thin commands over :mod:`taxiway.spec` and :mod:`taxiway.plan`."""
