"""The project's Hydra launchers (Hydra loads launcher plugins only from the ``hydra_plugins`` package).

Thin subclasses: the code and its documentation are in :mod:`sim.edge.launchers`.
"""

from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher as _SubmititSlurmLauncher

from sim.edge import launchers as _launchers


class ProcessPoolLauncher(_launchers.ProcessPoolLauncher):
    """Local sweeps on worker processes that survive a dead job (``hydra/launcher=processes``)."""


class SlurmLauncher(_launchers.SlurmLauncherMixin, _SubmititSlurmLauncher):
    """SLURM through submitit, recording jobs SLURM ended and never waiting forever
    (``hydra/launcher=slurm``)."""
