"""The development world: a control plane and one satellite per region on one machine."""
