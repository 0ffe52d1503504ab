"""Doctor: checks an installation (configuration, data folder, models, port, bundled skills)
without starting a server; ``openviking-mcp doctor`` prints its report.

:class:`DoctorService` runs the checks; the pure ones are in :mod:`.checks`, those that load
a model, read the index or use the network in :mod:`.probes`.
"""

from openviking_mcp.doctor.service import DoctorService

__all__ = ["DoctorService"]
