"""What ships with SMART Workbench: the two demos (data, trained checkpoints, licences).

Package data, found with :mod:`importlib.resources` (see :mod:`engine.demo`), so a wheel or a
non-editable install has the demos too.
"""
