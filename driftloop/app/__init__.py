"""The application shell: the `driftloop` command, the demo, status, `init`'s scaffold, the table.

The top layer: it may use every other part of driftloop; nothing imports it.
"""
