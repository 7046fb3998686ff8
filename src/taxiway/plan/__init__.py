"""Planning: from manifests to regional definitions, and from two states to a plan.

Pure code over :mod:`taxiway.spec`: no I/O. ``derive`` says what each region must run;
``diff`` says what would change against what runs now.
"""
