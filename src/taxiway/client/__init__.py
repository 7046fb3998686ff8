"""What the agents and the CLI share on the control plane's side of the wire: the HTTP
client (and its one translation of transport errors), discovery, artifacts and readiness.
The plumbing only the long-running agents run on is :mod:`taxiway.agent`."""
