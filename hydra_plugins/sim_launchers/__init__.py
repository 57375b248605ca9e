"""The project's Hydra plugins (Hydra loads plugins only from the ``hydra_plugins`` package): two launchers
and a sweeper.

Thin subclasses: the launchers' code and documentation are in :mod:`sim.edge.launchers`.
"""

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper as _BasicSweeper
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher as _SubmititSlurmLauncher

from sim.edge import launchers as _launchers


class ProcessPoolLauncher(_launchers.ProcessPoolLauncher):
    """Local sweeps on worker processes that survive a dead job (``hydra/launcher=processes``)."""


class SlurmLauncher(_launchers.SlurmLauncherMixin, _SubmititSlurmLauncher):
    """SLURM through submitit, recording jobs SLURM ended and never waiting forever
    (``hydra/launcher=slurm``)."""


class CheckedSweeper(_BasicSweeper):
    """Hydra's basic sweeper without its second check of every job (``hydra/sweeper=checked``).

    Before launching, the basic sweeper composes every job's configuration again to catch errors early: about
    60 ms a job, so a sweep over 1,000 values sat silent for over a minute. ``sim-run``'s pre-check
    (:mod:`sim.edge.precheck`) has already checked every combination, in about a second, before anything
    started; each job is still composed (and checked) by its worker when it runs.
    """

    def validate_batch_is_legal(self, batch) -> None:  # noqa: ANN001 - Hydra's signature
        return None
