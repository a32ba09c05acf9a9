"""Access-matrix entries of feature modules, one file each (``hazards.py``, ``risks.py`` …).

Each module defines ``EXPECTED: dict[str, list[Case]]`` using the helpers of :mod:`tests.test_access_matrix`,
which merges them all; keeping them apart lets features add routes without editing one shared table.
"""
