"""What the agents and the CLI share on the control plane's side of the wire: the HTTP
client, discovery, artifacts and readiness, and the long-poll, reporting, locking and
thread plumbing the satellite and the edge both run on."""
