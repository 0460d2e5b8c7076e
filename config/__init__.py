"""The settings (`THIDUA_*`): one object, read once at the edge; every layer may read it."""
