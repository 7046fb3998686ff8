"""The declarative model: manifests, topology and inventory, loaded with their positions.

Pure code: it reads only the files handed to it and never touches the network, processes
or databases. The planner (:mod:`taxiway.plan`) builds on it; the CLI sits on top.
"""
