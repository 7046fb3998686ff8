"""HAProxy as data, pure: the configuration model and its rendering (:mod:`.config`), the
tokens a value must be to be placed in a config or a runtime API command (:mod:`.tokens`),
the parsing of HAProxy's answers (:mod:`.answers`), and what to change in a backend's
servers (:mod:`.membership`). :mod:`taxiway.haproxy` runs the processes and talks to them.
"""
